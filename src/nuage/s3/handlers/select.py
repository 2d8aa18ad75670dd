"""SelectObjectContent (POST /bucket/key?select&select-type=2): SQL over one object, answered as an
event stream (Records, Cont while a long query has nothing to send yet, Progress when asked, Stats,
End; an error event when the query fails after the stream has begun).

The query runs in a SQL worker process (``core.select.process``) under a memory limit and a time limit
($NUAGE_SELECT_MEMORY, $NUAGE_SELECT_MAX_SECONDS); a worker that exceeds either is stopped."""

from __future__ import annotations

import asyncio
import logging
import os
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator

from nuage.core.select import frames
from nuage.core.select.errors import SelectError
from nuage.core.select.limits import SelectLimits
from nuage.core.select.process import POOL, Worker, error_of, json_of, timed_out
from nuage.core.select.source import LocalObject, local_object, scratch_dir
from nuage.core.select.spec import (
    CSVInput,
    CSVOutput,
    InputFormat,
    JSONInput,
    JSONOutput,
    OutputFormat,
    ParquetInput,
    SelectSpec,
    SelectStats,
)
from nuage.core.select.sql import parse
from nuage.core.select.work import SelectWork, memory_exceeded
from nuage.s3 import errors as e
from nuage.s3 import eventstream as es
from nuage.s3.context import Services
from nuage.s3.handlers.common import read_conditions, version_id, xml_body
from nuage.s3.handlers.encryption import read_customer_key
from nuage.s3.http import Request, Response
from nuage.types import BucketName, ObjectKey
from nuage.xml import child_text

log = logging.getLogger("nuage.select")

KEEPALIVE_SECONDS = 5.0
RECORDS_CHUNK = 256 * 1024
LIMITS = SelectLimits.from_env(os.environ)


def _fail(code: str, message: str | None = None) -> e.S3Error:
    return e.select_error(code, message or "")


def _text(el: ET.Element | None, name: str, default: str) -> str:
    if el is None:
        return default
    value = child_text(el, name)
    return default if value is None else value


def _bool(el: ET.Element | None, name: str) -> bool:
    return _text(el, name, "false").strip().lower() == "true"


def _single(parent: ET.Element, allowed: tuple[str, ...]) -> ET.Element:
    found = [c for c in parent if c.tag in allowed]
    if len(found) > 1:
        raise _fail("ObjectSerializationConflict")
    if not found:
        raise _fail("MissingRequiredParameter", f"{parent.tag} needs one of {', '.join(allowed)}.")
    return found[0]


def _input(el: ET.Element) -> tuple[InputFormat, str]:
    compression = _text(el, "CompressionType", "NONE").upper() or "NONE"
    if compression not in ("NONE", "GZIP", "BZIP2"):
        raise _fail("InvalidCompressionFormat", f"Unknown CompressionType {compression!r}.")
    fmt = _single(el, ("CSV", "JSON", "Parquet"))
    if fmt.tag == "CSV":
        header = _text(fmt, "FileHeaderInfo", "NONE").upper() or "NONE"
        if header not in ("NONE", "USE", "IGNORE"):
            raise _fail("InvalidFileHeaderInfo")
        return CSVInput(
            file_header_info=header, comments=_text(fmt, "Comments", ""),
            quote_escape=_text(fmt, "QuoteEscapeCharacter", '"'), record_delimiter=_text(fmt, "RecordDelimiter", "\n")
            or "\n", field_delimiter=_text(fmt, "FieldDelimiter", ",") or ",", quote=_text(fmt, "QuoteCharacter", '"'),
            allow_quoted_record_delimiter=_bool(fmt, "AllowQuotedRecordDelimiter")), compression
    if fmt.tag == "JSON":
        kind = _text(fmt, "Type", "DOCUMENT").upper()
        if kind not in ("DOCUMENT", "LINES"):
            raise _fail("InvalidJsonType")
        return JSONInput(kind), compression
    if compression != "NONE":
        raise _fail("InvalidRequestParameter", "Parquet input does not take a CompressionType.")
    return ParquetInput(), compression


