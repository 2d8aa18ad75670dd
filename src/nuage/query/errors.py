"""The SQL jobs API's failures and its one table from failure classes to JSON error codes and statuses.

The engine's failures (``nuage.core.select.errors``) and the signature checks' (``nuage.sigv4.errors``)
carry no code; the failures only a SQL job has (what it may read, its result) are defined here."""

from __future__ import annotations

from nuage.core.select import errors as sel
from nuage.sigv4 import errors as sv


class NoDataNamed(sel.SelectError):
    """The query reads no s3:// reference."""


class ScanLimitExceeded(sel.SelectError):
    """The objects a query reads are larger in all than allowed."""


class TooManyObjects(sel.SelectError):
    """A wildcard matches more objects than a query may read."""


class NotASelect(sel.SelectError):
    """A statement other than one SELECT."""


class ObjectRefused(sel.SelectError):
    """The caller may not list, read or write an object the job names."""


class QuotaUsedUp(sel.SelectError):
    """No room is left in the account's quota to keep a result."""


class BucketMissing(sel.SelectError):
    """A reference names a bucket that does not exist."""


class KeyMissing(sel.SelectError):
    """A reference names no existing object."""


class JobMissing(sel.SelectError):
    """No job of that id is visible to the caller."""


class JobNotFinished(sel.SelectError):
    """The job has no result yet."""


class NoResult(sel.SelectError):
    """The job ended without a result kept with it."""


#: (code, status) of each failure; a class absent here answers as its nearest base does.
JSON_ERRORS: dict[type[Exception], tuple[str, int]] = {
    # the engine
    sel.SelectError: ("InternalError", 500),
    sel.UnsupportedSyntax: ("UnsupportedSyntax", 400),
    sel.InvalidCharacter: ("LexerInvalidChar", 400),
    sel.ExpressionTooLong: ("ExpressionTooLong", 400),
    sel.TooManyOperators: ("MaxOperatorsExceeded", 400),
    sel.UnsupportedStructure: ("UnsupportedSqlStructure", 400),
    sel.UnknownColumn: ("EvaluatorBindingDoesNotExist", 400),
    sel.UnsupportedFunction: ("UnsupportedFunction", 400),
    sel.WrongArguments: ("IncorrectSqlFunctionArgumentType", 400),
    sel.IllegalArgument: ("IllegalSqlFunctionArgument", 400),
    sel.UnknownDatePart: ("ParseExpectedDatePart", 400),
    sel.BadTimestampPattern: ("EvaluatorInvalidTimestampFormatPattern", 400),
    sel.BadLikeEscape: ("LikeInvalidInputs", 400),
    sel.UnsupportedCastType: ("InvalidCast", 400),
    sel.BadScanRange: ("InvalidScanRange", 400),
    sel.ScanRangeNotApplicable: ("UnsupportedScanRangeInput", 400),
    sel.BadRequestParameter: ("InvalidRequestParameter", 400),
    sel.UnknownPath: ("InvalidKeyPath", 400),
    sel.BadCompression: ("InvalidCompressionFormat", 400),
    sel.BadCSV: ("CSVParsingError", 400),
    sel.BadJSON: ("JSONParsingError", 400),
    sel.UnreadableInput: ("InvalidDataSource", 400),
    sel.CastFailed: ("CastFailed", 400),
    sel.ValueOutOfRange: ("IntegerOverflow", 400),
    sel.QueryFailed: ("InvalidQuery", 400),
    sel.ReadRefused: ("AccessDenied", 403),
    sel.MemoryExceeded: ("OverMaxMemory", 400),
    sel.TimeExceeded: ("QueryTimeout", 400),
    sel.Cancelled: ("QueryCancelled", 400),
    sel.ResultTooLarge: ("ResultTooLarge", 400),
    sel.EngineFailure: ("InternalError", 500),
    # SQL jobs
    NoDataNamed: ("InvalidQuery", 400),
    ScanLimitExceeded: ("BytesScannedLimitExceeded", 400),
    TooManyObjects: ("TooManyObjects", 400),
    NotASelect: ("UnsupportedSqlOperation", 400),
    ObjectRefused: ("AccessDenied", 403),
    QuotaUsedUp: ("QuotaExceeded", 403),
    BucketMissing: ("NoSuchBucket", 404),
    KeyMissing: ("NoSuchKey", 404),
    JobMissing: ("NoSuchJob", 404),
    JobNotFinished: ("JobNotFinished", 409),
    NoResult: ("NoResult", 409),
    # the signature of the call: always 403, as the API has answered from the start
    sv.AuthError: ("AccessDenied", 403),
    sv.AccessRefused: ("AccessDenied", 403),
    sv.SignatureMismatch: ("SignatureDoesNotMatch", 403),
    sv.UnknownAccessKey: ("InvalidAccessKeyId", 403),
    sv.ClockSkewed: ("RequestTimeTooSkewed", 403),
    sv.MalformedAuthorizationHeader: ("AuthorizationHeaderMalformed", 403),
    sv.MalformedPresignedQuery: ("AuthorizationQueryParametersError", 403),
    sv.BadAuthArgument: ("InvalidArgument", 403),
    sv.MissingDecodedLength: ("MissingSecurityHeader", 403),
    sv.MissingPayloadHash: ("InvalidRequest", 403),
    sv.TruncatedBody: ("IncompleteBody", 403),
    sv.MalformedChunkedBody: ("InvalidRequest", 403),
    sv.MalformedTrailer: ("MalformedTrailerError", 403),
}


def json_error(exc: sel.SelectError | sv.AuthError) -> tuple[str, int]:
    """(code, status) of a failure: its own class's entry, else its nearest base's."""
    return next(JSON_ERRORS[k] for k in type(exc).__mro__ if k in JSON_ERRORS)
