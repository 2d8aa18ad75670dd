"""Cross-region replication: outbox shipping, apply on the destination, region registry."""
