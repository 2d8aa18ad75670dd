"""The worker processes of one gateway (``nuage serve --workers N``, one port) answer a scrape for the
whole gateway, with prometheus-client's multiprocess mode: each worker writes its own counts to files of
its own in a folder the gateway shares (``DATA/metrics/HOST-PORT/``, emptied when the gateway starts),
and the worker that a scrape lands on adds up every worker's files
(:class:`prometheus_client.multiprocess.MultiProcessCollector`). So the totals are the gateway's whatever
worker answers; no ``worker`` label splits them.

A worker writes its files once a second (:data:`PUBLISH_SECONDS`) and right before it answers a scrape:
an answer holds its own counts to the request and the others' to within a second. The files hold the
numbers the worker keeps anyway (:mod:`nuage.metrics.requests`), written at once: nothing more happens
per request. Counters and histograms of a worker that ended stay counted (totals never go back while the
gateway runs); gauges (``livesum``) count only the workers alive."""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import socket
from collections.abc import Iterable, Iterator
from pathlib import Path

from prometheus_client.metrics_core import Metric
from prometheus_client.mmap_dict import MmapedDict, mmap_key
from prometheus_client.multiprocess import MultiProcessCollector, mark_process_dead
from prometheus_client.registry import Collector

__all__ = ["PUBLISH_SECONDS", "SharedCollector", "shared_dir"]

PUBLISH_SECONDS = 1.0
_FILES = {"counter": "counter", "histogram": "histogram", "gauge": "gauge_livesum"}


def shared_dir(data_dir: Path, port: int, *, clean: bool = False) -> Path:
    """The folder of one gateway's metric files: under the data folder, by host name and port (gateways
    on other machines may share the data folder); ``clean``: emptied (the gateway starts)."""
    path = data_dir / "metrics" / f"{socket.gethostname()}-{port}"
    if clean:
        shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class SharedCollector(Collector):
    """Every worker's metrics: this process's (from ``local``, written to its files first) and the other
    workers' files, added up."""

    def __init__(self, local: Collector, path: Path, pid: int | None = None) -> None:
        self.local = local
        self.path = path
        self.pid = pid or os.getpid()
        self._files: dict[str, MmapedDict] = {}

    def publish(self) -> None:
        """Write this process's current counts to its files."""
        for family in self.local.collect():
            kind = _FILES.get(family.type)
            if kind is None:
                continue
            out = self._files.get(kind)
            if out is None:
                out = self._files[kind] = MmapedDict(  # type: ignore[no-untyped-call]
                    str(self.path / f"{kind}_{self.pid}.db"))
            for name, labels, value in _file_samples(family):
                out.write_value(mmap_key(family.name, name, list(labels), list(labels.values()),  # type: ignore[no-untyped-call]
                                         family.documentation), value, 0.0)

    def collect(self) -> Iterable[Metric]:
        self.publish()
        files = []
        for path in glob.glob(os.path.join(self.path, "*.db")):
            kind, _, rest = os.path.basename(path).rpartition("_")
            if kind.startswith("gauge_live") and not _alive(int(rest[:-3])):
                continue   # a worker that ended without removing its gauges (killed)
            files.append(path)
        merged: Iterable[Metric] = MultiProcessCollector.merge(files, accumulate=True)  # type: ignore[no-untyped-call]
        return merged

    async def run_forever(self) -> None:
        """Publish once a second until cancelled; then take this process's gauges out of the sum."""
        try:
            while True:
                self.publish()
                await asyncio.sleep(PUBLISH_SECONDS)
        finally:
            self.close()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.publish()   # the last counts (the counters of a worker that ended stay counted)
        for out in self._files.values():
            out.close()  # type: ignore[no-untyped-call]
        self._files.clear()
        mark_process_dead(self.pid, str(self.path))  # type: ignore[no-untyped-call]


def _file_samples(family: Metric) -> Iterator[tuple[str, dict[str, str], float]]:
    """The samples of ``family`` as multiprocess files hold them: histogram buckets each on its own (not
    cumulative) and no ``_count`` (the merge makes both again), no ``_created``."""
    previous: dict[tuple[tuple[str, str], ...], float] = {}
    for sample in family.samples:
        name, labels, value = sample.name, sample.labels, sample.value
        if name.endswith("_created") or (family.type == "histogram" and name.endswith("_count")):
            continue
        if family.type == "histogram" and name.endswith("_bucket"):
            series = tuple((k, v) for k, v in labels.items() if k != "le")
            below = previous.get(series, 0.0)
            previous[series] = value
            value -= below
        yield name, labels, value
