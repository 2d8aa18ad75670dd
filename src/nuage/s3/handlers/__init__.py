"""One module per operation family; HANDLERS maps each router operation to its handler."""

from __future__ import annotations

from nuage.s3.context import Handler
from nuage.s3.handlers import (
    acl,
    attributes,
    buckets,
    copy,
    cors,
    encryption,
    lifecycle,
    listing,
    lock,
    multidelete,
    multipart,
    objects,
    ownership,
    policy,
    post,
    public_access,
    replication,
    select,
    tagging,
    website,
)

HANDLERS: dict[str, Handler] = {
    **buckets.HANDLERS,
    **objects.HANDLERS,
    **copy.HANDLERS,
    **listing.HANDLERS,
    **multipart.HANDLERS,
    **multidelete.HANDLERS,
    **tagging.HANDLERS,
    **post.HANDLERS,
    **acl.HANDLERS,
    **attributes.HANDLERS,
    **policy.HANDLERS,
    **encryption.HANDLERS,
    **lock.HANDLERS,
    **lifecycle.HANDLERS,
    **cors.HANDLERS,
    **website.HANDLERS,
    **ownership.HANDLERS,
    **public_access.HANDLERS,
    **replication.HANDLERS,
    **select.HANDLERS,
}
