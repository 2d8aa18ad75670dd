"""Ordered listings (UTF-8 byte order, the BINARY collation) with prefix, delimiter and markers: the walk
of :mod:`nuage.storage.meta.walk` over SQLite index ranges."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator

from nuage.storage.meta.records import ListPage, ObjectRecord, UploadPage, UploadRecord, VersionPage
from nuage.storage.meta.sqlite.codec import OBJECT_COLUMNS, object_from_row, upload_from_row
from nuage.storage.meta.walk import Walk, common_prefix


def _walk(
    fetch: Callable[[str | None, bool, str | None, int], list[tuple[str, object]]],
    prefix: str, delimiter: str, marker: str | None,
) -> Iterator[tuple[str, object | None]]:
    """Yield (key, row) for entries and (common_prefix, None) for prefixes, in order, after marker."""
    walk = Walk(prefix, delimiter, marker)
    while not walk.done:
        rows = fetch(walk.start, walk.inclusive, walk.upper, walk.limit)
        for name, i in walk.step([r[0] for r in rows]):
            yield name, rows[i][1] if i is not None else None


def list_current(
    conn: sqlite3.Connection, bucket: str, prefix: str, delimiter: str, marker: str | None, max_keys: int,
) -> ListPage:
    """Live keys in order. The walk reads keys only (covering index ``objects_live``); the rows of
    the keys that make the page are then read in one query."""
    def fetch(start: str | None, inclusive: bool, upper: str | None, limit: int) -> list[tuple[str, object]]:
        sql = "SELECT key FROM objects WHERE bucket=? AND is_latest=1 AND delete_marker=0"
        args: list[object] = [bucket]
        if start is not None:
            sql += " AND key >= ?" if inclusive else " AND key > ?"
            args.append(start)
        if upper is not None:
            sql += " AND key < ?"
            args.append(upper)
        sql += " ORDER BY key LIMIT ?"
        args.append(limit)
        return [(r[0], r[0]) for r in conn.execute(sql, args)]

    keys: list[str] = []
    prefixes: list[str] = []
    last: str | None = None
    truncated = False
    if max_keys > 0:
        for name, row in _walk(fetch, prefix, delimiter, marker):
            if len(keys) + len(prefixes) >= max_keys:
                truncated = True
                break
            if row is None:
                prefixes.append(name)
            else:
                keys.append(name)
            last = name
    objects: list[ObjectRecord] = []
    if keys:
        found = {}
        for lo in range(0, len(keys), 500):
            chunk = keys[lo:lo + 500]
            marks = ",".join("?" * len(chunk))
            for r in conn.execute(f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket=? AND is_latest=1 "
                                  f"AND key IN ({marks})", [bucket, *chunk]):
                found[r[2]] = r
        objects = [object_from_row(found[k], light=True) for k in keys if k in found]
    return ListPage(objects, prefixes, truncated, last if truncated else None)


def list_versions(
    conn: sqlite3.Connection, bucket: str, prefix: str, delimiter: str, key_marker: str | None,
    version_marker: str | None, max_keys: int,
) -> VersionPage:
    versions: list[ObjectRecord] = []
    prefixes: list[str] = []
    if max_keys == 0:
        return VersionPage(versions, prefixes, False, None, None)
    # Versions of the key-marker older than the version-id-marker come first.
    marker_for_walk = key_marker
    if key_marker is not None and version_marker:
        row = conn.execute(
            "SELECT seq FROM objects WHERE bucket=? AND key=? AND version_id=?",
            (bucket, key_marker, version_marker),
        ).fetchone()
        if row is not None and key_marker.startswith(prefix) and common_prefix(
                key_marker, prefix, delimiter) is None:
            rest = conn.execute(
                f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket=? AND key=? AND seq<? ORDER BY seq DESC "
                "LIMIT ?", (bucket, key_marker, row[0], max_keys + 1),
            ).fetchall()
            for r in rest:
                rec = object_from_row(r)
                if len(versions) >= max_keys:
                    return VersionPage(versions, prefixes, True, versions[-1].key, versions[-1].version_id)
                versions.append(rec)

    def fetch(start: str | None, inclusive: bool, upper: str | None, limit: int) -> list[tuple[str, object]]:
        sql = "SELECT DISTINCT key FROM objects WHERE bucket=?"
        args: list[object] = [bucket]
        if start is not None:
            sql += " AND key >= ?" if inclusive else " AND key > ?"
            args.append(start)
        if upper is not None:
            sql += " AND key < ?"
            args.append(upper)
        sql += " ORDER BY key LIMIT ?"
        args.append(limit)
        return [(r[0], r[0]) for r in conn.execute(sql, args)]

    for name, row in _walk(fetch, prefix, delimiter, marker_for_walk):
        if row is None:
            if len(versions) + len(prefixes) >= max_keys:
                return _version_page_truncated(versions, prefixes)
            prefixes.append(name)
            continue
        for r in conn.execute(
            f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket=? AND key=? ORDER BY seq DESC", (bucket, name)
        ):
            if len(versions) + len(prefixes) >= max_keys:
                return _version_page_truncated(versions, prefixes)
            versions.append(object_from_row(r))
    return VersionPage(versions, prefixes, False, None, None)


def _version_page_truncated(versions: list[ObjectRecord], prefixes: list[str]) -> VersionPage:
    last_v = versions[-1] if versions else None
    last_p = prefixes[-1] if prefixes else None
    if last_p is not None and (last_v is None or last_p > last_v.key):
        return VersionPage(versions, prefixes, True, last_p, None)
    assert last_v is not None
    return VersionPage(versions, prefixes, True, last_v.key, last_v.version_id)


def list_uploads(
    conn: sqlite3.Connection, bucket: str, prefix: str, delimiter: str, key_marker: str | None,
    upload_marker: str | None, max_uploads: int,
) -> UploadPage:
    uploads: list[UploadRecord] = []
    prefixes: list[str] = []
    cols = "upload_id, bucket, key, initiated, owner, meta"
    if key_marker is not None and upload_marker:
        row = conn.execute("SELECT initiated FROM uploads WHERE upload_id=? AND bucket=? AND key=?",
                           (upload_marker, bucket, key_marker)).fetchone()
        if row is not None:
            for r in conn.execute(
                f"SELECT {cols} FROM uploads WHERE bucket=? AND key=? AND (initiated>? OR "
                "(initiated=? AND upload_id>?)) ORDER BY initiated, upload_id",
                (bucket, key_marker, row[0], row[0], upload_marker),
            ):
                if len(uploads) >= max_uploads:
                    return UploadPage(uploads, prefixes, True, uploads[-1].key, uploads[-1].upload_id)
                uploads.append(upload_from_row(r))

    def fetch(start: str | None, inclusive: bool, upper: str | None, limit: int) -> list[tuple[str, object]]:
        sql = "SELECT DISTINCT key FROM uploads WHERE bucket=?"
        args: list[object] = [bucket]
        if start is not None:
            sql += " AND key >= ?" if inclusive else " AND key > ?"
            args.append(start)
        if upper is not None:
            sql += " AND key < ?"
            args.append(upper)
        sql += " ORDER BY key LIMIT ?"
        args.append(limit)
        return [(r[0], r[0]) for r in conn.execute(sql, args)]

    for name, row in _walk(fetch, prefix, delimiter, key_marker):
        if row is None:
            if len(uploads) + len(prefixes) >= max_uploads:
                return UploadPage(uploads, prefixes, True, _last_upload_key(uploads, prefixes), None)
            prefixes.append(name)
            continue
        for r in conn.execute(f"SELECT {cols} FROM uploads WHERE bucket=? AND key=? ORDER BY initiated, "
                              "upload_id", (bucket, name)):
            if len(uploads) + len(prefixes) >= max_uploads:
                last = uploads[-1] if uploads else None
                return UploadPage(uploads, prefixes, True, _last_upload_key(uploads, prefixes),
                                  last.upload_id if last else None)
            uploads.append(upload_from_row(r))
    return UploadPage(uploads, prefixes, False, None, None)


def _last_upload_key(uploads: list[UploadRecord], prefixes: list[str]) -> str | None:
    candidates = [u.key for u in uploads[-1:]] + prefixes[-1:]
    return max(candidates) if candidates else None
