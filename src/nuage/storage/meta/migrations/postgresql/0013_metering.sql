-- Metering (nuage.core.metering): what each account used, per bucket ('' for requests that name none), per
-- region and per UTC hour (its start, in seconds since the epoch). metric is one of requests_a, requests_b,
-- bytes_in, bytes_out, bytes_replicated, bytes_scanned (counts and bytes, added to by every gateway's
-- flushes) and storage_byte_hours (written once per hour and bucket by the storage sampler).
CREATE TABLE IF NOT EXISTS meter_counts (
    account_id TEXT NOT NULL,
    bucket     TEXT NOT NULL,
    region     TEXT NOT NULL,
    hour       BIGINT NOT NULL,
    metric     TEXT NOT NULL,
    value      BIGINT NOT NULL,
    PRIMARY KEY (account_id, bucket, region, hour, metric)
);
CREATE INDEX IF NOT EXISTS meter_counts_by_hour ON meter_counts (hour, metric);

-- The hours the storage sampler sampled (whether or not any bucket stored bytes then): the next sample fills
-- the hours after the last one, and only those.
CREATE TABLE IF NOT EXISTS meter_sampled_hours (
    hour BIGINT PRIMARY KEY
);
