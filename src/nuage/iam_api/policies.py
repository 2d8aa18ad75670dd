"""Inline policies of users and groups: Put/Get/List/DeleteUserPolicy, Put/Get/DeleteGroupPolicy.
Documents are returned URL-encoded, as IAM does (SDKs decode them)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import quote

from nuage.iam_api.protocol import Action, Call, sub


def _put(kind: str, holder_param: str) -> Action:
    def put(call: Call, result: ET.Element) -> None:
        call.iam.put_policy(call.account, kind, call.required(holder_param), call.required("PolicyName"),
                            call.required("PolicyDocument"))
        call.identities.invalidate_policies()
    return put


def _get(kind: str, holder_param: str) -> Action:
    def get(call: Call, result: ET.Element) -> None:
        holder, name, doc = call.iam.get_policy(call.account, kind, call.required(holder_param),
                                                call.required("PolicyName"))
        sub(result, holder_param, holder)
        sub(result, "PolicyName", name)
        sub(result, "PolicyDocument", quote(doc, safe=""))
    return get


def _delete(kind: str, holder_param: str) -> Action:
    def delete(call: Call, result: ET.Element) -> None:
        call.iam.delete_policy(call.account, kind, call.required(holder_param), call.required("PolicyName"))
        call.identities.invalidate_policies()
    return delete


def list_user_policies(call: Call, result: ET.Element) -> None:
    names = sub(result, "PolicyNames")
    for name in call.iam.list_policies(call.account, "user", call.required("UserName")):
        sub(names, "member", name)
    sub(result, "IsTruncated", "false")


ACTIONS: dict[str, Action] = {
    "PutUserPolicy": _put("user", "UserName"),
    "GetUserPolicy": _get("user", "UserName"),
    "ListUserPolicies": list_user_policies,
    "DeleteUserPolicy": _delete("user", "UserName"),
    "PutGroupPolicy": _put("group", "GroupName"),
    "GetGroupPolicy": _get("group", "GroupName"),
    "DeleteGroupPolicy": _delete("group", "GroupName"),
}
