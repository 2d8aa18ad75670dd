-- Bit rot: every blob's CRC32C, taken while it was written, so reads and scrubs can tell damaged bytes.
-- File blobs of an object keep theirs in the object's `segments` JSON ([blob, size, crc]); an object whose
-- bytes are in its row keeps the CRC of those bytes here; a part of an upload in progress keeps its blob's.
ALTER TABLE objects ADD COLUMN crc BIGINT;
ALTER TABLE parts ADD COLUMN crc BIGINT;

-- Blobs found damaged (by a read or a scrub): the evidence, kept after the object is gone. The object
-- version itself is flagged in its metadata so that later reads fail at once.
CREATE TABLE IF NOT EXISTS quarantine (
    blob       TEXT PRIMARY KEY,     -- the blob id, or 'row:<seq>' for bytes kept in an object's row
    bucket     TEXT NOT NULL,
    key        TEXT NOT NULL,
    version_id TEXT NOT NULL,
    found      DOUBLE PRECISION NOT NULL,
    source     TEXT NOT NULL,        -- 'read' or 'scrub'
    detail     TEXT NOT NULL
);
