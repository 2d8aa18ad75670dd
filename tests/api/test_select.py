"""S3 Select (SelectObjectContent) with boto3: CSV, JSON and Parquet input, compression, scan ranges,
CSV and JSON output, the event stream's Stats/Progress/End, and errors (never a hung stream)."""

from __future__ import annotations

import bz2
import gzip
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from botocore.exceptions import ClientError, EventStreamError

from tests.support.accounts import add_account, client_for
from tests.support.server import NuageServer

CSV_ROWS = "name,city,amount\nann,paris,10\nbob,lyon,25\ncid,paris,7\ndee,nice,40\n"


def select(s3: Any, bucket: str, key: str, sql: str, inp: dict[str, Any] | None = None,
           out: dict[str, Any] | None = None, **extra: Any) -> tuple[str, dict[str, Any]]:
    """(records text, other events by name)."""
    resp = s3.select_object_content(
        Bucket=bucket, Key=key, Expression=sql, ExpressionType="SQL",
        InputSerialization=inp or {"CSV": {"FileHeaderInfo": "USE"}, "CompressionType": "NONE"},
        OutputSerialization=out or {"CSV": {}}, **extra)
    records = b""
    events: dict[str, Any] = {}
    for ev in resp["Payload"]:
        if "Records" in ev:
            records += ev["Records"]["Payload"]
        else:
            events.update(ev)
    return records.decode(), events


def test_csv_with_header_where_and_cast(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="sales.csv", Body=CSV_ROWS.encode())
    text, events = select(s3, bucket, "sales.csv",
                          "SELECT s.name, s.amount FROM S3Object s WHERE CAST(s.amount AS INT) > 9 AND city = 'paris'")
    assert text == "ann,10\n"
    assert set(events) == {"Stats", "End"}
    assert events["Stats"]["Details"]["BytesScanned"] == len(CSV_ROWS)
    assert events["Stats"]["Details"]["BytesReturned"] == len(text)


def test_csv_positional_columns_limit_and_json_output(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="sales.csv", Body=CSV_ROWS.encode())
    text, _ = select(s3, bucket, "sales.csv", "SELECT _1, _3 AS amt FROM S3Object LIMIT 2",
                     inp={"CSV": {"FileHeaderInfo": "IGNORE"}}, out={"JSON": {}})
    assert [json.loads(line) for line in text.splitlines()] == [{"_1": "ann", "amt": "10"},
                                                                  {"_1": "bob", "amt": "25"}]


def test_aggregates(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="sales.csv", Body=CSV_ROWS.encode())
    text, _ = select(s3, bucket, "sales.csv", "SELECT COUNT(*), SUM(CAST(amount AS INT)), MIN(CAST(amount AS INT)), "
                                              "MAX(CAST(amount AS INT)), AVG(CAST(amount AS FLOAT)) FROM S3Object")
    assert text == "4,82,7,40,20.5\n"


def test_string_and_date_functions(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="d.csv", Body=b"  Hello ,2007-02-23T12:14:33Z\n")
    text, _ = select(s3, bucket, "d.csv",
                     "SELECT TRIM(_1), UPPER(_1), CHAR_LENGTH(_1), SUBSTRING(TRIM(_1), 2, 3), "
                     "EXTRACT(YEAR FROM TO_TIMESTAMP(_2)), DATE_DIFF(day, TO_TIMESTAMP(_2), "
                     "DATE_ADD(day, 3, TO_TIMESTAMP(_2))), TO_STRING(TO_TIMESTAMP(_2), 'yyyy/MM/dd HH:mm'), "
                     "UTCNOW() > TO_TIMESTAMP(_2) FROM S3Object",
                     inp={"CSV": {}})
    assert text == "Hello,  HELLO ,8,ell,2007,3,2007/02/23 12:14,true\n"


def test_csv_delimiters_quotes_and_comments(s3: Any, bucket: str) -> None:
    body = b"#skip me\n'a|b'|1\tc|2\t"
    s3.put_object(Bucket=bucket, Key="d.csv", Body=body)
    text, _ = select(s3, bucket, "d.csv", "SELECT _1, _2 FROM S3Object",
                     inp={"CSV": {"FieldDelimiter": "|", "RecordDelimiter": "\t", "QuoteCharacter": "'",
                                  "Comments": "#"}},
                     out={"CSV": {"FieldDelimiter": ";", "RecordDelimiter": "~", "QuoteFields": "ALWAYS"}})
    assert text == '"a|b";"1"~"c";"2"~'


