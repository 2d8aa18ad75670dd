"""CreateGroup, GetGroup, ListGroups, ListGroupsForUser, UpdateGroup, DeleteGroup, AddUserToGroup,
RemoveUserFromGroup."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from nuage.core.policy.model import PARTITION
from nuage.iam_api.protocol import Action, Call, iso, paginate, sub
from nuage.iam_api.users import user_element
from nuage.storage.meta.iam import GroupRecord


def group_element(parent: ET.Element, tag: str, g: GroupRecord) -> None:
    el = sub(parent, tag)
    sub(el, "Path", g.path)
    sub(el, "GroupName", g.name)
    sub(el, "GroupId", g.group_id)
    sub(el, "Arn", f"arn:{PARTITION}:iam::{g.account_id}:group{g.path}{g.name}")
    sub(el, "CreateDate", iso(g.created))


def create_group(call: Call, result: ET.Element) -> None:
    g = call.iam.create_group(call.account, call.required("GroupName"), call.params.get("Path") or "/")
    group_element(result, "Group", g)


def get_group(call: Call, result: ET.Element) -> None:
    g, members = call.iam.group_members(call.account, call.required("GroupName"))
    group_element(result, "Group", g)
    page = paginate(call, members, lambda u: u.name.lower())
    users = sub(result, "Users")
    for u in page.items:
        user_element(users, "member", u)
    page.close(result)


def list_groups(call: Call, result: ET.Element) -> None:
    page = paginate(call, call.iam.list_groups(call.account, call.params.get("PathPrefix") or "/"),
                    lambda g: g.name.lower())
    groups = sub(result, "Groups")
    for g in page.items:
        group_element(groups, "member", g)
    page.close(result)


def list_groups_for_user(call: Call, result: ET.Element) -> None:
    page = paginate(call, call.iam.groups_for_user(call.account, call.required("UserName")),
                    lambda g: g.name.lower())
    groups = sub(result, "Groups")
    for g in page.items:
        group_element(groups, "member", g)
    page.close(result)


def update_group(call: Call, result: ET.Element) -> None:
    call.iam.update_group(call.account, call.required("GroupName"), call.params.get("NewGroupName") or None,
                          call.params.get("NewPath") or None)
    call.identities.invalidate_policies()


def delete_group(call: Call, result: ET.Element) -> None:
    call.iam.delete_group(call.account, call.required("GroupName"))
    call.identities.invalidate_policies()


def add_user_to_group(call: Call, result: ET.Element) -> None:
    call.iam.add_user_to_group(call.account, call.required("GroupName"), call.required("UserName"))
    call.identities.invalidate_policies()


def remove_user_from_group(call: Call, result: ET.Element) -> None:
    call.iam.remove_user_from_group(call.account, call.required("GroupName"), call.required("UserName"))
    call.identities.invalidate_policies()


ACTIONS: dict[str, Action] = {
    "CreateGroup": create_group,
    "GetGroup": get_group,
    "ListGroups": list_groups,
    "ListGroupsForUser": list_groups_for_user,
    "UpdateGroup": update_group,
    "DeleteGroup": delete_group,
    "AddUserToGroup": add_user_to_group,
    "RemoveUserFromGroup": remove_user_from_group,
}
