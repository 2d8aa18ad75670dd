"""CreateUser, GetUser, ListUsers, DeleteUser."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from nuage.core.policy.model import root_arn, user_arn
from nuage.iam_api.protocol import Action, Call, iso, paginate, sub
from nuage.storage.meta.iam import UserRecord


def user_element(parent: ET.Element, tag: str, u: UserRecord) -> None:
    el = sub(parent, tag)
    sub(el, "Path", u.path)
    sub(el, "UserName", u.name)
    sub(el, "UserId", u.user_id)
    sub(el, "Arn", user_arn(u.account_id, u.name, u.path))
    sub(el, "CreateDate", iso(u.created))


def create_user(call: Call, result: ET.Element) -> None:
    user = call.iam.create_user(call.account, call.required("UserName"), call.params.get("Path") or "/")
    user_element(result, "User", user)


def get_user(call: Call, result: ET.Element) -> None:
    name = call.user_or_self()
    if name is None:   # the root user
        account = call.iam.account(call.account)
        el = sub(result, "User")
        sub(el, "Path", "/")
        sub(el, "UserId", account.account_id)
        sub(el, "Arn", root_arn(account.account_id))
        sub(el, "CreateDate", iso(account.created))
        return
    user_element(result, "User", call.iam.user(call.account, name))


def list_users(call: Call, result: ET.Element) -> None:
    page = paginate(call, call.iam.list_users(call.account, call.params.get("PathPrefix") or "/"),
                    lambda u: u.name.lower())
    users = sub(result, "Users")
    for u in page.items:
        user_element(users, "member", u)
    page.close(result)


def update_user(call: Call, result: ET.Element) -> None:
    call.iam.update_user(call.account, call.required("UserName"), call.params.get("NewUserName") or None,
                         call.params.get("NewPath") or None)
    call.identities.invalidate()
    call.identities.invalidate_policies()


def delete_user(call: Call, result: ET.Element) -> None:
    call.iam.delete_user(call.account, call.required("UserName"))
    call.identities.invalidate()


ACTIONS: dict[str, Action] = {
    "CreateUser": create_user,
    "GetUser": get_user,
    "ListUsers": list_users,
    "DeleteUser": delete_user,
    "UpdateUser": update_user,
}
