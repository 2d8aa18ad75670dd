"""Scrub: read every blob that metadata references and compare it with the CRC32C taken when it was
written. Damaged blobs are quarantined (the version is flagged so that reads fail at once, the finding
is recorded, a file's bytes are kept in ``quarantine/``); nothing is ever deleted. Blobs written before
they had a CRC cannot be checked and are counted as unverifiable.

A scrub reads at a bounded rate and pages through the metadata in short read transactions, so it can
run beside a serving process on the same data folder (SQLite in WAL mode: its few writes wait for the
server's writer for a moment).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from nuage.storage.blobs.inline import inline_bytes, is_inline
from nuage.storage.blobs.integrity import crc32c
from nuage.storage.blobs.localfs import LocalBlobStore
from nuage.storage.meta.base import MetadataStore
from nuage.storage.meta.records import ScrubItem

PAGE = 500                      # object versions listed per read transaction
PIECE = 1024 * 1024             # bytes read at a time


@dataclass(frozen=True)
class Finding:
    item: ScrubItem
    detail: str
    earlier: bool = False       # quarantined before this scrub (by a read or an earlier scrub)


@dataclass
class ScrubReport:
    blobs: int = 0              # blobs checked
    bytes: int = 0              # bytes read
    unverifiable: int = 0       # blobs without a CRC (written before blobs had one)
    damaged: list[Finding] = field(default_factory=list)

    @property
    def found(self) -> list[Finding]:
        """Damage this scrub found (not quarantined before)."""
        return [f for f in self.damaged if not f.earlier]


class Throttle:
    """Keeps reading at or under ``rate`` bytes per second (None: as fast as the disk goes)."""

    def __init__(self, rate: float | None, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.clock = clock
        self.start = clock()
        self.spent = 0

    def spend(self, n: int) -> None:
        self.spent += n
        if not self.rate:
            return
        ahead = self.spent / self.rate - (self.clock() - self.start)
        if ahead > 0:
            time.sleep(ahead)


def blob_damage(blobs: LocalBlobStore, item: ScrubItem, throttle: Throttle) -> tuple[str | None, int]:
    """(what is wrong with the blob, or None; bytes read). ``item.crc`` is known."""
    if is_inline(item.blob):
        data = inline_bytes(item.blob)
        throttle.spend(len(data))
        return (None if crc32c(data) == item.crc else "CRC32C of the bytes kept in the row does not match"), len(data)
    crc, size = 0, 0
    try:
        fd = os.open(blobs.path(item.blob), os.O_RDONLY)
    except FileNotFoundError:
        return "the file is missing", 0
    try:
        with os.fdopen(fd, "rb", buffering=0) as f:
            while piece := f.read(PIECE):
                crc = crc32c(piece, crc)
                size += len(piece)
                throttle.spend(len(piece))
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}", size
    if crc != item.crc:
        return f"CRC32C {crc:08x} over {size} bytes, {item.crc:08x} when written", size
    return None, size


def items(meta: MetadataStore) -> Iterator[ScrubItem]:
    """Every blob of every object version, then those of the parts of uploads in progress."""
    after = 0
    while True:
        page, last = meta.scrub_objects(after, PAGE)
        yield from page
        if last == after:
            break
        after = last
    yield from meta.scrub_parts()


def scrub(meta: MetadataStore, blobs: LocalBlobStore, *, rate: float | None = None,
          on_blob: Callable[[ScrubItem, int], None] | None = None) -> ScrubReport:
    """Check every blob (``rate`` in bytes per second), quarantine the damaged ones, report."""
    report = ScrubReport()
    throttle = Throttle(rate)
    flagged: set[int | None] = set()   # versions quarantined before: reported once, not read again
    known = {(r[1], r[2], r[3]): f"{r[6]} (found by a {r[5]})" for r in meta.quarantined()}
    for item in items(meta):
        if item.quarantined:
            if item.seq not in flagged:
                flagged.add(item.seq)
                what = known.get((item.bucket, item.key, item.version_id), "quarantined earlier")
                report.damaged.append(Finding(item, what, earlier=True))
            continue
        if item.crc is None:
            report.unverifiable += 1
            continue
        detail, size = blob_damage(blobs, item, throttle)
        report.blobs += 1
        report.bytes += size
        if detail is not None and not is_inline(item.blob) and not meta.blob_referenced(item.blob):
            detail = None   # deleted or replaced since it was listed: nothing to judge
        if detail is not None:
            blobs.keep_evidence(item.blob)
            new = meta.quarantine_sync(item, "scrub", detail)
            report.damaged.append(Finding(item, detail, earlier=not new))
        if on_blob is not None:
            on_blob(item, size)
    return report
