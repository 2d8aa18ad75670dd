"""The console's two languages: English (the source strings) and Simplified Chinese (``zh_CN``).

The language of a request: the ``lang`` cookie that the switch on every page sets, else the browser's
``Accept-Language`` (q-values respected; ``zh``, ``zh-CN``, ``zh-Hans`` and the like mean ``zh_CN``), else
English. The Chinese messages are ``locale/zh_CN/LC_MESSAGES/messages.po`` (the source of truth, in git),
compiled to ``messages.mo`` when the package is built (``build_backend.py``). An editable install (the tests)
has no build step: the ``.mo`` is compiled here on first use when it is missing or older than the ``.po``
(written next to it when the directory is writable, else only kept in memory).

A new or changed string: mark it (``{{ _("...") }}`` or ``{% trans %}`` in a template, ``ctx._("...")``
in a view, ``N_("...")`` where it is only listed), then::

    pybabel extract -F babel.cfg -o /tmp/messages.pot --no-location --sort-output --width 120 src/nuage/console
    pybabel update -i /tmp/messages.pot -d src/nuage/console/locale -l zh_CN --width 120 --no-fuzzy-matching

and translate the new entries of the ``.po``; tests/unit/test_console_i18n_catalogue.py fails while a
message is untranslated, fuzzy, or loses a placeholder. Python strings use ``{name}`` fields, templates
``%(name)s`` (Jinja's newstyle gettext)."""

from __future__ import annotations

import gettext
import io
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

DEFAULT = "en"
LOCALES = ("en", "zh_CN")
COOKIE = "lang"
NAMES = {"en": "English", "zh_CN": "简体中文"}
HTML_LANG = {"en": "en", "zh_CN": "zh-CN"}
DOMAIN = "messages"


def N_(message: str) -> str:
    """Marks ``message`` for extraction; it is translated where it is shown."""
    return message


def locale_dir() -> Path:
    return Path(str(resources.files("nuage.console").joinpath("locale")))


def catalogue_paths(locale: str) -> tuple[Path, Path]:
    """The ``.po`` and ``.mo`` of ``locale``."""
    base = locale_dir() / locale / "LC_MESSAGES"
    return base / f"{DOMAIN}.po", base / f"{DOMAIN}.mo"


def compile_catalogue(po: Path) -> bytes:
    """The ``.mo`` bytes of a ``.po`` file (fuzzy entries left out, as gettext wants)."""
    with po.open("rb") as f:
        catalog = read_po(f)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def compile_all(root: Path | None = None) -> list[Path]:
    """Compile every ``.po`` under ``root`` (the package's locale directory) to its ``.mo``; the build step."""
    written = []
    for po in sorted((root or locale_dir()).glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        mo = po.with_suffix(".mo")
        mo.write_bytes(compile_catalogue(po))
        written.append(mo)
    return written


def stale(po: Path, mo: Path) -> bool:
    return not mo.is_file() or (po.is_file() and mo.stat().st_mtime < po.stat().st_mtime)


@cache
def translations(locale: str) -> gettext.NullTranslations:
    """The messages of ``locale``; English is the source language (no catalogue)."""
    if locale not in LOCALES or locale == DEFAULT:
        return gettext.NullTranslations()
    po, mo = catalogue_paths(locale)
    if stale(po, mo):
        data = compile_catalogue(po)
        try:
            mo.write_bytes(data)
        except OSError:     # a read-only install: keep the compiled catalogue in memory only
            return gettext.GNUTranslations(io.BytesIO(data))
    with mo.open("rb") as f:
        return gettext.GNUTranslations(f)


def _primary(tag: str) -> str | None:
    """``zh-CN``, ``zh_Hans``, ``zh`` -> ``zh_CN``; ``en-GB`` -> ``en``; anything else -> None."""
    parts = tag.strip().replace("_", "-").lower().split("-")
    if parts[0] == "zh":
        # Simplified Chinese only: zh-TW / zh-HK / zh-Hant read Traditional characters
        return None if any(p in ("tw", "hk", "mo", "hant") for p in parts[1:]) else "zh_CN"
    if parts[0] == "en":
        return "en"
    return None


def from_accept_language(header: str | None) -> str:
    """The best of our locales for an ``Accept-Language`` header; English when none is acceptable."""
    best, best_q = DEFAULT, 0.0
    for item in (header or "").split(","):
        tag, _, params = item.partition(";")
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        locale = _primary(tag) if tag.strip() not in ("", "*") else None
        # the highest q wins; between equal q values, the one listed first
        if locale is not None and q > best_q and 0 < q <= 1:
            best, best_q = locale, q
    return best


def choose(cookie: str | None, accept_language: str | None) -> str:
    """The request's locale: the switch's cookie when it names one of ours, else ``Accept-Language``."""
    if cookie in LOCALES:
        return cookie
    return from_accept_language(accept_language)


def locale_of_scope(scope: dict[str, Any]) -> str:
    """:func:`choose` from an ASGI scope's headers (for answers made before the request was parsed)."""
    cookie_header = accept = ""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"cookie":
            cookie_header += ";" + value.decode("latin-1")
        elif name.lower() == b"accept-language":
            accept = value.decode("latin-1")
    cookies = [part.strip().partition("=") for part in cookie_header.split(";")]
    found = [value for name, _, value in cookies if name == COOKIE]
    return choose(found[-1] if found else None, accept)


def format_number(value: float, locale: str, pattern: str | None = None) -> str:
    """A count or a size figure in the conventions of ``locale`` (digit grouping, decimal mark)."""
    return format_decimal(value, format=pattern, locale=Locale.parse(locale))