def _output(el: ET.Element) -> OutputFormat:
    fmt = _single(el, ("CSV", "JSON"))
    if fmt.tag == "JSON":
        return JSONOutput(_text(fmt, "RecordDelimiter", "\n") or "\n")
    quote_fields = _text(fmt, "QuoteFields", "ASNEEDED").upper() or "ASNEEDED"
    if quote_fields not in ("ASNEEDED", "ALWAYS"):
        raise _fail("InvalidQuoteFields")
    quote = _text(fmt, "QuoteCharacter", '"')
    return CSVOutput(quote_fields=quote_fields, quote_escape=_text(fmt, "QuoteEscapeCharacter", quote),
                     record_delimiter=_text(fmt, "RecordDelimiter", "\n") or "\n",
                     field_delimiter=_text(fmt, "FieldDelimiter", ",") or ",", quote=quote)


def _scan_range(doc: ET.Element) -> tuple[int | None, int | None] | None:
    el = doc.find("ScanRange")
    if el is None:
        return None
    values: list[int | None] = []
    for name in ("Start", "End"):
        raw = child_text(el, name)
        if raw is None or raw.strip() == "":
            values.append(None)
            continue
        if not raw.strip().isdigit():
            raise _fail("InvalidScanRange", f"ScanRange {name} must be a non-negative integer.")
        values.append(int(raw))
    start, end = values
    if start is None and end is None:
        raise _fail("InvalidScanRange", "A ScanRange needs Start or End.")
    if start is not None and end is not None and start > end:
        raise _fail("InvalidScanRange", "ScanRange Start is after End.")
    return start, end


def parse_request(doc: ET.Element) -> SelectSpec:
    if doc.tag != "SelectObjectContentRequest":
        raise e.MalformedXML()
    expression = child_text(doc, "Expression")
    if not expression or not expression.strip():
        raise _fail("MissingRequiredParameter", "The Expression is missing.")
    if _text(doc, "ExpressionType", "SQL").upper() != "SQL":
        raise _fail("InvalidExpressionType")
    inp_el, out_el = doc.find("InputSerialization"), doc.find("OutputSerialization")
    if inp_el is None or out_el is None:
        raise _fail("MissingRequiredParameter", "InputSerialization and OutputSerialization are required.")
    inp, compression = _input(inp_el)
    scan = _scan_range(doc)
    if scan is not None and isinstance(inp, JSONInput) and inp.type == "DOCUMENT":
        raise _fail("UnsupportedScanRangeInput", "Scan ranges apply to CSV and JSON LINES input only.")
    return SelectSpec(expression=expression, input=inp, output=_output(out_el), compression=compression,
                      scan_range=scan, progress=_bool(doc.find("RequestProgress"), "Enabled"))


async def select_object_content(svc: Services, req: Request, bucket: BucketName, key: ObjectKey) -> Response:
    doc = await xml_body(req)
    assert doc is not None
    spec = parse_request(doc)
    try:
        parse(spec.expression)            # syntax errors first, before any data is read
    except SelectError as exc:
        raise e.from_select(exc) from exc
    rec = await svc.objects.read_checked(bucket, key, version_id(req), read_conditions(req))
    data_key = svc.objects.data_key(rec, read_customer_key(req.headers))
    scratch = scratch_dir(svc.settings.data_dir)
    local = await local_object(svc.objects, rec, data_key, scratch)
    limits = LIMITS
    work = SelectWork(spec, str(local.path), local.size, str(scratch), limits.budget,
                      f"s3://{bucket}/{key}", [str(svc.settings.data_dir)])
    deadline = asyncio.get_running_loop().time() + limits.max_seconds
    worker: Worker | None = None
    try:
        worker = await POOL.take()
        await worker.start(work)
        first = await _first(worker, work, limits, deadline)
        if first[0] == frames.ERROR:          # found before any record: an error response
            await _cleanup(worker, local, reuse=True)
            raise error_of(first[1])
    except SelectError as exc:
        await _cleanup(worker, local)
        raise e.from_select(exc) from exc
    except BaseException:
        await _cleanup(worker, local)
        raise
    return Response(200, [("content-type", "application/octet-stream")],
                    _stream(worker, local, work, limits, deadline, first, req))


