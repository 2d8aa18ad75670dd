"""Server-side encryption on the S3 surface: the SSE request headers (SSE-S3, SSE-KMS, SSE-C and the
copy-source SSE-C headers) and Get/Put/DeleteBucketEncryption.

SSE-C keys are accepted over plain HTTP as well as HTTPS (AWS refuses them without TLS); s3-tests and
deployments behind a TLS-terminating proxy need that. Serve Nuage over HTTPS (``--tls-cert``) or
behind such a proxy when clients send SSE-C keys.
"""

from __future__ import annotations

import base64

from nuage.core.sse import (
    DEFAULT_KMS_KEY_ID,
    SERVER_ALGORITHMS,
    SSE_C,
    SSE_S3,
    SSESpec,
    customer_key_md5,
)
from nuage.s3 import errors as e
from nuage.s3.context import Services
from nuage.s3.handlers.common import xml_body
from nuage.s3.http import Request, Response, empty, xml_response
from nuage.types import BucketName
from nuage.xml import bool_text, child_text, render, root, sub

SSE = "x-amz-server-side-encryption"
SSE_KMS_KEY = "x-amz-server-side-encryption-aws-kms-key-id"
SSE_BUCKET_KEY = "x-amz-server-side-encryption-bucket-key-enabled"
CUSTOMER = "x-amz-server-side-encryption-customer-"
COPY_SOURCE_CUSTOMER = "x-amz-copy-source-server-side-encryption-customer-"
_CUSTOMER_PREFIX = "Requests specifying Server Side Encryption with Customer provided keys must provide"


