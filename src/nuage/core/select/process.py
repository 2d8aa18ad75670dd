"""SQL worker processes, from the server's side: a few are started ahead of need so that a small S3
Select does not wait for a process to start. A worker that runs out of time or is cancelled is killed;
one that dies on its own went over its address space. A worker serves one SQL job; one that ended an
S3 Select normally, and holds little memory, goes back to the pool for the next one."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import pickle
import sys
from typing import Any

from nuage.core.select import frames
from nuage.core.select.errors import SelectError, TimeExceeded, kind_of
from nuage.core.select.lifeline import PARENT_ENV
from nuage.core.select.work import JobWork, SelectWork

log = logging.getLogger("nuage.select")

SPARE_WORKERS = 2
MAX_USES = 200                       # requests one worker serves before a fresh one replaces it
MAX_IDLE_RSS = 192 * 1024 * 1024     # a worker holding more memory than this after a request retires


class Worker:
    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.uses = 0

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None

    async def start(self, work: JobWork | SelectWork) -> None:
        assert self.proc.stdin is not None
        self.uses += 1
        self.proc.stdin.write(frames.encode(frames.REQUEST, pickle.dumps(work)))
        await self.proc.stdin.drain()

    async def recv(self) -> tuple[bytes, bytes] | None:
        """The next frame from the worker; None when it has ended (done, killed or dead)."""
        assert self.proc.stdout is not None
        try:
            head = await self.proc.stdout.readexactly(frames.HEADER.size)
            kind, length = frames.HEADER.unpack(head)
            return kind, await self.proc.stdout.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError):
            return None

    def resident_bytes(self) -> int | None:
        try:
            with open(f"/proc/{self.proc.pid}/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, IndexError):
            return None

    def kill(self) -> None:
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()

    async def close(self) -> None:
        """Kill the worker if it still runs and collect its exit."""
        killed = self.alive
        self.kill()
        code = await self.proc.wait()
        if code != 0 and not killed:
            log.info("SQL worker %s ended with status %s", self.proc.pid, code)


async def _spawn() -> Worker:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "nuage.core.select.lifeline",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        env={**os.environ, PARENT_ENV: str(os.getpid())})   # it dies with this process (see lifeline)
    return Worker(proc)


class WorkerPool:
    """Workers started ahead of need, in the running event loop."""

    def __init__(self, spare: int = SPARE_WORKERS) -> None:
        self.spare = spare
        self._idle: list[Worker] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._filling: asyncio.Task[None] | None = None

    async def take(self) -> Worker:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:        # processes belong to the loop that started them
            self._idle, self._loop = [], loop
        worker: Worker | None = None
        while self._idle and worker is None:
            candidate = self._idle.pop()
            if candidate.alive:
                worker = candidate
        if worker is None:
            worker = await _spawn()
        if len(self._idle) < self.spare and (self._filling is None or self._filling.done()):
            self._filling = loop.create_task(self._fill())
        return worker

    async def release(self, worker: Worker) -> None:
        """Take back a worker that ended its request normally, or end it."""
        rss = worker.resident_bytes()
        if (worker.alive and self._loop is asyncio.get_running_loop() and worker.uses < MAX_USES
                and rss is not None and rss <= MAX_IDLE_RSS and len(self._idle) < 2 * self.spare):
            self._idle.append(worker)
            return
        await worker.close()

    async def _fill(self) -> None:
        try:
            while len(self._idle) < self.spare:
                self._idle.append(await _spawn())
        except OSError:
            log.exception("could not start a SQL worker process")


POOL = WorkerPool()


def error_of(payload: bytes) -> SelectError:
    value = json.loads(payload)
    return kind_of(str(value["kind"]), str(value["message"]))


def timed_out(seconds: float) -> SelectError:
    return TimeExceeded(f"The query was stopped: time limit of {seconds:g} s exceeded.")


def json_of(payload: bytes) -> Any:
    return json.loads(payload)
