"""The S3 error classes: each is a class statement of nuage/s3/errors.py whose name is its code, with an HTTP
status and a message, reachable by its code as a module attribute and through BY_CODE."""

from __future__ import annotations

import ast
import inspect

import pytest

from nuage.s3 import errors as e


def _defined() -> list[type[e.S3Error]]:
    """Every S3Error subclass that the module defines, in the order it defines them."""
    return [cls for cls in e.S3Error.__subclasses__() if cls.__module__ == e.__name__]


def _class_statements() -> list[ast.ClassDef]:
    """The top-level `class X(S3Error):` statements of the module's source."""
    tree = ast.parse(inspect.getsource(e))
    return [node for node in tree.body if isinstance(node, ast.ClassDef)
            and any(isinstance(base, ast.Name) and base.id == "S3Error" for base in node.bases)]


def test_the_module_defines_the_s3_errors() -> None:
    assert len(_defined()) > 100


def test_every_error_is_a_class_statement_with_its_status_and_message() -> None:
    # Written out, not made by a factory: grep, IDEs and mypy see every code, status and message.
    statements = _class_statements()
    names = [node.name for node in statements]
    assert len(names) == len(set(names)), "two class statements share a name"
    assert names == [cls.__name__ for cls in _defined()]
    for node in statements:
        assigned = {target.id for stmt in node.body if isinstance(stmt, ast.Assign)
                    for target in stmt.targets if isinstance(target, ast.Name)}
        assert {"status", "default_message"} <= assigned, node.name


@pytest.mark.parametrize("cls", _defined(), ids=lambda cls: cls.__name__)
def test_error_class(cls: type[e.S3Error]) -> None:
    assert 300 <= cls.status <= 599
    assert cls.default_message.strip()
    err = cls()
    assert err.code == cls.__name__
    assert err.message == cls.default_message
    assert getattr(e, err.code) is cls
    assert e.BY_CODE[err.code] is cls


def test_no_two_errors_share_a_code() -> None:
    codes = [cls.__name__ for cls in _defined()]
    assert len(codes) == len(set(codes))


def test_by_code_holds_every_error_in_order_of_definition() -> None:
    assert list(e.BY_CODE.values()) == _defined()
    assert all(code == cls.__name__ for code, cls in e.BY_CODE.items())


def test_tables_point_at_the_module_errors() -> None:
    defined = set(_defined())
    assert set(e.DOMAIN_TO_S3.values()) <= defined
    assert set(e.CONFIG_MISSING.values()) <= defined
    assert set(e.AUTH_TO_S3.values()) | set(e.SELECT_TO_S3.values()) <= defined


@pytest.mark.parametrize(("code", "status"), [
    ("PermanentRedirect", 301),
    ("BadDigest", 400),
    ("EntityTooLarge", 400),
    ("AccessDenied", 403),
    ("SignatureDoesNotMatch", 403),
    ("RequestTimeTooSkewed", 403),
    ("InvalidObjectState", 403),
    ("NoSuchBucket", 404),
    ("NoSuchKey", 404),
    ("MethodNotAllowed", 405),
    ("BucketNotEmpty", 409),
    ("MissingContentLength", 411),
    ("PreconditionFailed", 412),
    ("InvalidRange", 416),
    ("InternalError", 500),
    ("NotImplemented", 501),
    ("ServiceUnavailable", 503),
    ("InsufficientStorage", 507),    # MinIO's code for a full disk (S3 has none)
])
def test_well_known_codes_have_the_aws_status(code: str, status: int) -> None:
    assert e.BY_CODE[code].status == status


def test_select_error_finds_a_select_code_and_falls_back_to_internal_error() -> None:
    err = e.select_error("CastFailed", "bad cast")
    assert (type(err), err.status, err.message) == (e.CastFailed, 400, "bad cast")
    assert type(e.select_error("NoSuchSelectCode", "x")) is e.InternalError
