-- Accounts (tenants) and what lives inside them: IAM users, groups, inline policies, access keys.
-- Secrets are stored encrypted (AES-GCM) with a server key kept outside this database.
-- IAM names are unique regardless of case (SQLite's NOCASE): a case-insensitive ICU collation.
CREATE COLLATION IF NOT EXISTS nuage_nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

CREATE TABLE IF NOT EXISTS accounts (
    account_id   TEXT PRIMARY KEY,            -- 12 digits
    canonical_id TEXT NOT NULL UNIQUE,        -- what buckets and objects record as their owner
    name         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'Active',
    created      DOUBLE PRECISION NOT NULL
);

CREATE TABLE IF NOT EXISTS iam_users (
    account_id TEXT NOT NULL,
    name       TEXT COLLATE nuage_nocase NOT NULL,
    user_id    TEXT NOT NULL UNIQUE,
    path       TEXT NOT NULL,
    created    DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account_id, name)
);

CREATE TABLE IF NOT EXISTS iam_groups (
    account_id TEXT NOT NULL,
    name       TEXT COLLATE nuage_nocase NOT NULL,
    group_id   TEXT NOT NULL UNIQUE,
    path       TEXT NOT NULL,
    created    DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account_id, name)
);

CREATE TABLE IF NOT EXISTS iam_group_members (
    account_id TEXT NOT NULL,
    group_name TEXT COLLATE nuage_nocase NOT NULL,
    user_name  TEXT COLLATE nuage_nocase NOT NULL,
    PRIMARY KEY (account_id, group_name, user_name)
);
CREATE INDEX IF NOT EXISTS iam_members_by_user ON iam_group_members (account_id, user_name);

-- Inline policies of users (kind 'user') and groups (kind 'group').
CREATE TABLE IF NOT EXISTS iam_policies (
    account_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    holder      TEXT COLLATE nuage_nocase NOT NULL,
    policy_name TEXT COLLATE nuage_nocase NOT NULL,
    document    TEXT NOT NULL,
    PRIMARY KEY (account_id, kind, holder, policy_name)
);

-- Access keys of an account's root user (user_name NULL) and of its IAM users.
CREATE TABLE IF NOT EXISTS access_keys (
    access_key TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    user_name  TEXT COLLATE nuage_nocase,
    secret     TEXT NOT NULL,                 -- base64(nonce || AES-GCM ciphertext)
    status     TEXT NOT NULL DEFAULT 'Active',
    created    DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS access_keys_by_user ON access_keys (account_id, user_name);
