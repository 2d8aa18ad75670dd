"""Users and keys of the tenant (account): IAM users with their keys and the access the console gives
them (an inline policy named ``console-access``), and the signed-in user's own keys. Every action is an
IAM API call as the signed-in user, so IAM permissions apply as they do to boto3's ``iam`` client."""

from __future__ import annotations

import asyncio
import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import unquote

from nuage import xml
from nuage.console.context import Ctx, Route
from nuage.console.gateway import S3Failure
from nuage.console.http import Response, redirect, url
from nuage.console.i18n import N_
from nuage.console.passwords import PasswordError
from nuage.core import iam as core
from nuage.core.policy import Decision, RequestContext, evaluate
from nuage.core.policy.model import user_arn

POLICY_NAME = "console-access"
ACCESS: dict[str, dict[str, object] | None] = {
    "read-only": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["s3:Get*", "s3:List*"], "Resource": "*"}]},
    "read-write": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]},
    "none": None,
}
ACCESS_LABELS = {"read-only": N_("Read only (S3)"), "read-write": N_("Read and write (S3)"), "none": N_("No access")}


@dataclass
class Key:
    access_key: str
    status: str
    created: str


@dataclass
class User:
    name: str
    created: str
    keys: list[Key] = field(default_factory=list)
    policies: list[str] = field(default_factory=list)
    access: str = "custom"
    has_password: bool = False


def _members(doc: ET.Element, container: str) -> list[ET.Element]:
    found = next(doc.iter(container), None)
    return list(found.iter("member")) if found is not None else []


def _text(el: ET.Element, name: str) -> str:
    return xml.child_text(el, name) or ""


async def _keys(ctx: Ctx, user: str | None) -> list[Key]:
    reply = await ctx.iam("ListAccessKeys", [("UserName", user)] if user else [])
    return [Key(_text(m, "AccessKeyId"), _text(m, "Status"), _text(m, "CreateDate"))
            for m in _members(reply.document(), "AccessKeyMetadata")]


async def _access(ctx: Ctx, user: User) -> None:
    reply = await ctx.iam("ListUserPolicies", [("UserName", user.name)])
    user.policies = [m.text or "" for m in _members(reply.document(), "PolicyNames")]
    if POLICY_NAME not in user.policies:
        user.access = "none" if not user.policies else "custom"
        return
    doc = (await ctx.iam("GetUserPolicy", [("UserName", user.name), ("PolicyName", POLICY_NAME)])).document()
    policy = json.loads(unquote(xml.child_text(next(doc.iter("GetUserPolicyResult")), "PolicyDocument") or "{}"))
    user.access = next((name for name, p in ACCESS.items() if p == policy), "custom")


async def _page(ctx: Ctx, status: int = 200, error: str = "", secret: tuple[str, str, str] | None = None) -> Response:
    users: list[User] = []
    list_error = ""
    try:
        doc = (await ctx.iam("ListUsers")).document()
        users = [User(_text(m, "UserName"), _text(m, "CreateDate")) for m in _members(doc, "Users")]
        await asyncio.gather(*(_fill(ctx, u) for u in users))
    except S3Failure as exc:
        list_error = ctx._("You may not list the users of this account ({code}).", code=exc.code)
    try:
        own = await _keys(ctx, None)
    except S3Failure:
        own = []
    ident = ctx.user
    return ctx.render("users.html", status=status, section="users", users=users, own=own, error=error,
                      list_error=list_error, secret=secret, access_labels=ACCESS_LABELS, account=ident.account_id,
                      is_root=ident.is_root)


async def _fill(ctx: Ctx, user: User) -> None:
    user.keys = await _keys(ctx, user.name)
    await _access(ctx, user)
    user.has_password = await ctx.console.passwords.has(ctx.user.account_id, user.name)


def _may_set_password(ctx: Ctx, user_name: str) -> bool:
    """The account's root user, or a user whose policies allow iam:UpdateLoginProfile on that user."""
    ident = ctx.user
    if ident.is_root:
        return True
    request = RequestContext(ident.principal(), "iam:UpdateLoginProfile", user_arn(ident.account_id, user_name))
    return evaluate(ctx.console.services.identities.policies(ident), request) is Decision.ALLOW


async def set_password(ctx: Ctx) -> Response:
    name = ctx.req.form.get("name", "")
    remove = ctx.req.form.get("remove") == "1"
    if not _may_set_password(ctx, name):
        return await _page(ctx, status=403, error=ctx._(
            "You may not set the console password of {name} (AccessDenied).", name=name))
    try:
        await ctx.console.passwords.set(ctx.user.account_id, name, None if remove else ctx.req.form.get("password", ""))
    except PasswordError as exc:
        return await _page(ctx, status=400, error=ctx._(str(exc)))
    except core.NoSuchEntity:
        return await _page(ctx, status=404, error=ctx._("There is no user {name} in this account.", name=name))
    return redirect(url("/users", notice=(ctx._("Console password of {name} removed.") if remove else
                                     ctx._("Console password of {name} set.")).format(name=name)))


async def users_page(ctx: Ctx) -> Response:
    return await _page(ctx)


