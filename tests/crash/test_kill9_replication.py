"""kill -9 of a replicating region: acknowledged writes still reach the other region, nothing is
lost and nothing duplicated. Once while its backlog is being shipped (the destination came back
from an outage), once right after the writes were acknowledged; the outbox is empty at the end
(rows go only after the destination confirmed them)."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.regions import (
    HANGZHOU,
    WEST,
    Regions,
    all_versions,
    replicate,
    start_regions,
    versioned_bucket,
    wait_for,
)


@pytest.fixture
def regions(tmp_path: Path) -> Iterator[Regions]:
    r = start_regions(tmp_path, {WEST: [HANGZHOU]})
    yield r
    r.stop()


def _digests(client: Any, bucket: str, versions: list[tuple[str, str, bool, str]]) -> dict[str, str]:
    return {vid: "marker" if marker else hashlib.sha256(
        client.get_object(Bucket=bucket, Key=key, VersionId=vid)["Body"].read()).hexdigest()
        for key, vid, marker, _ in versions}


def _outbox_rows(data_dir: Path) -> int:
    conn = sqlite3.connect(f"file:{data_dir / 'meta.sqlite3'}?mode=ro", uri=True, timeout=10)
    try:
        return int(conn.execute("SELECT count(*) FROM repl_outbox").fetchone()[0])
    finally:
        conn.close()


def test_kill9_source_mid_shipping_and_after_acks(regions: Regions) -> None:
    hz, west = regions[HANGZHOU].client(), regions[WEST].client()
    versioned_bucket(hz, "src", HANGZHOU)
    versioned_bucket(west, "dst", WEST)
    replicate(hz, "src", "dst")
    regions[WEST].stop()
    for i in range(400):                              # a backlog while the destination is away
        key = f"k/{i % 150:03d}"
        if i % 9 == 8:
            hz.delete_object(Bucket="src", Key=key)
        else:
            hz.put_object(Bucket="src", Key=key, Body=f"{i}".encode() * (1 + i % 300))
    assert _outbox_rows(regions[HANGZHOU].data_dir) >= 400
    regions[WEST].start()
    west = regions[WEST].client()
    # kill -9 the source while it ships the backlog
    wait_for(lambda: len(all_versions(west, "dst")) >= 20, timeout=30, interval=0.01)
    regions[HANGZHOU].kill()
    shipped_before = len(all_versions(west, "dst"))
    regions[HANGZHOU].start()
    hz = regions[HANGZHOU].client()
    source = all_versions(hz, "src")
    assert len(source) == 400
    assert shipped_before < len(source)               # it was killed mid-way
    wait_for(lambda: all_versions(west, "dst") == source, timeout=60)
    # kill -9 right after acknowledged writes: they are in the outbox, and go after the restart
    acked = [hz.put_object(Bucket="src", Key=f"late/{i}", Body=b"late" * i)["VersionId"] for i in range(50)]
    regions[HANGZHOU].kill()
    regions[HANGZHOU].start()
    hz = regions[HANGZHOU].client()
    source = all_versions(hz, "src")
    assert {v for _, v, _, _ in source} >= set(acked)
    wait_for(lambda: all_versions(west, "dst") == source, timeout=60)
    assert _digests(west, "dst", source) == _digests(hz, "src", source)
    wait_for(lambda: _outbox_rows(regions[HANGZHOU].data_dir) == 0, timeout=10)
