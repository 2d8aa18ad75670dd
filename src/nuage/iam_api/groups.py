"""CreateGroup, AddUserToGroup."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from nuage.core.policy.model import PARTITION
from nuage.iam_api.protocol import Action, Call, iso, sub


def create_group(call: Call, result: ET.Element) -> None:
    g = call.iam.create_group(call.account, call.required("GroupName"), call.params.get("Path") or "/")
    el = sub(result, "Group")
    sub(el, "Path", g.path)
    sub(el, "GroupName", g.name)
    sub(el, "GroupId", g.group_id)
    sub(el, "Arn", f"arn:{PARTITION}:iam::{g.account_id}:group{g.path}{g.name}")
    sub(el, "CreateDate", iso(g.created))


def add_user_to_group(call: Call, result: ET.Element) -> None:
    call.iam.add_user_to_group(call.account, call.required("GroupName"), call.required("UserName"))
    call.identities.invalidate_policies()


ACTIONS: dict[str, Action] = {
    "CreateGroup": create_group,
    "AddUserToGroup": add_user_to_group,
}
