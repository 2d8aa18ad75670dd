-- Monthly budgets of tenants (nuage.billing.budgets): one per account, an amount in the price sheet's
-- currency, kept as decimal text (never a float).
CREATE TABLE IF NOT EXISTS budgets (
    account_id TEXT PRIMARY KEY,
    amount     TEXT NOT NULL,
    currency   TEXT NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL
);
-- Budget events: a tenant's month-so-far total crossed 80 or 100 percent of its budget. One row per
-- (account, month, threshold), inserted with ON CONFLICT DO NOTHING, so each threshold fires once a month
-- whatever the number of gateways or restarts. emitted: when the event was handed to the notification
-- targets (NULL: not yet; the rows are the outbox of issue 19's notifications).
CREATE TABLE IF NOT EXISTS budget_events (
    account_id TEXT NOT NULL,
    month      TEXT NOT NULL,
    threshold  INTEGER NOT NULL,
    at         DOUBLE PRECISION NOT NULL,
    spent      TEXT NOT NULL,
    budget     TEXT NOT NULL,
    currency   TEXT NOT NULL,
    emitted    DOUBLE PRECISION,
    PRIMARY KEY (account_id, month, threshold)
);
CREATE INDEX IF NOT EXISTS budget_events_pending ON budget_events (at) WHERE emitted IS NULL;
