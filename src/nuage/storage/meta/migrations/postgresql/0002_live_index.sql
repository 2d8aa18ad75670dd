-- Listing walks live keys (latest version, not a delete marker) on this index alone.
CREATE INDEX objects_live ON objects (bucket, key) WHERE is_latest = 1 AND delete_marker = 0;
