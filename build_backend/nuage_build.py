"""The build backend of Nuage: setuptools', which first compiles the message catalogues of the console
(``src/nuage/console/locale/*/LC_MESSAGES/messages.po``) and of the command line
(``src/nuage/cli/locale/*/LC_MESSAGES/cli.po``), both in git, to the ``.mo`` files that gettext reads, so
that a wheel (``pip install .``) and an editable install (``pip install -e .``) carry them. The ``.mo``
files are build products (not in git); at run time, a missing or stale ``.mo`` is compiled on first use
too (see ``nuage.console.i18n`` and ``nuage.cli.i18n``), for a checkout whose ``.po`` was edited after the
install."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403  (the rest of the PEP 517 / 660 hooks, unchanged)

PACKAGE_DIR = Path(__file__).resolve().parent.parent / "src" / "nuage"
LOCALE_DIRS = (PACKAGE_DIR / "console" / "locale", PACKAGE_DIR / "cli" / "locale")


def compile_catalogues(roots: tuple[Path, ...] = LOCALE_DIRS) -> list[Path]:
    written = []
    for po in sorted(po for root in roots for po in root.glob("*/LC_MESSAGES/*.po")):
        with po.open("rb") as f:
            catalog = read_po(f)
        mo = po.with_suffix(".mo")
        with mo.open("wb") as f:
            write_mo(f, catalog, use_fuzzy=False)
        written.append(mo)
    return written


def build_wheel(wheel_directory: str, config_settings: dict[str, Any] | None = None,
                metadata_directory: str | None = None) -> str:
    compile_catalogues()
    return _setuptools.build_wheel(wheel_directory, config_settings, metadata_directory)


def build_editable(wheel_directory: str, config_settings: dict[str, Any] | None = None,
                   metadata_directory: str | None = None) -> str:
    compile_catalogues()
    return _setuptools.build_editable(wheel_directory, config_settings, metadata_directory)
