-- SQL jobs run by one gateway (or worker process) of several: the process that runs a job (owner), when
-- it last said it still does (heartbeat), and a cancellation asked for through any other process, which
-- the owner reads on its heartbeat. Recovery fails only the unfinished jobs whose heartbeat stopped.
ALTER TABLE query_jobs ADD COLUMN owner TEXT;
ALTER TABLE query_jobs ADD COLUMN heartbeat REAL;
ALTER TABLE query_jobs ADD COLUMN cancel_requested INTEGER NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS query_jobs_unfinished ON query_jobs (owner) WHERE status IN ('queued', 'running');
