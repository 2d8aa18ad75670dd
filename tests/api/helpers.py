"""Small assertions shared by the API tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError


def client_error(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> ClientError:
    with pytest.raises(ClientError) as info:
        fn(*args, **kwargs)
    return info.value


def assert_error(fn: Callable[..., Any], code: str, status: int, **kwargs: Any) -> ClientError:
    err = client_error(fn, **kwargs)
    meta = err.response["ResponseMetadata"]
    assert (err.response["Error"]["Code"], meta["HTTPStatusCode"]) == (code, status), err.response
    return err
