"""Metering to invoice, end to end (issue 18's proof), shared by tests/api/test_billing_e2e.py (SQLite, one
server) and tests/pg/test_billing_e2e_pg.py (two gateways on one PostgreSQL database).

The flow, with the metering clock (``NUAGE_METER_CLOCK_OFFSET``) moved by restarting the source region's
servers, while invoices go by the servers' real clock (so last month is closed and can be invoiced):

1. the clock on the 10th of last month, 10:00: a known workload of two tenants through real clients (boto3,
   a presigned URL, the SQL job API), requests spread over the gateways; every quantity checked exactly;
2. the clock at 11:00 that day: the first storage sample (that hour: the bytes stored);
3. the clock in the last hour of last month: the sample fills every hour since, up to that last one;
4. the clock in the first hour of this month: that hour's sample lands in this month alone; the invoice
   of last month is issued (`nuage admin invoice`) and checked line by line against amounts worked out by
   hand below from :data:`PRICES`, to the cent; this month's preview shows its one hour of storage;
5. the clock back in last month: new traffic lands in last month's hours (its preview grows by it), and
   issuing last month's invoice again gives the same document, number and all.

Prices are a million times those of a real cloud or so, so that a few kilobytes cost cents.
"""

from __future__ import annotations

import calendar
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from nuage.cli.admin import AdminClient
from tests.support.metering import CSV_ROWS, Tenant, admin, days_around_now, get_url, metered, sql_job
from tests.support.server import ACCESS_KEY, SECRET_KEY, NuageServer

SOURCE, DEST = "us-east-1", "us-west-1"     # the billed region, and where its replicated buckets ship to

PRICES = """
currency = "EUR"
tax_rate = "0.0825"
invoice_prefix = "E2E"
issuer = "End to End Cloud"

[storage]          # per GB-month
price = "250000"

[requests_a]       # per 1,000 requests: 3 free, then 30 up to the 10th, 5 beyond
free = "3"
tiers = [{ upto = "10", price = "30" }, { price = "5" }]

[requests_b]       # per 10,000 requests
price = "700"

[data_out]         # per GB: the first 0.000001 GB (1,073.741824 bytes) free
free = "0.000001"
price = "90000"

[replication]      # per GB
price = "40000"

[scanned]          # per GB
price = "600000"
"""

GIB = Decimal(2 ** 30)
CENT = Decimal("0.01")
SIX = Decimal("0.000001")
HOUR = 3600
FAST = {"NUAGE_METER_FLUSH_INTERVAL": "0.2", "NUAGE_METER_SAMPLE_INTERVAL": "0"}
SAMPLING = {"NUAGE_METER_FLUSH_INTERVAL": "0.2", "NUAGE_METER_SAMPLE_INTERVAL": "0.2"}


# --- months and the metering clock ---------------------------------------------------------------------

def month_start(year: int, month: int) -> int:
    return calendar.timegm((year, month, 1, 0, 0, 0))


@dataclass(frozen=True)
class Months:
    """Last month (closed by the real clock) and this month, as epoch seconds and names."""

    last: str          # YYYY-MM
    this: str
    last_start: int
    this_start: int
    next_start: int

    @classmethod
    def now(cls) -> Months:
        today = datetime.now(UTC)
        year, month = today.year, today.month
        ly, lm = (year, month - 1) if month > 1 else (year - 1, 12)
        ny, nm = (year, month + 1) if month < 12 else (year + 1, 1)
        return cls(f"{ly:04d}-{lm:02d}", f"{year:04d}-{month:02d}", month_start(ly, lm), month_start(year, month),
                   month_start(ny, nm))

    @property
    def last_hours(self) -> int:
        return (self.this_start - self.last_start) // HOUR

    @property
    def this_hours(self) -> int:
        return (self.next_start - self.this_start) // HOUR

    def days(self, which: str) -> tuple[str, str]:
        """(--from, --to) of `nuage admin usage` for last or this month."""
        def day(ts: int) -> str:
            return datetime.fromtimestamp(ts, UTC).date().isoformat()
        if which == "last":
            return day(self.last_start), day(self.this_start)
        return day(self.this_start), day(self.next_start)


