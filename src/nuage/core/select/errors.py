"""The one error type of S3 Select and SQL jobs: an S3 Select error code and a message."""

from __future__ import annotations


class SelectError(Exception):
    """``code`` is an S3 Select error code (UnsupportedSyntax, CastFailed, ...); the S3 layer turns it
    into an error response or an error event, the query API into a JSON error."""

    def __init__(self, code: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
