"""Blob files removed a while after their last reference went, for blob folders that several processes
read (the workers of ``nuage serve --workers N``, gateways on one shared folder).

A read looks a version up, then opens its files. Within one process the blob store holds the files of
reads in progress (``LocalBlobStore.hold``); another process cannot see those holds, so removing a file as
soon as the version that named it is replaced could pull it away between a reader's lookup and its
``open``. Removing it ``grace`` seconds later instead leaves every read that had looked it up time to open
it (an open file stays readable after its name goes). What is still waiting when the process stops stays
on disk, and the sweeper removes it as an orphan.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

SHARED_DELETE_GRACE = 60.0


class DeferredUnlinks:
    """Unlinks the files of blob ids ``grace`` seconds after :meth:`add`, on a thread of its own."""

    def __init__(self, path_of: Callable[[str], Path], grace: float) -> None:
        self._path_of = path_of
        self.grace = grace
        self._due: deque[tuple[float, str]] = deque()
        self._cond = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def add(self, blob_id: str) -> None:
        with self._cond:
            if self._stopped:
                return   # left for the sweeper
            self._due.append((time.monotonic() + self.grace, blob_id))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="nuage-blob-unlink", daemon=True)
                self._thread.start()
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._due or self._due[0][0] > time.monotonic()):
                    wait = self._due[0][0] - time.monotonic() if self._due else None
                    self._cond.wait(wait)
                if self._stopped:
                    return
                _, blob_id = self._due.popleft()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._path_of(blob_id))
