"""Composition root: settings -> stores -> services -> ASGI app -> HTTP server."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import hashlib
import json
import logging
import os
import secrets
import shlex
import signal
import socket
import sqlite3
import string
import threading
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass
from gettext import gettext as _
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TypeAlias

import uvicorn

from nuage.accesslog import AccessLog, Records
from nuage.admin.app import AdminApp, is_admin_request
from nuage.admin.billing import InvoiceRoutes
from nuage.admin.budgets import BudgetRoutes
from nuage.asgi import Dispatcher, Route
from nuage.billing.app import BillingApp, is_billing_request
from nuage.billing.budgets import Budgets
from nuage.billing.prices import PriceSheetError
from nuage.billing.prices import load as load_prices
from nuage.billing.service import Billing
from nuage.config import Settings
from nuage.console import ConsoleUploads, build_console
from nuage.console.usage import RequestMeter, UsageSampler
from nuage.core.access import may as access_may
from nuage.core.buckets import BucketService
from nuage.core.iam import IAM, SecretBox, SecretsError, stored_keys
from nuage.core.iam import KEY_ENV as IAM_KEY_ENV
from nuage.core.iam import KEY_PATH as IAM_KEY_PATH
from nuage.core.identities import Identities, Identity
from nuage.core.lifecycle import LifecycleWorker
from nuage.core.lifecycle import run_forever as run_lifecycle
from nuage.core.metering import BYTES_REPLICATED, BYTES_SCANNED, Meter, StorageSampler
from nuage.core.multipart import MultipartService
from nuage.core.objects import ObjectService
from nuage.core.replication import Replicas
from nuage.core.replication import route as replication_route
from nuage.core.sse import MASTER_KEY_PATH, Keyring
from nuage.httpserver import GracefulServer, HttpLimits, HttpProtocol
from nuage.httpserver.health import HealthApp, is_health_request
from nuage.httpserver.workers import run_workers
from nuage.iam_api.app import IAMApp, is_iam_request
from nuage.metrics.app import is_metrics_request
from nuage.metrics.collect import Sources, StoreCollector
from nuage.metrics.gateway import Metrics, build_metrics
from nuage.metrics.guard import Guard, GuardError
from nuage.metrics.shared import shared_dir
from nuage.query.app import QueryApp, is_query_request
from nuage.query.jobs import Limits, QueryService
from nuage.replication.app import PREFIX as REPLICATION_PREFIX
from nuage.replication.app import ReplicationApp, is_replication_request
from nuage.replication.client import HTTPClient
from nuage.replication.locator import Locator
from nuage.replication.registry import Registry, load_registry
from nuage.replication.worker import Shipper
from nuage.s3.app import S3App
from nuage.s3.context import Services
from nuage.secretfiles import create_once
from nuage.secretfiles import replace as replace_file
from nuage.storage import scrub, sweeper
from nuage.storage.blobs.localfs import LocalBlobStore
from nuage.storage.meta.replication import Router
from nuage.storage.meta.sqlite.shared import SharedSQLiteMetadataStore
from nuage.storage.meta.sqlite.store import SQLiteMetadataStore
from nuage.types import BucketName, ObjectKey

if TYPE_CHECKING:   # imported when used: a SQLite gateway never loads the PostgreSQL driver
    from nuage.storage.meta.postgres.store import PostgresMetadataStore

log = logging.getLogger("nuage")

#: the metadata store: SQLite in the data folder (the default), or PostgreSQL (``--db``)
MetaStore: TypeAlias = "SQLiteMetadataStore | PostgresMetadataStore"

ROOT_FILE = "root-credentials.json"


class StartupError(Exception):
    """The gateway cannot start (a file of the data folder unreadable, a port taken, ...): the message says
    what and which file, in one line."""


@dataclass
class RootCredentials:
    access_key: str
    secret_key: str
    owner_id: str
    display_name: str
    created: bool = False       # made by this call (the first start on the data folder)

    def saved(self) -> bytes:
        return json.dumps({"access_key": self.access_key, "secret_key": self.secret_key,
                           "owner_id": self.owner_id, "display_name": self.display_name}, indent=2).encode()


def _random_key(n: int, alphabet: str) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def _parse_root_file(path: Path, raw: bytes) -> RootCredentials:
    try:
        saved = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise StartupError(_("{path} is not valid JSON ({reason}): restore it from a backup, or move it away to "
                             "create a new root key").format(path=path, reason=exc)) from None
    fields = ("access_key", "secret_key", "owner_id", "display_name")
    if not isinstance(saved, dict) or not all(isinstance(saved.get(name), str) and saved[name] for name in fields):
        raise StartupError(_("{path} does not hold root credentials ({fields}): restore it from a backup, or "
                             "move it away to create a new root key").format(path=path, fields=", ".join(fields)))
    return RootCredentials(*(saved[name] for name in fields))


def root_credentials(settings: Settings) -> RootCredentials:
    """The root key: from the environment, else from the data folder, else created and saved there (by one
    of the processes that start at once on an empty data folder; the others read its file).
    :class:`StartupError` when the saved file is unreadable."""
    path = settings.data_dir / ROOT_FILE
    try:
        raw: bytes | None = path.read_bytes()
    except FileNotFoundError:
        raw = None
    except OSError as exc:
        raise StartupError(_("cannot read {path}: {reason}").format(path=path, reason=exc.strerror or exc)) from None
    if raw is None:
        fresh = RootCredentials(
            settings.root_access_key or _random_key(20, string.ascii_uppercase + string.digits),
            settings.root_secret_key or _random_key(40, string.ascii_letters + string.digits),
            hashlib.sha256(os.urandom(32)).hexdigest(), "root")
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        raw, created = create_once(path, fresh.saved())
        if created:
            fresh.created = True
            return fresh
    creds = _parse_root_file(path, raw)
    access, secret = settings.root_access_key or creds.access_key, settings.root_secret_key or creds.secret_key
    if (access, secret) != (creds.access_key, creds.secret_key):   # the environment's key, from now on
        creds.access_key, creds.secret_key = access, secret
        replace_file(path, creds.saved())
    return creds


def open_stores(settings: Settings, replication_router: Router | None = None, *, shared: bool = False
                ) -> tuple[MetaStore, LocalBlobStore]:
    """The stores; given ``replication_router``, object writes journal the versions to ship to other regions.
    Metadata goes to PostgreSQL given ``settings.db``, else to SQLite in the data folder (``shared``: a
    database that other processes write too); the blobs are files in the data folder either way (a folder
    all the gateways of one database share)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    meta: MetaStore
    if settings.db is not None:
        from nuage.storage.meta.postgres.store import PostgresMetadataStore
        meta = PostgresMetadataStore(settings.db, replication_router=replication_router)
    else:
        path = settings.data_dir / "meta.sqlite3"
        try:
            meta = (SharedSQLiteMetadataStore if shared else SQLiteMetadataStore)(
                path, fsync=settings.fsync, replication_router=replication_router)
        except sqlite3.OperationalError as exc:   # locked, not allowed, ...
            raise StartupError(_("cannot open {path}: {reason}").format(path=path, reason=exc)) from None
        except sqlite3.DatabaseError as exc:   # not a database, or a damaged one
            raise StartupError(_("{path} is not a usable SQLite database ({reason}): restore it from a "
                                 "backup").format(path=path, reason=exc)) from None
    # several processes read the blob folder: the workers of one gateway, or gateways on one database
    blobs = LocalBlobStore(settings.data_dir, fsync=settings.fsync, inline_max=settings.inline_max,
                           direct=settings.direct_io, shared=shared or settings.db is not None,
                           delete_grace=settings.shared_delete_grace_seconds)
    return meta, blobs


