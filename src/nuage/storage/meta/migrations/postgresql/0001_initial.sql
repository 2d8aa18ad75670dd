-- Buckets, objects (every version), multipart uploads and parts, the blob registry, credentials.
-- The PostgreSQL twin of ../0001_initial.sql: names and columns are the same; timestamps are double
-- precision (SQLite's REAL), counters bigint, and keys compare as UTF-8 bytes (COLLATE "C").
CREATE TABLE buckets (
    name        TEXT COLLATE "C" PRIMARY KEY,
    owner       TEXT NOT NULL,
    region      TEXT NOT NULL,
    created     DOUBLE PRECISION NOT NULL,
    versioning  TEXT NOT NULL DEFAULT '',
    object_lock INTEGER NOT NULL DEFAULT 0
);

-- Sub-resources of a bucket stored as documents: tagging, policy, cors, lifecycle, acl, ...
CREATE TABLE bucket_configs (
    bucket TEXT COLLATE "C" NOT NULL,
    name   TEXT NOT NULL,
    value  TEXT NOT NULL,
    PRIMARY KEY (bucket, name)
);

-- One row per object version (delete markers included). ``segments`` holds the JSON list of blobs, or is
-- NULL when the object's bytes are kept in the row itself (``inline_data``).
CREATE TABLE objects (
    seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    bucket        TEXT COLLATE "C" NOT NULL,
    key           TEXT COLLATE "C" NOT NULL,
    version_id    TEXT NOT NULL,
    is_latest     INTEGER NOT NULL,
    delete_marker INTEGER NOT NULL,
    size          BIGINT NOT NULL,
    etag          TEXT NOT NULL,
    last_modified DOUBLE PRECISION NOT NULL,
    owner         TEXT NOT NULL,
    meta          TEXT NOT NULL,
    segments      TEXT,
    inline_data   BYTEA,
    tags          TEXT NOT NULL
);
CREATE UNIQUE INDEX objects_by_version ON objects (bucket, key, version_id);
CREATE UNIQUE INDEX objects_latest ON objects (bucket, key) WHERE is_latest = 1;
CREATE INDEX objects_history ON objects (bucket, key, seq);

CREATE TABLE uploads (
    upload_id TEXT PRIMARY KEY,
    bucket    TEXT COLLATE "C" NOT NULL,
    key       TEXT COLLATE "C" NOT NULL,
    initiated DOUBLE PRECISION NOT NULL,
    owner     TEXT NOT NULL,
    meta      TEXT NOT NULL
);
CREATE INDEX uploads_by_key ON uploads (bucket, key, initiated);

-- A part's blob id is kept as UTF-8 bytes: the id of a small part carries its bytes (NUL included).
CREATE TABLE parts (
    upload_id     TEXT NOT NULL,
    part_number   INTEGER NOT NULL,
    size          BIGINT NOT NULL,
    etag          TEXT NOT NULL,
    last_modified DOUBLE PRECISION NOT NULL,
    blob          BYTEA NOT NULL,
    checksums     TEXT NOT NULL,
    PRIMARY KEY (upload_id, part_number)
);

-- Every blob file that metadata references; files missing here are orphans for the sweeper.
CREATE TABLE blobs (
    id TEXT PRIMARY KEY
);

CREATE TABLE credentials (
    access_key   TEXT PRIMARY KEY,
    secret       TEXT NOT NULL,
    owner_id     TEXT NOT NULL,
    display_name TEXT NOT NULL,
    created      DOUBLE PRECISION NOT NULL
);
