"""Shared data of the SigV4/SigV2 unit tests: the AWS documentation's example key pair and the object
keys whose encodings signers disagree on most easily."""

from __future__ import annotations

AK = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
ENDPOINT = "http://127.0.0.1:9000"

#: keys every signer test covers
TRICKY_KEYS = [
    "simple.txt", "a b", "a+b", "100%", "ü/ñ/日本語.txt", "~tilde~", "x=y&z=w", "dir//sub/", "trailing/",
    "/leading", "q?x#y", "emoji 😀",
]
#: more that the canonical-request tests add
CANONICAL_EXTRA_KEYS = ["100%25", "semi;colon,comma", "!*'()$@:", '[]{}|^`"<>\\', "tab\there"]


def lookup(access_key: str) -> str | None:
    return {AK: SECRET}.get(access_key)
