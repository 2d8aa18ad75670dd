-- The CRC32C of each 16 KiB chunk of an unencrypted blob file larger than one chunk (4 bytes each, big
-- endian, in order), so that a range read checks the chunks it covers instead of serving them unchecked.
-- Reads take the few CRCs they need with substring().
CREATE TABLE IF NOT EXISTS blob_chunks (
    blob TEXT PRIMARY KEY,
    crcs BYTEA NOT NULL
);
