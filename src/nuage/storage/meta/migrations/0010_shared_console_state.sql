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

