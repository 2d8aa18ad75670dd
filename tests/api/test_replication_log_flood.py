"""A replication peer that is down fills the log with one line per interval, not one per object or retry."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.regions import HANGZHOU, WEST, replicate, start_regions, versioned_bucket, wait_for


def test_a_down_peer_gives_one_line_per_interval(tmp_path: Path) -> None:
    regions = start_regions(tmp_path, {WEST: [HANGZHOU]})
    try:
        hz, west = regions[HANGZHOU].client(), regions[WEST].client()
        versioned_bucket(hz, "flood-src", HANGZHOU)
        versioned_bucket(west, "flood-dst", WEST)
        replicate(hz, "flood-src", "flood-dst")
        hz.put_object(Bucket="flood-src", Key="first", Body=b"1")
        wait_for(lambda: hz.head_object(Bucket="flood-src", Key="first").get("ReplicationStatus") == "COMPLETED")
        regions[WEST].stop()   # its port is closed from now on
        for n in range(40):   # more keys than the shipper has lanes, each retried with backoff
            hz.put_object(Bucket="flood-src", Key=f"k{n}", Body=b"x")
        time.sleep(8)
        lines = [line for line in regions[HANGZHOU].log().splitlines()
                 if "replication" in line and WEST in line]
        assert 1 <= len(lines) <= 2, lines
        assert "127.0.0.1" in lines[0]   # it says what failed: the peer's address
        assert hz.head_object(Bucket="flood-src", Key="k0").get("ReplicationStatus") == "PENDING"
    finally:
        regions.stop()
