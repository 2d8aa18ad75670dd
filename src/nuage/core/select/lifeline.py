"""A SQL worker process dies with the server that started it, even when that server is killed with
``kill -9`` (it has no chance to kill its workers then), so that no orphan goes on running a query.

The server starts a worker as ``python -m nuage.core.select.lifeline`` with its own pid in
``$NUAGE_SQL_WORKER_PARENT``. Before anything slow loads (DuckDB takes a while to import), the worker asks
Linux for SIGKILL when its parent goes (``PR_SET_PDEATHSIG``), then checks that its parent is still the
server: one killed between the start and that request is gone already, and Linux would never send the
signal. A thread then looks every ``CHECK_SECONDS`` whether the parent changed (the process was re-parented
to init or a subreaper), for systems without the signal. Only then does the worker itself load and run.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading

PARENT_ENV = "NUAGE_SQL_WORKER_PARENT"
PR_SET_PDEATHSIG = 1
CHECK_SECONDS = 0.5


def expected_parent() -> int:
    """The pid of the server that started this process (the current parent when not said)."""
    value = os.environ.get(PARENT_ENV, "")
    return int(value) if value.isdigit() else os.getppid()


def die_with_parent(parent: int) -> None:
    """Ask Linux to kill this process when its parent goes; end at once when it went already."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent:
        os._exit(0)


def watch_parent(parent: int, every: float = CHECK_SECONDS) -> threading.Thread:
    """A daemon thread that ends the process (whatever its threads are busy with) once its parent is
    no longer ``parent``."""
    def watch() -> None:
        stop = threading.Event()
        while not stop.wait(every):
            if os.getppid() != parent:
                os._exit(0)

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread


def main() -> int:
    parent = expected_parent()
    die_with_parent(parent)
    watch_parent(parent)
    # DuckDB loads only now, with the process bound to the server
    from nuage.core.select import worker
    return worker.main()


if __name__ == "__main__":
    sys.exit(main())
