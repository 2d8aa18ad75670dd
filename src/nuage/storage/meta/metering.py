"""Metered usage in the metadata store (migration 0013): one row per account, bucket ('' for requests that
name no bucket), region, UTC hour and metric, holding a count, bytes or byte-hours.

Every process aggregates in memory and adds its counts in batches (:data:`ADD`: an upsert that adds to the
row, so that the flushes of several worker processes or gateways sum exactly); the storage sampler writes
``storage_byte_hours`` once per bucket and hour (:data:`SAMPLE`: the first sample of an hour wins, so two
samplers or a restart never count an hour twice).

The statements are the same for both backends, written here once with ``?`` placeholders (the PostgreSQL
store turns them into ``%s``); each store only says how to run them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

#: the metrics, by name (nuage.billing prices them)
REQUESTS_A = "requests_a"                 # PUT, COPY, POST and LIST requests (a count)
REQUESTS_B = "requests_b"                 # GET, HEAD and every other billed request (a count)
BYTES_IN = "bytes_in"                     # object bytes received by writes
BYTES_OUT = "bytes_out"                   # object bytes sent by GetObject, and S3 Select's answers
BYTES_REPLICATED = "bytes_replicated"     # object bytes shipped to another region
BYTES_SCANNED = "bytes_scanned"           # object bytes read by S3 Select and SQL jobs
STORAGE_BYTE_HOURS = "storage_byte_hours"  # bytes stored during an hour, times one hour
METRICS = (REQUESTS_A, REQUESTS_B, BYTES_IN, BYTES_OUT, BYTES_REPLICATED, BYTES_SCANNED, STORAGE_BYTE_HOURS)

HOUR = 3600


class MeterRow(NamedTuple):
    """One hour's quantity of one metric, for an account's bucket in a region."""

    account_id: str
    bucket: str
    region: str
    hour: int          # the start of the UTC hour, seconds since the epoch
    metric: str
    value: int


class MeterTotal(NamedTuple):
    """A metric summed over a period, for an account's bucket in a region."""

    account_id: str
    bucket: str
    region: str
    metric: str
    value: int


class BucketBytes(NamedTuple):
    """What a bucket stores now: every object version and the parts of its unfinished uploads."""

    bucket: str
    owner: str         # the bucket owner's canonical id
    region: str
    bytes: int


_COLUMNS = "account_id, bucket, region, hour, metric, value"
_KEY = "account_id, bucket, region, hour, metric"

#: add counts to the hour's row (a row per MeterRow)
ADD = (f"INSERT INTO meter_counts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
       f"ON CONFLICT ({_KEY}) DO UPDATE SET value = meter_counts.value + excluded.value")
#: write an hour's sample, unless that hour has one already
SAMPLE = f"INSERT INTO meter_counts ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT ({_KEY}) DO NOTHING"
#: mark an hour as sampled
SAMPLED = "INSERT INTO meter_sampled_hours (hour) VALUES (?) ON CONFLICT (hour) DO NOTHING"
#: the last hour the storage sampler sampled
LAST_SAMPLE = ("SELECT MAX(hour) FROM meter_sampled_hours", ())
#: every bucket's bytes: its versions (bucket_usage, kept by each commit; delete markers are 0) and parts
STORAGE = (
    "SELECT b.name, b.owner, b.region, COALESCE(u.bytes, 0) + COALESCE(p.bytes, 0) FROM buckets b "
    "LEFT JOIN bucket_usage u ON u.bucket = b.name "
    "LEFT JOIN (SELECT up.bucket AS bucket, SUM(pa.size) AS bytes FROM uploads up "
    "JOIN parts pa ON pa.upload_id = up.upload_id GROUP BY up.bucket) p ON p.bucket = b.name "
    "ORDER BY b.name")

Statement = tuple[str, tuple[object, ...]]


def totals(account_id: str | None, start: int, end: int) -> Statement:
    """Each metric summed over the hours in [start, end), per account, bucket and region."""
    where, params = _where(account_id, start, end)
    return (f"SELECT account_id, bucket, region, metric, SUM(value) FROM meter_counts WHERE {where} "
            "GROUP BY account_id, bucket, region, metric ORDER BY account_id, bucket, region, metric", params)


def hours(account_id: str | None, start: int, end: int) -> Statement:
    """The rows of the hours in [start, end), in order of hour."""
    where, params = _where(account_id, start, end)
    return (f"SELECT {_COLUMNS} FROM meter_counts WHERE {where} ORDER BY hour, account_id, bucket, region, metric",
            params)


def _where(account_id: str | None, start: int, end: int) -> tuple[str, tuple[object, ...]]:
    if account_id is None:
        return "hour >= ? AND hour < ?", (start, end)
    return "account_id = ? AND hour >= ? AND hour < ?", (account_id, start, end)


def total_rows(rows: Sequence[Sequence[Any]]) -> list[MeterTotal]:
    return [MeterTotal(str(r[0]), str(r[1]), str(r[2]), str(r[3]), int(r[4])) for r in rows]


def hour_rows(rows: Sequence[Sequence[Any]]) -> list[MeterRow]:
    return [MeterRow(str(r[0]), str(r[1]), str(r[2]), int(r[3]), str(r[4]), int(r[5]))
            for r in rows]


def storage_rows(rows: Sequence[Sequence[Any]]) -> list[BucketBytes]:
    return [BucketBytes(str(r[0]), str(r[1]), str(r[2]), int(r[3])) for r in rows]


def pg(sql: str) -> str:
    """A statement with PostgreSQL's placeholders."""
    return sql.replace("?", "%s")
