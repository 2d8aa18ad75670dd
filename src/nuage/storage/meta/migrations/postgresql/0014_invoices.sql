-- Issued invoices (nuage.billing): one per tenant and month, never changed once written. The number is
-- PREFIX-YEAR-SEQUENCE, the sequence gap-free per year of issue across the cluster, allocated in the
-- transaction that inserts the row (storage/meta/invoices.py); the document is the invoice as JSON text.
CREATE TABLE IF NOT EXISTS invoices (
    account_id TEXT NOT NULL,
    month      TEXT NOT NULL,
    number     TEXT NOT NULL UNIQUE,
    year       INTEGER NOT NULL,
    seq        INTEGER NOT NULL,
    issued_at  DOUBLE PRECISION NOT NULL,
    document   TEXT NOT NULL,
    PRIMARY KEY (account_id, month),
    UNIQUE (year, seq)
);
