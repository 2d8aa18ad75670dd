-- Usage counters per bucket (every stored version counts, delete markers as 0 bytes), kept up to date
-- inside the transaction that commits or removes a version, and quotas per bucket or per account.
CREATE TABLE IF NOT EXISTS bucket_usage (
    bucket  TEXT COLLATE "C" PRIMARY KEY,
    bytes   BIGINT NOT NULL DEFAULT 0,
    objects BIGINT NOT NULL DEFAULT 0
);
INSERT INTO bucket_usage (bucket, bytes, objects)
    SELECT b.name, COALESCE(SUM(o.size), 0), COUNT(o.bucket)
    FROM buckets b LEFT JOIN objects o ON o.bucket = b.name GROUP BY b.name
    ON CONFLICT (bucket) DO UPDATE SET bytes = excluded.bytes, objects = excluded.objects;

-- kind 'bucket' (target: bucket name) or 'account' (target: 12-digit account id); NULL: no limit.
CREATE TABLE IF NOT EXISTS quotas (
    kind        TEXT NOT NULL,
    target      TEXT NOT NULL,
    max_bytes   BIGINT,
    max_objects BIGINT,
    PRIMARY KEY (kind, target)
);
