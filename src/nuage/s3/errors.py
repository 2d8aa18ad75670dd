"""S3 errors: one class per S3 error code, the table from domain errors to them, and the only
renderer of S3 error XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import ClassVar

from nuage import errors as d
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


def _cls(name: str, status: int, message: str = "") -> type[S3Error]:
    return type(name, (S3Error,), {"status": status, "default_message": message})


# 301
PermanentRedirect = _cls("PermanentRedirect", 301, "The bucket you are attempting to access must be addressed using "
                         "the specified endpoint. Please send all future requests to this endpoint.")
# 400
BadDigest = _cls("BadDigest", 400, "The Content-MD5 you specified did not match what we received.")
BadRequest = _cls("BadRequest", 400, "Bad Request")
EntityTooSmall = _cls("EntityTooSmall", 400, "Your proposed upload is smaller than the minimum allowed object size.")
EntityTooLarge = _cls("EntityTooLarge", 400, "Your proposed upload exceeds the maximum allowed object size.")
IncompleteBody = _cls("IncompleteBody", 400, "You did not provide the number of bytes specified by the "
                      "Content-Length HTTP header")
InvalidArgument = _cls("InvalidArgument", 400, "Invalid Argument")
InvalidBucketName = _cls("InvalidBucketName", 400, "The specified bucket is not valid.")
InvalidDigest = _cls("InvalidDigest", 400, "The Content-MD5 you specified is not valid.")
IllegalLocationConstraintException = _cls(
    "IllegalLocationConstraintException", 400, "The location constraint is incompatible for the region specific "
    "endpoint this request was sent to.")
InvalidLocationConstraint = _cls("InvalidLocationConstraint", 400, "The specified location-constraint is not "
                                 "valid")
InvalidPart = _cls("InvalidPart", 400, d.InvalidPart.default_message)
InvalidPartOrder = _cls("InvalidPartOrder", 400, d.InvalidPartOrder.default_message)
InvalidRequest = _cls("InvalidRequest", 400, "Invalid Request")
InvalidURI = _cls("InvalidURI", 400, "Couldn't parse the specified URI.")   # e.g. a path that is not UTF-8
InvalidRetentionPeriod = _cls("InvalidRetentionPeriod", 400, "Default retention period must be a positive "
                              "integer value.")
InvalidStorageClass = _cls("InvalidStorageClass", 400, "The storage class you specified is not valid")
InvalidTag = _cls("InvalidTag", 400, "The TagKey you have provided is invalid")
KeyTooLongError = _cls("KeyTooLongError", 400, "Your key is too long")
MalformedXML = _cls("MalformedXML", 400, d.MalformedXML.default_message)
MalformedPolicy = _cls("MalformedPolicy", 400, "Policies must be valid JSON and the first byte must be '{'")
MalformedPOSTRequest = _cls("MalformedPOSTRequest", 400, "The body of your POST request is not well-formed "
                            "multipart/form-data.")
InvalidPolicyDocument = _cls("InvalidPolicyDocument", 400, "The content of the form does not meet the conditions "
                             "specified in the policy document.")
MaxPostPreDataLengthExceededError = _cls("MaxPostPreDataLengthExceededError", 400, "Your POST request fields "
                                         "preceding the upload file were too large.")
IncorrectNumberOfFilesInPostRequest = _cls("IncorrectNumberOfFilesInPostRequest", 400, "POST requires exactly one "
                                           "file upload per request.")
MalformedACLError = _cls("MalformedACLError", 400, "The XML you provided was not well-formed or did not "
                         "validate against our published schema")
AccessControlListNotSupported = _cls("AccessControlListNotSupported", 400, "The bucket does not allow ACLs")
UnresolvableGrantByEmailAddress = _cls("UnresolvableGrantByEmailAddress", 400, "The e-mail address you "
                                       "provided does not match any account on record.")
InvalidBucketAclWithObjectOwnership = _cls("InvalidBucketAclWithObjectOwnership", 400, "Bucket cannot have "
                                           "ACLs set with ObjectOwnership's BucketOwnerEnforced setting")
MetadataTooLarge = _cls("MetadataTooLarge", 400, "Your metadata headers exceed the maximum allowed metadata size.")
MissingContentLength = _cls("MissingContentLength", 411, "You must provide the Content-Length HTTP header.")
RequestTimeTooSkewed = _cls("RequestTimeTooSkewed", 403, "The difference between the request time and the "
                            "current time is too large.")
TooManyParts = _cls("TooManyParts", 400, "You have attempted to upload more than 10000 parts")
UnexpectedContent = _cls("UnexpectedContent", 400, "This request does not support content")
XAmzContentSHA256Mismatch = _cls("XAmzContentSHA256Mismatch", 400, d.ContentSHA256Mismatch.default_message)
AuthorizationHeaderMalformed = _cls("AuthorizationHeaderMalformed", 400, "The authorization header is malformed")
AuthorizationQueryParametersError = _cls("AuthorizationQueryParametersError", 400, "Query-string authentication "
                                         "parameters are malformed")
MalformedTrailerError = _cls("MalformedTrailerError", 400, "The request contained trailing data that was not "
                             "well-formed or did not conform to our published schema.")
InvalidBucketState = _cls("InvalidBucketState", 409, "The request is not valid with the current state of the "
                          "bucket.")
InvalidObjectState = _cls("InvalidObjectState", 403, "The operation is not valid for the current state of the "
                          "object.")
InvalidEncryptionAlgorithmError = _cls("InvalidEncryptionAlgorithmError", 400, "The encryption request you "
                                       "specified is not valid.")
# 403
AccessDenied = _cls("AccessDenied", 403, "Access Denied")
AccessForbidden = _cls("AccessForbidden", 403, "CORSResponse: This CORS request is not allowed.")
InvalidAccessKeyId = _cls("InvalidAccessKeyId", 403, "The AWS Access Key Id you provided does not exist in our "
                          "records.")
SignatureDoesNotMatch = _cls("SignatureDoesNotMatch", 403, "The request signature we calculated does not match "
                             "the signature you provided. Check your key and signing method.")
MissingSecurityHeader = _cls("MissingSecurityHeader", 400, "Your request is missing a required header.")
QuotaExceeded = _cls("QuotaExceeded", 403, d.QuotaExceeded.default_message)
# 404
NoSuchBucket = _cls("NoSuchBucket", 404, "The specified bucket does not exist")
NoSuchKey = _cls("NoSuchKey", 404, "The specified key does not exist.")
NoSuchVersion = _cls("NoSuchVersion", 404, "The specified version does not exist.")
NoSuchUpload = _cls("NoSuchUpload", 404, d.UploadNotFound.default_message)
NoSuchTagSet = _cls("NoSuchTagSet", 404, "The TagSet does not exist")
NoSuchTagSetError = NoSuchTagSet
NoSuchBucketPolicy = _cls("NoSuchBucketPolicy", 404, "The bucket policy does not exist")
NoSuchCORSConfiguration = _cls("NoSuchCORSConfiguration", 404, "The CORS configuration does not exist")
NoSuchLifecycleConfiguration = _cls("NoSuchLifecycleConfiguration", 404, "The lifecycle configuration does not "
                                    "exist")
NoSuchWebsiteConfiguration = _cls("NoSuchWebsiteConfiguration", 404, "The specified bucket does not have a "
                                  "website configuration")
ServerSideEncryptionConfigurationNotFoundError = _cls(
    "ServerSideEncryptionConfigurationNotFoundError", 404, "The server side encryption configuration was not found")
ObjectLockConfigurationNotFoundError = _cls("ObjectLockConfigurationNotFoundError", 404, "Object Lock "
                                            "configuration does not exist for this bucket")
NoSuchPublicAccessBlockConfiguration = _cls("NoSuchPublicAccessBlockConfiguration", 404, "The public access "
                                            "block configuration was not found")
OwnershipControlsNotFoundError = _cls("OwnershipControlsNotFoundError", 404, "The bucket ownership controls "
                                      "were not found")
ReplicationConfigurationNotFoundError = _cls("ReplicationConfigurationNotFoundError", 404, "The replication "
                                             "configuration was not found")
NoSuchObjectLockConfiguration = _cls("NoSuchObjectLockConfiguration", 404, "The specified object does not have "
                                     "a ObjectLock configuration")
# 405, 409, 411, 412, 416, 5xx
MethodNotAllowed = _cls("MethodNotAllowed", 405, "The specified method is not allowed against this resource.")
BucketAlreadyExists = _cls("BucketAlreadyExists", 409, d.BucketAlreadyExists.default_message)
BucketAlreadyOwnedByYou = _cls("BucketAlreadyOwnedByYou", 409, d.BucketAlreadyOwnedByYou.default_message)
BucketNotEmpty = _cls("BucketNotEmpty", 409, "The bucket you tried to delete is not empty")
ConditionalRequestConflict = _cls("ConditionalRequestConflict", 409, d.ConditionalRequestConflict.default_message)
OperationAborted = _cls("OperationAborted", 409, "A conflicting conditional operation is currently in progress "
                        "against this resource. Please try again.")
PreconditionFailed = _cls("PreconditionFailed", 412, d.PreconditionFailed.default_message)
InvalidRange = _cls("InvalidRange", 416, "The requested range is not satisfiable")
InternalError = _cls("InternalError", 500, "We encountered an internal error. Please try again.")
NotImplemented = _cls("NotImplemented", 501, "A header you provided implies functionality that is not implemented")
ServiceUnavailable = _cls("ServiceUnavailable", 503, "Please reduce your request rate.")
# Not an S3 error (S3 is never full): MinIO's 507 for a full disk, which SDKs do not retry (nuage.s3.full)
InsufficientStorage = _cls("InsufficientStorage", 507, "The server has no space left to store this data. "
                           "Please delete objects or ask the operator to add space.")
RequestTimeout = _cls("RequestTimeout", 400, "Your socket connection to the server was not read from or written "
                      "to within the timeout period.")

# S3 Select (SelectObjectContent): sent as an error response before the stream starts, else as an error event
_SELECT_400 = {
    "UnsupportedSyntax": "The SQL expression contains unsupported syntax.",
    "LexerInvalidChar": "The SQL expression contains an invalid character.",
    "ExpressionTooLong": "The SQL expression is too long.",
    "EmptyRequestBody": "The request body cannot be empty.",
    "MissingRequiredParameter": "The SelectRequest entity is missing a required parameter.",
    "InvalidExpressionType": "The ExpressionType is not valid. Only SQL expressions are supported.",
    "InvalidFileHeaderInfo": "The FileHeaderInfo is invalid. Only NONE, USE, and IGNORE are supported.",
    "InvalidQuoteFields": "The QuoteFields is invalid. Only ALWAYS and ASNEEDED are supported.",
    "InvalidJsonType": "The JsonType is invalid. Only DOCUMENT and LINES are supported.",
    "InvalidCompressionFormat": "The file is not in a supported compression format.",
    "InvalidDataSource": "Invalid data source type. Only CSV, JSON, and Parquet are supported.",
    "InvalidRequestParameter": "The value of a parameter in SelectRequest element is invalid.",
    "InvalidScanRange": "The scan range is not valid.",
    "InvalidTextEncoding": "Invalid encoding type. Only UTF-8 encoding is supported.",
    "InvalidKeyPath": "The key path is invalid.",
    "ObjectSerializationConflict": "InputSerialization specifies more than one format (CSV, JSON, or Parquet), or "
                                   "OutputSerialization specifies more than one format (CSV or JSON).",
    "UnsupportedScanRangeInput": "Scan range queries are not supported on this type of object.",
    "UnsupportedSqlStructure": "Unsupported SQL structure.",
    "UnsupportedFunction": "Encountered an unsupported SQL function.",
    "EvaluatorBindingDoesNotExist": "A column name or a path provided does not exist in the SQL expression.",
    "EvaluatorInvalidTimestampFormatPattern": "The timestamp format pattern is not valid.",
    "ParseExpectedDatePart": "Did not find the expected date part in the SQL expression.",
    "CastFailed": "Attempt to convert from one data type to another using CAST failed in the SQL expression.",
    "InvalidCast": "Attempt to convert from one data type to another using CAST failed in the SQL expression.",
    "IncorrectSqlFunctionArgumentType": "Incorrect type of arguments in function call in the SQL expression.",
    "IllegalSqlFunctionArgument": "Illegal argument was used in the SQL function.",
    "IntegerOverflow": "Integer overflow or underflow in the SQL expression.",
    "LikeInvalidInputs": "Invalid argument given to the LIKE clause in the SQL expression.",
    "CSVParsingError": "Encountered an error parsing the CSV file.",
    "JSONParsingError": "Encountered an error parsing the JSON file.",
    "OverMaxMemory": "The query needs more memory than it may use.",
    "QueryCancelled": "The query was cancelled.",
    "QueryTimeout": "The query ran longer than it may.",
    "MaxOperatorsExceeded": "Failed to parse SQL expression, try reducing complexity. For example, reduce number "
                            "of operators used.",
    "InvalidQuery": "The query could not be run.",
}
for _code, _message in _SELECT_400.items():
    globals()[_code] = _cls(_code, 400, _message)


def select_error(code: str, message: str) -> S3Error:
    """The S3 error of an S3 Select error code (InternalError for codes this module does not know)."""
    cls = BY_CODE.get(code, InternalError)
    return cls(message)


BY_CODE: dict[str, type[S3Error]] = {
    cls.__name__: cls for cls in list(globals().values())
    if isinstance(cls, type) and issubclass(cls, S3Error) and cls is not S3Error
}

_CONFIG_MISSING: dict[str, type[S3Error]] = {
    "tagging": NoSuchTagSet,
    "policy": NoSuchBucketPolicy,
    "cors": NoSuchCORSConfiguration,
    "lifecycle": NoSuchLifecycleConfiguration,
    "website": NoSuchWebsiteConfiguration,
    "encryption": ServerSideEncryptionConfigurationNotFoundError,
    "object-lock": ObjectLockConfigurationNotFoundError,
    "publicAccessBlock": NoSuchPublicAccessBlockConfiguration,
    "ownershipControls": OwnershipControlsNotFoundError,
    "replication": ReplicationConfigurationNotFoundError,
}

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
    d.InvalidRequest: InvalidRequest,
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


def from_domain(exc: d.NuageError) -> S3Error:
    """The S3 error for a domain error (the one table of this mapping)."""
    hint = exc.details.get("code_hint")
    if isinstance(exc, d.NoSuchBucketConfig):
        cls = _CONFIG_MISSING.get(exc.kind, NoSuchKey)
        return cls()
    found = BY_CODE.get(hint) if hint else None
    if found is None:
        found = next((v for k, v in DOMAIN_TO_S3.items() if isinstance(exc, k)), InternalError)
    cls = found
    fields: dict[str, str] = {}
    for name, field in (("bucket", "BucketName"), ("key", "Key"), ("argument", "ArgumentName"),
                        ("upload", "UploadId"), ("version", "VersionId")):
        if name in exc.details:
            fields[field] = exc.details[name]
    message = exc.message if type(exc).default_message != exc.message or not cls.default_message else None
    if isinstance(exc, d.ChecksumMismatch) and not hint:
        message = exc.message
    err = cls(message)
    err.fields.update(fields)
    return err
