"""S3 errors: one class per S3 error code, the table from domain errors to them, and the only
renderer of S3 error XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any, ClassVar

from nuage import errors as d
from nuage.core import bucket_config as bc
from nuage.core.cors import CORS
from nuage.core.lifecycle import LIFECYCLE
from nuage.core.lock_rules import OBJECT_LOCK
from nuage.core.replication import REPLICATION
from nuage.core.select import errors as sel
from nuage.sigv4 import errors as sv
from nuage.xml import render, sub


class S3Error(Exception):
    status: ClassVar[int] = 400
    default_message: ClassVar[str] = ""

    def __init__(self, message: str | None = None, *, headers: dict[str, str] | None = None,
                 **fields: str) -> None:
        self.message = message or self.default_message or type(self).__name__
        self.fields = fields
        self.headers = headers or {}
        super().__init__(self.message)

    @property
    def code(self) -> str:
        return type(self).__name__

    def to_xml(self, resource: str, request_id: str) -> bytes:
        el = ET.Element("Error")
        sub(el, "Code", self.code)
        sub(el, "Message", self.message)
        for name, value in self.fields.items():
            sub(el, name, value)
        sub(el, "Resource", resource)
        sub(el, "RequestId", request_id)
        sub(el, "HostId", request_id)
        return render(el)


# 301
class PermanentRedirect(S3Error):
    status = 301
    default_message = ("The bucket you are attempting to access must be addressed using the specified endpoint. "
                       "Please send all future requests to this endpoint.")


# 400
class BadDigest(S3Error):
    status = 400
    default_message = "The Content-MD5 you specified did not match what we received."


class BadRequest(S3Error):
    status = 400
    default_message = "Bad Request"


class EntityTooSmall(S3Error):
    status = 400
    default_message = "Your proposed upload is smaller than the minimum allowed object size."


class EntityTooLarge(S3Error):
    status = 400
    default_message = "Your proposed upload exceeds the maximum allowed object size."


class IncompleteBody(S3Error):
    status = 400
    default_message = "You did not provide the number of bytes specified by the Content-Length HTTP header"


class InvalidArgument(S3Error):
    status = 400
    default_message = "Invalid Argument"


class InvalidBucketName(S3Error):
    status = 400
    default_message = "The specified bucket is not valid."


class InvalidDigest(S3Error):
    status = 400
    default_message = "The Content-MD5 you specified is not valid."


class IllegalLocationConstraintException(S3Error):
    status = 400
    default_message = ("The location constraint is incompatible for the region specific endpoint this request was "
                       "sent to.")


class InvalidLocationConstraint(S3Error):
    status = 400
    default_message = "The specified location-constraint is not valid"


class InvalidPart(S3Error):
    status = 400
    default_message = d.InvalidPart.default_message


class InvalidPartOrder(S3Error):
    status = 400
    default_message = d.InvalidPartOrder.default_message


class InvalidRequest(S3Error):
    status = 400
    default_message = "Invalid Request"


class InvalidURI(S3Error):  # e.g. a path that is not UTF-8
    status = 400
    default_message = "Couldn't parse the specified URI."


class InvalidRetentionPeriod(S3Error):
    status = 400
    default_message = "Default retention period must be a positive integer value."


class InvalidStorageClass(S3Error):
    status = 400
    default_message = "The storage class you specified is not valid"


class InvalidTag(S3Error):
    status = 400
    default_message = "The TagKey you have provided is invalid"


class KeyTooLongError(S3Error):
    status = 400
    default_message = "Your key is too long"


class MalformedXML(S3Error):
    status = 400
    default_message = d.MalformedXML.default_message


class MalformedPolicy(S3Error):
    status = 400
    default_message = "Policies must be valid JSON and the first byte must be '{'"


class MalformedPOSTRequest(S3Error):
    status = 400
    default_message = "The body of your POST request is not well-formed multipart/form-data."


class InvalidPolicyDocument(S3Error):
    status = 400
    default_message = "The content of the form does not meet the conditions specified in the policy document."


class MaxPostPreDataLengthExceededError(S3Error):
    status = 400
    default_message = "Your POST request fields preceding the upload file were too large."


class IncorrectNumberOfFilesInPostRequest(S3Error):
    status = 400
    default_message = "POST requires exactly one file upload per request."


class MalformedACLError(S3Error):
    status = 400
    default_message = "The XML you provided was not well-formed or did not validate against our published schema"


class AccessControlListNotSupported(S3Error):
    status = 400
    default_message = "The bucket does not allow ACLs"


class UnresolvableGrantByEmailAddress(S3Error):
    status = 400
    default_message = "The e-mail address you provided does not match any account on record."


class InvalidBucketAclWithObjectOwnership(S3Error):
    status = 400
    default_message = "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting"


class MetadataTooLarge(S3Error):
    status = 400
    default_message = "Your metadata headers exceed the maximum allowed metadata size."


class MissingContentLength(S3Error):
    status = 411
    default_message = "You must provide the Content-Length HTTP header."


class RequestTimeTooSkewed(S3Error):
    status = 403
    default_message = "The difference between the request time and the current time is too large."


class TooManyParts(S3Error):
    status = 400
    default_message = "You have attempted to upload more than 10000 parts"


class UnexpectedContent(S3Error):
    status = 400
    default_message = "This request does not support content"


class XAmzContentSHA256Mismatch(S3Error):
    status = 400
    default_message = d.ContentSHA256Mismatch.default_message


class AuthorizationHeaderMalformed(S3Error):
    status = 400
    default_message = "The authorization header is malformed"


class AuthorizationQueryParametersError(S3Error):
    status = 400
    default_message = "Query-string authentication parameters are malformed"


class MalformedTrailerError(S3Error):
    status = 400
    default_message = ("The request contained trailing data that was not well-formed or did not conform to our "
                       "published schema.")


class InvalidBucketState(S3Error):
    status = 409
    default_message = "The request is not valid with the current state of the bucket."


class InvalidObjectState(S3Error):
    status = 403
    default_message = "The operation is not valid for the current state of the object."


class InvalidEncryptionAlgorithmError(S3Error):
    status = 400
    default_message = "The encryption request you specified is not valid."


# 403
class AccessDenied(S3Error):
    status = 403
    default_message = "Access Denied"


class AccessForbidden(S3Error):
    status = 403
    default_message = "CORSResponse: This CORS request is not allowed."


class InvalidAccessKeyId(S3Error):
    status = 403
    default_message = "The AWS Access Key Id you provided does not exist in our records."


class SignatureDoesNotMatch(S3Error):
    status = 403
    default_message = ("The request signature we calculated does not match the signature you provided. Check your key "
                       "and signing method.")


class MissingSecurityHeader(S3Error):
    status = 400
    default_message = "Your request is missing a required header."


class QuotaExceeded(S3Error):
    status = 403
    default_message = d.QuotaExceeded.default_message


# 404
class NoSuchBucket(S3Error):
    status = 404
    default_message = "The specified bucket does not exist"


class NoSuchKey(S3Error):
    status = 404
    default_message = "The specified key does not exist."


class NoSuchVersion(S3Error):
    status = 404
    default_message = "The specified version does not exist."


class NoSuchUpload(S3Error):
    status = 404
    default_message = d.UploadNotFound.default_message


class NoSuchTagSet(S3Error):
    status = 404
    default_message = "The TagSet does not exist"


NoSuchTagSetError = NoSuchTagSet


class NoSuchBucketPolicy(S3Error):
    status = 404
    default_message = "The bucket policy does not exist"


class NoSuchCORSConfiguration(S3Error):
    status = 404
    default_message = "The CORS configuration does not exist"


class NoSuchLifecycleConfiguration(S3Error):
    status = 404
    default_message = "The lifecycle configuration does not exist"


class NoSuchWebsiteConfiguration(S3Error):
    status = 404
    default_message = "The specified bucket does not have a website configuration"


class ServerSideEncryptionConfigurationNotFoundError(S3Error):
    status = 404
    default_message = "The server side encryption configuration was not found"


class ObjectLockConfigurationNotFoundError(S3Error):
    status = 404
    default_message = "Object Lock configuration does not exist for this bucket"


class NoSuchPublicAccessBlockConfiguration(S3Error):
    status = 404
    default_message = "The public access block configuration was not found"


class OwnershipControlsNotFoundError(S3Error):
    status = 404
    default_message = "The bucket ownership controls were not found"


class ReplicationConfigurationNotFoundError(S3Error):
    status = 404
    default_message = "The replication configuration was not found"


class NoSuchObjectLockConfiguration(S3Error):
    status = 404
    default_message = "The specified object does not have a ObjectLock configuration"


# 405, 409, 411, 412, 416, 5xx
class MethodNotAllowed(S3Error):
    status = 405
    default_message = "The specified method is not allowed against this resource."


class BucketAlreadyExists(S3Error):
    status = 409
    default_message = d.BucketAlreadyExists.default_message


class BucketAlreadyOwnedByYou(S3Error):
    status = 409
    default_message = d.BucketAlreadyOwnedByYou.default_message


class BucketNotEmpty(S3Error):
    status = 409
    default_message = "The bucket you tried to delete is not empty"


class ConditionalRequestConflict(S3Error):
    status = 409
    default_message = d.ConditionalRequestConflict.default_message


class OperationAborted(S3Error):
    status = 409
    default_message = ("A conflicting conditional operation is currently in progress against this resource. Please "
                       "try again.")


class PreconditionFailed(S3Error):
    status = 412
    default_message = d.PreconditionFailed.default_message


class InvalidRange(S3Error):
    status = 416
    default_message = "The requested range is not satisfiable"


class InternalError(S3Error):
    status = 500
    default_message = "We encountered an internal error. Please try again."


class NotImplemented(S3Error):
    status = 501
    default_message = "A header you provided implies functionality that is not implemented"


class ServiceUnavailable(S3Error):
    status = 503
    default_message = "Please reduce your request rate."


# Not an S3 error (S3 is never full): MinIO's 507 for a full disk, which SDKs do not retry (nuage.s3.full)
class InsufficientStorage(S3Error):
    status = 507
    default_message = ("The server has no space left to store this data. Please delete objects or ask the operator to "
                       "add space.")


class RequestTimeout(S3Error):
    status = 400
    default_message = "Your socket connection to the server was not read from or written to within the timeout period."


# S3 Select (SelectObjectContent): sent as an error response before the stream starts, else as an error event
class UnsupportedSyntax(S3Error):
    status = 400
    default_message = "The SQL expression contains unsupported syntax."


class LexerInvalidChar(S3Error):
    status = 400
    default_message = "The SQL expression contains an invalid character."


class ExpressionTooLong(S3Error):
    status = 400
    default_message = "The SQL expression is too long."


class EmptyRequestBody(S3Error):
    status = 400
    default_message = "The request body cannot be empty."


class MissingRequiredParameter(S3Error):
    status = 400
    default_message = "The SelectRequest entity is missing a required parameter."


class InvalidExpressionType(S3Error):
    status = 400
    default_message = "The ExpressionType is not valid. Only SQL expressions are supported."


class InvalidFileHeaderInfo(S3Error):
    status = 400
    default_message = "The FileHeaderInfo is invalid. Only NONE, USE, and IGNORE are supported."


class InvalidQuoteFields(S3Error):
    status = 400
    default_message = "The QuoteFields is invalid. Only ALWAYS and ASNEEDED are supported."


class InvalidJsonType(S3Error):
    status = 400
    default_message = "The JsonType is invalid. Only DOCUMENT and LINES are supported."


class InvalidCompressionFormat(S3Error):
    status = 400
    default_message = "The file is not in a supported compression format."


class InvalidDataSource(S3Error):
    status = 400
    default_message = "Invalid data source type. Only CSV, JSON, and Parquet are supported."


class InvalidRequestParameter(S3Error):
    status = 400
    default_message = "The value of a parameter in SelectRequest element is invalid."


class InvalidScanRange(S3Error):
    status = 400
    default_message = "The scan range is not valid."


class InvalidTextEncoding(S3Error):
    status = 400
    default_message = "Invalid encoding type. Only UTF-8 encoding is supported."


class InvalidKeyPath(S3Error):
    status = 400
    default_message = "The key path is invalid."


class ObjectSerializationConflict(S3Error):
    status = 400
    default_message = ("InputSerialization specifies more than one format (CSV, JSON, or Parquet), or "
                       "OutputSerialization specifies more than one format (CSV or JSON).")


class UnsupportedScanRangeInput(S3Error):
    status = 400
    default_message = "Scan range queries are not supported on this type of object."


class UnsupportedSqlStructure(S3Error):
    status = 400
    default_message = "Unsupported SQL structure."


class UnsupportedFunction(S3Error):
    status = 400
    default_message = "Encountered an unsupported SQL function."


class EvaluatorBindingDoesNotExist(S3Error):
    status = 400
    default_message = "A column name or a path provided does not exist in the SQL expression."


class EvaluatorInvalidTimestampFormatPattern(S3Error):
    status = 400
    default_message = "The timestamp format pattern is not valid."


class ParseExpectedDatePart(S3Error):
    status = 400
    default_message = "Did not find the expected date part in the SQL expression."


class CastFailed(S3Error):
    status = 400
    default_message = "Attempt to convert from one data type to another using CAST failed in the SQL expression."


class InvalidCast(S3Error):
    status = 400
    default_message = "Attempt to convert from one data type to another using CAST failed in the SQL expression."


class IncorrectSqlFunctionArgumentType(S3Error):
    status = 400
    default_message = "Incorrect type of arguments in function call in the SQL expression."


class IllegalSqlFunctionArgument(S3Error):
    status = 400
    default_message = "Illegal argument was used in the SQL function."


class IntegerOverflow(S3Error):
    status = 400
    default_message = "Integer overflow or underflow in the SQL expression."


class LikeInvalidInputs(S3Error):
    status = 400
    default_message = "Invalid argument given to the LIKE clause in the SQL expression."


class CSVParsingError(S3Error):
    status = 400
    default_message = "Encountered an error parsing the CSV file."


class JSONParsingError(S3Error):
    status = 400
    default_message = "Encountered an error parsing the JSON file."


class OverMaxMemory(S3Error):
    status = 400
    default_message = "The query needs more memory than it may use."


class QueryCancelled(S3Error):
    status = 400
    default_message = "The query was cancelled."


class QueryTimeout(S3Error):
    status = 400
    default_message = "The query ran longer than it may."


class MaxOperatorsExceeded(S3Error):
    status = 400
    default_message = ("Failed to parse SQL expression, try reducing complexity. For example, reduce number of "
                       "operators used.")


class InvalidQuery(S3Error):
    status = 400
    default_message = "The query could not be run."


def select_error(code: str, message: str) -> S3Error:
    """The S3 error of an S3 Select error code (InternalError for codes this module does not know)."""
    cls = BY_CODE.get(code, InternalError)
    return cls(message)


# Every S3 error class above by its code, in the order they are defined (a unit test checks that none is
# left out): select_error, auth errors and the code hints of domain errors are looked up here.
BY_CODE: dict[str, type[S3Error]] = {cls.__name__: cls for cls in (
    PermanentRedirect, BadDigest, BadRequest, EntityTooSmall, EntityTooLarge, IncompleteBody, InvalidArgument,
    InvalidBucketName, InvalidDigest, IllegalLocationConstraintException, InvalidLocationConstraint, InvalidPart,
    InvalidPartOrder, InvalidRequest, InvalidURI, InvalidRetentionPeriod, InvalidStorageClass, InvalidTag,
    KeyTooLongError, MalformedXML, MalformedPolicy, MalformedPOSTRequest, InvalidPolicyDocument,
    MaxPostPreDataLengthExceededError, IncorrectNumberOfFilesInPostRequest, MalformedACLError,
    AccessControlListNotSupported, UnresolvableGrantByEmailAddress, InvalidBucketAclWithObjectOwnership,
    MetadataTooLarge, MissingContentLength, RequestTimeTooSkewed, TooManyParts, UnexpectedContent,
    XAmzContentSHA256Mismatch, AuthorizationHeaderMalformed, AuthorizationQueryParametersError, MalformedTrailerError,
    InvalidBucketState, InvalidObjectState, InvalidEncryptionAlgorithmError, AccessDenied, AccessForbidden,
    InvalidAccessKeyId, SignatureDoesNotMatch, MissingSecurityHeader, QuotaExceeded, NoSuchBucket, NoSuchKey,
    NoSuchVersion, NoSuchUpload, NoSuchTagSet, NoSuchBucketPolicy, NoSuchCORSConfiguration,
    NoSuchLifecycleConfiguration, NoSuchWebsiteConfiguration, ServerSideEncryptionConfigurationNotFoundError,
    ObjectLockConfigurationNotFoundError, NoSuchPublicAccessBlockConfiguration, OwnershipControlsNotFoundError,
    ReplicationConfigurationNotFoundError, NoSuchObjectLockConfiguration, MethodNotAllowed, BucketAlreadyExists,
    BucketAlreadyOwnedByYou, BucketNotEmpty, ConditionalRequestConflict, OperationAborted, PreconditionFailed,
    InvalidRange, InternalError, NotImplemented, ServiceUnavailable, InsufficientStorage, RequestTimeout,
    UnsupportedSyntax, LexerInvalidChar, ExpressionTooLong, EmptyRequestBody, MissingRequiredParameter,
    InvalidExpressionType, InvalidFileHeaderInfo, InvalidQuoteFields, InvalidJsonType, InvalidCompressionFormat,
    InvalidDataSource, InvalidRequestParameter, InvalidScanRange, InvalidTextEncoding, InvalidKeyPath,
    ObjectSerializationConflict, UnsupportedScanRangeInput, UnsupportedSqlStructure, UnsupportedFunction,
    EvaluatorBindingDoesNotExist, EvaluatorInvalidTimestampFormatPattern, ParseExpectedDatePart, CastFailed,
    InvalidCast, IncorrectSqlFunctionArgumentType, IllegalSqlFunctionArgument, IntegerOverflow, LikeInvalidInputs,
    CSVParsingError, JSONParsingError, OverMaxMemory, QueryCancelled, QueryTimeout, MaxOperatorsExceeded, InvalidQuery,
)}

# The answer to "not configured" (NoSuchBucketConfig) for each kind of bucket configuration that has one
# (a bucket without an ACL is simply private).
CONFIG_MISSING: dict[bc.ConfigKind[Any], type[S3Error]] = {
    bc.TAGGING: NoSuchTagSet,
    bc.POLICY: NoSuchBucketPolicy,
    CORS: NoSuchCORSConfiguration,
    LIFECYCLE: NoSuchLifecycleConfiguration,
    bc.WEBSITE: NoSuchWebsiteConfiguration,
    bc.ENCRYPTION: ServerSideEncryptionConfigurationNotFoundError,
    OBJECT_LOCK: ObjectLockConfigurationNotFoundError,
    bc.PUBLIC_BLOCK: NoSuchPublicAccessBlockConfiguration,
    bc.OWNERSHIP: OwnershipControlsNotFoundError,
    REPLICATION: ReplicationConfigurationNotFoundError,
}
_MISSING_BY_NAME = {kind.name: cls for kind, cls in CONFIG_MISSING.items()}

DOMAIN_TO_S3: dict[type[d.NuageError], type[S3Error]] = {
    d.BucketNotFound: NoSuchBucket,
    d.BucketAlreadyExists: BucketAlreadyExists,
    d.BucketAlreadyOwnedByYou: BucketAlreadyOwnedByYou,
    d.BucketNotEmpty: BucketNotEmpty,
    d.InvalidBucketName: InvalidBucketName,
    d.KeyNotFound: NoSuchKey,
    d.VersionNotFound: NoSuchVersion,
    d.CurrentIsDeleteMarker: NoSuchKey,
    d.DeleteMarkerTarget: MethodNotAllowed,
    d.PreconditionFailed: PreconditionFailed,
    d.ConditionalRequestConflict: ConditionalRequestConflict,
    d.InvalidRange: InvalidRange,
    d.UploadNotFound: NoSuchUpload,
    d.InvalidPart: InvalidPart,
    d.InvalidPartOrder: InvalidPartOrder,
    d.EntityTooSmall: EntityTooSmall,
    d.EntityTooLarge: EntityTooLarge,
    d.BadDigest: BadDigest,
    d.ChecksumMismatch: BadDigest,
    d.ContentSHA256Mismatch: XAmzContentSHA256Mismatch,
    d.IncompleteBody: IncompleteBody,
    d.InvalidArgument: InvalidArgument,
    d.InvalidRetentionPeriod: InvalidRetentionPeriod,
    d.InvalidLocation: InvalidLocationConstraint,
    d.InvalidVersioningStatus: MalformedXML,
    d.InvalidRequest: InvalidRequest,
    d.InvalidBucketState: InvalidBucketState,
    d.MalformedDocument: MalformedXML,
    d.InvalidReplicationRule: InvalidArgument,
    d.ReplicaBodyIncomplete: IncompleteBody,
    d.ContentDigestMismatch: BadDigest,
    d.MalformedXML: MalformedXML,
    d.InvalidTag: InvalidTag,
    d.NoSuchTagSet: NoSuchTagSet,
    d.KeyTooLong: KeyTooLongError,
    d.AccessDenied: AccessDenied,
    d.QuotaExceeded: QuotaExceeded,
    d.InvalidStorageClass: InvalidStorageClass,
    d.ObjectChanged: InternalError,      # "Please try again": SDKs retry a 500
    # Damaged bytes: S3 never reports this. The object exists but cannot be read in its present state,
    # as an archived one: a 403 that SDKs do not retry (retrying cannot help), with a message that says why.
    d.ObjectCorrupt: InvalidObjectState,
}


# The failures of the signature checks: the class or its nearest base decides; the details become fields.
AUTH_TO_S3: dict[type[sv.AuthError], type[S3Error]] = {
    sv.AuthError: AccessDenied,
    sv.AccessRefused: AccessDenied,
    sv.SignatureMismatch: SignatureDoesNotMatch,
    sv.UnknownAccessKey: InvalidAccessKeyId,
    sv.ClockSkewed: RequestTimeTooSkewed,
    sv.MalformedAuthorizationHeader: AuthorizationHeaderMalformed,
    sv.MalformedPresignedQuery: AuthorizationQueryParametersError,
    sv.BadAuthArgument: InvalidArgument,
    sv.MissingDecodedLength: MissingSecurityHeader,
    sv.MissingPayloadHash: InvalidRequest,
    sv.TruncatedBody: IncompleteBody,
    sv.MalformedChunkedBody: InvalidRequest,
    sv.MalformedTrailer: MalformedTrailerError,
}

# The failures of S3 Select (an error response, or an error event once the stream has begun).
SELECT_TO_S3: dict[type[sel.SelectError], type[S3Error]] = {
    sel.SelectError: InternalError,
    sel.UnsupportedSyntax: UnsupportedSyntax,
    sel.InvalidCharacter: LexerInvalidChar,
    sel.ExpressionTooLong: ExpressionTooLong,
    sel.TooManyOperators: MaxOperatorsExceeded,
    sel.UnsupportedStructure: UnsupportedSqlStructure,
    sel.UnknownColumn: EvaluatorBindingDoesNotExist,
    sel.UnsupportedFunction: UnsupportedFunction,
    sel.WrongArguments: IncorrectSqlFunctionArgumentType,
    sel.IllegalArgument: IllegalSqlFunctionArgument,
    sel.UnknownDatePart: ParseExpectedDatePart,
    sel.BadTimestampPattern: EvaluatorInvalidTimestampFormatPattern,
    sel.BadLikeEscape: LikeInvalidInputs,
    sel.UnsupportedCastType: InvalidCast,
    sel.BadScanRange: InvalidScanRange,
    sel.ScanRangeNotApplicable: UnsupportedScanRangeInput,
    sel.BadRequestParameter: InvalidRequestParameter,
    sel.UnknownPath: InvalidKeyPath,
    sel.BadCompression: InvalidCompressionFormat,
    sel.BadCSV: CSVParsingError,
    sel.BadJSON: JSONParsingError,
    sel.UnreadableInput: InvalidDataSource,
    sel.CastFailed: CastFailed,
    sel.ValueOutOfRange: IntegerOverflow,
    sel.QueryFailed: InvalidQuery,
    sel.ReadRefused: AccessDenied,
    sel.MemoryExceeded: OverMaxMemory,
    sel.TimeExceeded: QueryTimeout,
    sel.Cancelled: QueryCancelled,
    sel.ResultTooLarge: InternalError,    # a SQL job's limit: S3 Select streams its result
    sel.EngineFailure: InternalError,
}


def _nearest(table: Mapping[Any, type[S3Error]], cls: type, default: type[S3Error]) -> type[S3Error]:
    """The entry of a class in a table: its own, else its nearest base's in method resolution order."""
    return next((table[k] for k in cls.__mro__ if k in table), default)


