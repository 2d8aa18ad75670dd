"""Ordered listings (UTF-8 byte order: the key columns are COLLATE "C") with prefix, delimiter and
markers: the SQLite store's walk (sqlite/listing.py), with async fetches. Each query is one statement
in autocommit, so a page sees every write committed before it began, through any gateway."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

from nuage.storage.meta.postgres.codec import OBJECT_COLUMNS, UPLOAD_COLUMNS, object_from_row, upload_from_row
from nuage.storage.meta.postgres.db import AConn
from nuage.storage.meta.records import ListPage, ObjectRecord, UploadPage, UploadRecord, VersionPage
from nuage.storage.meta.sqlite.listing import _last_upload_key, _version_page_truncated
from nuage.storage.meta.walk import Walk, common_prefix

Fetch = Callable[[str | None, bool, str | None, int], Awaitable[list[str]]]


async def _walk(fetch: Fetch, prefix: str, delimiter: str, marker: str | None) -> AsyncIterator[tuple[str, bool]]:
    """Yield (key, True) for entries and (common prefix, False) for prefixes, in order, after marker."""
    walk = Walk(prefix, delimiter, marker)
    while not walk.done:
        keys = await fetch(walk.start, walk.inclusive, walk.upper, walk.limit)
        for name, i in walk.step(keys):
            yield name, i is not None


def _key_fetch(conn: AConn, table_where: str, bucket: str, distinct: bool) -> Fetch:
    async def fetch(start: str | None, inclusive: bool, upper: str | None, limit: int) -> list[str]:
        sql = f"SELECT {'DISTINCT ' if distinct else ''}key FROM {table_where}"
        args: list[object] = [bucket]
        if start is not None:
            sql += " AND key >= %s" if inclusive else " AND key > %s"
            args.append(start)
        if upper is not None:
            sql += " AND key < %s"
            args.append(upper)
        sql += " ORDER BY key LIMIT %s"
        args.append(limit)
        cur = await conn.execute(sql, args)
        return [str(r[0]) for r in await cur.fetchall()]
    return fetch


async def list_current(conn: AConn, bucket: str, prefix: str, delimiter: str, marker: str | None,
                       max_keys: int) -> ListPage:
    fetch = _key_fetch(conn, "objects WHERE bucket=%s AND is_latest=1 AND delete_marker=0", bucket, False)
    keys: list[str] = []
    prefixes: list[str] = []
    last: str | None = None
    truncated = False
    if max_keys > 0:
        async for name, entry in _walk(fetch, prefix, delimiter, marker):
            if len(keys) + len(prefixes) >= max_keys:
                truncated = True
                break
            (keys if entry else prefixes).append(name)
            last = name
    objects: list[ObjectRecord] = []
    if keys:
        cur = await conn.execute(f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket=%s AND is_latest=1 "
                                 "AND key = ANY(%s)", (bucket, keys))
        found = {r[2]: r for r in await cur.fetchall()}
        objects = [object_from_row(found[k], light=True) for k in keys if k in found]
    return ListPage(objects, prefixes, truncated, last if truncated else None)


async def list_versions(conn: AConn, bucket: str, prefix: str, delimiter: str, key_marker: str | None,
                        version_marker: str | None, max_keys: int) -> VersionPage:
    versions: list[ObjectRecord] = []
    prefixes: list[str] = []
    if max_keys == 0:
        return VersionPage(versions, prefixes, False, None, None)
    if key_marker is not None and version_marker:
        cur = await conn.execute("SELECT seq FROM objects WHERE bucket=%s AND key=%s AND version_id=%s",
                                 (bucket, key_marker, version_marker))
        row = await cur.fetchone()
        if row is not None and key_marker.startswith(prefix) and common_prefix(
                key_marker, prefix, delimiter) is None:
            cur = await conn.execute(
                f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket=%s AND key=%s AND seq<%s ORDER BY seq DESC "
                "LIMIT %s", (bucket, key_marker, row[0], max_keys + 1))
            for r in await cur.fetchall():
                if len(versions) >= max_keys:
                    return VersionPage(versions, prefixes, True, versions[-1].key, versions[-1].version_id)
                versions.append(object_from_row(r))
    fetch = _key_fetch(conn, "objects WHERE bucket=%s", bucket, True)
    async for name, entry in _walk(fetch, prefix, delimiter, key_marker):
        if not entry:
            if len(versions) + len(prefixes) >= max_keys:
                return _version_page_truncated(versions, prefixes)
            prefixes.append(name)
            continue
        cur = await conn.execute(f"SELECT {OBJECT_COLUMNS} FROM objects WHERE bucket=%s AND key=%s ORDER BY seq DESC",
                                 (bucket, name))
        for r in await cur.fetchall():
            if len(versions) + len(prefixes) >= max_keys:
                return _version_page_truncated(versions, prefixes)
            versions.append(object_from_row(r))
    return VersionPage(versions, prefixes, False, None, None)


async def list_uploads(conn: AConn, bucket: str, prefix: str, delimiter: str, key_marker: str | None,
                       upload_marker: str | None, max_uploads: int) -> UploadPage:
    uploads: list[UploadRecord] = []
    prefixes: list[str] = []
    if key_marker is not None and upload_marker:
        cur = await conn.execute("SELECT initiated FROM uploads WHERE upload_id=%s AND bucket=%s AND key=%s",
                                 (upload_marker, bucket, key_marker))
        row = await cur.fetchone()
        if row is not None:
            cur = await conn.execute(
                f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE bucket=%s AND key=%s AND (initiated>%s OR "
                "(initiated=%s AND upload_id>%s)) ORDER BY initiated, upload_id",
                (bucket, key_marker, row[0], row[0], upload_marker))
            for r in await cur.fetchall():
                if len(uploads) >= max_uploads:
                    return UploadPage(uploads, prefixes, True, uploads[-1].key, uploads[-1].upload_id)
                uploads.append(upload_from_row(r))
    fetch = _key_fetch(conn, "uploads WHERE bucket=%s", bucket, True)
    async for name, entry in _walk(fetch, prefix, delimiter, key_marker):
        if not entry:
            if len(uploads) + len(prefixes) >= max_uploads:
                return UploadPage(uploads, prefixes, True, _last_upload_key(uploads, prefixes), None)
            prefixes.append(name)
            continue
        cur = await conn.execute(f"SELECT {UPLOAD_COLUMNS} FROM uploads WHERE bucket=%s AND key=%s ORDER BY "
                                 "initiated, upload_id", (bucket, name))
        for r in await cur.fetchall():
            if len(uploads) + len(prefixes) >= max_uploads:
                last = uploads[-1] if uploads else None
                return UploadPage(uploads, prefixes, True, _last_upload_key(uploads, prefixes),
                                  last.upload_id if last else None)
            uploads.append(upload_from_row(r))
    return UploadPage(uploads, prefixes, False, None, None)
