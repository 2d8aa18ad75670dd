"""The command line's two languages: English (the source strings) and Simplified Chinese (``zh_CN``).

The language is chosen as gettext chooses it, from the first of ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``
and ``LANG`` that is set (``LANG=zh_CN.UTF-8 nuage admin tenant --help``); anything without a catalogue
(``C``, ``POSIX``, ``en_US.UTF-8``, ...) gives the English source strings unchanged.

Importing this module makes ``cli`` gettext's default domain, bound to ``locale/`` next to it: the
``gettext.gettext`` calls of click (``Usage:``, ``Options:``, its errors) and of the server's banner and
start-up errors (``nuage.server``) then read this catalogue too, which carries their translations. Every
module of ``nuage.cli`` imports :func:`_` from here first, so the domain is set before any help text is
translated (help texts are translated when the commands are defined, at import).

The Chinese messages are ``locale/zh_CN/LC_MESSAGES/cli.po`` (the source of truth, in git), compiled to
``cli.mo`` when the package is built (``build_backend/nuage_build.py``). An editable install has no build
step: a ``.mo`` missing or older than its ``.po`` is compiled here when the command starts (next to the
``.po`` when the folder is writable, else once into the user's cache folder).

A new or changed string: mark it (``_("...")``, with ``{name}`` fields filled by ``.format`` after the
translation), then::

    python -m nuage.cli.i18n > /tmp/cli.pot
    pybabel update -i /tmp/cli.pot -d src/nuage/cli/locale -D cli -l zh_CN --width 120 --no-fuzzy-matching

and translate the new entries of the ``.po``. The template holds the ``_()`` calls of ``nuage.cli`` and
``nuage.server``, the settings' help texts (``nuage.config.KNOBS``: ``nuage serve --help`` shows them), the
rules that errors quote (``nuage.config.REGION_RULE``, ...) and click's own messages (a new click version may
bring new ones). tests/api/test_cli_i18n.py fails while one of ours is untranslated, fuzzy, or loses a
``{field}``. Three of click's stay untranslated on purpose: ``file``, ``directory`` and ``path``, of which
click makes metavars (``--data PATH``, beside the options' own ``FILE`` and ``DIR``), and the ``--version``
line, which scripts read."""

from __future__ import annotations

import gettext
import hashlib
import io
import os
from importlib import resources
from pathlib import Path

import click

DOMAIN = "cli"
CLICK_COMMENT = "click's own message (gettext's default domain)"


def locale_dir() -> Path:
    return Path(str(resources.files("nuage.cli").joinpath("locale")))


def compile_catalogue(po: Path) -> bytes:
    """The ``.mo`` bytes of a ``.po`` file (fuzzy entries left out, as gettext wants)."""
    from babel.messages.mofile import write_mo  # (only when a catalogue is compiled: a quicker start)
    from babel.messages.pofile import read_po

    with po.open("rb") as f:
        catalog = read_po(f)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def _stale(po: Path, mo: Path) -> bool:
    return not mo.is_file() or mo.stat().st_mtime < po.stat().st_mtime


def _write(path: Path, data: bytes) -> None:
    """Write ``path`` at once (another `nuage` starting meanwhile reads the old file or the new one)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def compiled_dir(root: Path | None = None) -> Path:
    """The folder gettext reads the ``.mo`` files from: ``root`` (the package's locale folder) once every
    stale ``.po`` there is compiled next to it; when ``root`` cannot be written (an install owned by another
    user), a folder of the user's cache named after the catalogues' contents (compiled once, then reused)."""
    root = root or locale_dir()
    catalogues = sorted(root.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    stale = [po for po in catalogues if _stale(po, po.with_suffix(".mo"))]
    try:
        for po in stale:
            _write(po.with_suffix(".mo"), compile_catalogue(po))
        return root
    except OSError:
        pass
    digest = hashlib.sha256(b"".join(po.read_bytes() for po in catalogues)).hexdigest()[:16]
    try:
        cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nuage" / f"cli-locale-{digest}"
        for po in catalogues:
            mo = cache / po.relative_to(root).with_suffix(".mo")
            if not mo.is_file():
                mo.parent.mkdir(parents=True, exist_ok=True)
                _write(mo, compile_catalogue(po))
    except (OSError, RuntimeError):   # nowhere to write (or no home): the .mo files there are, if any
        return root
    return cache


def install() -> None:
    """Make ``cli`` gettext's default domain (read by click, this package and the server's banner)."""
    gettext.bindtextdomain(DOMAIN, str(compiled_dir()))
    gettext.textdomain(DOMAIN)


def _(message: str) -> str:
    """``message`` in the language of the environment (see the module's docstring)."""
    return gettext.gettext(message)


install()


def source_messages() -> list[str]:
    """Every message of the domain: the ``_()`` calls of ``nuage.cli`` and ``nuage.server`` (as Babel's
    extractor finds them), the settings' help texts, which ``nuage serve --help`` shows, and the rules of
    names and keys that the command line's errors quote (``nuage.config``)."""
    from babel.messages.extract import extract_from_dir, extract_from_file

    from nuage.config import ACCESS_KEY_RULE, KNOBS, REGION_RULE, SECRET_KEY_RULE

    package = Path(str(resources.files("nuage")))
    found = [m for _f, _l, m, _c, _x in extract_from_dir(str(package / "cli"), [("**.py", "python")])]
    found += [m for _l, m, _c, _x in extract_from_file("python", str(package / "server.py"))]
    found += [knob.help for knob in KNOBS if knob.flag and knob.help]
    found += [REGION_RULE, ACCESS_KEY_RULE, SECRET_KEY_RULE]
    messages: list[str] = []
    for message in found:
        text = message if isinstance(message, str) else message[0]
        if text not in messages:
            messages.append(text)
    return messages


def click_messages() -> list[str | tuple[str, ...]]:
    """click's own messages (singular, or singular and plural), as Babel's extractor finds them."""
    from babel.messages.extract import extract_from_dir

    folder = Path(click.__file__).parent
    found: list[str | tuple[str, ...]] = [m for _f, _l, m, _c, _x in extract_from_dir(str(folder),
                                                                                      [("**.py", "python")])]
    return [*found, "required"]   # (click translates it from a variable: _(extra["required"]))


def main() -> None:
    """Print the domain's template (``.pot``) on stdout."""
    import sys

    from babel.messages.catalog import Catalog
    from babel.messages.pofile import write_po

    catalog = Catalog(domain=DOMAIN, project="Nuage")
    for message in source_messages():
        catalog.add(message)
    for extracted in click_messages():
        if extracted not in catalog:
            catalog.add(extracted, auto_comments=[CLICK_COMMENT])
    out = io.BytesIO()
    write_po(out, catalog, width=120, omit_header=False, sort_output=True)
    sys.stdout.buffer.write(out.getvalue())


if __name__ == "__main__":  # pragma: no cover
    main()