def from_auth(exc: sv.AuthError) -> S3Error:
    """The S3 error for a failed signature check, with the details AWS shows in its error body."""
    err = _nearest(AUTH_TO_S3, type(exc), AccessDenied)(exc.message)
    err.fields.update(exc.details)
    return err


def from_select(exc: sel.SelectError) -> S3Error:
    """The S3 error for a failed S3 Select query."""
    return _nearest(SELECT_TO_S3, type(exc), InternalError)(exc.message)


def from_domain(exc: d.NuageError) -> S3Error:
    """The S3 error for a domain error (the one table of this mapping). The most specific class wins:
    the exception's own class, then its bases in method resolution order."""
    if isinstance(exc, d.NoSuchBucketConfig):
        missing = _MISSING_BY_NAME.get(exc.kind, NoSuchKey)()
        if "bucket" in exc.details:
            missing.fields["BucketName"] = exc.details["bucket"]
        return missing
    cls = _nearest(DOMAIN_TO_S3, type(exc), InternalError)
    fields: dict[str, str] = {}
    for name, field in (("bucket", "BucketName"), ("key", "Key"), ("argument", "ArgumentName"),
                        ("upload", "UploadId"), ("version", "VersionId")):
        if name in exc.details:
            fields[field] = exc.details[name]
    message = exc.message if type(exc).default_message != exc.message or not cls.default_message else None
    if isinstance(exc, d.ChecksumMismatch):
        message = exc.message
    err = cls(message)
    err.fields.update(fields)
    return err
