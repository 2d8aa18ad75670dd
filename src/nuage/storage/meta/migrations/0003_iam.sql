-- Accounts (tenants) and what lives inside them: IAM users, groups, inline policies, access keys.
-- Secrets are stored encrypted (AES-GCM) with a server key kept outside this database.
CREATE TABLE IF NOT EXISTS accounts (
    account_id   TEXT PRIMARY KEY,            -- 12 digits
    canonical_id TEXT NOT NULL UNIQUE,        -- what buckets and objects record as their owner
    name         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'Active',
    created      REAL NOT NULL
);

CREATE TABLE IF NOT EXISTS iam_users (
    account_id TEXT NOT NULL,
    name       TEXT NOT NULL COLLATE NOCASE,  -- IAM names are unique regardless of case
    user_id    TEXT NOT NULL UNIQUE,
    path       TEXT NOT NULL,
    created    REAL NOT NULL,
    PRIMARY KEY (account_id, name)
);

CREATE TABLE IF NOT EXISTS iam_groups (
    account_id TEXT NOT NULL,
    name       TEXT NOT NULL COLLATE NOCASE,
    group_id   TEXT NOT NULL UNIQUE,
    path       TEXT NOT NULL,
    created    REAL NOT NULL,
    PRIMARY KEY (account_id, name)
);

CREATE TABLE IF NOT EXISTS iam_group_members (
    account_id TEXT NOT NULL,
    group_name TEXT NOT NULL COLLATE NOCASE,
    user_name  TEXT NOT NULL COLLATE NOCASE,
    PRIMARY KEY (account_id, group_name, user_name)
);
CREATE INDEX IF NOT EXISTS iam_members_by_user ON iam_group_members (account_id, user_name);

-- Inline policies of users (kind 'user') and groups (kind 'group').
CREATE TABLE IF NOT EXISTS iam_policies (
    account_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    holder      TEXT NOT NULL COLLATE NOCASE,
    policy_name TEXT NOT NULL COLLATE NOCASE,
    document    TEXT NOT NULL,
    PRIMARY KEY (account_id, kind, holder, policy_name)
);

-- Access keys of an account's root user (user_name NULL) and of its IAM users.
CREATE TABLE IF NOT EXISTS access_keys (
    access_key TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    user_name  TEXT COLLATE NOCASE,
    secret     TEXT NOT NULL,                 -- base64(nonce || AES-GCM ciphertext)
    status     TEXT NOT NULL DEFAULT 'Active',
    created    REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS access_keys_by_user ON access_keys (account_id, user_name);
