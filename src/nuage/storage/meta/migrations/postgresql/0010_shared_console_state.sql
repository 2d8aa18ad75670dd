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
DO $$
DECLARE
    t TEXT;
BEGIN
    FOREACH t IN ARRAY ARRAY['credentials', 'accounts', 'iam_users', 'iam_groups', 'iam_group_members',
                             'iam_policies', 'access_keys'] LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS %I ON %I', t || '_iam', t);
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I '
                       'FOR EACH STATEMENT EXECUTE FUNCTION nuage_iam_changed()', t || '_iam', t);
    END LOOP;
END
$$;