def test_quoted_record_delimiter_and_as_needed_quoting(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="q.csv", Body=b'"line\none",x\n"two, with comma",y\n')
    text, _ = select(s3, bucket, "q.csv", "SELECT _1 FROM S3Object",
                     inp={"CSV": {"AllowQuotedRecordDelimiter": True}})
    assert text == '"line\none"\n"two, with comma"\n'


def test_json_document_and_lines(s3: Any, bucket: str) -> None:
    doc = {"root": [{"c1": 1, "c2": "a"}, {"c1": 5, "c2": "b"}, {"c1": 9, "c2": "c"}]}
    s3.put_object(Bucket=bucket, Key="doc.json", Body=json.dumps(doc).encode())
    text, _ = select(s3, bucket, "doc.json", "SELECT s.c2 FROM S3Object[*].root[*] s WHERE s.c1 > 2",
                     inp={"JSON": {"Type": "DOCUMENT"}}, out={"JSON": {}})
    assert text == '{"c2":"b"}\n{"c2":"c"}\n'
    lines = b'{"id": 1, "tags": {"k": "v1"}}\n{"id": 2, "tags": {"k": "v2"}}\n'
    s3.put_object(Bucket=bucket, Key="l.json", Body=lines)
    text, _ = select(s3, bucket, "l.json", "SELECT s.id, s.tags.k FROM S3Object s WHERE s.id = 2",
                     inp={"JSON": {"Type": "LINES"}}, out={"CSV": {}})
    assert text == "2,v2\n"
    text, _ = select(s3, bucket, "l.json", "SELECT * FROM S3Object s", inp={"JSON": {"Type": "LINES"}},
                     out={"JSON": {"RecordDelimiter": ","}})
    assert text == '{"id":1,"tags":{"k":"v1"}},{"id":2,"tags":{"k":"v2"}},'


