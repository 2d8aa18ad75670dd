"""Inline policies of users and groups: Put/Get/List/DeleteUserPolicy, Put/Get/DeleteGroupPolicy.
Documents are returned URL-encoded, as IAM does (SDKs decode them)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import quote

from nuage.iam_api.protocol import Action, Call, paginate, sub


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


def _list(kind: str, holder_param: str) -> Action:
    def list_policies(call: Call, result: ET.Element) -> None:
        page = paginate(call, call.iam.list_policies(call.account, kind, call.required(holder_param)), str.lower)
        names = sub(result, "PolicyNames")
        for name in page.items:
            sub(names, "member", name)
        page.close(result)
    return list_policies


def _list_attached(kind: str, holder_param: str) -> Action:
    """Managed policies are not supported: a holder that exists has none attached."""
    def list_attached(call: Call, result: ET.Element) -> None:
        call.iam.list_policies(call.account, kind, call.required(holder_param))   # NoSuchEntity check
        sub(result, "AttachedPolicies")
        sub(result, "IsTruncated", "false")
    return list_attached


ACTIONS: dict[str, Action] = {
    "PutUserPolicy": _put("user", "UserName"),
    "GetUserPolicy": _get("user", "UserName"),
    "ListUserPolicies": _list("user", "UserName"),
    "ListAttachedUserPolicies": _list_attached("user", "UserName"),
    "DeleteUserPolicy": _delete("user", "UserName"),
    "PutGroupPolicy": _put("group", "GroupName"),
    "GetGroupPolicy": _get("group", "GroupName"),
    "DeleteGroupPolicy": _delete("group", "GroupName"),
    "ListGroupPolicies": _list("group", "GroupName"),
    "ListAttachedGroupPolicies": _list_attached("group", "GroupName"),
}
