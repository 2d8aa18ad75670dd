-- Cross-region replication: the outbox of versions to ship, written in the same transaction as the
-- write it describes (a row per matching rule); a row is deleted only after the destination confirmed
-- the apply (or refused it for good, which is recorded in repl_failures).
CREATE TABLE IF NOT EXISTS repl_outbox (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bucket      TEXT NOT NULL,
    key         TEXT NOT NULL,
    version_id  TEXT NOT NULL,
    op          TEXT NOT NULL,              -- 'put' (a version or a delete marker) or 'tags'
    rule_id     TEXT NOT NULL,
    dest_bucket TEXT NOT NULL,
    created     DOUBLE PRECISION NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT
);
CREATE INDEX IF NOT EXISTS repl_outbox_by_version ON repl_outbox (bucket, key, version_id);

CREATE TABLE IF NOT EXISTS repl_failures (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bucket      TEXT NOT NULL,
    key         TEXT NOT NULL,
    version_id  TEXT NOT NULL,
    rule_id     TEXT NOT NULL,
    dest_bucket TEXT NOT NULL,
    error       TEXT NOT NULL,
    at          DOUBLE PRECISION NOT NULL
);
CREATE INDEX IF NOT EXISTS repl_failures_by_rule ON repl_failures (bucket, rule_id);
