"""The region registry file: what it accepts and the mistakes it names."""

from __future__ import annotations

import json

import pytest

from nuage.replication.registry import RegistryError, parse_registry


def _doc(*regions: dict[str, object]) -> str:
    return json.dumps({"regions": list(regions)})


def _region(name: str, port: int, key: str, accept: list[str] | None = None) -> dict[str, object]:
    return {"name": name, "endpoint": f"http://127.0.0.1:{port}/", "access_key": key, "secret_key": "s-" + key,
            "accept_from": accept or []}


def test_two_regions_and_their_allow_lists() -> None:
    text = _doc(_region("cn-hangzhou", 9000, "HZ"), _region("us-west-1", 9001, "US", ["cn-hangzhou"]))
    west = parse_registry(text, "us-west-1")
    assert west.own.endpoint == "http://127.0.0.1:9001"
    assert [p.name for p in west.peers] == ["cn-hangzhou"]
    assert west.secret("HZ") == "s-HZ"
    assert west.secret("nope") is None
    assert west.accepts("cn-hangzhou") and west.accepts("us-west-1")
    hz = parse_registry(text, "cn-hangzhou")
    assert not hz.accepts("us-west-1")       # an empty allow list accepts no other region


@pytest.mark.parametrize(("text", "message"), [
    ("{", "not valid JSON"),
    ('{"regions": {}}', '"regions" list'),
    (_doc({"name": "a", "endpoint": "http://x"}), "lacks access_key"),
    (_doc(_region("a", 1, "K"), _region("a", 2, "L")), "listed twice"),
    (_doc(_region("a", 1, "K"), _region("b", 2, "K")), "share a replication access key"),
    (_doc({**_region("a", 1, "K"), "endpoint": "ftp://x"}), "http:// or https://"),
    (_doc({**_region("a", 1, "K"), "accept_from": "b"}), "list of region names"),
    (_doc(_region("b", 1, "K")), "this region (a) is not in"),
])
def test_mistakes_are_named(text: str, message: str) -> None:
    with pytest.raises(RegistryError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_registry(text, "a")
