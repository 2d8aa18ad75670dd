"""AWS Signature Version 4: Authorization header and presigned (query string) verification."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from urllib.parse import quote

from .canonical import QueryParam, canonical_headers, canonical_query_string, canonical_uri
from .dates import check_skew, format_amz_date, parse_amz_date, parse_request_date
from .errors import (
    AuthError,
    BadAuthArgument,
    MalformedAuthorizationHeader,
    MalformedPresignedQuery,
    MissingDecodedLength,
    MissingPayloadHash,
    MissingRequestDate,
    NotYetValid,
    RequestExpired,
    SignatureMismatch,
    UnknownAccessKey,
    UnsignedHeaders,
)
from .keys import hmac_sha256_hex, sha256_hex, signatures_equal, signing_key
from .model import (
    ALGORITHM,
    STREAMING_SIGNED,
    STREAMING_SIGNED_TRAILER,
    STREAMING_UNSIGNED_TRAILER,
    UNSIGNED_PAYLOAD,
    AuthResult,
    ChunkSigningContext,
    RequestView,
)

__all__ = ["string_to_sign", "validity", "verify_v4_header", "verify_v4_presigned"]

SecretLookup = Callable[[str], "str | None"]

MAX_PRESIGN_EXPIRES = 604800
_SIGNATURE_PARAM = "X-Amz-Signature"
_PRESIGN_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    _SIGNATURE_PARAM,
    "X-Amz-Date",
    "X-Amz-SignedHeaders",
    "X-Amz-Expires",
)
_HEX64 = re.compile(r"[0-9a-f]{64}")
_DIGITS8 = re.compile(r"[0-9]{8}")
_PAYLOAD_MODES = frozenset(
    {UNSIGNED_PAYLOAD, STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER}
)
_SIGNED_STREAMING = frozenset({STREAMING_SIGNED, STREAMING_SIGNED_TRAILER})
_STREAMING = frozenset({STREAMING_SIGNED, STREAMING_SIGNED_TRAILER, STREAMING_UNSIGNED_TRAILER})

_HEADER_PREFIX = "The authorization header is malformed; "
_QUERY_PREFIX = "Error parsing the X-Amz-Credential parameter; "
_CREDENTIAL_FORM = '"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request"'
_NO_DATE = "AWS authentication requires a valid Date or x-amz-date header"
_UNSIGNED_HEADERS = "There were headers present in the request which were not signed"
_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)


@dataclass(frozen=True)
class _Credential:
    access_key: str
    date: str
    region: str
    service: str

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


def string_to_sign(amz_date: str, scope: str, canonical_request: str) -> str:
    """The SigV4 string to sign for a canonical request."""
    return f"{ALGORITHM}\n{amz_date}\n{scope}\n{sha256_hex(canonical_request.encode('utf-8'))}"


@lru_cache(maxsize=1024)   # the same few credentials (key, day, region) over and over; errors are not cached
def _parse_credential(
    value: str, *, error: type[AuthError], prefix: str, region: str, services: frozenset[str]
) -> _Credential:
    parts = value.rsplit("/", 4)
    # an empty region is accepted for IAM only (boto3 with region_name="" signs so for the global service)
    if (len(parts) != 5 or not parts[0] or not _DIGITS8.fullmatch(parts[1])
            or not (parts[2] or (parts[3] == "iam" and "iam" in services))):
        raise error(f"{prefix}the Credential is mal-formed; expecting {_CREDENTIAL_FORM}.")
    access_key, date, cred_region, service, terminal = parts
    if terminal != "aws4_request":
        raise error(f'{prefix}incorrect terminal "{terminal}". This endpoint uses "aws4_request".')
    if service not in services:
        expected = "s3" if "s3" in services else sorted(services)[0]
        raise error(
            f'{prefix}incorrect service "{service}". This endpoint belongs to "{expected}".'
        )
    # IAM is a global service that SDKs always sign for us-east-1.
    if cred_region != region and not (service == "iam" and cred_region in ("us-east-1", "")):
        raise error(
            f"{prefix}the region '{cred_region}' is wrong; expecting '{region}'",
            details={"Region": region},
        )
    return _Credential(access_key, date, cred_region, service)


def _signed_header_names(value: str) -> list[str]:
    return [name for name in value.lower().split(";") if name]


def _check_payload_hash(value: str) -> None:
    if value in _PAYLOAD_MODES or _HEX64.fullmatch(value):
        return
    raise BadAuthArgument(
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, "
        "or a valid sha256 value.",
        details={"ArgumentName": "x-amz-content-sha256", "ArgumentValue": value},
    )


def _require_signed(headers: dict[str, list[str]], signed: list[str], exempt: str | None) -> None:
    """Refuse a request whose Host, or any ``x-amz-*`` header it carries (``exempt`` apart), is not
    among the signed headers: S3 acts on such headers (``x-amz-acl``, ``x-amz-copy-source``, ...), so
    one added to a captured request would otherwise change what a valid signature allows."""
    if "host" not in signed:
        raise UnsignedHeaders(_UNSIGNED_HEADERS, details={"HeadersNotSigned": "host"})
    for name in headers.keys() - signed:   # a set difference in C: usually one or two names are left
        if name.startswith("x-amz-") and name != exempt:
            unsigned = [n for n in headers if n.startswith("x-amz-") and n != exempt and n not in signed]
            raise UnsignedHeaders(_UNSIGNED_HEADERS, details={"HeadersNotSigned": ", ".join(unsigned)})


def _lookup(lookup_secret: SecretLookup, access_key: str) -> str:
    secret = lookup_secret(access_key)
    if secret is None:
        raise UnknownAccessKey(
            "The AWS Access Key Id you provided does not exist in our records.",
            details={"AWSAccessKeyId": access_key},
        )
    return secret


def _uri_and_query_variants(
    req: RequestView, params: Sequence[QueryParam], skip: str | None
) -> Iterator[tuple[str, str]]:
    """The canonical (URI, query) pair, then lenient alternatives tried only if it fails."""
    uri = canonical_uri(req.raw_path)
    query = canonical_query_string(req.raw_query, skip)
    yield uri, query
    if "+" in req.raw_query:
        plus_query = canonical_query_string(req.raw_query, skip, True)
        if plus_query != query:
            yield uri, plus_query
    raw_uri = req.raw_path or "/"
    if raw_uri != uri:
        yield raw_uri, query
    if "%" in uri:
        # every AWS service but S3 encodes the path's segments twice (botocore's SigV4Auth, as the admin,
        # query and billing APIs are signed): a tenant named in Chinese is ``%25E4...`` there
        yield quote(uri, safe="/-_.~"), query


def _verify(
    req: RequestView,
    params: Sequence[QueryParam],
    headers: dict[str, list[str]],
    *,
    skip: str | None,
    signed_line: str,
    signed: list[str],
    payload_hash: str,
    key: bytes,
    amz_date: str,
    cred: _Credential,
    provided: str,
) -> None:
    header_block = canonical_headers(headers, signed)
    method = req.method.upper()
    scope = cred.scope
    first: tuple[str, str] | None = None
    for uri, query in _uri_and_query_variants(req, params, skip):
        canonical = f"{method}\n{uri}\n{query}\n{header_block}\n{signed_line}\n{payload_hash}"
        to_sign = string_to_sign(amz_date, scope, canonical)
        if signatures_equal(hmac_sha256_hex(key, to_sign), provided):
            return
        if first is None:
            first = (canonical, to_sign)
    assert first is not None
    raise SignatureMismatch(
        _SIGNATURE_MISMATCH,
        details={
            "AWSAccessKeyId": cred.access_key,
            "StringToSign": first[1],
            "SignatureProvided": provided,
            "CanonicalRequest": first[0],
        },
    )


def _parse_authorization(value: str) -> tuple[str, str, str]:
    """Split ``AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...``."""
    fields: dict[str, str] = {}
    for raw_component in value[len(ALGORITHM) :].split(","):
        component = raw_component.strip()
        if not component:
            continue
        name, eq, field_value = component.partition("=")
        if not eq:
            raise MalformedAuthorizationHeader(
                f'{_HEADER_PREFIX}the authorization component "{component}" is malformed.',
            )
        fields[name.strip()] = field_value.strip()
    credential = fields.get("Credential")
    signed_headers = fields.get("SignedHeaders")
    signature = fields.get("Signature")
    if not credential or signed_headers is None or not signature:
        raise MalformedAuthorizationHeader(
            f"{_HEADER_PREFIX}the authorization header requires three components: "
            "Credential, SignedHeaders, and Signature.",
        )
    return credential, signed_headers, signature


def _header_request_time(headers: dict[str, list[str]]) -> tuple[datetime, str]:
    """The request time and its ISO 8601 basic form, from x-amz-date or else Date."""
    amz = headers.get("x-amz-date")
    raw = amz[0] if amz else None
    if raw is None:
        date = headers.get("date")
        raw = date[0] if date else None
    if raw is None:
        raise MissingRequestDate(_NO_DATE)
    parsed = parse_request_date(raw)
    if parsed is None:
        raise MissingRequestDate(_NO_DATE)
    stripped = raw.strip()
    return parsed, stripped if parse_amz_date(stripped) is not None else format_amz_date(parsed)


def verify_v4_header(
    req: RequestView,
    headers: dict[str, list[str]],
    params: Sequence[QueryParam],
    authorization: str,
    lookup_secret: SecretLookup,
    *,
    region: str,
    services: frozenset[str],
    max_skew_seconds: int,
    now: datetime,
    body_sha256: str | None,
) -> AuthResult:
    """Verify a request carrying an ``Authorization: AWS4-HMAC-SHA256 ...`` header."""
    credential, signed_line, signature = _parse_authorization(authorization)
    cred = _parse_credential(
        credential,
        error=MalformedAuthorizationHeader,
        prefix=_HEADER_PREFIX,
        region=region,
        services=services,
    )
    request_time, amz_date = _header_request_time(headers)
    if cred.date != amz_date[:8]:
        raise MalformedAuthorizationHeader(
            f'{_HEADER_PREFIX}Invalid credential date "{cred.date}". '
            f'This date is not the same as X-Amz-Date: "{amz_date[:8]}".',
        )
    check_skew(request_time, now, max_skew_seconds)

    declared = headers.get("x-amz-content-sha256")
    if declared:
        payload_hash = ",".join(declared).strip()
        _check_payload_hash(payload_hash)
        if payload_hash in _STREAMING and "x-amz-decoded-content-length" not in headers:
            raise MissingDecodedLength(
                "Your request was missing a required header",
                details={"MissingHeaderName": "x-amz-decoded-content-length"},
            )
    elif cred.service != "s3" and body_sha256 is not None:
        payload_hash = body_sha256
    else:
        raise MissingPayloadHash("Missing required header for this request: x-amz-content-sha256")

    signed = _signed_header_names(signed_line)
    # x-amz-content-sha256 may go unsigned, as on S3: its value is the last line of the canonical
    # request whether it is listed or not, so changing it breaks the signature all the same.
    _require_signed(headers, signed, "x-amz-content-sha256")
    secret = _lookup(lookup_secret, cred.access_key)
    key = signing_key(secret, cred.date, cred.region, cred.service)
    _verify(
        req,
        params,
        headers,
        skip=None,
        signed_line=signed_line,
        signed=signed,
        payload_hash=payload_hash,
        key=key,
        amz_date=amz_date,
        cred=cred,
        provided=signature,
    )
    context = None
    if payload_hash in _SIGNED_STREAMING:
        context = ChunkSigningContext(key, amz_date, cred.scope, signature)
    return AuthResult(cred.access_key, "v4", False, payload_hash, context)


def validity(headers: dict[str, list[str]], params: Sequence[QueryParam], *, presigned: bool,
             max_skew_seconds: int) -> tuple[datetime, datetime]:
    """The period of server times in which a request that just verified would verify again: its
    request time give or take the allowed skew, or until its expiry for a presigned URL."""
    skew = timedelta(seconds=max_skew_seconds)
    if not presigned:
        request_time, _ = _header_request_time(headers)
        return request_time - skew, request_time + skew
    query = {p.name: p.value for p in reversed(params)}   # the first value of each name
    signed_at = parse_amz_date(query["X-Amz-Date"])
    assert signed_at is not None   # it verified
    return signed_at - skew, signed_at + timedelta(seconds=int(query["X-Amz-Expires"]))


def _query_error(message: str) -> AuthError:
    return MalformedPresignedQuery(message)


def verify_v4_presigned(
    req: RequestView,
    headers: dict[str, list[str]],
    params: Sequence[QueryParam],
    lookup_secret: SecretLookup,
    *,
    region: str,
    services: frozenset[str],
    max_skew_seconds: int,
    now: datetime,
) -> AuthResult:
    """Verify a presigned URL (``X-Amz-Algorithm=AWS4-HMAC-SHA256&...`` query parameters)."""
    query: dict[str, str] = {}
    for param in params:
        if param.name in query and param.name in _PRESIGN_PARAMS:
            raise _query_error(f"Query-string authentication parameter {param.name} is repeated")
        query.setdefault(param.name, param.value)
    if any(name not in query for name in _PRESIGN_PARAMS):
        raise _query_error(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, "
            "X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
        )
    if query["X-Amz-Algorithm"] != ALGORITHM:
        raise _query_error(f'X-Amz-Algorithm only supports "{ALGORITHM}"')
    amz_date = query["X-Amz-Date"]
    request_time = parse_amz_date(amz_date)
    if request_time is None:
        raise _query_error("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
    raw_expires = query["X-Amz-Expires"]
    if not (raw_expires.isascii() and raw_expires.isdigit()):
        if raw_expires.startswith("-") and raw_expires[1:].isascii() and raw_expires[1:].isdigit():
            raise _query_error("X-Amz-Expires must be non-negative")
        raise _query_error("X-Amz-Expires should be a number")
    expires = int(raw_expires)
    if expires > MAX_PRESIGN_EXPIRES:
        raise _query_error(
            f"X-Amz-Expires must be less than a week (in seconds) that is; {MAX_PRESIGN_EXPIRES}"
        )
    if expires < 1:  # a URL that lives zero seconds has expired
        raise RequestExpired("Request has expired")
    cred = _parse_credential(
        query["X-Amz-Credential"],
        error=MalformedPresignedQuery,
        prefix=_QUERY_PREFIX,
        region=region,
        services=services,
    )
    if cred.date != amz_date[:8]:
        raise _query_error(f"{_QUERY_PREFIX}Invalid credential date. Date is not the same as X-Amz-Date.")

    if request_time - now > timedelta(seconds=max_skew_seconds):
        raise NotYetValid("Request is not valid yet")
    if now > request_time + timedelta(seconds=expires):
        raise RequestExpired(
            "Request has expired",
            details={
                "X-Amz-Expires": raw_expires,
                "Expires": format_amz_date(request_time + timedelta(seconds=expires)),
                "ServerTime": format_amz_date(now),
            },
        )

    signed_line = query["X-Amz-SignedHeaders"]
    signed = _signed_header_names(signed_line)
    _require_signed(headers, signed, None)

    payload_hash = UNSIGNED_PAYLOAD
    if "X-Amz-Content-Sha256" in query:
        payload_hash = query["X-Amz-Content-Sha256"]
    elif "x-amz-content-sha256" in signed and "x-amz-content-sha256" in headers:
        payload_hash = ",".join(headers["x-amz-content-sha256"]).strip()
    if payload_hash != UNSIGNED_PAYLOAD and not _HEX64.fullmatch(payload_hash):
        _check_payload_hash(payload_hash)
        raise BadAuthArgument("Streaming payloads cannot be used with presigned URLs.")

    secret = _lookup(lookup_secret, cred.access_key)
    key = signing_key(secret, cred.date, cred.region, cred.service)
    _verify(
        req,
        params,
        headers,
        skip=_SIGNATURE_PARAM,
        signed_line=signed_line,
        signed=signed,
        payload_hash=payload_hash,
        key=key,
        amz_date=amz_date,
        cred=cred,
        provided=query[_SIGNATURE_PARAM],
    )
    return AuthResult(cred.access_key, "v4", True, payload_hash, None)
