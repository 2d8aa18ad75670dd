"""Both backends have the same numbered migrations."""

from __future__ import annotations

from nuage.storage.meta.postgres.db import migration_files, sqlite_numbers


def test_same_numbers_on_both_backends() -> None:
    numbers = [number for number, _, _ in migration_files()]
    assert numbers == sqlite_numbers()
    assert numbers == list(range(1, len(numbers) + 1))
