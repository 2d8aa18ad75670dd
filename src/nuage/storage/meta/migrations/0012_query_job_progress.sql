-- How far a running SQL job is (percent, DuckDB's estimate), written by the process that runs it with its
-- heartbeat, so that every gateway shows it, not only the job's own.
ALTER TABLE query_jobs ADD COLUMN progress REAL;