def clock_at(moment: float) -> dict[str, str]:
    """The env of a server whose metering clock reads ``moment`` (epoch seconds) as it starts."""
    return {"NUAGE_METER_CLOCK_OFFSET": repr(moment - time.time())}


def wait_until(check: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached in {timeout} s")
        time.sleep(0.2)


# --- the workload ----------------------------------------------------------------------------------------

@dataclass
class Sizes:
    """The sizes of one tenant's objects (each tenant its own, so that their bills differ)."""

    first: int          # k1, overwritten by ``again``
    second: int         # k2, deleted
    again: int
    part: int           # the one part of a multipart upload left incomplete
    version1: int       # the replicated bucket: r1, then a second version of it
    version2: int


def tenant_in(server: NuageServer, name: str, *, region: str) -> tuple[str, str, str]:
    """Create tenant ``name`` in ``server``'s region and a key for it: (account id, access key, secret)."""
    account = json.loads(admin(server, "--region", region, "--json", "tenant", "create", name))
    key = json.loads(admin(server, "--region", region, "--json", "tenant", "key", "create", name))
    return account["account_id"], key["access_key"], key["secret_key"]


def new_tenant(servers: list[NuageServer], dest: NuageServer, prefix: str) -> tuple[Tenant, Tenant]:
    """A tenant of the billed region, and the same tenant (same name, an account of its own) in the
    destination region."""
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    return (Tenant(name, *tenant_in(servers[0], name, region=SOURCE)),
            Tenant(name, *tenant_in(dest, name, region=DEST)))


class Workload:
    """Requests of the tenants, round-robin over the billed region's gateways; what each must be billed."""

    def __init__(self, servers: list[NuageServer]) -> None:
        self.servers = servers
        self.turn = 0

    def server(self) -> NuageServer:
        self.turn += 1
        return self.servers[self.turn % len(self.servers)]

    def s3(self, tenant: Tenant) -> Any:
        return self.server().client(access_key=tenant.access_key, secret_key=tenant.secret_key)

    def run(self, tenant: Tenant, dest: NuageServer, there: Tenant, sizes: Sizes) -> None:
        """The tenant's workload; ``tenant.expected`` gets what it must be metered (all but storage) and
        ``tenant.stored`` the bytes each bucket stores at the end. Replication is waited for."""
        t, s = tenant, sizes
        plain, repl, backup = (f"{t.name}-{what}" for what in ("data", "repl", "backup"))

        self.s3(t).create_bucket(Bucket=plain)
        t.count(plain, "requests_a")
        for key, size in (("k1", s.first), ("k2", s.second), ("k1", s.again)):   # two uploads, an overwrite
            self.s3(t).put_object(Bucket=plain, Key=key, Body=b"x" * size)
            t.count(plain, "requests_a")
            t.count(plain, "bytes_in", size)
        self.s3(t).delete_object(Bucket=plain, Key="k2")                              # free
        assert self.s3(t).get_object(Bucket=plain, Key="k1")["Body"].read() == b"x" * s.again
        t.count(plain, "requests_b")
        t.count(plain, "bytes_out", s.again)
        ranged = self.s3(t).get_object(Bucket=plain, Key="k1", Range="bytes=100-349")["Body"].read()
        assert ranged == b"x" * 250                                                   # a Range: 250 bytes out
        t.count(plain, "requests_b")
        t.count(plain, "bytes_out", 250)
        url = self.s3(t).generate_presigned_url("get_object", Params={"Bucket": plain, "Key": "k1"}, ExpiresIn=600)
        assert get_url(url) == b"x" * s.again                                          # presigned
        t.count(plain, "requests_b")
        t.count(plain, "bytes_out", s.again)
        self.s3(t).head_object(Bucket=plain, Key="k1")
        t.count(plain, "requests_b")
        self.s3(t).list_objects_v2(Bucket=plain)
        self.s3(t).list_objects(Bucket=plain)
        t.count(plain, "requests_a", 2)
        self.s3(t).list_buckets()                                                     # no bucket: under ''
        t.count("", "requests_a")
        upload = self.s3(t).create_multipart_upload(Bucket=plain, Key="big")["UploadId"]   # left incomplete
        self.s3(t).upload_part(Bucket=plain, Key="big", UploadId=upload, PartNumber=1, Body=b"m" * s.part)
        t.count(plain, "requests_a", 2)
        t.count(plain, "bytes_in", s.part)
        self.s3(t).put_object(Bucket=plain, Key="sales.csv", Body=CSV_ROWS)
        t.count(plain, "requests_a")
        t.count(plain, "bytes_in", len(CSV_ROWS))
        job = sql_job(self.server(), t, f"SELECT count(*) AS n FROM read_csv('s3://{plain}/sales.csv', header=true)")
        assert job["status"] == "succeeded", job
        t.count(plain, "bytes_scanned", len(CSV_ROWS))       # the job reads the whole object; its API is free

        # a replicated bucket: versioned, shipping every version to the same tenant's bucket in DEST
        dest_s3 = dest.client(access_key=there.access_key, secret_key=there.secret_key)
        dest_s3.create_bucket(Bucket=backup, CreateBucketConfiguration={"LocationConstraint": DEST})
        dest_s3.put_bucket_versioning(Bucket=backup, VersioningConfiguration={"Status": "Enabled"})
        self.s3(t).create_bucket(Bucket=repl)
        self.s3(t).put_bucket_versioning(Bucket=repl, VersioningConfiguration={"Status": "Enabled"})
        self.s3(t).put_bucket_replication(Bucket=repl, ReplicationConfiguration={
            "Role": f"arn:aws:iam::{t.account_id}:role/replication",
            "Rules": [{"ID": "all", "Priority": 1, "Status": "Enabled", "Filter": {"Prefix": ""},
                       "DeleteMarkerReplication": {"Status": "Disabled"},
                       "Destination": {"Bucket": f"arn:aws:s3:::{backup}"}}]})
        t.count(repl, "requests_a", 3)
        versions = []
        for size in (s.version1, s.version2):                # two versions of r1: both stored, both shipped
            versions.append(self.s3(t).put_object(Bucket=repl, Key="r1", Body=b"r" * size)["VersionId"])
            t.count(repl, "requests_a")
            t.count(repl, "bytes_in", size)
        t.count(repl, "bytes_replicated", s.version1 + s.version2)

        def shipped() -> bool:      # asked of the destination region: not metered by the billed one
            listed = dest_s3.list_object_versions(Bucket=backup).get("Versions", [])
            return sorted(v["VersionId"] for v in listed) == sorted(versions)

        wait_until(shipped, what=f"replication of {repl}")
        t.stored = {plain: s.again + s.part + len(CSV_ROWS), repl: s.version1 + s.version2}

    def more(self, tenant: Tenant, size: int) -> None:
        """New traffic after the invoice: an upload, a download of it and a listing."""
        plain = f"{tenant.name}-data"
        self.s3(tenant).put_object(Bucket=plain, Key="late", Body=b"l" * size)
        assert self.s3(tenant).get_object(Bucket=plain, Key="late")["Body"].read() == b"l" * size
        self.s3(tenant).list_objects_v2(Bucket=plain)
        tenant.count(plain, "requests_a", 2)
        tenant.count(plain, "requests_b")
        tenant.count(plain, "bytes_in", size)
        tenant.count(plain, "bytes_out", size)


#: what the workload's quantities other than storage cost, worked out with pen and paper (the same for
#: every month): per tenant, the amounts of the lines after the storage line, in their order.
#: class A: 15 requests = 3 free + 7 x 30 / 1,000 (0.21) + 5 x 5 / 1,000 (0.025: half up, 0.03); class B:
#: 4 x 700 / 10,000 (0.28);
#: data out 8,250 (A) and 2,650 (B) bytes: (bytes / 2^30 - 0.000001) x 90,000 = 0.6015... and 0.1321...;
#: replicated 8,000 and 3,000 bytes x 40,000 / 2^30 = 0.2980... and 0.1117...; scanned 66 bytes x 600,000 /
#: 2^30 = 0.0368...
PINNED = (("0.00", "0.21", "0.03", "0.28", "0.00", "0.60", "0.30", "0.04"),
          ("0.00", "0.21", "0.03", "0.28", "0.00", "0.13", "0.11", "0.04"))

SIZES = (Sizes(first=1500, second=2500, again=4000, part=6000, version1=3000, version2=5000),
         Sizes(first=700, second=900, again=1200, part=5500, version1=2000, version2=1000))


# --- the metered quantities ------------------------------------------------------------------------------

def usage(server: NuageServer, tenant: Tenant, days: tuple[str, str]) -> dict[str, Counter[str]]:
    """bucket -> metric -> value of the tenant over ``days`` (`nuage admin usage --json`)."""
    return metered(server, tenant, *days)


def storage_of(counts: dict[str, Counter[str]]) -> dict[str, int]:
    return {bucket: c["storage_byte_hours"] for bucket, c in counts.items() if c["storage_byte_hours"]}


def others(counts: dict[str, Counter[str]]) -> dict[str, Counter[str]]:
    out = {bucket: Counter({m: v for m, v in c.items() if m != "storage_byte_hours"}) for bucket, c in counts.items()}
    return {bucket: c for bucket, c in out.items() if c}


def totals(counts: dict[str, Counter[str]]) -> Counter[str]:
    out: Counter[str] = Counter()
    for c in counts.values():
        out.update(c)
    return out


# --- the invoice, worked out by hand from PRICES -----------------------------------------------------------

def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


Line = tuple[str, Decimal, Decimal, Decimal]    # (metric, quantity to 6 decimals, unit price, amount)


def by_hand(used: Counter[str], hours_in_month: int) -> tuple[list[Line], Decimal, Decimal, Decimal]:
    """The lines, subtotal, tax and total that PRICES give for a month's totals ``used`` (raw units), worked
    out as a person would with the sheet in front of them."""
    lines: list[Line] = []

    def line(metric: str, qty: Decimal, price: Decimal, amount: Decimal) -> None:
        lines.append((metric, qty.quantize(SIX, rounding=ROUND_HALF_UP), price, cents(amount)))

    # storage: GB-months = byte-hours / 2^30 / the hours of the month, at 250,000 each
    gb_months = Decimal(used["storage_byte_hours"]) / GIB / hours_in_month
    line("storage", gb_months, Decimal("250000"), gb_months * 250000)

    # class A: the first 3 free, the 4th to the 10th at 30 per 1,000, beyond at 5 per 1,000 (half a cent
    # each: 5 requests cost exactly 0.025, rounded half up to 0.03, where half even would give 0.02)
    a = used["requests_a"]
    if a == 0:      # a metric not used: one line of nothing, at its first price
        line("requests_a", Decimal(0), Decimal(30), Decimal(0))
    else:
        line("requests_a", Decimal(min(a, 3)), Decimal(0), Decimal(0))
    if a > 3:
        line("requests_a", Decimal(min(a, 10) - 3), Decimal(30), Decimal(min(a, 10) - 3) * 30 / 1000)
    if a > 10:
        line("requests_a", Decimal(a - 10), Decimal(5), Decimal(a - 10) * 5 / 1000)

    # class B: 700 per 10,000
    b = used["requests_b"]
    line("requests_b", Decimal(b), Decimal(700), Decimal(b) * 700 / 10000)

    # data out: 0.000001 GB free, the rest at 90,000 per GB
    gb_out = Decimal(used["bytes_out"]) / GIB
    free = Decimal("0.000001")
    if gb_out == 0:
        line("data_out", Decimal(0), Decimal(90000), Decimal(0))
    else:
        line("data_out", min(gb_out, free), Decimal(0), Decimal(0))
    if gb_out > free:
        line("data_out", gb_out - free, Decimal(90000), (gb_out - free) * 90000)

    # replication: 40,000 per GB; scanned: 600,000 per GB
    gb_replicated = Decimal(used["bytes_replicated"]) / GIB
    line("replication", gb_replicated, Decimal(40000), gb_replicated * 40000)
    gb_scanned = Decimal(used["bytes_scanned"]) / GIB
    line("scanned", gb_scanned, Decimal(600000), gb_scanned * 600000)

    subtotal = sum((amount for *_, amount in lines), Decimal("0.00"))
    tax = cents(subtotal * Decimal("0.0825"))
    return lines, subtotal, tax, subtotal + tax


def invoice_lines(document: dict[str, Any]) -> list[Line]:
    return [(line["metric"], Decimal(line["quantity"]).quantize(SIX), Decimal(line["unit_price"]),
             Decimal(line["amount"])) for line in document["lines"]]


METERS = {"storage": "storage_byte_hours", "requests_a": "requests_a", "requests_b": "requests_b",
          "data_out": "bytes_out", "replication": "bytes_replicated", "scanned": "bytes_scanned"}


def check_invoice(document: dict[str, Any], buckets: dict[str, Counter[str]], hours_in_month: int) -> None:
    """The document's lines, subtotal, tax and total are the ones worked out by hand from the month's totals
    of ``buckets`` (bucket -> metric -> raw value), to the cent; each metric's amount is shared among the
    buckets in proportion to what each used, each share within a cent of its exact part, adding up to it."""
    used = totals(buckets)
    lines, subtotal, tax, total = by_hand(used, hours_in_month)
    assert invoice_lines(document) == lines
    assert (Decimal(document["subtotal"]), Decimal(document["tax"]), Decimal(document["total"])) == (
        subtotal, tax, total)
    assert document["currency"] == "EUR" and document["tax_rate"] == "0.0825"
    for metric, meter in METERS.items():
        amount = sum((a for m, _, _, a in lines if m == metric), Decimal(0))
        shares = {s["bucket"]: Decimal(s["amount"]) for s in document["buckets"] if s["metric"] == metric}
        assert set(shares) == {b for b, c in buckets.items() if c[meter]}, (metric, shares)
        assert sum(shares.values(), Decimal(0)) == amount, (metric, amount, shares)
        for bucket, share in shares.items():
            exact = amount * buckets[bucket][meter] / used[meter]
            assert abs(share - exact) < CENT, (metric, bucket, share, exact)
    assert {k: v for k, v in document["usage"].items() if v} == {k: v for k, v in used.items() if v}


def invoice(server: NuageServer, tenant: Tenant, month: str) -> dict[str, Any]:
    """`nuage admin invoice TENANT --month M` (issues it, or returns the one issued before)."""
    return dict(json.loads(admin(server, "invoice", tenant.name, "--month", month)))


def download(server: NuageServer, tenant: Tenant, month: str, fmt: str) -> bytes:
    """An issued invoice as CSV or PDF, through the admin API."""
    client = AdminClient(server.endpoint, ACCESS_KEY, SECRET_KEY, server.region)
    with client.open("GET", f"/admin/tenants/{tenant.name}/invoices/{month}?format={fmt}") as resp:
        return bytes(resp.read())


def preview(server: NuageServer, tenant: Tenant, month: str) -> dict[str, Any]:
    return dict(json.loads(admin(server, "invoice", tenant.name, "--preview", "--month", month)))


# --- the flow --------------------------------------------------------------------------------------------

Start = Callable[[dict[str, str]], list[NuageServer]]


@contextmanager
def running(start: Start, env: dict[str, str]) -> Iterator[list[NuageServer]]:
    """The billed region's gateways started with ``env``, stopped cleanly after the block (exit code 0 and no
    traceback in their logs, unless the block failed: then its error is the one reported)."""
    servers = start(env)
    try:
        yield servers
    except BaseException:
        for server in servers:
            server.allow_faults = True
            server.stop()
        raise
    codes = [s.stop() for s in servers]
    assert codes == [0] * len(servers), "".join(s.log() for s in servers)


def hours_of(server: NuageServer, tenant: Tenant, days: tuple[str, str], metric: str) -> set[str]:
    """The UTC hours (ISO) in which ``metric`` has rows for the tenant (the admin API, hourly)."""
    client = AdminClient(server.endpoint, ACCESS_KEY, SECRET_KEY, server.region)
    data = client.call("GET", f"/admin/usage/metered?tenant={tenant.account_id}&from={days[0]}&to={days[1]}"
                              "&hourly=1")
    return {h["hour"] for h in data["hours"] if h["metric"] == metric}


def iso(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def month_of(tenant: Tenant, hours_stored: int) -> dict[str, Counter[str]]:
    """What the tenant must be billed for last month, per bucket: its counts, and what each bucket stores
    for ``hours_stored`` hours."""
    out = {bucket: Counter(counts) for bucket, counts in tenant.expected.items()}
    for bucket, stored in tenant.stored.items():
        out.setdefault(bucket, Counter())["storage_byte_hours"] += stored * hours_stored
    return out


def run_flow(start: Start, dest: NuageServer) -> None:
    """The whole flow (module docstring). ``start(env)`` starts the billed region's gateways (the price sheet
    PRICES, the regions registry) with ``env`` added; they are stopped here, cleanly, after each step."""
    m = Months.now()
    last, this = m.days("last"), m.days("this")
    day10 = m.last_start + 9 * 86400
    workload_hour, first_sample = day10 + 10 * HOUR, day10 + 11 * HOUR
    last_hour = m.this_start - HOUR

    # 1. the workload, metered in the 10th of last month, 10:00 (no storage sample yet)
    with running(start, {**FAST, **clock_at(workload_hour + 60)}) as servers:
        work = Workload(servers)
        tenants, received = [], []
        for prefix, sizes in zip(("e2ea", "e2eb"), SIZES, strict=True):
            tenant, there = new_tenant(servers, dest, prefix)
            work.run(tenant, dest, there, sizes)
            received.append(there)
            tenants.append(tenant)
        wait_until(lambda: all(usage(srv, t, last) == t.expected for srv in servers for t in tenants),
                   what="the workload metered")
        for t in tenants:
            assert hours_of(servers[-1], t, last, "requests_a") == {iso(workload_hour)}
            assert usage(servers[0], t, this) == {}
    # the destination region bills no replica to anyone (its metering clock is the real one)
    # (``dest`` flushes its counts often: FAST): its tenant's requests are there, the replicas' bytes are not
    def there_counts(there: Tenant) -> Counter[str]:
        return usage(dest, there, days_around_now()).get(f"{there.name}-backup", Counter())

    # (the bucket, its versioning, and at least one listing of the versions shipped)
    wait_until(lambda: all(there_counts(there)["requests_a"] >= 3 for there in received),
               what="the destination's own requests metered")
    for there in received:
        assert there_counts(there)["bytes_in"] == there_counts(there)["bytes_replicated"] == 0

    # 2. an hour later: the first storage sample, the bytes stored (versions and the incomplete upload's part)
    with running(start, {**SAMPLING, **clock_at(first_sample + 600)}) as servers:
        wait_until(lambda: all(storage_of(usage(servers[0], t, last)) == t.stored for t in tenants),
                   what="the first storage sample")
        for srv in servers:
            for t in tenants:
                assert others(usage(srv, t, last)) == t.expected        # nothing lost by the stop
                assert hours_of(srv, t, last, "storage_byte_hours") == {iso(first_sample)}

    # 3. the last hour of last month: the hours since are filled with what is stored
    filled = (m.this_start - first_sample) // HOUR        # first_sample .. last_hour, both included
    with running(start, {**SAMPLING, **clock_at(last_hour + 600)}) as servers:
        def sampled_to_the_end() -> bool:
            return all(storage_of(usage(servers[-1], t, last)) == {b: n * filled for b, n in t.stored.items()}
                       for t in tenants)

        wait_until(sampled_to_the_end, what="the last hour of the month sampled")
        for t in tenants:
            hours = hours_of(servers[0], t, last, "storage_byte_hours")
            assert len(hours) == filled and max(hours) == iso(last_hour)
            assert usage(servers[0], t, this) == {}

    # 4. the first hour of this month: its sample is this month's alone; last month is invoiced
    issued: dict[str, dict[str, Any]] = {}
    with running(start, {**SAMPLING, **clock_at(m.this_start + 600)}) as servers:
        wait_until(lambda: all(storage_of(usage(servers[0], t, this)) == t.stored for t in tenants),
                   what="the first hour of this month sampled")
        for t in tenants:
            assert storage_of(usage(servers[-1], t, last)) == {b: n * filled for b, n in t.stored.items()}
            assert hours_of(servers[-1], t, this, "storage_byte_hours") == {iso(m.this_start)}
        for t in tenants:
            used = month_of(t, filled)
            doc = invoice(servers[0], t, m.last)
            assert doc["kind"] == "invoice" and doc["month"] == m.last and doc["number"].startswith("E2E-")
            assert doc["tenant"] == {"account_id": t.account_id, "name": t.name}
            assert doc["issuer"] == {"name": "End to End Cloud", "region": SOURCE}
            check_invoice(doc, used, m.last_hours)
            assert tuple(line["amount"] for line in doc["lines"][1:]) == PINNED[tenants.index(t)]
            printed = [download(srv, t, m.last, fmt) for srv in servers for fmt in ("csv", "pdf")]
            for srv in servers:      # issued through one gateway, the same through every one
                assert invoice(srv, t, m.last) == doc
                assert AdminClient(srv.endpoint, ACCESS_KEY, SECRET_KEY, srv.region).call(
                    "GET", f"/admin/tenants/{t.name}/invoices/{m.last}") == doc
            assert printed[:2] * len(servers) == printed          # the same CSV and PDF bytes everywhere
            assert printed[0].decode().splitlines()[-1].startswith(f"{doc['number']},")
            assert printed[1].startswith(b"%PDF-")
            issued[t.name] = doc
            now = preview(servers[-1], t, m.this)     # this month so far: its one hour of storage
            assert now["kind"] == "preview" and now["number"] is None and now["month"] == m.this
            check_invoice(now, {b: Counter(storage_byte_hours=n) for b, n in t.stored.items()}, m.this_hours)
        assert len({doc["number"] for doc in issued.values()}) == len(tenants)

    # 5. back in last month (the 20th): new traffic lands in its hours; its invoice stays as issued
    with running(start, {**FAST, **clock_at(m.last_start + 19 * 86400 + 12 * HOUR)}) as servers:
        work = Workload(servers)
        for t, size in zip(tenants, (333, 444), strict=True):
            work.more(t, size)
        wait_until(lambda: all(others(usage(srv, t, last)) == t.expected for srv in servers for t in tenants),
                   what="the new traffic metered")
        for t in tenants:
            used = month_of(t, filled)
            for srv in servers:
                assert invoice(srv, t, m.last) == issued[t.name]
            grown = preview(servers[0], t, m.last)        # the month as metered now: the new traffic in it
            check_invoice(grown, used, m.last_hours)
            assert Decimal(grown["total"]) > Decimal(issued[t.name]["total"])
            assert storage_of(usage(servers[-1], t, this)) == t.stored
