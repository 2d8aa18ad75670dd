"""Several worker processes serving one port, so that one machine uses all of its cores.

The parent forks the workers and supervises them; it serves nothing itself. Each worker binds its own
listening socket to the same address with SO_REUSEPORT, so the kernel spreads new connections over the
workers (by a hash of their addresses): a shared pre-forked socket would wake every worker at each
connection and leave the one that wins the race most of the time with most of the load.

Signals: SIGINT (Ctrl-C) and SIGTERM to the parent are passed on to every worker, which shuts down
gracefully, and the parent exits 0 once all of them did. The workers run in a process group of their
own, so that a Ctrl-C in a terminal reaches them once, through the parent; and each one is told of its
parent's death (even by ``kill -9``) with a SIGTERM, so that none is left behind. When a worker dies on
its own, the parent stops the others and exits 1: a supervisor (systemd) restarts the whole gateway.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import pickle
import signal
import sys
import time
import traceback
from collections.abc import Callable
from types import FrameType

from nuage.httpserver.server import STOP_SIGNALS, request_stop

__all__ = ["run_workers", "worker_count"]

log = logging.getLogger("nuage")

STOP_GRACE = 30.0          # seconds the workers have to stop once told to, before they are killed
_PR_SET_PDEATHSIG = 1      # prctl(2)


def worker_count(value: int | None) -> int:
    """``--workers``: the number given, else $NUAGE_WORKERS, else one per core this process may use."""
    if value is None and os.environ.get("NUAGE_WORKERS", "").strip():
        value = int(os.environ["NUAGE_WORKERS"])
    if value is None:
        value = len(os.sched_getaffinity(0))
    if value < 1:
        raise ValueError("the number of workers must be at least 1")
    return value


def run_workers(count: int, work: Callable[[int], None], prepare: Callable[[], None] | None = None) -> int:
    """Run ``work(index)`` in ``count`` forked processes (index 0 to count - 1) until they stop; returns the
    exit code for the parent: 0 when every worker stopped cleanly after a signal. ``prepare``, when given,
    runs first in a process of its own (what the workers must not all do at once: the data folder's first
    key files, migrations); the workers start once it ended well.

    The parent runs nothing but this loop: forked from a process without threads, a worker starts clean."""
    children: dict[int, int] = {}       # pid -> worker index
    state = {"stopping": 0.0, "failed": False}

    def stop(sig: int, _frame: FrameType | None) -> None:
        if not state["stopping"]:
            state["stopping"] = time.monotonic()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if prepare is not None:
            _prepare(prepare, children)
        for index in range(count):
            if state["stopping"]:
                break
            # the stop signals wait while a worker is forked: a child must not run the parent's handler
            # (which signals the workers, not itself) before it has its own
            signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
            pid = os.fork()
            if pid == 0:
                _child(index, work)   # never returns
            children[pid] = index
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                stopping = state["stopping"]
                if stopping and time.monotonic() - stopping > STOP_GRACE:
                    for left in children:
                        with contextlib.suppress(ProcessLookupError):
                            os.kill(left, signal.SIGKILL)
                time.sleep(0.05)
                continue
            index = children.pop(pid)
            code = os.waitstatus_to_exitcode(status)
            if code != 0 or not state["stopping"]:
                state["failed"] = True
                log.error("worker %d (pid %d) exited with %d: stopping the gateway", index, pid, code)
                stop(signal.SIGTERM, None)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 1 if state["failed"] else 0


def _prepare(prepare: Callable[[], None], children: dict[int, int]) -> None:
    """Run ``prepare()`` in a child process; what it raised is raised again here (pickled through a pipe),
    so that the command reports a failed start-up (no database, say) as it does with one process."""
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(reader)
        _child(-1, lambda _: _report_errors(prepare, writer))   # never returns
    os.close(writer)
    children[pid] = -1
    with os.fdopen(reader, "rb") as pipe:
        raised = pipe.read()
    _, status = os.waitpid(pid, 0)
    del children[pid]
    if raised:
        error = pickle.loads(raised)
        raise error if isinstance(error, BaseException) else RuntimeError(str(error))
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("the gateway's start-up failed")


def _report_errors(prepare: Callable[[], None], pipe: int) -> None:
    with os.fdopen(pipe, "wb") as out:
        try:
            prepare()
        except Exception as exc:   # noqa: BLE001 - handed to the parent, which raises it
            try:
                out.write(pickle.dumps(exc))
            except Exception:   # noqa: BLE001 - not picklable: its message will do
                out.write(pickle.dumps(f"{type(exc).__name__}: {exc}"))
            raise SystemExit(1) from None


def _child(index: int, work: Callable[[int], None]) -> None:
    """A worker's life: its own process group, SIGTERM when the parent dies, ``work(index)``, then exit."""
    code = 0
    try:
        os.setpgid(0, 0)
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() == 1:   # the parent died before prctl: nobody would stop this worker
            os._exit(1)
        # A signal before the server handles its own (while the stores open) is recorded: the server stops
        # as soon as it has started, and the worker goes through its clean-up (the stores close). One after
        # the server stopped changes nothing: the clean-up is under way.
        for sig in STOP_SIGNALS:
            signal.signal(sig, request_stop)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)   # blocked by the parent around the fork
        work(index)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:   # noqa: BLE001 - the worker's last words, then its exit code
        traceback.print_exc()
        code = 1
    finally:
        with contextlib.suppress(Exception):
            logging.shutdown()
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)

