-- Buckets, objects (every version), multipart uploads and parts, the blob registry, credentials.
CREATE TABLE buckets (
    name        TEXT PRIMARY KEY,
    owner       TEXT NOT NULL,
    region      TEXT NOT NULL,
    created     REAL NOT NULL,
    versioning  TEXT NOT NULL DEFAULT '',
    object_lock INTEGER NOT NULL DEFAULT 0
);

-- Sub-resources of a bucket stored as documents: tagging, policy, cors, lifecycle, acl, ...
CREATE TABLE bucket_configs (
    bucket TEXT NOT NULL,
    name   TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (bucket, name)
) WITHOUT ROWID;

-- One row per object version (delete markers included). Keys compare as UTF-8 bytes (BINARY).
CREATE TABLE objects (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    bucket        TEXT NOT NULL,
    key           TEXT NOT NULL,
    version_id    TEXT NOT NULL,
    is_latest     INTEGER NOT NULL,
    delete_marker INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    etag          TEXT NOT NULL,
    last_modified REAL NOT NULL,
    owner         TEXT NOT NULL,
    meta          TEXT NOT NULL,
    segments      TEXT NOT NULL,
    tags          TEXT NOT NULL
);
CREATE UNIQUE INDEX objects_by_version ON objects (bucket, key, version_id);
CREATE UNIQUE INDEX objects_latest ON objects (bucket, key) WHERE is_latest = 1;
CREATE INDEX objects_history ON objects (bucket, key, seq);

CREATE TABLE uploads (
    upload_id TEXT PRIMARY KEY,
    bucket    TEXT NOT NULL,
    key       TEXT NOT NULL,
    initiated REAL NOT NULL,
    owner     TEXT NOT NULL,
    meta      TEXT NOT NULL
);
CREATE INDEX uploads_by_key ON uploads (bucket, key, initiated);

CREATE TABLE parts (
    upload_id     TEXT NOT NULL,
    part_number   INTEGER NOT NULL,
    size          INTEGER NOT NULL,
    etag          TEXT NOT NULL,
    last_modified REAL NOT NULL,
    blob          TEXT NOT NULL,
    checksums     TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
) WITHOUT ROWID;

-- Every blob file that metadata references; files missing here are orphans for the sweeper.
CREATE TABLE blobs (
    id TEXT PRIMARY KEY
) WITHOUT ROWID;

CREATE TABLE credentials (
    access_key   TEXT PRIMARY KEY,
    secret       TEXT NOT NULL,
    owner_id     TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created      REAL NOT NULL
);
