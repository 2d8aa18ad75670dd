"""The console's message catalogue and language choice: every message of the sources (Python and templates,
extracted as ``pybabel extract -F babel.cfg`` does) has a Chinese translation, not fuzzy, with the same
placeholders; the catalogue holds no message the sources lost; the compiled ``.mo`` says what the ``.po``
says (a stale one is compiled again); Accept-Language and the switch's cookie pick the language."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from nuage.console import i18n
from nuage.console.context import count, human_size

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "src/nuage/console"
PO = CONSOLE / "locale/zh_CN/LC_MESSAGES/messages.po"
PLACEHOLDER = re.compile(r"%\([a-z_]+\)s|\{[a-z_]+\}")


def source_messages() -> set[str]:
    with (ROOT / "babel.cfg").open() as f:
        method_map, options_map = parse_mapping_cfg(f)
    found: set[str] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(str(CONSOLE), method_map, options_map):
        found.update(message if isinstance(message, tuple) else (message,))
    return {m for m in found if m}


def catalogue() -> dict[str, tuple[str, ...]]:
    with PO.open("rb") as f:
        cat = read_po(f)
    out: dict[str, tuple[str, ...]] = {}
    for m in cat:
        if not m.id:
            continue
        assert not m.fuzzy, f"fuzzy: {m.id!r}"
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        for msgid in m.id if isinstance(m.id, tuple) else (m.id,):
            out[msgid] = strings
    return out


def test_every_source_message_is_translated() -> None:
    sources, cat = source_messages(), catalogue()
    assert len(sources) > 250
    missing = sorted(m for m in sources if m not in cat or not all(s.strip() for s in cat[m]))
    assert missing == [], missing
    stale = sorted(set(cat) - sources)
    assert stale == [], f"in the catalogue, no longer in the sources: {stale}"


def test_translations_keep_their_placeholders() -> None:
    wrong = [(msgid, s) for msgid, strings in catalogue().items() for s in strings
             if sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(s))]
    assert wrong == []


def test_the_compiled_catalogue_says_what_the_po_says() -> None:
    zh = i18n.translations("zh_CN")
    with PO.open("rb") as f:
        messages = [m for m in read_po(f) if m.id]
    for m in messages:
        if isinstance(m.id, tuple):
            assert [zh.ngettext(m.id[0], m.id[1], n) for n in (1, 2)] == [m.string[0]] * 2, m.id
        else:
            assert zh.gettext(m.id) == m.string, m.id
    assert zh.gettext("Buckets") == "存储桶"


def test_a_stale_mo_is_compiled_again(tmp_path: Path) -> None:
    po, mo = tmp_path / "messages.po", tmp_path / "messages.mo"
    shutil.copy(PO, po)
    mo.write_bytes(i18n.compile_catalogue(po))
    assert not i18n.stale(po, mo)
    os.utime(mo, (1, 1))                          # an .mo older than its .po: compiled before an edit
    assert i18n.stale(po, mo)
    mo.unlink()
    assert i18n.stale(po, mo)
    (tmp_path / "zh_CN/LC_MESSAGES").mkdir(parents=True)
    shutil.copy(PO, tmp_path / "zh_CN/LC_MESSAGES/messages.po")
    assert i18n.compile_all(tmp_path) == [tmp_path / "zh_CN/LC_MESSAGES/messages.mo"]


@pytest.mark.parametrize(("header", "locale"), [
    (None, "en"), ("", "en"), ("en-US,en;q=0.9", "en"), ("zh-CN,zh;q=0.9,en;q=0.8", "zh_CN"),
    ("zh", "zh_CN"), ("zh-Hans", "zh_CN"), ("zh-Hans-CN", "zh_CN"), ("ZH_cn", "zh_CN"),
    ("en;q=0.9,zh-CN", "zh_CN"), ("en,zh-CN;q=0.5", "en"), ("zh-CN;q=0.4,en;q=0.6", "en"),
    ("fr-FR,de;q=0.8", "en"), ("fr,zh;q=0.3", "zh_CN"), ("zh-TW", "en"), ("zh-Hant,zh-CN;q=0.5", "zh_CN"),
    ("zh-CN;q=0", "en"), ("zh-CN;q=abc,en;q=0.1", "en"), ("*", "en"),
])
def test_accept_language(header: str | None, locale: str) -> None:
    assert i18n.from_accept_language(header) == locale


def test_the_cookie_wins_when_it_names_a_language() -> None:
    assert i18n.choose("en", "zh-CN") == "en"
    assert i18n.choose("zh_CN", "en") == "zh_CN"
    assert i18n.choose("xx", "zh-CN") == "zh_CN"
    scope = {"headers": [(b"cookie", b"a=1; lang=zh_CN"), (b"accept-language", b"en")]}
    assert i18n.locale_of_scope(scope) == "zh_CN"


def test_numbers_per_locale() -> None:
    assert human_size(1000, "en") == "1,000 B"
    assert human_size(1234567, "en") == "1.2 MiB"
    assert human_size(1536, "zh_CN") == "1.5 KiB"
    assert count(1234567, "zh_CN") == "1,234,567"
    assert count(1234567, "en") == "1,234,567"
    assert count(None) == ""