async def _apply_access(ctx: Ctx, name: str, access: str) -> None:
    policy = ACCESS.get(access)
    if policy is None:
        try:
            await ctx.iam("DeleteUserPolicy", [("UserName", name), ("PolicyName", POLICY_NAME)])
        except S3Failure as exc:
            if exc.code != "NoSuchEntity":
                raise
        return
    await ctx.iam("PutUserPolicy", [("UserName", name), ("PolicyName", POLICY_NAME),
                                    ("PolicyDocument", json.dumps(policy))])


async def _attempt(ctx: Ctx, what: str, done: str, *calls: tuple[str, list[tuple[str, str]]]) -> Response:
    try:
        for action, params in calls:
            await ctx.iam(action, params)
    except S3Failure as exc:
        return await _page(ctx, status=exc.status, error=f"{ctx._(what)}: {exc.message} ({exc.code})")
    return redirect(url("/users", notice=done))


async def create_user(ctx: Ctx) -> Response:
    name = ctx.req.form.get("name", "").strip()
    access = ctx.req.form.get("access", "read-only")
    try:
        await ctx.iam("CreateUser", [("UserName", name)])
        await _apply_access(ctx, name, access)
    except S3Failure as exc:
        return await _page(ctx, status=exc.status, error=ctx._(
            "The user was not created: {message} ({code})", message=exc.message, code=exc.code))
    return redirect(url("/users", notice=ctx._("User {name} created.", name=name)))


async def set_access(ctx: Ctx) -> Response:
    name = ctx.req.form.get("name", "")
    access = ctx.req.form.get("access", "")
    if access not in ACCESS:
        return await _page(ctx, status=400, error=ctx._("Choose one of the access levels."))
    try:
        await _apply_access(ctx, name, access)
    except S3Failure as exc:
        return await _page(ctx, status=exc.status, error=ctx._("The access was not changed: {message} ({code})",
            message=exc.message, code=exc.code))
    return redirect(url("/users", notice=f"{name}: {ctx._(ACCESS_LABELS[access])}."))


async def delete_user(ctx: Ctx) -> Response:
    """Delete a user with its keys and inline policies (IAM refuses to delete a user that has them)."""
    name = ctx.req.form.get("name", "")
    try:
        for key in await _keys(ctx, name):
            await ctx.iam("DeleteAccessKey", [("UserName", name), ("AccessKeyId", key.access_key)])
        doc = (await ctx.iam("ListUserPolicies", [("UserName", name)])).document()
        for m in _members(doc, "PolicyNames"):
            await ctx.iam("DeleteUserPolicy", [("UserName", name), ("PolicyName", m.text or "")])
        await ctx.iam("DeleteUser", [("UserName", name)])
        await asyncio.to_thread(ctx.console.meta.set_console_password, ctx.user.account_id, name, None)
    except S3Failure as exc:
        return await _page(ctx, status=exc.status, error=ctx._(
            "The user was not deleted: {message} ({code})", message=exc.message, code=exc.code))
    return redirect(url("/users", notice=ctx._("User {name} deleted.", name=name)))


def _user_param(ctx: Ctx) -> list[tuple[str, str]]:
    name = ctx.req.form.get("user", "")
    return [("UserName", name)] if name else []


async def create_key(ctx: Ctx) -> Response:
    try:
        doc = (await ctx.iam("CreateAccessKey", _user_param(ctx))).document()
    except S3Failure as exc:
        return await _page(ctx, status=exc.status, error=ctx._(
            "No key was created: {message} ({code})", message=exc.message, code=exc.code))
    key = next(doc.iter("AccessKey"))
    owner = _text(key, "UserName") or ctx._("you")
    return await _page(ctx, secret=(owner, _text(key, "AccessKeyId"), _text(key, "SecretAccessKey")))


async def update_key(ctx: Ctx) -> Response:
    key = ctx.req.form.get("key", "")
    status = "Inactive" if ctx.req.form.get("status") == "Inactive" else "Active"
    done = ctx._("Key {key} is now inactive.", key=key) if status == "Inactive" else \
        ctx._("Key {key} is now active.", key=key)
    return await _attempt(ctx, N_("The key was not changed"), done,
                          ("UpdateAccessKey", [*_user_param(ctx), ("AccessKeyId", key), ("Status", status)]))


async def delete_key(ctx: Ctx) -> Response:
    key = ctx.req.form.get("key", "")
    if key == ctx.user.access_key:
        return await _page(ctx, status=409, error=ctx._("This is the key you are signed in with: sign in with another "
                                                         "key first to delete it."))
    return await _attempt(ctx, N_("The key was not deleted"), ctx._("Key {key} deleted.", key=key),
                          ("DeleteAccessKey", [*_user_param(ctx), ("AccessKeyId", key)]))


ROUTES = [
    Route("GET", r"/users", users_page),
    Route("POST", r"/users/create", create_user),
    Route("POST", r"/users/access", set_access),
    Route("POST", r"/users/delete", delete_user),
    Route("POST", r"/users/password", set_password),
    Route("POST", r"/users/keys/create", create_key),
    Route("POST", r"/users/keys/update", update_key),
    Route("POST", r"/users/keys/delete", delete_key),
]
