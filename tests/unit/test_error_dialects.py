"""The failures of the signature checks and of S3 Select carry no code: each class is mapped by the API
that answers (s3/errors.py for S3, query/errors.py for the SQL jobs API). Every class must be mapped on
its own or through a base more specific than the root, and a failure must cross from a SQL worker
process to the server as the same class."""

from __future__ import annotations

import io
from typing import Any

import pytest

from nuage.core.select import errors as sel
from nuage.core.select import frames
from nuage.core.select.process import error_of
from nuage.core.select.worker import Out
from nuage.query import errors as q
from nuage.s3 import errors as e
from nuage.sigv4 import errors as sv


def _subclasses(root: type[Any]) -> list[type[Any]]:
    found: list[type[Any]] = []
    pending = list(root.__subclasses__())
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


AUTH = _subclasses(sv.AuthError)
SELECT = [cls for cls in _subclasses(sel.SelectError) if cls.__module__ == sel.__name__]
JOBS = [cls for cls in _subclasses(sel.SelectError) if cls.__module__ == q.__name__]


def _mapped_below_root(table: dict[Any, Any], cls: type[Any], root: type[Any]) -> bool:
    return any(k in table for k in cls.__mro__[:cls.__mro__.index(root)])


def test_the_walk_finds_the_classes() -> None:
    assert len(AUTH) >= 16 and len(SELECT) >= 30 and len(JOBS) >= 11
    assert all(name in {c.__name__ for c in AUTH} for name in sv.__all__ if name != "AuthError")


@pytest.mark.parametrize("cls", AUTH, ids=lambda c: c.__name__)
def test_every_auth_failure_maps_to_an_s3_error_and_a_json_error(cls: type[sv.AuthError]) -> None:
    assert _mapped_below_root(e.AUTH_TO_S3, cls, sv.AuthError)
    assert _mapped_below_root(q.JSON_ERRORS, cls, sv.AuthError)
    err = e.from_auth(cls("why", details={"Region": "eu-west-1"}))
    assert isinstance(err, e.S3Error) and err.message == "why" and err.fields["Region"] == "eu-west-1"


@pytest.mark.parametrize("cls", SELECT, ids=lambda c: c.__name__)
def test_every_select_failure_maps_to_an_s3_error_and_a_json_error(cls: type[sel.SelectError]) -> None:
    assert _mapped_below_root(e.SELECT_TO_S3, cls, sel.SelectError)
    assert _mapped_below_root(q.JSON_ERRORS, cls, sel.SelectError)
    err = e.from_select(cls("why"))
    assert isinstance(err, e.S3Error) and err.message == "why"


@pytest.mark.parametrize("cls", JOBS, ids=lambda c: c.__name__)
def test_every_sql_job_failure_maps_to_a_json_error(cls: type[sel.SelectError]) -> None:
    assert _mapped_below_root(q.JSON_ERRORS, cls, sel.SelectError)


# What clients have always seen for each failure of the signature (the codes and statuses the removed
# table of nuage.sigv4 held).
AUTH_ANSWERS = {
    sv.AccessRefused: ("AccessDenied", 403),
    sv.MissingRequestDate: ("AccessDenied", 403),
    sv.RequestExpired: ("AccessDenied", 403),
    sv.NotYetValid: ("AccessDenied", 403),
    sv.UnsignedHeaders: ("AccessDenied", 403),
    sv.SignatureMismatch: ("SignatureDoesNotMatch", 403),
    sv.UnknownAccessKey: ("InvalidAccessKeyId", 403),
    sv.ClockSkewed: ("RequestTimeTooSkewed", 403),
    sv.MalformedAuthorizationHeader: ("AuthorizationHeaderMalformed", 400),
    sv.MalformedPresignedQuery: ("AuthorizationQueryParametersError", 400),
    sv.BadAuthArgument: ("InvalidArgument", 400),
    sv.MissingDecodedLength: ("MissingSecurityHeader", 400),
    sv.MissingPayloadHash: ("InvalidRequest", 400),
    sv.TruncatedBody: ("IncompleteBody", 400),
    sv.MalformedChunkedBody: ("InvalidRequest", 400),
    sv.MalformedTrailer: ("MalformedTrailerError", 400),
}


def test_s3_answers_each_auth_failure_as_before() -> None:
    assert set(AUTH_ANSWERS) == set(AUTH)
    for cls, answer in AUTH_ANSWERS.items():
        err = e.from_auth(cls("m"))
        assert (err.code, err.status) == answer, cls
        assert q.json_error(cls("m"))[0] == answer[0], cls


@pytest.mark.parametrize("cls", SELECT, ids=lambda c: c.__name__)
def test_a_failure_crosses_from_a_worker_process_as_the_same_class(cls: type[sel.SelectError]) -> None:
    pipe = io.BytesIO()
    Out(pipe).error(cls("at line 3: 'é'"))
    pipe.seek(0)
    frame = frames.read_frame(pipe)
    assert frame is not None and frame[0] == frames.ERROR
    back = error_of(frame[1])
    assert type(back) is cls and back.message == "at line 3: 'é'"


def test_an_unknown_failure_name_from_a_worker_is_an_engine_failure() -> None:
    back = error_of(b'{"kind": "NoSuchKind", "message": "m"}')
    assert type(back) is sel.EngineFailure and e.from_select(back).status == 500
