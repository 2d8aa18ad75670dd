"""The typed codec of an object version's facts (ObjectRecord.extra): the stored keys never change, so data
folders written by earlier versions read the same."""

from __future__ import annotations

import json

from nuage.storage.meta.extra import (
    REPLICA,
    Facts,
    Sse,
    StoredRetention,
    acl_change,
    acl_entries,
    legal_hold_change,
    lock_entries,
    quarantine_entries,
    received_replica,
    replica_entries,
    replication_entries,
    retention_change,
    upload_entries,
)
from nuage.storage.meta.records import ObjectRecord

#: An ``extra`` map as earlier versions stored it (these keys are on disk in existing data folders).
STORED = {
    "acl": "public-read", "lock-mode": "GOVERNANCE", "lock-until": "2030-01-01T00:00:00.000Z",
    "legal-hold": "ON", "repl": "COMPLETED", "quarantined": "1700000000.5", "upload-id": "u1",
    "sse": "aws:kms", "sse-kms-key-id": "k1", "sse-bucket-key": "true", "sse-key": "d3JhcHBlZA==",
    "sse-format": "gcm",
}


def test_facts_read_the_keys_earlier_versions_stored() -> None:
    facts = Facts(STORED)
    assert facts.acl == "public-read"
    assert facts.retention == StoredRetention("GOVERNANCE", "2030-01-01T00:00:00.000Z")
    assert facts.has_retention
    assert facts.legal_hold == "ON"
    assert facts.replication == "COMPLETED"
    assert facts.quarantined
    assert facts.upload_id == "u1"
    assert facts.sse_algorithm == "aws:kms"
    assert facts.sse == Sse("aws:kms", "d3JhcHBlZA==", "k1", True, None, None, True)


def test_an_empty_map_has_no_facts() -> None:
    facts = ObjectRecord("b", "k", "null", 0, "e", 0.0, "o").facts
    assert (facts.acl, facts.retention, facts.legal_hold, facts.replication, facts.sse, facts.upload_id) == \
        (None, None, None, None, None, None)
    assert not facts.quarantined and not facts.has_retention


def test_a_retention_needs_both_its_mode_and_its_date() -> None:
    assert Facts({"lock-mode": "COMPLIANCE"}).retention is None
    assert Facts({"lock-mode": "COMPLIANCE"}).has_retention


def test_writers_produce_the_stored_keys() -> None:
    written: dict[str, str] = {}
    written.update(acl_entries("public-read"))
    written.update(lock_entries(StoredRetention("GOVERNANCE", "2030-01-01T00:00:00.000Z"), "ON"))
    written.update(replication_entries("COMPLETED"))
    written.update(quarantine_entries(1700000000.5))
    written.update(upload_entries("u1"))
    written.update(Sse("aws:kms", "d3JhcHBlZA==", "k1", True, gcm=True).entries())
    assert written == STORED


def test_changes_remove_with_none() -> None:
    assert acl_change(None) == {"acl": None}
    assert retention_change(None) == {"lock-mode": None, "lock-until": None}
    assert retention_change(StoredRetention("COMPLIANCE", "t")) == {"lock-mode": "COMPLIANCE", "lock-until": "t"}
    assert legal_hold_change("OFF") == {"legal-hold": "OFF"}


def test_sse_round_trips_through_its_entries() -> None:
    for sse in (Sse("AES256", "w", gcm=True), Sse("SSE-C", "w", customer_md5="m", customer_mac="h"),
                Sse("aws:kms", "w", kms_key_id="k", bucket_key=True, gcm=True)):
        assert Facts(sse.entries()).sse == sse


def test_a_replica_leaves_its_source_encryption_and_status_behind_and_names_a_server_side_one() -> None:
    out = replica_entries(STORED, server_side_sse=True)
    assert not any(k.startswith("sse") for k in out) and "repl" not in out
    assert json.loads(out["replicated-sse"]) == ["aws:kms", "k1", "true"]
    assert "replicated-sse" not in replica_entries({"sse": "SSE-C", "sse-key": "w"}, server_side_sse=False)
    stored, sse = received_replica(out, object_lock=False)
    assert stored["repl"] == REPLICA and "replicated-sse" not in stored
    assert not Facts(stored).has_retention and Facts(stored).legal_hold is None
    assert sse == ("aws:kms", "k1", True)
    kept, none = received_replica({"lock-mode": "GOVERNANCE", "lock-until": "t"}, object_lock=True)
    assert Facts(kept).retention == StoredRetention("GOVERNANCE", "t") and none is None
