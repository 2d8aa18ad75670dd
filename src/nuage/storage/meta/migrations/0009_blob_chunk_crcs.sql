-- The CRC32C of each 16 KiB chunk of an unencrypted blob file larger than one chunk (4 bytes each, big
-- endian, in order), so that a range read checks the chunks it covers instead of serving them unchecked.
-- A rowid table: reads take the few CRCs they need through incremental blob I/O.
CREATE TABLE IF NOT EXISTS blob_chunks (
    blob TEXT NOT NULL UNIQUE,
    crcs BLOB NOT NULL
);