def open_iam(settings: Settings, meta: MetaStore) -> IAM:
    """Accounts and keys, with secrets sealed by the IAM key (DATA/secrets/iam.key or $NUAGE_IAM_KEY).
    :class:`SecretsError` when that key is unreadable, or missing or another one while the metadata holds
    secret keys that it sealed: every request signed with them would fail (InvalidAccessKeyId)."""
    path = settings.data_dir / IAM_KEY_PATH
    from_env = bool(os.environ.get(IAM_KEY_ENV))
    if not from_env and not path.exists() and any(stored_keys(meta.iam)) and not path.exists():
        # (checked again: another process starting on a new data folder creates the file before any key)
        raise SecretsError(_("{path} is missing, and the secret keys stored in the metadata are sealed with the "
                             "key it held: restore it from a backup (or set {env} to that key)").format(
                                 path=path, env=IAM_KEY_ENV))
    iam = IAM(meta.iam, SecretBox.load(settings.data_dir))
    if iam.unseals_stored_keys() is False:
        where = f"${IAM_KEY_ENV}" if from_env else str(path)
        raise SecretsError(_("{where} does not unseal the secret keys stored in the metadata (another key than "
                             "the one that sealed them): restore the key from a backup").format(where=where))
    return iam


def build_services(settings: Settings, meta: MetaStore, blobs: LocalBlobStore,
                   iam: IAM | None = None, locator: Locator | None = None) -> Services:
    iam = iam or open_iam(settings, meta)
    try:
        keyring = Keyring.load(settings.data_dir, settings.master_key, meta.master_sealed_extra)
    except ValueError as exc:
        where = "$NUAGE_MASTER_KEY" if settings.master_key else str(settings.data_dir / MASTER_KEY_PATH)
        message = (str(exc) if where.lstrip("$") in str(exc)
                   else _("{where} is not a usable master key ({reason})").format(where=where, reason=exc))
        raise StartupError(message) from None
    objects = ObjectService(meta, blobs, keyring)


    return Services(
        settings=settings, buckets=BucketService(meta, blobs, settings.region), objects=objects,
        multipart=MultipartService(objects),
        identities=Identities(meta, source=iam.lookup, policy_source=iam.identity_policies),
        locator=locator,
    )


