-- The console's state, shared by every worker and gateway: sessions ended by a sign-out (by a hash of the
-- session's id, until its cookie would have expired anyway) and failed sign-ins (one row each, kept for the
-- throttle's window), per client address and signed-in name.
CREATE TABLE IF NOT EXISTS console_signouts (
    session TEXT PRIMARY KEY,
    expires DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS console_signouts_expires ON console_signouts (expires);

CREATE TABLE IF NOT EXISTS console_signin_failures (
    client TEXT NOT NULL,
    name   TEXT NOT NULL,
    at     DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS console_signin_failures_by_name ON console_signin_failures (client, name, at);
CREATE INDEX IF NOT EXISTS console_signin_failures_at ON console_signin_failures (at);

-- Every change of who a key is, whether it works and what it may do (keys, users, groups, memberships,
-- policies, accounts) notifies every gateway at its commit (channel nuage_iam), by triggers, whichever
-- gateway and code path made it: each forgets the identities and policies it cached.
CREATE OR REPLACE FUNCTION nuage_iam_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('nuage_iam', '');
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS credentials_iam ON credentials;
CREATE TRIGGER credentials_iam AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON credentials FOR EACH STATEMENT EXECUTE FUNCTION nuage_iam_changed();
DROP TRIGGER IF EXISTS accounts_iam ON accounts;
CREATE TRIGGER accounts_iam AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON accounts FOR EACH STATEMENT EXECUTE FUNCTION nuage_iam_changed();
DROP TRIGGER IF EXISTS iam_users_iam ON iam_users;
CREATE TRIGGER iam_users_iam AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON iam_users FOR EACH STATEMENT EXECUTE FUNCTION nuage_iam_changed();
DROP TRIGGER IF EXISTS iam_groups_iam ON iam_groups;
CREATE TRIGGER iam_groups_iam AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON iam_groups FOR EACH STATEMENT EXECUTE FUNCTION nuage_iam_changed();
DROP TRIGGER IF EXISTS iam_group_members_iam ON iam_group_members;
CREATE TRIGGER iam_group_members_iam AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON iam_group_members FOR EACH STATEMENT EXECUTE FUNCTION nuage_iam_changed();
DROP TRIGGER IF EXISTS iam_policies_iam ON iam_policies;
CREATE TRIGGER iam_policies_iam AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON iam_policies FOR EACH STATEMENT EXECUTE FUNCTION nuage_iam_changed();
DROP TRIGGER IF EXISTS access_keys_iam ON access_keys;
CREATE TRIGGER access_keys_iam AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON access_keys FOR EACH STATEMENT EXECUTE FUNCTION nuage_iam_changed();
