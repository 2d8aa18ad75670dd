"""What ACL grants allow: which ACL permission an action needs, on the bucket or on an existing object, and
whether the stored grants give it to a caller (the grant model is :mod:`nuage.core.acl`)."""

from __future__ import annotations

from nuage.core.access.config import ENFORCED, bucket_acl, ownership, public_block
from nuage.core.access.services import AccessServices
from nuage.core.acl import READ, READ_ACP, WRITE, WRITE_ACP, grants_of, grants_permission
from nuage.core.identities import Identity
from nuage.storage.meta.records import BucketRecord, ObjectRecord

#: ACL permission of the bucket that grants an action (bucket-level actions and writes into the bucket).
BUCKET_ACL: dict[str, str] = {
    "s3:listbucket": READ, "s3:listbucketversions": READ, "s3:listbucketmultipartuploads": READ,
    "s3:getbucketlocation": READ,
    "s3:putobject": WRITE, "s3:deleteobject": WRITE, "s3:deleteobjectversion": WRITE,
    "s3:abortmultipartupload": WRITE, "s3:listmultipartuploadparts": WRITE,
    "s3:getbucketacl": READ_ACP, "s3:putbucketacl": WRITE_ACP,
}
#: ACL permission of an existing object that grants an action on it.
OBJECT_ACL: dict[str, str] = {
    "s3:getobject": READ, "s3:getobjectversion": READ, "s3:getobjecttagging": READ,
    "s3:getobjectversiontagging": READ, "s3:getobjectattributes": READ, "s3:getobjectversionattributes": READ,
    "s3:getobjecttorrent": READ, "s3:getobjectversiontorrent": READ,
    "s3:getobjectacl": READ_ACP, "s3:getobjectversionacl": READ_ACP,
    "s3:putobjectacl": WRITE_ACP, "s3:putobjectversionacl": WRITE_ACP,
}
#: Object-level actions decided by the bucket (they create, remove or address uploads, not an object).
BUCKET_DECIDED = frozenset({"s3:putobject", "s3:deleteobject", "s3:deleteobjectversion",
                            "s3:abortmultipartupload", "s3:listmultipartuploadparts",
                            "s3:bypassgovernanceretention"})


def _grantee_id(caller: Identity | None, resource_owner: str) -> str | None:
    """The canonical id that grants to accounts reach for this caller: an account's root user, or a user
    of another account than the resource owner (its own identity policy must then allow too)."""
    if caller is None:
        return None
    if caller.is_root or caller.canonical_id != resource_owner:
        return caller.canonical_id
    return None


async def acl_allows(svc: AccessServices, caller: Identity | None, action: str, bucket: BucketRecord,
                     obj: ObjectRecord | None) -> bool:
    """Whether an ACL grant gives ``caller`` the permission ``action`` needs: the object's ACL for actions on
    an existing object, else the bucket's."""
    action = action.lower()
    if obj is None and action == "s3:putobjectacl":
        # The ACL given with the upload of a new object: whoever may write the bucket owns what it
        # writes, so the bucket's WRITE grant decides (as on S3).
        action = "s3:putobject"
    if await ownership(svc, bucket.name) == ENFORCED:
        # ACLs are disabled: the bucket owner owns everything in it
        return caller is not None and caller.is_root and caller.canonical_id == bucket.owner
    if obj is not None and action not in BUCKET_DECIDED:
        if caller is not None and caller.is_root and caller.canonical_id == obj.owner:
            return True   # the object owner has FULL_CONTROL
        permission = OBJECT_ACL.get(action)
        if permission is None:
            return False
        grants, owner = grants_of(obj.facts.acl, obj.owner, bucket.owner), obj.owner
    else:
        permission = BUCKET_ACL.get(action)
        if caller is not None and caller.is_root and caller.canonical_id == bucket.owner:
            return True
        if permission is None:
            return False
        grants, owner = grants_of(await bucket_acl(svc, bucket.name), bucket.owner), bucket.owner
    # IgnorePublicAcls: grants to AllUsers / AuthenticatedUsers count for nothing
    ignore_public = any(g.is_public for g in grants) and bool(
        (await public_block(svc, bucket.name)).get("IgnorePublicAcls"))
    return grants_permission(grants, permission, canonical_id=_grantee_id(caller, owner),
                             authenticated=caller is not None, ignore_public=ignore_public)
