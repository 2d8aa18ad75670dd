-- SQL jobs (nuage.query): one row per job, kept after it ends (status, bytes scanned, duration, error).
CREATE TABLE IF NOT EXISTS query_jobs (
    job_id        TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL,
    principal     TEXT NOT NULL,          -- the caller's ARN
    sql           TEXT NOT NULL,
    status        TEXT NOT NULL,          -- queued | running | succeeded | failed | cancelled
    created       DOUBLE PRECISION NOT NULL,
    started       DOUBLE PRECISION,
    finished      DOUBLE PRECISION,
    bytes_scanned BIGINT NOT NULL DEFAULT 0,
    objects       BIGINT NOT NULL DEFAULT 0,
    rows          BIGINT,
    columns       TEXT,                   -- JSON list of result column names
    output        TEXT NOT NULL,          -- JSON: {"format": ...} or {"bucket", "key", "format"}
    error_code    TEXT,
    error_message TEXT
);
CREATE INDEX IF NOT EXISTS query_jobs_by_account ON query_jobs (account_id, created);
