"""The access log's pure parts: what is redacted, the two line formats, and whole lines on a pipe (stdout)."""

from __future__ import annotations

import json
import os
import re
import threading

from nuage.accesslog import AccessLog, AccessRecord, format_common, format_json, redact_query


def _record(**changes: object) -> AccessRecord:
    fields: dict[str, object] = dict(
        time=1796679605.25, request_id="18E2A0C4B1F6D3A2", remote="10.0.0.7", principal="", access_key="",
        api="s3", operation="GetObject", bucket="photos", key="cat.jpg", method="GET", path="/photos/cat.jpg",
        http_version="1.1", status=200, bytes_sent=48213, bytes_received=0, duration_ms=1.912,
        user_agent="aws-cli/2.22.0", region="us-east-1", worker=0)
    fields.update(changes)
    return AccessRecord(**fields)  # type: ignore[arg-type]


def test_signatures_and_tokens_are_redacted() -> None:
    assert redact_query("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=abc123&x-id=GetObject") == \
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=REDACTED&x-id=GetObject"
    assert redact_query("AWSAccessKeyId=AK&Signature=a%2Bb%3D&Expires=1") == \
        "AWSAccessKeyId=AK&Signature=REDACTED&Expires=1"
    assert redact_query("X-Amz-Security-Token=tok&list-type=2") == "X-Amz-Security-Token=REDACTED&list-type=2"
    assert redact_query("prefix=signature&list-type=2") == "prefix=signature&list-type=2"
    assert redact_query("") == ""


def test_json_line() -> None:
    line = json.loads(format_json(_record()))
    assert line["time"] == "2026-12-07T21:40:05.250Z" and line["principal"] == "anonymous"
    assert line["operation"] == "GetObject" and line["bytes_sent"] == 48213 and line["duration_ms"] == 1.912


def test_common_line_keeps_its_shape_whatever_the_client_sends() -> None:
    assert format_common(_record(access_key="AKIAEXAMPLE")) == (
        '10.0.0.7 - AKIAEXAMPLE [07/Dec/2026:21:40:05 +0000] "GET /photos/cat.jpg HTTP/1.1" 200 48213 '
        '18E2A0C4B1F6D3A2 GetObject 1.912 0 "aws-cli/2.22.0"')
    odd = format_common(_record(path='/a"b\\c', user_agent='x" 200 1\nforged', operation=""))
    assert "\n" not in odd and len(re.findall(r'(?<!\\)"', odd)) == 4   # quotes inside are escaped
    assert '"x\\" 200 1\\nforged"' in odd


def test_lines_on_a_pipe_are_whole_and_in_order() -> None:
    read_end, write_end = os.pipe()
    saved = os.dup(1)
    os.dup2(write_end, 1)
    chunks: list[bytes] = []

    def drain() -> None:
        while data := os.read(read_end, 65536):
            chunks.append(data)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        log = AccessLog("-", "json")
        for n in range(500):
            log.emit(_record(key=f"k{n}" + "x" * (n % 300)))
        log.close()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
        os.close(write_end)
        reader.join()
        os.close(read_end)
    assert chunks and chunks[-1].endswith(b"\n")
    lines = b"".join(chunks).decode().splitlines()
    assert [json.loads(line)["key"] for line in lines] == [f"k{n}" + "x" * (n % 300) for n in range(500)]