@dataclass
class Replication:
    app: ReplicationApp
    shipper: Shipper

    async def status(self) -> dict[str, object]:
        return await self.shipper.status()


@dataclass
class Regions:
    """The region registry and what reaches the other regions: the locator (which region holds a
    bucket, for redirects) and the HTTP client it shares with the shipping worker."""
    registry: Registry
    client: HTTPClient
    locator: Locator


def open_regions(settings: Settings, meta: MetaStore) -> Regions | None:
    """With a region registry, the regions; without one, None (and nothing looks at other regions)."""
    if settings.regions_file is None:
        return None
    registry = load_registry(settings.regions_file, settings.region)
    client = HTTPClient()
    return Regions(registry, client, Locator(registry, meta, client))


def start_replication(settings: Settings, meta: MetaStore, regions: Regions,
                      objects: ObjectService) -> Replication:
    """The internal endpoint that takes replicas and the shipping worker (the store journals the outbox
    rows through the router it was opened with)."""
    app = ReplicationApp(regions.registry, Replicas(meta, objects), meta, settings.max_skew_seconds)
    return Replication(app, Shipper(meta, objects, regions.registry, regions.locator, regions.client))


def build_query(settings: Settings, meta: MetaStore, services: Services, recover: bool = True) -> QueryApp:
    """SQL jobs: DuckDB over the stored blobs, each object read checked like an S3 GetObject. ``recover``:
    end the jobs whose process is gone (those of a previous run; never those another live gateway runs)
    (not in the workers of a gateway: done before they start). The server runs ``service.maintain`` once
    per cluster."""
    async def may(caller: Identity, action: str, bucket: BucketName, key: ObjectKey | None,
                  conditions: Mapping[str, Sequence[str]]) -> bool:
        return await access_may(services, caller, action, bucket, key, conditions)

    service = QueryService(meta.jobs, services.objects, may, settings.data_dir, Limits.from_env(os.environ))
    if recover:
        service.recover()
    return QueryApp(service, services.identities, settings.region, settings.max_skew_seconds)


