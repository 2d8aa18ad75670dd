"""Hardened XML: parsing with defusedxml (no DTDs, no entities, no network) under a size limit,
and a small builder for S3 response documents."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from nuage.errors import MalformedXML

S3_NS = "http://s3.amazonaws.com/doc/2006-03-01/"
MAX_XML_BYTES = 1024 * 1024
# C0 controls other than tab, LF, CR cannot appear raw in XML 1.0; they only occur in keys and are sent as
# character references (UTF-8 continuation bytes are all >= 0x80, so a bytes match is exact).
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def parse(body: bytes, *, limit: int = MAX_XML_BYTES) -> ET.Element:
    """Parse a request document; namespaces are dropped from tag names. Raises MalformedXML."""
    if len(body) > limit or not body.strip():
        raise MalformedXML()
    try:
        root: ET.Element = SafeET.fromstring(body, forbid_dtd=True)
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise MalformedXML() from exc
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.startswith("{"):
            el.tag = el.tag.split("}", 1)[1]
    return root


def child_text(el: ET.Element, name: str) -> str | None:
    found = el.find(name)
    if found is None:
        return None
    return found.text or ""


def sub(parent: ET.Element, tag: str, text: Any = None) -> ET.Element:
    child = ET.SubElement(parent, tag)
    if text is not None:
        child.text = text if isinstance(text, str) else str(text)
    return child


def subs(parent: ET.Element, pairs: Iterable[tuple[str, Any]]) -> None:
    for tag, text in pairs:
        if text is not None:
            sub(parent, tag, text)


def root(tag: str, *, namespace: bool = True) -> ET.Element:
    el = ET.Element(tag)
    if namespace:
        el.set("xmlns", S3_NS)
    return el


def render(el: ET.Element) -> bytes:
    body: bytes = ET.tostring(el, encoding="utf-8", xml_declaration=False)
    if _CONTROL.search(body):
        body = _CONTROL.sub(lambda m: b"&#x%x;" % m.group()[0], body)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body


def bool_text(value: bool) -> str:
    return "true" if value else "false"


def escape(text: str) -> str:
    """XML text escaping; most values need none, so test before replacing."""
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    if '"' in text:
        text = text.replace('"', "&quot;")
    if "\r" in text:
        text = text.replace("\r", "&#13;")
    return text


class Writer:
    """A fast writer for large, flat response documents (listings): strings joined once."""

    def __init__(self, tag: str) -> None:
        self.root = tag
        self.parts: list[str] = [f'<?xml version="1.0" encoding="UTF-8"?>\n<{tag} xmlns="{S3_NS}">']

    def el(self, tag: str, text: object) -> None:
        value = text if isinstance(text, str) else str(text)
        self.parts.append(f"<{tag}>{escape(value)}</{tag}>")

    def raw(self, fragment: str) -> None:
        """Append already-escaped markup."""
        self.parts.append(fragment)

    def open(self, tag: str) -> None:
        self.parts.append(f"<{tag}>")

    def close(self, tag: str) -> None:
        self.parts.append(f"</{tag}>")

    def render(self) -> bytes:
        body = ("".join(self.parts) + f"</{self.root}>").encode("utf-8", "surrogateescape")
        if _CONTROL.search(body):
            body = _CONTROL.sub(lambda m: b"&#x%x;" % m.group()[0], body)
        return body
