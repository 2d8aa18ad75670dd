"""The build backend of Nuage: setuptools', which first compiles the console's message catalogues
(``src/nuage/console/locale/*/LC_MESSAGES/messages.po``, in git) to the ``messages.mo`` that gettext reads,
so that a wheel (``pip install .``) and an editable install (``pip install -e .``) carry them. The ``.mo``
files are build products (not in git); at run time, a missing or stale ``.mo`` is compiled on first use
too (see ``nuage.console.i18n``), for a checkout whose ``.po`` was edited after the install."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import build_meta as _setuptools
from setuptools.build_meta import *  # noqa: F403  (the rest of the PEP 517 / 660 hooks, unchanged)

LOCALE_DIR = Path(__file__).resolve().parent.parent / "src" / "nuage" / "console" / "locale"


def compile_catalogues(root: Path = LOCALE_DIR) -> list[Path]:
    written = []
    for po in sorted(root.glob("*/LC_MESSAGES/*.po")):
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
