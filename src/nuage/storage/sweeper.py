"""Background cleanup: blob files that no metadata references (left by crashes or by a failed
delete after a commit) and multipart uploads abandoned for longer than the expiry.

A file goes once it is older than the grace and no writer holds it: the grace counts from a file's last
write, or from its move into place (the commit that references it follows), and a writer of any process
sharing the folder locks the file it writes for as long as it has it open (``blobs.writelock``), so a slow
upload that sends nothing for longer than the grace keeps its file."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from nuage.storage.blobs.localfs import LocalBlobStore
from nuage.storage.meta.base import MetadataStore

log = logging.getLogger("nuage.sweeper")


@dataclass
class SweepReport:
    orphans_removed: int = 0
    uploads_aborted: int = 0


def sweep_orphans(meta: MetadataStore, blobs: LocalBlobStore, grace_seconds: float) -> int:
    cutoff = time.time() - grace_seconds
    removed = 0
    for name, mtime in list(blobs.walk_tmp()):
        # older than the grace and no writer holds it (a slow upload of another gateway, say)
        if mtime < cutoff and blobs.delete_tmp(name):
            removed += 1
    for blob_id, mtime in blobs.walk():
        if mtime < cutoff and not meta.blob_referenced(blob_id) and blobs.delete_orphan(blob_id):
            removed += 1
    return removed


async def abort_expired_uploads(meta: MetadataStore, blobs: LocalBlobStore, expiry_seconds: float) -> int:
    count = 0
    for upload_id in await meta.expired_uploads(time.time() - expiry_seconds):
        blobs.delete(await meta.abort_upload(upload_id))
        count += 1
    return count


async def sweep_once(meta: MetadataStore, blobs: LocalBlobStore, grace_seconds: float,
                     expiry_seconds: float) -> SweepReport:
    report = SweepReport()
    report.uploads_aborted = await abort_expired_uploads(meta, blobs, expiry_seconds)
    report.orphans_removed = await asyncio.get_running_loop().run_in_executor(
        None, sweep_orphans, meta, blobs, grace_seconds)
    return report


async def run_forever(meta: MetadataStore, blobs: LocalBlobStore, interval: float, grace_seconds: float,
                      expiry_seconds: float) -> None:
    while True:
        try:
            report = await sweep_once(meta, blobs, grace_seconds, expiry_seconds)
            if report.orphans_removed or report.uploads_aborted:
                log.info("sweeper: removed %d orphan blobs, aborted %d expired uploads",
                         report.orphans_removed, report.uploads_aborted)
        except Exception:
            log.exception("sweeper pass failed")
        await asyncio.sleep(interval)
