-- The web console: usage samples per bucket (stored bytes and objects, and the S3 requests counted since
-- the sample before), taken every few minutes for the usage charts; and console passwords of IAM users
-- (argon2 hashes), for people who sign in with a user name and a password instead of an access key.
CREATE TABLE IF NOT EXISTS usage_samples (
    bucket   TEXT NOT NULL,
    ts       BIGINT NOT NULL,
    bytes    BIGINT NOT NULL,
    objects  BIGINT NOT NULL,
    requests BIGINT NOT NULL,
    PRIMARY KEY (bucket, ts)
);
CREATE INDEX IF NOT EXISTS usage_samples_ts ON usage_samples (ts);

CREATE TABLE IF NOT EXISTS console_passwords (
    account_id TEXT NOT NULL,
    user_name  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    updated    DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (account_id, user_name)
);
