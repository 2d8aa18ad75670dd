"""Scrub: read every blob that metadata references and compare it with the CRC32C taken when it was
written. Damaged blobs are quarantined (the version is flagged so that reads fail at once, the finding
is recorded, a file's bytes are kept in ``quarantine/``); nothing is ever deleted. Blobs written before
they had a CRC cannot be checked and are counted as unverifiable.

A scrub reads at a bounded rate and pages through the metadata in short read transactions, so it can
run beside a serving process on the same data folder (SQLite in WAL mode: its few writes wait for the
server's writer for a moment).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from nuage.storage.blobs.inline import inline_bytes, is_inline
from nuage.storage.blobs.integrity import crc32c
from nuage.storage.blobs.localfs import LocalBlobStore
from nuage.storage.meta.base import MetadataStore
from nuage.storage.meta.records import ScrubItem

log = logging.getLogger("nuage.scrub")

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


class Stopped(Exception):
    """The pass was asked to stop (the server is shutting down)."""


class Throttle:
    """Keeps reading at or under ``rate`` bytes per second (None: as fast as the disk goes); raises
    Stopped once ``stop`` is set."""

    def __init__(self, rate: float | None, stop: threading.Event | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.stop = stop or threading.Event()
        self.clock = clock
        self.start = clock()
        self.spent = 0

    def spend(self, n: int) -> None:
        self.spent += n
        if self.rate:
            ahead = self.spent / self.rate - (self.clock() - self.start)
            if ahead > 0:
                self.stop.wait(ahead)
        if self.stop.is_set():
            raise Stopped()


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
          on_blob: Callable[[ScrubItem, int], None] | None = None,
          stop: threading.Event | None = None) -> ScrubReport:
    """Check every blob (``rate`` in bytes per second), quarantine the damaged ones, report. ``stop``
    ends the pass early (within a piece read)."""
    report = ScrubReport()
    throttle = Throttle(rate, stop)
    with contextlib.suppress(Stopped):
        _check_all(meta, blobs, throttle, report, on_blob)
    return report


def _check_all(meta: MetadataStore, blobs: LocalBlobStore, throttle: Throttle, report: ScrubReport,
               on_blob: Callable[[ScrubItem, int], None] | None) -> None:
    flagged: set[int | None] = set()   # versions quarantined before: reported once, not read again
    known = {(r[1], r[2], r[3]): f"{r[6]} (found by a {r[5]})" for r in meta.quarantined()}
    for item in items(meta):
        if throttle.stop.is_set():
            return
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


# -- the background pass of a running server ---------------------------------------------------------------
STATE_FILE = "scrub.json"        # in the data folder: when the last whole pass ended (survives restarts)
LOCK_FILE = "scrub.lock"         # one process of those sharing the data folder scrubs at a time


def _last_pass(data_dir: os.PathLike[str]) -> float:
    try:
        with open(os.path.join(data_dir, STATE_FILE)) as f:
            return float(json.load(f)["finished"])
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0


def _record_pass(data_dir: os.PathLike[str], report: ScrubReport) -> None:
    path = os.path.join(data_dir, STATE_FILE)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump({"finished": time.time(), "blobs": report.blobs, "bytes": report.bytes,
                   "unverifiable": report.unverifiable, "damaged": len(report.damaged)}, f)
    os.replace(tmp, path)


def _pass(meta: MetadataStore, blobs: LocalBlobStore, rate: float | None, stop: threading.Event) -> ScrubReport | None:
    """One whole pass under the data folder's scrub lock (None: another process holds it)."""
    data_dir = blobs.root.parent
    with open(data_dir / LOCK_FILE, "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        report = scrub(meta, blobs, rate=rate, stop=stop)
        if not stop.is_set():
            _record_pass(data_dir, report)
        return report


async def run_forever(meta: MetadataStore, blobs: LocalBlobStore, interval: float, rate: float | None) -> None:
    """A slow pass over every blob each ``interval`` seconds (counted from the end of the last whole pass,
    across restarts; from start-up when there was none), reading at ``rate`` bytes per second, in a
    thread. Damage is quarantined and logged."""
    stop = threading.Event()
    started = time.time()
    try:
        while True:
            wait = (_last_pass(blobs.root.parent) or started) + interval - time.time()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            try:
                report = await asyncio.shield(asyncio.to_thread(_pass, meta, blobs, rate, stop))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("scrub pass failed")
                await asyncio.sleep(min(interval, 3600.0))
                continue
            if report is None:
                await asyncio.sleep(min(interval, 60.0))
                continue
            for finding in report.found:
                log.error("scrub: damaged blob in %s/%s (version %s): %s", finding.item.bucket, finding.item.key,
                          finding.item.version_id, finding.detail)
            log.info("scrub: checked %d blobs (%d bytes), %d unverifiable, %d newly damaged, %d known",
                     report.blobs, report.bytes, report.unverifiable, len(report.found),
                     len(report.damaged) - len(report.found))
    finally:
        stop.set()   # a pass under way in its thread ends at its next blob
