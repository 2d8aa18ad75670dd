"""What the signed-in user may do, asked of the one authorization decision (:func:`nuage.core.access.decide`:
bucket policies, identity policies, ACLs), so that the console shows only the controls that would work.
Showing is a convenience: every action is still an S3 request that S3 authorizes again."""

from __future__ import annotations

from dataclasses import dataclass

from nuage.core.access import AccessQuery, AccessServices, Conditions, Need, base_conditions, decide
from nuage.core.identities import Identity
from nuage.core.policy import required_permissions
from nuage.core.policy.actions import Level


@dataclass(frozen=True)
class Control:
    """The S3 operation behind a console control, as authorization sees it."""

    action: str
    resource: Level
    lists: bool = False
    copies: bool = False
    creates_object: bool = False
    per_key: bool = False


CONTROLS = {
    "CreateBucket": Control("s3:CreateBucket", "bucket"),
    "DeleteBucket": Control("s3:DeleteBucket", "bucket"),
    "PutBucketVersioning": Control("s3:PutBucketVersioning", "bucket"),
    "ListObjectsV2": Control("s3:ListBucket", "bucket", lists=True),
    "PutObject": Control("s3:PutObject", "object", creates_object=True),
    "DeleteObject": Control("s3:DeleteObject", "object"),
    "GetObject": Control("s3:GetObject", "object"),
}


async def can(svc: AccessServices, ident: Identity, operation: str, bucket: str | None = None,
              key: str | None = None, version_id: str | None = None) -> bool:
    """Whether ``ident`` may run the S3 ``operation`` on ``bucket``/``key`` (a probe: nothing is run)."""
    control = CONTROLS[operation]

    def conditions() -> Conditions:
        keys = base_conditions(secure=False)
        if control.lists:
            keys["s3:prefix"] = [""]
        if version_id:
            keys["s3:VersionId"] = [version_id]
        return keys

    version = version_id or None
    if control.action == "s3:CreateBucket":
        # any new bucket: only the caller's own account decides
        perms = required_permissions(control, bucket or "*")
        query = AccessQuery(ident, tuple(Need(p.action, p.resource) for p in perms), None, conditions)
    else:
        perms = required_permissions(control, bucket, key, version_id=version)
        query = AccessQuery(ident, tuple(Need(p.action, p.resource, version) for p in perms), bucket, conditions)
    decision = await decide(svc, query)
    # a missing bucket: the S3 request would be answered NoSuchBucket, not refused
    return decision.allowed or decision.bucket_missing
