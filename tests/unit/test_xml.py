"""nuage.xml: hardened parsing (no DTDs, no entities, size limit) and namespace stripping."""

from __future__ import annotations

import pytest

from nuage import xml
from nuage.errors import MalformedXML

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<Tagging><TagSet><Tag><Key>k</Key><Value>&lol4;</Value></Tag></TagSet></Tagging>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Delete><Object><Key>&xxe;</Key></Object></Delete>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE Delete SYSTEM "http://127.0.0.1:1/evil.dtd">
<Delete><Object><Key>k</Key></Object></Delete>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE d [<!ENTITY % p SYSTEM "http://127.0.0.1:1/x"> %p;]>
<Delete/>"""


@pytest.mark.parametrize("doc", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD, PARAMETER_ENTITY],
                         ids=["billion-laughs", "external-entity", "external-dtd", "parameter-entity"])
def test_dtds_and_entities_rejected(doc: bytes) -> None:
    with pytest.raises(MalformedXML):
        xml.parse(doc)


@pytest.mark.parametrize("doc", [b"", b"   ", b"<a>", b"<a></b>", b"not xml", b"<a/><b/>", b"\xff\xfe<a/>"])
def test_malformed_rejected(doc: bytes) -> None:
    with pytest.raises(MalformedXML):
        xml.parse(doc)


def test_oversized_rejected() -> None:
    doc = b"<Delete>" + b"<Object><Key>k</Key></Object>" * (xml.MAX_XML_BYTES // 20) + b"</Delete>"
    assert len(doc) > xml.MAX_XML_BYTES
    with pytest.raises(MalformedXML):
        xml.parse(doc)


def test_custom_limit() -> None:
    doc = b"<a>" + b"x" * 100 + b"</a>"
    assert xml.parse(doc, limit=200).text == "x" * 100
    with pytest.raises(MalformedXML):
        xml.parse(doc, limit=50)


def test_namespaces_stripped() -> None:
    doc = (b'<?xml version="1.0" encoding="UTF-8"?>'
           b'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
           b"<Status>Enabled</Status></VersioningConfiguration>")
    root = xml.parse(doc)
    assert root.tag == "VersioningConfiguration"
    assert xml.child_text(root, "Status") == "Enabled"


def test_prefixed_namespaces_stripped() -> None:
    doc = b'<s3:Delete xmlns:s3="http://s3.amazonaws.com/doc/2006-03-01/"><s3:Quiet>true</s3:Quiet></s3:Delete>'
    root = xml.parse(doc)
    assert root.tag == "Delete"
    assert [el.tag for el in root] == ["Quiet"]


def test_plain_document_and_unicode() -> None:
    root = xml.parse("<Tagging><TagSet><Tag><Key>clé</Key><Value>値</Value></Tag></TagSet></Tagging>".encode())
    tag = root.find("TagSet/Tag")
    assert tag is not None
    assert xml.child_text(tag, "Key") == "clé"
    assert xml.child_text(tag, "Value") == "値"
    assert xml.child_text(tag, "Missing") is None


def test_child_text_empty_element() -> None:
    assert xml.child_text(xml.parse(b"<a><b/></a>"), "b") == ""


def test_render_roundtrip() -> None:
    el = xml.root("ListAllMyBucketsResult")
    xml.sub(el, "Name", "a & <b>")
    xml.subs(el, [("Count", 3), ("Skipped", None)])
    out = xml.render(el)
    assert out.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    back = xml.parse(out)
    assert back.tag == "ListAllMyBucketsResult"
    assert xml.child_text(back, "Name") == "a & <b>"
    assert xml.child_text(back, "Count") == "3"
    assert back.find("Skipped") is None
    assert xml.bool_text(True) == "true" and xml.bool_text(False) == "false"