def once_per_cluster(meta: MetaStore, name: str,
                     run: Callable[[], Coroutine[Any, Any, None]]) -> Callable[[], Coroutine[Any, Any, None]]:
    """Background work that must never run twice at once: on PostgreSQL, on the one gateway that holds its
    lease (another takes over when it dies); on SQLite shared by worker processes, in the one that holds its
    lock file; on SQLite in one process, here."""
    if isinstance(meta, SQLiteMetadataStore) and not isinstance(meta, SharedSQLiteMetadataStore):
        return run
    return functools.partial(meta.once_per_cluster, name, run)


class Lifespan:
    """The ASGI lifespan app: runs the sweeper (and, given the services, the lifecycle worker and the
    ``background`` jobs) while the server runs."""

    def __init__(self, meta: MetaStore, blobs: LocalBlobStore, settings: Settings,
                 services: Services | None = None,
                 background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = ()) -> None:
        self.background = background
        self.meta = meta
        self.blobs = blobs
        self.settings = settings
        self.services = services

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            return
        tasks: list[asyncio.Task[None]] = []
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                tasks.append(asyncio.create_task(once_per_cluster(self.meta, "sweeper", functools.partial(
                    sweeper.run_forever, self.meta, self.blobs, self.settings.sweep_interval_seconds,
                    self.settings.orphan_grace_seconds, self.settings.multipart_expiry_seconds))()))
                if self.services is not None:
                    worker = LifecycleWorker(self.meta, self.services.objects, self.services.multipart,
                                             self.settings.lifecycle_day_seconds)
                    tasks.append(asyncio.create_task(once_per_cluster(self.meta, "lifecycle", functools.partial(
                        run_lifecycle, worker, self.settings.lifecycle_interval_seconds))()))
                tasks += [asyncio.create_task(run()) for run in self.background]
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for task in tasks:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                await send({"type": "lifespan.shutdown.complete"})
                return




def metering(settings: Settings, meta: MetaStore, query_app: QueryApp,
             replication: Replication | None) -> Meter | None:
    """The meter of this process (None when metering is off), told what SQL jobs scan and what replication
    ships; its clock runs ``meter_clock_offset_seconds`` ahead (tests of month boundaries)."""
    if not settings.metering:
        return None
    offset = settings.meter_clock_offset_seconds
    meter = Meter(meta, settings.region, clock=(lambda: time.time() + offset) if offset else time.time,
                  interval=settings.meter_flush_seconds)
    query_app.service.on_scanned = lambda bucket, size: meter.add_to_bucket(bucket, BYTES_SCANNED, size)
    if replication is not None:
        replication.shipper.on_shipped = lambda bucket, size: meter.add_to_bucket(bucket, BYTES_REPLICATED, size)
    return meter


def http_limits(settings: Settings) -> HttpLimits:
    return HttpLimits(
        max_request_line=settings.http_max_request_line, max_header_size=settings.http_max_header_size,
        max_headers_size=settings.http_max_headers_size, header_timeout=settings.http_header_timeout_seconds,
        max_connections=settings.http_max_connections,
        max_connections_per_client=settings.http_max_connections_per_client)


class ListenError(StartupError):
    """A port could not be listened on (in use, not allowed): the message says which and why."""


