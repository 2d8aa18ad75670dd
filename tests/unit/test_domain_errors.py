"""Domain errors carry no S3 codes: each refinement of a domain error is a class of its own, and
nuage.s3.errors.from_domain picks the S3 error by the exception's type, the most specific class first."""

from __future__ import annotations

from pathlib import Path

import pytest

from nuage import errors as d
from nuage.s3 import errors as e

# Each refined domain error, with the S3 code and status clients received before it had a class of its own.
CASES: list[tuple[d.NuageError, str, int]] = [
    (d.InvalidBucketState("Versioning must be 'Enabled' on the bucket"), "InvalidBucketState", 409),
    (d.InvalidRetentionPeriod("Default retention period is too large."), "InvalidRetentionPeriod", 400),
    (d.InvalidLocation("The specified location-constraint is not valid for this region (r).",
                       argument="LocationConstraint"), "InvalidLocationConstraint", 400),
    (d.InvalidVersioningStatus("The versioning status is not valid"), "MalformedXML", 400),
    (d.MalformedDocument("You must specify at least one part"), "MalformedXML", 400),
    (d.InvalidReplicationRule("Rule Id must be unique."), "InvalidArgument", 400),
    (d.ReplicaBodyIncomplete("The replica's body does not have the size its record announces."),
     "IncompleteBody", 400),
    (d.ContentDigestMismatch("The CRC32 you specified for the object did not match the calculated checksum."),
     "BadDigest", 400),
]


@pytest.mark.parametrize(("exc", "code", "status"), CASES, ids=[type(c[0]).__name__ for c in CASES])
def test_refined_domain_error_maps_to_its_s3_error(exc: d.NuageError, code: str, status: int) -> None:
    err = e.from_domain(exc)
    assert (err.code, err.status) == (code, status)
    assert err.message == exc.message


@pytest.mark.parametrize(("exc", "base"), [
    (d.InvalidBucketState("x"), d.InvalidRequest),
    (d.InvalidRetentionPeriod("x"), d.InvalidArgument),
    (d.InvalidLocation("x"), d.InvalidArgument),
    (d.InvalidVersioningStatus("x"), d.InvalidArgument),
    (d.MalformedDocument("x"), d.InvalidRequest),
    (d.InvalidReplicationRule("x"), d.InvalidRequest),
    (d.ReplicaBodyIncomplete("x"), d.InvalidRequest),
    (d.ContentDigestMismatch("x"), d.InvalidRequest),
])
def test_refinement_is_still_its_base(exc: d.NuageError, base: type[d.NuageError]) -> None:
    # Callers that catch the base (the admin API catches InvalidArgument) keep catching the refinement.
    assert isinstance(exc, base)


def test_bases_keep_their_own_s3_error() -> None:
    assert e.from_domain(d.InvalidArgument("bad")).code == "InvalidArgument"
    assert e.from_domain(d.InvalidRequest("bad")).code == "InvalidRequest"


def test_argument_field_survives() -> None:
    err = e.from_domain(d.InvalidLocation("bad", argument="LocationConstraint"))
    assert err.fields["ArgumentName"] == "LocationConstraint"


def test_code_hint_is_gone() -> None:
    assert not hasattr(d.NuageError("x"), "code_hint")
    assert "code_hint" not in d.NuageError("x").details
    src = Path(d.__file__).parent
    users = [str(p.relative_to(src)) for p in src.rglob("*.py") if "code_hint" in p.read_text()]
    assert users == []
