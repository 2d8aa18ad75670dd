"""Invoice numbers in the SQLite store (storage/meta/invoices.py): a gap-free sequence per year of issue,
whatever the prefix; the second issue of a tenant's month returns the first row, its document untouched."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nuage.storage.meta.sqlite.store import SQLiteMetadataStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteMetadataStore]:
    meta = SQLiteMetadataStore(tmp_path / "meta.sqlite3", fsync=False)
    yield meta
    meta.close()


def test_numbers_per_year_of_issue_and_issued_once(store: SQLiteMetadataStore) -> None:
    invoices = store.invoices

    def issue(account: str, month: str, prefix: str, year: int) -> tuple[str, str, bool]:
        rec, created = invoices.issue(account, month, prefix, year, 1.0, lambda number: f'{{"n": "{number}"}}')
        return rec.number, rec.document, created

    assert issue("111", "2026-10", "NUA", 2026) == ("NUA-2026-000001", '{"n": "NUA-2026-000001"}', True)
    assert issue("222", "2026-10", "NUA", 2026) == ("NUA-2026-000002", '{"n": "NUA-2026-000002"}', True)
    # the same tenant and month: the first invoice, whatever is asked now
    assert issue("111", "2026-10", "NEW", 2027) == ("NUA-2026-000001", '{"n": "NUA-2026-000001"}', False)
    # another prefix goes on with the year's sequence; a new year starts at 1
    assert issue("111", "2026-11", "ACME", 2026)[0] == "ACME-2026-000003"
    assert issue("111", "2026-12", "NUA", 2027)[0] == "NUA-2027-000001"
    assert [r.month for r in invoices.list("111")] == ["2026-12", "2026-11", "2026-10"]
    assert invoices.get("222", "2026-10") is not None and invoices.get("222", "2026-11") is None