def test_parquet(s3: Any, bucket: str, tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    duckdb.sql(f"COPY (SELECT i AS id, 'r' || (i % 3) AS region, i * 1.5 AS amount FROM range(1000) t(i)) "
               f"TO '{path}' (FORMAT PARQUET)")
    s3.put_object(Bucket=bucket, Key="t.parquet", Body=path.read_bytes())
    text, events = select(s3, bucket, "t.parquet",
                          "SELECT COUNT(*), SUM(amount) FROM S3Object s WHERE s.region = 'r1'",
                          inp={"Parquet": {}})
    assert text == "333,249250.5\n"
    assert events["Stats"]["Details"]["BytesScanned"] == path.stat().st_size


@pytest.mark.parametrize("compression", ["GZIP", "BZIP2"])
def test_compressed_input(s3: Any, bucket: str, compression: str) -> None:
    pack = gzip.compress if compression == "GZIP" else bz2.compress
    s3.put_object(Bucket=bucket, Key="c.csv", Body=pack(CSV_ROWS.encode() * 100))
    text, _ = select(s3, bucket, "c.csv", "SELECT COUNT(*) FROM S3Object",
                     inp={"CSV": {"FileHeaderInfo": "IGNORE"}, "CompressionType": compression})
    assert text == "499\n"   # the repeated header lines after the first are records too
    lines = b'{"a": 1}\n{"a": 2}\n'
    s3.put_object(Bucket=bucket, Key="j.json", Body=pack(lines))
    text, _ = select(s3, bucket, "j.json", "SELECT SUM(s.a) FROM S3Object s",
                     inp={"JSON": {"Type": "LINES"}, "CompressionType": compression})
    assert text == "3\n"


def test_scan_range(s3: Any, bucket: str) -> None:
    body = b"a,1\nbb,2\nccc,3\ndddd,4\n"
    s3.put_object(Bucket=bucket, Key="r.csv", Body=body)
    inp = {"CSV": {}}
    assert select(s3, bucket, "r.csv", "SELECT * FROM S3Object", inp, ScanRange={"Start": 3, "End": 9})[0] == \
        "bb,2\nccc,3\n"
    assert select(s3, bucket, "r.csv", "SELECT * FROM S3Object", inp, ScanRange={"Start": 0, "End": 1})[0] == "a,1\n"
    assert select(s3, bucket, "r.csv", "SELECT * FROM S3Object", inp, ScanRange={"End": 7})[0] == "dddd,4\n"
    with pytest.raises(ClientError) as err:
        select(s3, bucket, "r.csv", "SELECT * FROM S3Object", {"JSON": {"Type": "DOCUMENT"}},
               ScanRange={"Start": 0, "End": 4})
    assert err.value.response["Error"]["Code"] == "UnsupportedScanRangeInput"


@pytest.mark.parametrize("inp", [{"CSV": {}}, {"CSV": {"FileHeaderInfo": "USE"}}, {"JSON": {"Type": "LINES"}},
                                 {"JSON": {"Type": "DOCUMENT"}}])
def test_empty_object(s3: Any, bucket: str, inp: dict[str, Any]) -> None:
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    assert select(s3, bucket, "empty", "SELECT * FROM S3Object", inp)[0] == ""
    assert select(s3, bucket, "empty", "SELECT COUNT(*) FROM S3Object", inp)[0] == "0\n"


def test_scan_range_over_json_lines(s3: Any, bucket: str) -> None:
    body = b'{"n": 1}\n{"n": 22}\n{"n": 333}\n'
    s3.put_object(Bucket=bucket, Key="l.json", Body=body)
    text, _ = select(s3, bucket, "l.json", "SELECT s.n FROM S3Object s", {"JSON": {"Type": "LINES"}},
                     ScanRange={"Start": 1, "End": 10})
    assert text == "22\n"


def test_customer_key_object(s3: Any, bucket: str) -> None:
    key = b"k" * 32
    s3.put_object(Bucket=bucket, Key="c.csv", Body=b"1\n2\n3\n", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    text, _ = select(s3, bucket, "c.csv", "SELECT SUM(CAST(_1 AS INT)) FROM S3Object", {"CSV": {}},
                     SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert text == "6\n"
    with pytest.raises(ClientError) as err:
        select(s3, bucket, "c.csv", "SELECT * FROM S3Object", {"CSV": {}})
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_progress_events(s3: Any, bucket: str) -> None:
    body = "".join(f"{i},{i * 2}\n" for i in range(20000)).encode()
    s3.put_object(Bucket=bucket, Key="p.csv", Body=body)
    text, events = select(s3, bucket, "p.csv", "SELECT SUM(CAST(_1 AS INT)) FROM S3Object", {"CSV": {}},
                          RequestProgress={"Enabled": True})
    assert text == f"{sum(range(20000))}\n"
    assert events["Progress"]["Details"]["BytesScanned"] == len(body)
    assert events["Stats"]["Details"] == {"BytesScanned": len(body), "BytesProcessed": len(body),
                                          "BytesReturned": len(text)}
    assert events["End"] == {}


def test_progress_during_a_long_answer(s3: Any, bucket: str) -> None:
    body = "".join(f"{i},{'x' * 40}\n" for i in range(300000)).encode()
    s3.put_object(Bucket=bucket, Key="big.csv", Body=body)
    resp = s3.select_object_content(Bucket=bucket, Key="big.csv", Expression="SELECT * FROM S3Object",
                                    ExpressionType="SQL", InputSerialization={"CSV": {}},
                                    OutputSerialization={"CSV": {}}, RequestProgress={"Enabled": True})
    kinds: list[str] = []
    scanned: list[int] = []
    size = 0
    for ev in resp["Payload"]:
        kinds.extend(ev)
        if "Records" in ev:
            size += len(ev["Records"]["Payload"])
        if "Progress" in ev:
            scanned.append(ev["Progress"]["Details"]["BytesScanned"])
    assert size == len(body)
    assert kinds.count("Records") > 1 and kinds[-2:] == ["Stats", "End"]
    assert scanned == sorted(scanned) and scanned[-1] == len(body)


def test_inline_multipart_and_encrypted_objects(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="small.csv", Body=b"1\n2\n")                # stored inline
    assert select(s3, bucket, "small.csv", "SELECT SUM(CAST(_1 AS INT)) FROM S3Object", {"CSV": {}})[0] == "3\n"
    s3.put_object(Bucket=bucket, Key="enc.csv", Body=b"5\n6\n" * 10000, ServerSideEncryption="AES256")
    assert select(s3, bucket, "enc.csv", "SELECT COUNT(*) FROM S3Object", {"CSV": {}})[0] == "20000\n"
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp.csv")["UploadId"]
    part1 = b"1\n" * (3 * 1024 * 1024)
    parts = []
    for n, data in ((1, part1), (2, b"7\n")):
        etag = s3.upload_part(Bucket=bucket, Key="mp.csv", UploadId=up, PartNumber=n, Body=data)["ETag"]
        parts.append({"PartNumber": n, "ETag": etag})
    s3.complete_multipart_upload(Bucket=bucket, Key="mp.csv", UploadId=up, MultipartUpload={"Parts": parts})
    assert select(s3, bucket, "mp.csv", "SELECT MAX(CAST(_1 AS INT)), COUNT(*) FROM S3Object", {"CSV": {}})[0] == \
        f"7,{3 * 1024 * 1024 + 1}\n"


# -- the RGW dialect of ceph/s3-tests' test_s3select.py -------------------------------------------------
def test_dialect_of_the_reference_suite(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="x.csv", Body=b"13,5,xyyz,   aeiou    ,_ar\n2,2,abc,abcd,aeio_\n")
    inp = {"CSV": {"QuoteEscapeCharacter": "\\"}}

    def one(sql: str) -> str:
        return select(s3, bucket, "x.csv", sql, inp)[0]

    # "text" is a string unless it names a column or alias; == and chained comparisons; stdin as S3Object
    assert one('select count(*) from stdin where _1 like "_3" and (_1 = _2) = false;') == "1\n"
    assert one('select count(*) from s3object where trim(_4) = "aeiou" = true;') == "1\n"
    # LIKE with a character class and with ESCAPE
    assert one('select count(*) from s3object where _3 like "%y[y-z]";') == "1\n"
    assert one('select count(*) from s3object where _5 like "%_ar" escape "%";') == "1\n"
    assert one('select count(*) from s3object where _5 like "%aeio$_" escape "$";') == "1\n"
    # int(), aliases used by later projections and by WHERE, IN, CASE value form, bool casts
    assert one("select int(_1) as a1, int(_2) as a2, (a1+a2) as a3 from s3object where a3 > 10;") == "13,5,18\n"
    assert one('select case int(_1) when int(_2) then "same" else "diff" end, (int(_1) in (2, 13)), '
               'cast(int(_2) as bool) from s3object;') == "diff,true,true\nsame,true,true\n"
    # TRIM forms and SUBSTRING ... FROM ... FOR
    assert one('select trim(leading from _4), trim(trailing from _4), substring(_4 from 4 for 5) '
               'from s3object limit 1;') == "aeiou    ,   aeiou,aeiou\n"
    # basic ISO 8601 timestamps, DATE_ADD/DATE_DIFF on months and years, time zone of a UTC timestamp
    assert one("select date_diff(month, to_timestamp('19550312T101010Z'), date_add(month, 2, "
               "to_timestamp('19550312T101010Z'))), date_diff(year, to_timestamp('19550312T101010Z'), "
               "date_add(day, 366, to_timestamp('19550312T101010Z'))), extract(timezone_hour from "
               "to_timestamp('19550312T101010Z')), to_string(to_timestamp('19550312T101010Z'), 'x') "
               "from s3object limit 1;") == "2,1,0,+00\n"
    # NULLIF / COALESCE and IS [NOT] NULL; arithmetic on decimal literals
    assert one("select count(0) from s3object where not nullif(_1,_2) is null;") == "1\n"
    assert one("select coalesce(nullif(_1,_1), _3), (12.0+3.0)/6.0 from s3object limit 1;") == "xyyz,2.5\n"


def test_cyclic_alias_is_an_error(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="x.csv", Body=b"1,2,3\n")
    with pytest.raises(ClientError) as err:
        select(s3, bucket, "x.csv", "select int(_1) as a1, a1+a4 as a3, a3+1 as a4 from s3object;", {"CSV": {}})
    assert err.value.response["Error"]["Code"] == "UnsupportedSqlStructure"
    assert "cyclic reference to alias" in err.value.response["Error"]["Message"]


# -- errors --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("sql", "code"), [
    ("SELECT FROM S3Object", "UnsupportedSyntax"),
    ("SELECT * FROM S3Object WHERE", "UnsupportedSyntax"),
    ("SELECT * FROM elsewhere", "UnsupportedSyntax"),
    ("SELECT _1 FROM S3Object WHERE _1 ~ 2", "LexerInvalidChar"),
    ("SELECT nosuch FROM S3Object", "EvaluatorBindingDoesNotExist"),
    ("SELECT read_csv('/etc/passwd') FROM S3Object", "UnsupportedFunction"),
    ("SELECT CAST(_1 AS blob) FROM S3Object", "InvalidCast"),
])
def test_bad_sql(s3: Any, bucket: str, sql: str, code: str) -> None:
    s3.put_object(Bucket=bucket, Key="x.csv", Body=b"1,2\n")
    with pytest.raises(ClientError) as err:
        select(s3, bucket, "x.csv", sql, {"CSV": {}})
    assert err.value.response["Error"]["Code"] == code
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def _error_code(fn: Any) -> str:
    try:
        fn()
    except (ClientError, EventStreamError) as exc:
        return str(exc.response["Error"]["Code"])
    raise AssertionError("no error")


def test_malformed_input_is_an_error_not_a_hang(s3: Any, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="bad.json", Body=b'{"a": 1}\n{"a": \n')
    assert _error_code(lambda: select(s3, bucket, "bad.json", "SELECT * FROM S3Object",
                                      {"JSON": {"Type": "LINES"}})) == "JSONParsingError"
    s3.put_object(Bucket=bucket, Key="notgz", Body=b"plain text, not gzip\n" * 100)
    assert _error_code(lambda: select(s3, bucket, "notgz", "SELECT * FROM S3Object",
                                      {"CSV": {}, "CompressionType": "GZIP"})) == "InvalidCompressionFormat"
    s3.put_object(Bucket=bucket, Key="notpq", Body=b"not parquet" * 2000)
    assert _error_code(lambda: select(s3, bucket, "notpq", "SELECT * FROM S3Object",
                                      {"Parquet": {}})) == "InvalidDataSource"
    # a value that does not convert, found while records are streamed
    body = "".join(f"{i}\n" for i in range(50000)) + "oops\n"
    s3.put_object(Bucket=bucket, Key="cast.csv", Body=body.encode())
    assert _error_code(lambda: select(s3, bucket, "cast.csv", "SELECT CAST(_1 AS INT) FROM S3Object",
                                      {"CSV": {}})) == "CastFailed"


@pytest.mark.parametrize(("inp", "out", "code"), [
    ({"CSV": {"FileHeaderInfo": "MAYBE"}}, {"CSV": {}}, "InvalidFileHeaderInfo"),
    ({"JSON": {"Type": "TREE"}}, {"CSV": {}}, "InvalidJsonType"),
    ({"CSV": {}, "CompressionType": "ZIP"}, {"CSV": {}}, "InvalidCompressionFormat"),
    ({"Parquet": {}, "CompressionType": "GZIP"}, {"CSV": {}}, "InvalidRequestParameter"),
    ({"CSV": {}}, {"CSV": {"QuoteFields": "SOMETIMES"}}, "InvalidQuoteFields"),
    ({"CSV": {}, "JSON": {"Type": "LINES"}}, {"CSV": {}}, "ObjectSerializationConflict"),
])
def test_bad_serialization(s3: Any, bucket: str, inp: dict[str, Any], out: dict[str, Any], code: str) -> None:
    s3.put_object(Bucket=bucket, Key="x.csv", Body=b"1,2\n")
    with pytest.raises(ClientError) as err:
        select(s3, bucket, "x.csv", "SELECT * FROM S3Object", inp, out)
    assert err.value.response["Error"]["Code"] == code


def test_missing_key_and_access_denied(server: NuageServer, s3: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as err:
        select(s3, bucket, "nope.csv", "SELECT * FROM S3Object", {"CSV": {}})
    assert err.value.response["Error"]["Code"] == "NoSuchKey"
    s3.put_object(Bucket=bucket, Key="x.csv", Body=b"1,2\n")
    other = client_for(server, add_account(server))
    with pytest.raises(ClientError) as err:
        select(other, bucket, "x.csv", "SELECT * FROM S3Object", {"CSV": {}})
    assert err.value.response["Error"]["Code"] == "AccessDenied"
