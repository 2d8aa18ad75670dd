"""Ids for blobs and versions: 32 hex digits, unique, spread over the fan-out directories."""

from __future__ import annotations

import os
import subprocess
import sys

from nuage.ids import new_id


def test_ids_are_unique_hex_and_spread() -> None:
    ids = [new_id() for _ in range(200_000)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids[:1000])
    assert len({i[:2] for i in ids}) == 256          # first fan-out level fully used


def test_ids_differ_between_processes_and_after_fork() -> None:
    code = "from nuage.ids import new_id; print(new_id())"
    others = {subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
              for _ in range(3)}
    assert len(others) == 3
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.write(write, new_id().encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    assert child[16:] != new_id()[16:]
