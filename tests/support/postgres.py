"""A real, throw-away PostgreSQL cluster for tests: Debian's binaries, ``initdb`` in a temporary folder,
a free port on 127.0.0.1, stopped (and removed) at the end.

PostgreSQL refuses to run as root: as root, the cluster belongs to an unprivileged user (``postgres`` when
the Debian package made one, else ``nobody``) and its commands run through ``runuser``.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import uuid
from pathlib import Path

from tests.support.server import free_port

SUPERUSER = "nuage"


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_bindir() -> Path:
    """The folder of ``initdb``, ``pg_ctl`` and ``postgres``: $NUAGE_PG_BIN, else the newest Debian
    version under /usr/lib/postgresql, else wherever ``initdb`` on the PATH really lives."""
    candidates: list[Path] = []
    if os.environ.get("NUAGE_PG_BIN"):
        candidates.append(Path(os.environ["NUAGE_PG_BIN"]))
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                      key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit() else 0, reverse=True)
    candidates += [Path(p) for p in versions]
    if (initdb := shutil.which("initdb")) is not None:
        candidates.append(Path(initdb).resolve().parent)
    for folder in candidates:
        if all((folder / name).is_file() for name in ("initdb", "pg_ctl", "postgres")):
            return folder
    raise PostgresMissing("no PostgreSQL server binaries (initdb, pg_ctl, postgres): apt-get install postgresql")


def _run_as() -> tuple[list[str], int | None, int | None]:
    """(command prefix, uid, gid) to run the cluster's commands with: nothing when not root."""
    if os.geteuid() != 0:
        return [], None, None
    for name in ("postgres", "nobody"):
        try:
            entry = pwd.getpwnam(name)
        except KeyError:
            continue
        return ["runuser", "-u", name, "--"], entry.pw_uid, entry.pw_gid
    raise PostgresMissing("running as root and no unprivileged user (postgres, nobody) to run PostgreSQL as")


class PostgresCluster:
    """One PostgreSQL server: ``start()``, ``create_database()`` (a URL for ``nuage serve --db``), ``stop()``."""

    def __init__(self, *, durable: bool = False) -> None:
        """``durable``: fsync and synchronous commit on, as a production server runs (the benchmark); the
        tests' default turns them off, since nothing there outlives the run."""
        self.durable = durable
        self.bindir = find_bindir()
        self.prefix, self._uid, self._gid = _run_as()
        # a folder of its own in /tmp (pytest's temporary folders are root's alone, 0700)
        self.base = Path(tempfile.mkdtemp(prefix="nuage-pg-"))
        self.data = self.base / "data"
        self.port = 0
        self._options = ""   # the server's options (-c ...), set by start()
        self._lock = threading.Lock()

    def _cmd(self, *args: str) -> list[str]:
        return [*self.prefix, *args]

    def start(self) -> PostgresCluster:
        if self._uid is not None and self._gid is not None:
            os.chown(self.base, self._uid, self._gid)
        subprocess.run(self._cmd(str(self.bindir / "initdb"), "-D", str(self.data), "-U", SUPERUSER,
                                 "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"),
                       check=True, capture_output=True)
        self.port = free_port()
        durability = ("-c fsync=on -c synchronous_commit=on -c full_page_writes=on " if self.durable else
                      "-c fsync=off -c synchronous_commit=off -c full_page_writes=off ")
        options = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.base} "
                   f"{durability}-c max_connections=400 -c shared_buffers=32MB")
        self._options = options
        self.resume()
        return self

    def pause(self) -> None:
        """An outage: stop the server (``pg_ctl stop -m fast``: sessions are cut), keeping its data and
        port for ``resume()``."""
        subprocess.run(self._cmd(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"),
                       check=True, capture_output=True)

    def resume(self) -> None:
        """Start the server (again) on its data and port."""
        log = self.base / "server.log"
        subprocess.run(self._cmd(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-l", str(log), "-o",
                                 self._options, "-w", "-t", "60", "start"), check=True, capture_output=True)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str | None = None) -> str:
        """A new, empty database; returns its URL."""
        import psycopg

        name = name or f"nuage_{uuid.uuid4().hex[:16]}"
        with self._lock, psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        if self.port:
            subprocess.run(self._cmd(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w",
                                     "stop"), capture_output=True)
            self.port = 0
        shutil.rmtree(self.base, ignore_errors=True)


_shared: PostgresCluster | None = None
_shared_lock = threading.Lock()


def shared_cluster() -> PostgresCluster:
    """One cluster for this test process (started on first use, stopped when the process exits)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            cluster = PostgresCluster().start()
            atexit.register(cluster.stop)
            _shared = cluster
        return _shared


_databases: dict[Path, str] = {}


def database_for(data_dir: Path) -> str:
    """The database of a test server's data folder in the shared cluster (NUAGE_TEST_DB=postgresql): made
    on first use, the same one when a server starts again on that folder."""
    folder = data_dir.resolve()
    with _shared_lock:
        url = _databases.get(folder)
    if url is None:
        url = shared_cluster().create_database()
        with _shared_lock:
            url = _databases.setdefault(folder, url)
    return url
