"""What the IAM action modules share: the call, XML response building, errors and their HTTP status."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from nuage.core.iam import IAM
from nuage.core.identities import Identities, Identity

NS = "https://iam.amazonaws.com/doc/2010-05-08/"


class IAMApiError(Exception):
    def __init__(self, code: str, message: str, status: int = 400, kind: str = "Sender") -> None:
        super().__init__(message)
        self.code, self.message, self.status, self.kind = code, message, status, kind


@dataclass
class Call:
    iam: IAM
    identities: Identities
    caller: Identity
    params: dict[str, str]

    @property
    def account(self) -> str:
        return self.caller.account_id

    def required(self, name: str) -> str:
        value = self.params.get(name)
        if not value:
            raise IAMApiError("ValidationError", f"1 validation error detected: Value null at '{name[0].lower()}"
                              f"{name[1:]}' failed to satisfy constraint: Member must not be null")
        return value

    def user_or_self(self) -> str | None:
        """The UserName parameter, or the caller's own user (None for the root user) when there is none.
        An empty UserName is refused as IAM does, not read as "myself": a form with an empty user field
        would otherwise act on the caller's own keys (the console deleted its root key that way)."""
        name = self.params.get("UserName")
        if name is None:
            return self.caller.user_name
        if not name:
            raise IAMApiError("ValidationError", "1 validation error detected: Value '' at 'userName' failed to "
                              "satisfy constraint: Member must have length greater than or equal to 1")
        return name


T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_marker: str | None   # None: the last page

    def close(self, result: ET.Element) -> None:
        """IsTruncated (and Marker, the key of the next page's first item), after the listed members."""
        sub(result, "IsTruncated", "true" if self.next_marker is not None else "false")
        if self.next_marker is not None:
            sub(result, "Marker", self.next_marker)


def paginate(call: Call, items: list[T], key: Callable[[T], str]) -> Page[T]:
    """The page of ``items`` (ordered by ``key``) that the Marker and MaxItems parameters select."""
    raw_max = call.params.get("MaxItems")
    limit = 100
    if raw_max is not None:
        if not raw_max.isdigit() or not 1 <= int(raw_max) <= 1000:
            raise IAMApiError("ValidationError", f"1 validation error detected: Value '{raw_max}' at 'maxItems' "
                                                 "failed to satisfy constraint: Member must have value less than "
                                                 "or equal to 1000 and greater than or equal to 1")
        limit = int(raw_max)
    ordered = sorted(items, key=key)
    marker = call.params.get("Marker")
    if marker:
        ordered = [i for i in ordered if key(i) >= marker]
    return Page(ordered[:limit], key(ordered[limit]) if len(ordered) > limit else None)


#: Result element (or None for actions without one) built by each action.
Action = Callable[[Call, ET.Element], None]


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    el = ET.SubElement(parent, tag)
    if text is not None:
        el.text = text
    return el


def members(parent: ET.Element, tag: str) -> ET.Element:
    return sub(parent, tag)


def render_response(action: str, request_id: str, fill: Action | None, call: Call) -> bytes:
    doc = ET.Element(f"{action}Response", {"xmlns": NS})
    if fill is not None:
        result = ET.Element(f"{action}Result")
        fill(call, result)
        if len(result) or result.text:
            doc.append(result)
    meta = sub(doc, "ResponseMetadata")
    sub(meta, "RequestId", request_id)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + bytes(ET.tostring(doc, encoding="utf-8"))


def render_error(err: IAMApiError, request_id: str) -> bytes:
    doc = ET.Element("ErrorResponse", {"xmlns": NS})
    e = sub(doc, "Error")
    sub(e, "Type", err.kind)
    sub(e, "Code", err.code)
    sub(e, "Message", err.message)
    sub(doc, "RequestId", request_id)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + bytes(ET.tostring(doc, encoding="utf-8"))
