"""Cross-region replication converges: 1,000 writes (small puts, overwrites, multipart uploads, tag
changes, deletes) into a bucket of cn-hangzhou replicated to us-west-1, with us-west-1 stopped for
the middle of the run. Afterwards both regions hold the same versions (same ids, same bytes, same
metadata and tags, same delete markers), none lost and none extra."""

from __future__ import annotations

import contextlib
import hashlib
import random
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
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

PART = 5 * 1024 * 1024


@pytest.fixture
def regions(tmp_path: Path) -> Iterator[Regions]:
    r = start_regions(tmp_path, {WEST: [HANGZHOU]})
    yield r
    r.stop()


def _write(client: Any, rng: random.Random, i: int, keys: list[str]) -> None:
    roll = rng.random()
    if i % 100 == 7:                                   # multipart: a 5 MiB part and a small one
        key = f"big/{i}"
        up = client.create_multipart_upload(Bucket="photos", Key=key, Metadata={"n": str(i)})
        etags = []
        for n, body in ((1, rng.randbytes(PART)), (2, rng.randbytes(1000 + i))):
            r = client.upload_part(Bucket="photos", Key=key, UploadId=up["UploadId"], PartNumber=n, Body=body)
            etags.append({"PartNumber": n, "ETag": r["ETag"]})
        client.complete_multipart_upload(Bucket="photos", Key=key, UploadId=up["UploadId"],
                                         MultipartUpload={"Parts": etags})
        keys.append(key)
    elif roll < 0.1 and keys:                          # delete (a delete marker)
        client.delete_object(Bucket="photos", Key=rng.choice(keys))
    elif roll < 0.15 and keys:                         # tags on the current version
        key = rng.choice(keys)
        with contextlib.suppress(client.exceptions.ClientError):   # unless its latest is a delete marker
            client.put_object_tagging(Bucket="photos", Key=key,
                                      Tagging={"TagSet": [{"Key": "round", "Value": str(i)}]})
    elif roll < 0.4 and keys:                          # overwrite
        client.put_object(Bucket="photos", Key=rng.choice(keys), Body=rng.randbytes(rng.randrange(0, 40_000)),
                          ContentType="application/x-test", Metadata={"i": str(i)})
    else:                                              # a new key
        key = f"small/{i:04d}"
        client.put_object(Bucket="photos", Key=key, Body=rng.randbytes(rng.randrange(0, 20_000)),
                          Tagging=f"n={i}")
        keys.append(key)


def _snapshot(client: Any, bucket: str, versions: list[tuple[str, str, bool, str]]) -> dict[tuple[str, str], Any]:
    """Bytes (sha256), ETag, size, content type, metadata and tags of every version (delete markers named)."""
    def one(version: tuple[str, str, bool, str]) -> Any:
        key, vid, marker, _ = version
        if marker:
            return "delete-marker"
        got = client.get_object(Bucket=bucket, Key=key, VersionId=vid)
        tags = client.get_object_tagging(Bucket=bucket, Key=key, VersionId=vid)["TagSet"]
        return (hashlib.sha256(got["Body"].read()).hexdigest(), got["ETag"], got["ContentLength"],
                got.get("ContentType"), got["Metadata"], sorted((t["Key"], t["Value"]) for t in tags))
    with ThreadPoolExecutor(4) as pool:
        return {(v[0], v[1]): got for v, got in zip(versions, pool.map(one, versions), strict=True)}


def test_thousand_writes_converge_across_an_outage(regions: Regions) -> None:
    hz, west = regions[HANGZHOU].client(), regions[WEST].client()
    versioned_bucket(hz, "photos", HANGZHOU)
    versioned_bucket(west, "photos-west", WEST)
    replicate(hz, "photos", "photos-west")
    rng = random.Random(4)
    keys: list[str] = []
    for i in range(300):
        _write(hz, rng, i, keys)
    regions[WEST].stop()                               # the destination goes away mid-run
    for i in range(300, 700):
        _write(hz, rng, i, keys)
    pending = [hz.head_object(Bucket="photos", Key=k).get("ReplicationStatus")
               for k in keys[-20:] if not k.startswith("big/")]
    assert "PENDING" in pending
    regions[WEST].start()                              # back, on the same port and data folder
    west = regions[WEST].client()
    for i in range(700, 1000):
        _write(hz, rng, i, keys)

    written = time.monotonic()
    source = all_versions(hz, "photos")
    assert len(source) >= 900          # tag changes make no version
    wait_for(lambda: all_versions(west, "photos-west") == source, timeout=60)
    print(f"converged {time.monotonic() - written:.2f} s after the last write")
    assert _snapshot(west, "photos-west", source) == _snapshot(hz, "photos", source)
    # the latest version of every key is the same one on both sides
    for key in {k for k, _, _, _ in source}:
        a = hz.list_object_versions(Bucket="photos", Prefix=key)
        b = west.list_object_versions(Bucket="photos-west", Prefix=key)
        latest = [(v["Key"], v["VersionId"]) for v in a.get("Versions", []) + a.get("DeleteMarkers", [])
                  if v["IsLatest"]]
        assert latest == [(v["Key"], v["VersionId"]) for v in b.get("Versions", []) + b.get("DeleteMarkers", [])
                          if v["IsLatest"]]
    live = [k for k in set(keys) if any(v[0] == k and not v[2] for v in source)]
    statuses = {hz.head_object(Bucket="photos", Key=k).get("ReplicationStatus") for k in live
                if _current_is_object(hz, k)}
    assert statuses == {"COMPLETED"}
    replicas = {west.head_object(Bucket="photos-west", Key=k).get("ReplicationStatus") for k in live
                if _current_is_object(west, k, "photos-west")}
    assert replicas == {"REPLICA"}


def _current_is_object(client: Any, key: str, bucket: str = "photos") -> bool:
    try:
        client.head_object(Bucket=bucket, Key=key)
    except client.exceptions.ClientError:
        return False
    return True
