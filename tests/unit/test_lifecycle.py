"""Lifecycle rule logic: filters, expiry times, validation and the stored JSON form."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from nuage.core import lifecycle as lc
from nuage.errors import InvalidArgument, InvalidRequest, MalformedXML
from nuage.storage.meta.records import ObjectRecord


def _ts(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _rec(key: str = "logs/a", size: int = 10, tags: dict[str, str] | None = None,
         modified: str = "2024-03-01T10:30:00") -> ObjectRecord:
    return ObjectRecord(bucket="b", key=key, version_id="v", size=size, etag="e", last_modified=_ts(modified),
                        owner="o", tags=tags or {})


def test_after_days_rounds_up_to_midnight_utc() -> None:
    start = _ts("2024-03-01T10:30:00")
    assert lc.after_days(start, 1, lc.DAY) == _ts("2024-03-03T00:00:00")
    assert lc.after_days(_ts("2024-03-01T00:00:00"), 1, lc.DAY) == _ts("2024-03-02T00:00:00")
    assert lc.after_days(start, 3, 10.0) == start + 30


def test_filter_matching() -> None:
    f = lc.Filter(form="and", prefix="logs/", tags=[("a", "1")], size_gt=5, size_lt=100)
    assert f.matches("logs/x", {"a": "1", "b": "2"}, 10)
    assert not f.matches("other/x", {"a": "1"}, 10)
    assert not f.matches("logs/x", {"a": "2"}, 10)
    assert not f.matches("logs/x", {"a": "1"}, 5)
    assert not f.matches("logs/x", {"a": "1"}, 100)
    assert lc.Filter(form="none").matches("anything", None, None)


def test_expiration_of_picks_the_earliest_enabled_rule() -> None:
    rules = [
        lc.Rule(id="late", status="Enabled", filter=lc.Filter(prefix="logs/"), expiration_days=30),
        lc.Rule(id="early", status="Enabled", filter=lc.Filter(prefix="logs/"), expiration_days=2),
        lc.Rule(id="off", status="Disabled", filter=lc.Filter(), expiration_days=1),
        lc.Rule(id="other", status="Enabled", filter=lc.Filter(prefix="x/"), expiration_days=1),
    ]
    assert lc.expiration_of(rules, _rec(), lc.DAY) == (_ts("2024-03-04T00:00:00"), "early")
    dated = [lc.Rule(id="d", status="Enabled", filter=lc.Filter(), expiration_date="2030-01-01T00:00:00.000Z")]
    assert lc.expiration_of(dated, _rec(), lc.DAY) == (_ts("2030-01-01T00:00:00"), "d")
    assert lc.expiration_of(rules[2:], _rec(), lc.DAY) is None


@pytest.mark.parametrize(("text", "ok"), [
    ("2030-01-01", True), ("2030-01-01T00:00:00Z", True), ("2030-01-01T00:00:00.000Z", True),
    ("2030-01-01T01:00:00+01:00", True), ("2030-01-01T10:00:00Z", False), ("1970-08-22T19:28:21Z", False),
    ("not a date", False),
])
def test_parse_date(text: str, ok: bool) -> None:
    if ok:
        assert lc.parse_date(text) == "2030-01-01T00:00:00.000Z"
    else:
        with pytest.raises(InvalidArgument):
            lc.parse_date(text)


def _rule(**kw: object) -> lc.Rule:
    return lc.Rule(id=str(kw.pop("id", "r")), status=str(kw.pop("status", "Enabled")),
                   filter=kw.pop("filter", lc.Filter()), **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(("rules", "error"), [
    ([], MalformedXML),
    ([_rule(id="x" * 256, expiration_days=1)], InvalidArgument),
    ([_rule(expiration_days=1), _rule(expiration_days=2)], InvalidArgument),
    ([_rule(status="enabled", expiration_days=1)], MalformedXML),
    ([_rule()], InvalidRequest),
    ([_rule(expiration_days=0)], InvalidArgument),
    ([_rule(expiration_days=1, expired_object_delete_marker=True)], MalformedXML),
    ([_rule(noncurrent_days=0)], InvalidArgument),
    ([_rule(noncurrent_days=1, newer_noncurrent_versions=101)], InvalidArgument),
    ([_rule(abort_days=1, filter=lc.Filter(form="tag", tags=[("a", "b")]))], InvalidRequest),
    ([_rule(transitions=[lc.Transition(days=1, storage_class="ONEZONE_IA")])], InvalidArgument),
    ([_rule(transitions=[lc.Transition(days=1, storage_class="FAST")])], MalformedXML),
    ([_rule(transitions=[lc.Transition(days=1, storage_class="GLACIER"),
                         lc.Transition(date="2030-01-01T00:00:00.000Z", storage_class="DEEP_ARCHIVE")])],
     InvalidRequest),
])
def test_validation_errors(rules: list[lc.Rule], error: type[Exception]) -> None:
    with pytest.raises(error):
        lc.validate(rules)


def test_validate_names_unnamed_rules_and_json_round_trip() -> None:
    rules = lc.validate([
        _rule(id="", filter=lc.Filter(form="and", prefix="p", tags=[("a", "1")], size_gt=3),
              expiration_days=3, transitions=[lc.Transition(days=1, storage_class="GLACIER")]),
        _rule(id="two", noncurrent_days=4, newer_noncurrent_versions=2, abort_days=1,
              noncurrent_transitions=[lc.NoncurrentTransition(days=2, storage_class="GLACIER")]),
    ])
    assert rules[0].id
    assert lc.loads(lc.dumps(rules)) == rules
