-- The console's state, shared by every worker and gateway: sessions ended by a sign-out (by a hash of the
-- session's id, until its cookie would have expired anyway) and failed sign-ins (one row each, kept for the
-- throttle's window), per client address and signed-in name.
CREATE TABLE IF NOT EXISTS console_signouts (
    session TEXT PRIMARY KEY,
    expires REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS console_signouts_expires ON console_signouts (expires);

CREATE TABLE IF NOT EXISTS console_signin_failures (
    client TEXT NOT NULL,
    name   TEXT NOT NULL,
    at     REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS console_signin_failures_by_name ON console_signin_failures (client, name, at);
CREATE INDEX IF NOT EXISTS console_signin_failures_at ON console_signin_failures (at);

-- Every change of who a key is, whether it works and what it may do (keys, users, groups, memberships,
-- policies, accounts) bumps one counter, by triggers, whichever process and code path made it: every
-- process compares it with what its identity cache was filled at, and reads it again only when the
-- database changed (PRAGMA data_version).
CREATE TABLE IF NOT EXISTS iam_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
);
INSERT OR IGNORE INTO iam_version (id, version) VALUES (1, 0);
CREATE TRIGGER IF NOT EXISTS credentials_insert_iam AFTER INSERT ON credentials BEGIN UPDATE iam_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS credentials_update_iam AFTER UPDATE ON credentials BEGIN UPDATE iam_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS credentials_delete_iam AFTER DELETE ON credentials BEGIN UPDATE iam_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS accounts_insert_iam AFTER INSERT ON accounts BEGIN UPDATE iam_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS accounts_update_iam AFTER UPDATE ON accounts BEGIN UPDATE iam_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS accounts_delete_iam AFTER DELETE ON accounts BEGIN UPDATE iam_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS iam_users_insert_iam AFTER INSERT ON iam_users BEGIN UPDATE iam_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS iam_users_update_iam AFTER UPDATE ON iam_users BEGIN UPDATE iam_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS iam_users_delete_iam AFTER DELETE ON iam_users BEGIN UPDATE iam_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS iam_groups_insert_iam AFTER INSERT ON iam_groups BEGIN UPDATE iam_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS iam_groups_update_iam AFTER UPDATE ON iam_groups BEGIN UPDATE iam_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS iam_groups_delete_iam AFTER DELETE ON iam_groups BEGIN UPDATE iam_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS iam_group_members_insert_iam AFTER INSERT ON iam_group_members BEGIN UPDATE iam_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS iam_group_members_update_iam AFTER UPDATE ON iam_group_members BEGIN UPDATE iam_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS iam_group_members_delete_iam AFTER DELETE ON iam_group_members BEGIN UPDATE iam_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS iam_policies_insert_iam AFTER INSERT ON iam_policies BEGIN UPDATE iam_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS iam_policies_update_iam AFTER UPDATE ON iam_policies BEGIN UPDATE iam_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS iam_policies_delete_iam AFTER DELETE ON iam_policies BEGIN UPDATE iam_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS access_keys_insert_iam AFTER INSERT ON access_keys BEGIN UPDATE iam_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS access_keys_update_iam AFTER UPDATE ON access_keys BEGIN UPDATE iam_version SET version = version + 1; END;
CREATE TRIGGER IF NOT EXISTS access_keys_delete_iam AFTER DELETE ON access_keys BEGIN UPDATE iam_version SET version = version + 1; END;