def customer_key(headers: dict[str, str], prefix: str = CUSTOMER) -> bytes | None:
    """The SSE-C key a request gives (checked against its MD5), or None when it gives none."""
    algorithm = headers.get(prefix + "algorithm")
    key = headers.get(prefix + "key")
    md5 = headers.get(prefix + "key-md5")
    if algorithm is None and key is None and md5 is None:
        return None
    if algorithm is None:
        raise e.InvalidArgument(f"{_CUSTOMER_PREFIX} a valid encryption algorithm.",
                                ArgumentName=prefix + "algorithm", ArgumentValue="null")
    if algorithm != "AES256":
        raise e.InvalidEncryptionAlgorithmError("The Encryption request you specified is not valid. Supported "
                                                "value: AES256.", ArgumentName=prefix + "algorithm",
                                                ArgumentValue=algorithm)
    if key is None:
        raise e.InvalidArgument(f"{_CUSTOMER_PREFIX} an appropriate secret key.", ArgumentName=prefix + "key",
                                ArgumentValue="null")
    try:
        raw = base64.b64decode(key, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise e.InvalidArgument("The secret key was invalid for the specified algorithm.",
                                ArgumentName=prefix + "key", ArgumentValue="null")
    if md5 is None:
        raise e.InvalidArgument(f"{_CUSTOMER_PREFIX} the client calculated MD5 of the secret key.",
                                ArgumentName=prefix + "key-md5", ArgumentValue="null")
    if md5 != customer_key_md5(raw):
        raise e.InvalidArgument("The calculated MD5 hash of the key did not match the hash that was provided.",
                                ArgumentName=prefix + "key-md5", ArgumentValue=md5)
    return raw


def source_customer_key(headers: dict[str, str]) -> bytes | None:
    return customer_key(headers, COPY_SOURCE_CUSTOMER)


def write_spec(headers: dict[str, str]) -> SSESpec | None:
    """The encryption a write (PutObject, CopyObject, CreateMultipartUpload) asks for; None: the bucket's
    default. Conflicting or unknown settings are InvalidArgument, as on S3."""
    algorithm = headers.get(SSE)
    kms_key = headers.get(SSE_KMS_KEY)
    bucket_key_raw = headers.get(SSE_BUCKET_KEY)
    key = customer_key(headers)
    if key is not None:
        if algorithm is not None or kms_key is not None:
            raise e.InvalidArgument("Server Side Encryption with Customer provided key is incompatible with the "
                                    "encryption method specified", ArgumentName=SSE,
                                    ArgumentValue=algorithm or "")
        return SSESpec(SSE_C, customer_key=key)
    if algorithm is None:
        if kms_key is not None:
            raise e.InvalidArgument("Server Side Encryption with AWS KMS managed key requires HTTP header "
                                    "x-amz-server-side-encryption : aws:kms", ArgumentName=SSE_KMS_KEY,
                                    ArgumentValue=kms_key)
        return None
    if algorithm not in SERVER_ALGORITHMS:
        raise e.InvalidArgument("The encryption method specified is not supported", ArgumentName=SSE,
                                ArgumentValue=algorithm)
    if algorithm == SSE_S3 and kms_key is not None:
        raise e.InvalidArgument("Server Side Encryption with AWS KMS managed key requires HTTP header "
                                "x-amz-server-side-encryption : aws:kms", ArgumentName=SSE, ArgumentValue=algorithm)
    bucket_key = False
    if bucket_key_raw is not None:
        if bucket_key_raw.lower() not in ("true", "false"):
            raise e.InvalidArgument("Invalid value for x-amz-server-side-encryption-bucket-key-enabled",
                                    ArgumentName=SSE_BUCKET_KEY, ArgumentValue=bucket_key_raw)
        bucket_key = bucket_key_raw.lower() == "true" and algorithm != SSE_S3
    return SSESpec(algorithm, (kms_key or DEFAULT_KMS_KEY_ID) if algorithm != SSE_S3 else None,
                   bucket_key_enabled=bucket_key)


def sets_encryption(headers: dict[str, str]) -> bool:
    return SSE in headers or CUSTOMER + "algorithm" in headers


def read_customer_key(headers: dict[str, str]) -> bytes | None:
    """The SSE-C key of a read (GET, HEAD, attributes). SSE-S3/KMS headers have no place there."""
    if SSE in headers or SSE_KMS_KEY in headers:
        raise e.InvalidArgument("x-amz-server-side-encryption header is not supported for this operation.",
                                ArgumentName=SSE, ArgumentValue=headers.get(SSE, ""))
    return customer_key(headers)


# -- Get/Put/DeleteBucketEncryption --------------------------------------------------------------------

async def get_bucket_encryption(svc: Services, req: Request, bucket: BucketName) -> Response:
    spec = await svc.objects.get_default_sse(bucket)
    doc = root("ServerSideEncryptionConfiguration")
    rule = sub(doc, "Rule")
    default = sub(rule, "ApplyServerSideEncryptionByDefault")
    sub(default, "SSEAlgorithm", spec.algorithm)
    if spec.kms_key_id:
        sub(default, "KMSMasterKeyID", spec.kms_key_id)
    sub(rule, "BucketKeyEnabled", bool_text(spec.bucket_key_enabled))
    return xml_response(render(doc))


async def put_bucket_encryption(svc: Services, req: Request, bucket: BucketName) -> Response:
    await svc.buckets.get(bucket)
    el = await xml_body(req)
    assert el is not None
    rules = el.findall("Rule")
    if el.tag != "ServerSideEncryptionConfiguration" or len(rules) != 1:
        raise e.MalformedXML()
    default = rules[0].find("ApplyServerSideEncryptionByDefault")
    algorithm = child_text(default, "SSEAlgorithm") if default is not None else None
    if algorithm is None or algorithm.strip() not in SERVER_ALGORITHMS:
        raise e.MalformedXML()
    algorithm = algorithm.strip()
    kms_key = child_text(default, "KMSMasterKeyID") if default is not None else None
    kms_key = kms_key.strip() if kms_key else None
    if kms_key and algorithm == SSE_S3:
        raise e.InvalidArgument("a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms "
                                "or aws:kms:dsse", ArgumentName="ApplyServerSideEncryptionByDefault")
    bucket_key = (child_text(rules[0], "BucketKeyEnabled") or "false").strip().lower()
    if bucket_key not in ("true", "false"):
        raise e.MalformedXML()
    await svc.objects.set_default_sse(bucket, SSESpec(algorithm, kms_key, None, bucket_key == "true"))
    return empty(200)


async def delete_bucket_encryption(svc: Services, req: Request, bucket: BucketName) -> Response:
    await svc.objects.set_default_sse(bucket, None)
    return empty(204)
