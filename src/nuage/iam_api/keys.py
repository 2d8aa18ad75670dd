"""CreateAccessKey, ListAccessKeys, UpdateAccessKey, DeleteAccessKey."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from nuage.iam_api.protocol import Action, Call, iso, paginate, sub


def create_access_key(call: Call, result: ET.Element) -> None:
    user = call.user_or_self()
    key, secret = call.iam.create_access_key(call.account, user)
    el = sub(result, "AccessKey")
    if key.user_name is not None:
        sub(el, "UserName", key.user_name)
    sub(el, "AccessKeyId", key.access_key)
    sub(el, "Status", key.status)
    sub(el, "SecretAccessKey", secret)
    sub(el, "CreateDate", iso(key.created))


def list_access_keys(call: Call, result: ET.Element) -> None:
    user = call.user_or_self()
    keys = call.iam.list_access_keys(call.account, user)
    page = paginate(call, keys, lambda k: k.access_key)
    meta = sub(result, "AccessKeyMetadata")
    for key in page.items:
        m = sub(meta, "member")
        if key.user_name is not None:
            sub(m, "UserName", key.user_name)
        sub(m, "AccessKeyId", key.access_key)
        sub(m, "Status", key.status)
        sub(m, "CreateDate", iso(key.created))
    page.close(result)
    if user is not None:
        sub(result, "UserName", keys[0].user_name if keys and keys[0].user_name else user)


def update_access_key(call: Call, result: ET.Element) -> None:
    key = call.required("AccessKeyId")
    call.iam.update_access_key(call.account, call.user_or_self(), key, call.required("Status"))
    call.identities.invalidate(key)


def delete_access_key(call: Call, result: ET.Element) -> None:
    key = call.required("AccessKeyId")
    call.iam.delete_access_key(call.account, call.user_or_self(), key)
    call.identities.invalidate(key)


ACTIONS: dict[str, Action] = {
    "CreateAccessKey": create_access_key,
    "ListAccessKeys": list_access_keys,
    "UpdateAccessKey": update_access_key,
    "DeleteAccessKey": delete_access_key,
}