def listen_socket(host: str, port: int, *, reuse_port: bool = False, claim: bool = False) -> socket.socket:
    """A socket bound to (host, port), not yet listening (the server starts listening once it serves);
    port 0 is a free port, which ``getsockname()`` then tells. ``reuse_port``: the worker processes of one
    gateway each bind a socket of their own to the port (SO_REUSEPORT), and the kernel spreads the
    connections over them. ``claim``: the port must be free, even of another gateway's workers (which
    SO_REUSEPORT alone would let this one share)."""
    if not 0 <= port <= 65535:
        raise ListenError(_("cannot listen on {host}:{port}: a port is a number from 0 to 65535").format(
            host=host, port=port))
    if reuse_port and claim and port:
        listen_socket(host, port).close()   # fails when any other socket has the port
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ListenError(_("cannot listen on {host}:{port}: {reason}").format(
            host=host, port=port, reason=exc.strerror or exc)) from None
    return sock


def open_access_log(settings: Settings, worker: int) -> AccessLog | None:
    """The access log of ``settings`` (a path, or "-" for stdout) for this worker; None when there is none."""
    if not settings.access_log:
        return None
    try:
        return AccessLog(settings.access_log, "common" if settings.access_log_format == "common" else "json",
                         settings.region, worker)
    except OSError as exc:
        raise StartupError(_("cannot open the access log {path}: {reason}").format(
            path=settings.access_log, reason=exc.strerror or exc)) from None


def metrics_guard(settings: Settings) -> Guard:
    """Who may read the metrics (:class:`StartupError` when the token or the allow list cannot be used)."""
    try:
        return Guard.from_settings(settings.metrics_token, settings.metrics_token_file, settings.metrics_allow)
    except GuardError as exc:
        raise StartupError(str(exc)) from None


def gateway_metrics(settings: Settings, meta: MetaStore, blobs: LocalBlobStore, query: QueryApp, s3_port: int,
                    workers: int, connections: Callable[[], int]) -> Metrics:
    """The metrics of this process (docs/metrics.md); the workers of a gateway add theirs up in a folder of
    the data folder (nuage.metrics.shared)."""
    writer: Callable[[], tuple[int, Sequence[int]]] | None = None
    if isinstance(meta, SQLiteMetadataStore):
        thread = meta.writer
        writer = lambda: (thread.queue_depth(), thread.group_sizes)  # noqa: E731
    sources = Sources(connections, writer, lambda: (blobs.bytes_read, blobs.bytes_written, blobs.fsyncs),
                      query.service.running)
    store = StoreCollector(meta.bucket_usage_all, meta.replication.backlog, meta.replication.failures,
                           settings.metrics_buckets)
    guard = metrics_guard(settings)
    shared = shared_dir(settings.data_dir, s3_port) if workers > 1 and guard.enabled else None
    return build_metrics(guard, settings.region, sources, store, shared)


_open_logs: list[AccessLog] = []   # this process's access log while it serves (reopened on SIGHUP)


def _reopen_logs(_sig: int, _frame: FrameType | None) -> None:
    """SIGHUP (logrotate's ``postrotate``, systemd's reload): the access log is opened again, nothing stops.
    A worker process inherits the handler (its own log); the parent of workers has no log and only survives
    the signal (its workers notice a moved file by themselves)."""
    for access_log in _open_logs:
        access_log.reopen()