async def _first(worker: Worker, work: SelectWork, limits: SelectLimits, deadline: float) -> tuple[bytes, bytes]:
    """The worker's first answer: READY (the query runs) or ERROR (found before any record)."""
    loop = asyncio.get_running_loop()
    try:
        frame = await asyncio.wait_for(worker.recv(), max(0.0, deadline - loop.time()))
    except TimeoutError:
        raise timed_out(limits.max_seconds) from None
    if frame is None:
        raise memory_exceeded(work.budget)
    return frame


async def _cleanup(worker: Worker | None, local: LocalObject, *, reuse: bool = False) -> None:
    """End the request: a worker that finished it normally may serve another one."""
    if worker is not None:
        await (POOL.release(worker) if reuse else worker.close())
    await asyncio.to_thread(local.release)


async def _stream(worker: Worker, local: LocalObject, work: SelectWork, limits: SelectLimits, deadline: float,
                  first: tuple[bytes, bytes], req: Request) -> AsyncIterator[bytes]:
    loop = asyncio.get_running_loop()
    pending: asyncio.Future[tuple[bytes, bytes] | None] | None = None
    buf = bytearray()
    scanned = returned = reported = 0
    stats = SelectStats()
    ended = False          # the worker said it is done (DONE or ERROR): it may serve again

    def progress_event() -> bytes | None:
        nonlocal reported
        if not work.spec.progress or scanned <= reported:
            return None
        reported = scanned
        return es.progress(SelectStats(scanned, scanned, returned))

    try:
        frame: tuple[bytes, bytes] | None = first
        while True:
            if frame is None:
                raise memory_exceeded(work.budget)
            kind, payload = frame
            if kind == frames.DATA:
                buf += payload
                if len(buf) >= RECORDS_CHUNK:
                    yield es.records(bytes(buf))
                    buf.clear()
                    event = progress_event()
                    if event is not None:
                        yield event
            elif kind == frames.PROGRESS:
                value = json_of(payload)
                scanned, returned = int(value["scanned"]), int(value["returned"])
            elif kind == frames.ERROR:
                ended = True
                raise error_of(payload)
            elif kind == frames.DONE:
                ended = True
                value = json_of(payload)
                stats = SelectStats(int(value["bytes_scanned"]), int(value["bytes_processed"]),
                                    int(value["bytes_returned"]), int(value["records"]))
                req.scanned = stats.bytes_scanned      # metered (nuage.s3.metering)
                break
            pending = asyncio.ensure_future(worker.recv())
            while True:   # keep the connection alive while a long query has nothing to send
                left = deadline - loop.time()
                if left <= 0:
                    raise timed_out(limits.max_seconds)
                done, _ = await asyncio.wait({pending}, timeout=min(KEEPALIVE_SECONDS, left))
                if done:
                    break
                if deadline > loop.time():
                    yield progress_event() or es.cont()
            frame = pending.result()
            pending = None
        if buf:
            yield es.records(bytes(buf))
        if work.spec.progress:
            yield es.progress(stats)
        yield es.stats(stats)
        yield es.end()
    except SelectError as exc:
        if buf:
            yield es.records(bytes(buf))
        err = e.from_select(exc)
        yield es.error(err.code, err.message)
    finally:
        if pending is not None and not pending.done():
            pending.cancel()
        await _cleanup(worker, local, reuse=ended)