def serve(settings: Settings, *, announce: bool = True, console_address: tuple[str, int] | None = None,
          workers: int = 1) -> None:
    """Serve S3 (and the other APIs) on settings.host:port and the web console on ``console_address``
    (default: the same host, the S3 port + 1): a port of its own, so an origin of its own, which the
    tenant content that the S3 endpoint serves cannot script. ``workers`` > 1: that many processes serve
    both ports (nuage.httpserver.workers); SystemExit(1) when one of them failed.

    Both ports are bound before anything is printed or written: a port in use ends the start-up
    (:class:`ListenError`) before the data folder is touched. SIGINT and SIGTERM both stop the server
    gracefully, and the stores are closed (SQLite's WAL checkpointed) before the process exits 0."""
    console_host, console_port = console_address or (settings.host, settings.port + 1)
    several = workers > 1
    s3_sock = listen_socket(settings.host, settings.port, reuse_port=several, claim=True)
    try:
        console_sock = listen_socket(console_host, console_port, reuse_port=several, claim=True)
    except ListenError:
        s3_sock.close()
        raise
    s3_port, console_port = s3_sock.getsockname()[1], console_sock.getsockname()[1]
    if s3_port == console_port:   # requests are told apart by the port they came in on
        s3_sock.close()
        console_sock.close()
        raise ListenError(_("the console needs a port other than the S3 endpoint's ({port})").format(port=s3_port))
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGHUP, _reopen_logs)
    logging.basicConfig(level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        if (probe := open_access_log(settings, 0)) is not None:   # refused now if it cannot be written
            probe.close()
        if several and metrics_guard(settings).enabled:   # the workers' metric files of a previous run go
            shared_dir(settings.data_dir, s3_port, clean=True)
        creds = root_credentials(settings)
    except BaseException:
        s3_sock.close()
        console_sock.close()
        raise
    if not several:
        with _signals_stop_cleanly():
            run_gateway(settings, s3_sock, console_sock, console_host, creds, announce=announce)
        return

    # The ports stay bound here (never listening: the kernel hands connections to listening sockets only)
    # while each worker binds its own; the first start-up on the data folder runs once, before them.
    def work(index: int) -> None:
        s3_sock.close()
        console_sock.close()
        run_gateway(settings, listen_socket(settings.host, s3_port, reuse_port=True),
                    listen_socket(console_host, console_port, reuse_port=True), console_host, creds,
                    announce=announce and index == 0, worker=index, workers=workers)

    def prepare() -> None:
        s3_sock.close()
        console_sock.close()
        run_gateway(settings, None, None, console_host, creds, announce=False, workers=workers)

    try:
        code = run_workers(workers, work, prepare)
    finally:
        s3_sock.close()
        console_sock.close()
    log.info("nuage stopped cleanly" if code == 0 else "nuage stopped: a worker failed")
    if code:
        raise SystemExit(code)


@contextlib.contextmanager
def _signals_stop_cleanly() -> Iterator[None]:
    """SIGINT and SIGTERM end the process the same way, through its clean-up (the stores close): while it
    serves, the server handles both (a graceful shutdown, then ``run()`` returns: GracefulServer); before
    (the stores opening), either one ends the start-up as SystemExit(0) (by default SIGTERM would kill the
    process before its clean-up, exit status 143). A worker process does the same (httpserver.workers)."""
    previous = {sig: signal.signal(sig, _exit_cleanly) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _exit_cleanly(_sig: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def _banner(settings: Settings, creds: RootCredentials, s3_port: int, console_host: str, console_port: int,
            workers: int) -> str:
    """What a start prints: the endpoints, the root key and a command to try it. The root secret is printed
    on the first start only (restarts end up in log files): later ones say where it is stored."""
    endpoint = f"{settings.scheme}://{settings.host}:{s3_port}"
    if settings.root_secret_key:
        secret, shown = _("from $NUAGE_ROOT_SECRET_KEY"), "$NUAGE_ROOT_SECRET_KEY"
    elif creds.created:
        secret = shown = creds.secret_key
    else:
        where = settings.data_dir / ROOT_FILE
        secret = _("in {path} (printed on the first start only)").format(path=where)
        # ready to paste still, and the secret stays out of the output
        shown = shlex.quote(f'import json; print(json.load(open({json.dumps(str(where))}))["secret_key"])')
        shown = f"$(python3 -c {shown})"
    lines = [_("Nuage S3 endpoint: {endpoint}  (region {region}, data {data})").format(
                 endpoint=endpoint, region=settings.region, data=settings.data_dir),
             _("Web console:       {url}").format(url=f"{settings.scheme}://{console_host}:{console_port}/")]
    if workers > 1:
        lines.append(_("Workers:           {count} processes").format(count=workers))
    lines += [_("Root access key:   {key}").format(key=creds.access_key),
              _("Root secret key:   {secret}").format(secret=secret),
              _("Try: {command}").format(command=f"AWS_ACCESS_KEY_ID={creds.access_key} "
                                                  f"AWS_SECRET_ACCESS_KEY={shown} aws --endpoint-url {endpoint} s3 ls")]
    return "\n".join(lines)


def run_gateway(settings: Settings, s3_sock: socket.socket | None, console_sock: socket.socket | None,
                console_host: str, creds: RootCredentials, *, announce: bool, worker: int = 0,
                workers: int = 1) -> None:
    """Open the stores, build the apps and serve on the two sockets until a signal stops the server. Without
    sockets, only start up and close again (what a gateway's workers must not all do at once: the key files
    of a new data folder, migrations, the recovery of SQL jobs)."""
    # with a region registry, object writes journal (in their own transaction) the versions to ship
    access_log = open_access_log(settings, worker) if s3_sock is not None else None
    meta, blobs = open_stores(settings, replication_route if settings.regions_file is not None else None,
                              shared=workers > 1)
    served: list[bool] = []
    if access_log is not None:
        _open_logs.append(access_log)
    try:
        _run_gateway(settings, meta, blobs, s3_sock, console_sock, console_host, creds, announce=announce,
                     worker=worker, workers=workers, served=served, access_log=access_log)
    finally:
        if access_log is not None:
            _open_logs.remove(access_log)
            access_log.close()
        blobs.close()
        meta.close()
        if served:
            log.info("nuage stopped cleanly")


def _run_gateway(settings: Settings, meta: MetaStore, blobs: LocalBlobStore, s3_sock: socket.socket | None,
                 console_sock: socket.socket | None, console_host: str, creds: RootCredentials, *,
                 announce: bool, worker: int, workers: int, served: list[bool],
                 access_log: AccessLog | None = None) -> None:
    iam = open_iam(settings, meta)
    iam.migrate_legacy()
    operator = iam.ensure_account(creds.owner_id, creds.display_name)
    if operator.status != "Active":   # the operator's own account is never left suspended
        iam.set_account_status(operator.account_id, "Active")
    iam.put_root_key(operator, creds.access_key, creds.secret_key)
    regions = open_regions(settings, meta)
    services = build_services(settings, meta, blobs, iam, regions.locator if regions else None)
    replication = start_replication(settings, meta, regions, services.objects) if regions else None
    iam_app = IAMApp(iam, services.identities, settings.region, settings.max_skew_seconds)
    query_app = build_query(settings, meta, services, recover=s3_sock is None or workers == 1)
    try:   # the price sheet of invoices: one that cannot be used stops the start, in one line naming the key
        sheet = load_prices(settings.prices_file)
    except PriceSheetError as exc:
        raise StartupError(str(exc)) from None
    invoices = InvoiceRoutes(Billing(meta, meta.invoices, sheet, settings.region))
    budgets = Budgets(meta.budgets, invoices.billing)   # tenants' monthly budgets (docs/billing.md)
    billing_app = BillingApp(invoices.billing, budgets, meta, services.identities,
                             lambda account_id: iam.account(account_id).name, settings.region,
                             settings.max_skew_seconds)
    # the admin usage report counts the results SQL jobs keep, as the jobs' quota check does
    admin_app = AdminApp(iam, services.identities, query_app.service.quotas,
                         operator.canonical_id, settings.region, settings.max_skew_seconds,
                         replication_status=replication.status if replication else None, invoices=invoices,
                         budgets=BudgetRoutes(budgets))
    meter = RequestMeter()   # requests per bucket, for the console
    billing = metering(settings, meta, query_app, replication)   # what each account used (docs/metering.md)
    s3_app = S3App(services, on_request=meter.count, meter=billing)
    peers = regions.registry.peers if regions else []
    s3_port = s3_sock.getsockname()[1] if s3_sock is not None else settings.port
    console_port = console_sock.getsockname()[1] if console_sock is not None else 0
    console_app = build_console(services, s3_app, iam_app, iam, meta, [(p.name, p.endpoint) for p in peers],
                                query_app, s3_port=s3_port, billing=invoices.billing, budgets=budgets,
                                operator=operator.canonical_id)
    if s3_sock is None or console_sock is None:
        return
    # the health check reads a row that needs no cache: it asks the database itself
    health = HealthApp(functools.partial(meta.get_quota, "bucket", ""), worker)
    routes: list[Route] = [("admin", is_admin_request, admin_app), ("", is_iam_request, iam_app),
                           ("query", is_query_request, query_app), ("_nuage", is_health_request, health),
                           ("billing", is_billing_request, billing_app)]
    metrics = gateway_metrics(settings, meta, blobs, query_app, s3_port, workers,
                              lambda: len(server.server_state.connections))
    routes.append(("_nuage", is_metrics_request, metrics.app))
    if replication is not None:
        routes.append((REPLICATION_PREFIX.split("/")[1], is_replication_request, replication.app))
    sampler = UsageSampler(meta, meter, settings.usage_interval_seconds)
    background = [sampler.run_forever, once_per_cluster(meta, "query-jobs", query_app.service.maintain),
                  *metrics.background]
    if billing is not None:   # each process flushes its own counts; one samples the storage
        background.append(billing.run_forever)
        if settings.meter_sample_seconds > 0:
            background.append(once_per_cluster(meta, "metering-storage", StorageSampler(
                meta, clock=billing.clock, interval=settings.meter_sample_seconds).run_forever))
    if replication is not None:
        background.append(once_per_cluster(meta, "replication", replication.shipper.run))
    if settings.budget_interval_seconds > 0:   # 80% and 100% of each budget, fired once a month (budgets.py)
        background.append(once_per_cluster(meta, "budgets", functools.partial(
            budgets.run_forever, settings.budget_interval_seconds)))
    if settings.scrub_interval_seconds > 0:   # a slow pass over every blob (nuage scrub does one on demand)
        background.append(once_per_cluster(meta, "scrub", functools.partial(
            scrub.run_forever, meta, blobs, settings.scrub_interval_seconds, settings.scrub_rate_mb * 1e6 or None)))
    # every request to the console's port is the console's; on the S3 port no path leads to it
    app = Dispatcher(routes, s3_app, lifespan=Lifespan(meta, blobs, settings, services, background),
                     listeners={console_port: console_app}, cross_origin=ConsoleUploads(s3_app, console_port))
    log.info("object files in %s: %s", settings.data_dir,
             "direct I/O" if blobs.direct else "through the page cache" + ("" if settings.fsync else ", no fsync"))
    if announce:
        print(_banner(settings, creds, s3_port, console_host, console_port, workers), flush=True)
    sinks = [sink for sink in (access_log, metrics.requests) if sink is not None]
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, loop="uvloop", lifespan="on",
        # our connection protocol (nuage.httpserver); the record of each request to the access log and metrics
        http=HttpProtocol.configured(http_limits(settings), Records(sinks, settings.region, worker) if sinks else None),
        log_level="warning", access_log=False, timeout_keep_alive=30, timeout_graceful_shutdown=10,
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
        server_header=False, date_header=True,
        # X-Forwarded-For is not trusted, even from loopback: aws:SourceIp conditions see the peer address
        proxy_headers=False,
    )
    server = GracefulServer(config)
    # What start-up made lives as long as the server: out of the collector's sight, full collections
    # stop walking it again and again (each walk paused every request).
    gc.collect()
    gc.freeze()
    served.append(True)
    # the console's socket first: once the S3 port listens, so does the console's
    server.run(sockets=[console_sock, s3_sock])


def data_path(value: str | Path) -> Path:
    return Path(value).expanduser()
