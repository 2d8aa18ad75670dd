"""The command line in Simplified Chinese: the real `nuage` command, run with LANG=zh_CN.UTF-8, speaks
Chinese (its help pages, click's own texts, its errors, the server's banner and start-up errors), and with
LANG=C (or POSIX, en_US, nothing) the English it always spoke; every message of the ``cli`` domain has a
translation (tests fail on a new string left untranslated)."""

# ruff: noqa: RUF001  (Chinese text: its full-width punctuation is meant)

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import click
import pytest
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po

import nuage
from nuage.cli import i18n
from nuage.cli.helpformat import columns
from nuage.cli.main import main
from nuage.config import ACCESS_KEY_RULE, KNOBS, REGION_RULE, SECRET_KEY_RULE
from tests.support.server import NuageServer, free_port

NUAGE = Path(sys.executable).with_name("nuage")     # the console script of the installed package
PACKAGE = Path(nuage.__file__).parent
PO = PACKAGE / "cli" / "locale" / "zh_CN" / "LC_MESSAGES" / "cli.po"
LOCALE_VARS = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")
ZH = {"LANG": "zh_CN.UTF-8"}
FIELD = re.compile(r"\{[^{}]*\}")
ENGLISH_WORDS = re.compile(r"\b[A-Za-z][a-z]+(?: [a-z]+){3,}")     # four words or more


def run(args: list[str], locale: dict[str, str], *, extra: dict[str, str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`nuage ARGS` with only the given locale variables (and a fixed terminal width for the help pages)."""
    env = {k: v for k, v in os.environ.items() if k not in LOCALE_VARS and not k.startswith(("NUAGE_", "AWS_"))}
    env.update(locale, COLUMNS="100", **(extra or {}))
    assert NUAGE.exists(), NUAGE
    return subprocess.run([str(NUAGE), *args], capture_output=True, text=True, env=env, timeout=timeout)


def command_paths(command: click.Command = main, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every command and group of `nuage`, as the words that name it."""
    paths = [prefix]
    if isinstance(command, click.Group):
        for name, sub in sorted(command.commands.items()):
            paths += command_paths(sub, (*prefix, name))
    return paths


def catalogue() -> dict[str, str]:
    with PO.open("rb") as f:
        return {m.id: m.string for m in read_po(f) if isinstance(m.id, str) and m.id and not m.fuzzy}


# -- the help pages -----------------------------------------------------------------------------------------

def test_every_help_page_is_chinese_under_zh_cn() -> None:
    english = [msgid for msgid in catalogue() if len(msgid) > 12 and "{" not in msgid]
    for path in command_paths():
        out = run([*path, "--help"], ZH)
        assert out.returncode == 0, out.stderr
        page = out.stdout
        assert page.startswith("用法: nuage"), page        # click's "Usage:"
        assert "选项:" in page and "显示此帮助信息并退出。" in page, page
        left = [msgid for msgid in english if msgid in page]
        # and no English sentence that is not in the catalogue (a help text not marked with _())
        left += [m.group() for line in page.splitlines()[1:] for m in ENGLISH_WORDS.finditer(line)]
        assert not left, f"nuage {' '.join(path)} --help shows English: {left}"
        # wrapped as the terminal shows it (a Chinese character takes two columns), metavars left in English
        assert max(columns(line) for line in page.splitlines()) <= 78, page
        assert "[required]" not in page and "路径" not in page


def test_known_translations() -> None:
    tenant = run(["admin", "tenant", "--help"], ZH).stdout
    assert "租户（账号）。" in tenant
    assert "创建租户。" in tenant and "停用租户：其密钥将被拒绝。" in tenant
    assert "命令:" in tenant                                      # click's "Commands" heading
    quota = run(["admin", "quota", "set", "--help"], ZH).stdout
    assert "设置租户或存储桶的配额（两个上限都省略：删除配额）。" in quota
    assert "--max-bytes SIZE" in quota and "容量上限（省略：不限）" in quota   # option names stay
    serve = run(["serve", "--help"], ZH).stdout
    assert "监听端口，0 到 65535（0：任一空闲端口）。" in serve          # a setting's help (nuage.config.KNOBS)
    assert "配置项 port" in serve and "--console-port" in serve
    admin = run(["admin", "--help"], ZH).stdout
    assert "运维人员的根用户访问密钥" in admin and "AWS_ACCESS_KEY_ID" in admin


@pytest.mark.parametrize("locale", [{"LANG": "C"}, {"LANG": "POSIX"}, {"LANG": "en_US.UTF-8"}, {},
                                    {"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}, {"LANG": "zh_TW.UTF-8"}])
def test_english_elsewhere_byte_for_byte(locale: dict[str, str]) -> None:
    """C, POSIX, English, no locale at all, LC_ALL=C over a Chinese LANG, and Traditional Chinese (no
    catalogue): the same English pages as LANG=C."""
    for path in [(), ("admin",), ("admin", "tenant"), ("admin", "quota", "set"), ("serve",), ("db",)]:
        page = run([*path, "--help"], locale).stdout
        assert page == run([*path, "--help"], {"LANG": "C"}).stdout
        assert page.startswith("Usage: nuage") and "Show this message and exit." in page
    assert "Tenants (accounts)." in run(["admin", "tenant", "--help"], locale).stdout


def test_language_variable_first() -> None:
    """LANGUAGE wins over LANG, as gettext reads them."""
    page = run(["admin", "tenant", "--help"], {"LANG": "C", "LANGUAGE": "zh_CN"}).stdout
    assert "租户（账号）。" in page


def test_english_help_is_the_source_text() -> None:
    page = run(["admin", "tenant", "delete", "--help"], {"LANG": "C"}).stdout
    assert ("  Delete a tenant: its users, groups, policies and keys go with it (its keys\n  stop working).\n\n"
            "  Refused (DeleteConflict) while the tenant owns buckets: empty and delete\n  them first.\n") in page
    quota = " ".join(run(["admin", "quota", "set", "--help"], {"LANG": "C"}).stdout.split())
    assert "--max-bytes SIZE Size limit (omit: none): bytes, or a number with a unit" in quota


# -- errors -------------------------------------------------------------------------------------------------

def test_errors_in_chinese() -> None:
    bad_size = run(["admin", "quota", "set", "--tenant", "acme", "--max-bytes", "10Q"], ZH)
    assert bad_size.returncode == 2
    assert "错误：'--max-bytes' 的值无效：'10Q'：未知单位 'Q'" in bad_size.stderr
    assert "请运行 'nuage admin quota set --help' 查看帮助。" in bad_size.stderr

    no_key = run(["admin", "tenant", "create", "acme"], ZH)
    assert no_key.returncode == 2
    assert "错误：没有访问密钥：请设置 AWS_ACCESS_KEY_ID 和 AWS_SECRET_ACCESS_KEY" in no_key.stderr

    port = free_port()   # nothing listens there
    unreachable = run(["admin", "--endpoint", f"http://127.0.0.1:{port}", "tenant", "create", "acme"], ZH,
                      extra={"AWS_ACCESS_KEY_ID": "AKIAEXAMPLEEXAMPLE00", "AWS_SECRET_ACCESS_KEY": "secret-secret"})
    assert unreachable.returncode == 1
    assert unreachable.stderr.startswith(f"错误：无法连接 http://127.0.0.1:{port}：")

    unknown = run(["admin", "tenant", "create", "--bogus"], ZH)
    assert "错误：没有选项 '--bogus'。" in unknown.stderr
    both = run(["admin", "quota", "set"], ZH)
    assert "错误：--tenant 和 --bucket 须且只能指定其一" in both.stderr


def test_errors_in_english_under_c() -> None:
    bad_size = run(["admin", "quota", "set", "--tenant", "acme", "--max-bytes", "10Q"], {"LANG": "C"})
    assert "Error: Invalid value for '--max-bytes': '10Q': unknown unit 'Q' (give bytes, or a number" in bad_size.stderr
    no_key = run(["admin", "tenant", "create", "acme"], {"LANG": "C"})
    assert ("Error: no access key: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or give --access-key and "
            "--secret-key)") in no_key.stderr


def test_json_output_is_not_translated(tmp_path: Path) -> None:
    """`nuage config check` prints the settings' keys and values as they are, in any language."""
    config = tmp_path / "nuage.toml"
    config.write_text('region = "cn-hangzhou"\n')
    zh, c = run(["config", "check", str(config)], ZH), run(["config", "check", str(config)], {"LANG": "C"})
    assert zh.returncode == c.returncode == 0
    assert zh.stdout == c.stdout and "cn-hangzhou" in zh.stdout


# -- nuage serve --------------------------------------------------------------------------------------------

def test_serve_banner_in_chinese(tmp_path: Path) -> None:
    server = NuageServer(tmp_path / "data", env={**ZH, "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""},
                         root_keys_from_env=False).start()
    try:
        log = server.log()
    finally:
        assert server.stop() == 0
    assert f"Nuage S3 端点:       http://127.0.0.1:{server.port}  （区域 us-east-1，数据目录 " in log
    assert f"Web 控制台:          http://127.0.0.1:{server.console_port}/" in log
    assert "根用户访问密钥:      " in log and "根用户秘密访问密钥:  " in log
    assert "试一试: AWS_ACCESS_KEY_ID=" in log and "aws --endpoint-url" in log
    assert "Root access key" not in log

    restarted = NuageServer(tmp_path / "data", env={**ZH, "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""},
                            root_keys_from_env=False).start()
    try:
        log = restarted.log()
    finally:
        assert restarted.stop() == 0
    assert "（仅在首次启动时输出）" in log


def test_serve_start_up_errors_in_chinese(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "root-credentials.json").write_text("{")
    args = ["serve", "--data", str(data), "--port", "0", "--console-port", "0", "--workers", "1"]
    zh = run(args, ZH)
    assert zh.returncode == 1
    assert zh.stderr.startswith(f"错误：{data / 'root-credentials.json'} 不是有效的 JSON（"), zh.stderr
    assert "请从备份恢复该文件，或将其移走以创建新的根用户密钥" in zh.stderr
    c = run(args, {"LANG": "C"})
    assert c.stderr.startswith(f"Error: {data / 'root-credentials.json'} is not valid JSON ("), c.stderr

    a_file = tmp_path / "a-file"
    a_file.write_text("")
    not_a_folder = run(["serve", "--data", str(a_file)], ZH)
    assert not_a_folder.returncode == 1
    assert not_a_folder.stderr == f"错误：--data {a_file} 不是目录\n"


# -- the catalogue ------------------------------------------------------------------------------------------

def source_messages() -> set[str]:
    """What the ``cli`` domain must translate, found by Babel's extractor: the ``_()`` calls of nuage.cli
    and of nuage.server (the banner and start-up errors), of nuage.config (the settings' checks), the
    settings' help texts and the rules of names."""
    found = {m for _f, _l, m, _c, _x in extract_from_dir(str(PACKAGE / "cli"), [("**.py", "python")])}
    found |= {m for _l, m, _c, _x in extract_from_file("python", str(PACKAGE / "server.py"))}
    found |= {m for _l, m, _c, _x in extract_from_file("python", str(PACKAGE / "config.py"))}   # settings' checks
    found |= {knob.help for knob in KNOBS if knob.flag and knob.help}
    found |= {REGION_RULE, ACCESS_KEY_RULE, SECRET_KEY_RULE}      # quoted by the command line's errors
    assert all(isinstance(m, str) for m in found), "plural messages: the test needs to learn them"
    return {str(m) for m in found}


def test_every_message_is_translated() -> None:
    messages = source_messages()
    assert len(messages) > 150 and "Tenants (accounts)." in messages
    assert "Nuage S3 endpoint: {endpoint}  (region {region}, data {data})" in messages
    with PO.open("rb") as f:
        entries = {m.id: m for m in read_po(f) if m.id}
    problems = []
    for msgid in sorted(messages):
        entry = entries.get(msgid)
        if entry is None or not entry.string:
            problems.append(f"untranslated: {msgid!r}")
        elif entry.fuzzy:
            problems.append(f"fuzzy: {msgid!r}")
        elif sorted(FIELD.findall(msgid)) != sorted(FIELD.findall(str(entry.string))):
            problems.append(f"fields differ: {msgid!r} -> {entry.string!r}")
    assert not problems, "\n".join(problems) + "\n(see nuage/cli/i18n.py: how to update the catalogue)"


def test_clicks_own_texts_are_in_the_catalogue() -> None:
    messages = catalogue()
    for msgid in ("Usage:", "Options", "Commands", "Show this message and exit.", "Error: {message}",
                  "No such option {name!r}.", "Invalid value for {param_hint}: {message}",
                  "Try '{command} {option}' for help.", "Missing argument"):
        assert messages.get(msgid), msgid


def test_stale_catalogue_compiled_on_first_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A checkout whose .po changed after the install: the .mo is compiled again when the command starts
    (next to the .po, or into the user's cache when that folder cannot be written)."""
    root = tmp_path / "locale"
    shutil.copytree(PO.parent.parent.parent, root, ignore=shutil.ignore_patterns("*.mo"))
    mo = root / "zh_CN" / "LC_MESSAGES" / "cli.mo"
    assert i18n.compiled_dir(root) == root and mo.is_file()
    po = mo.with_suffix(".po")
    po.write_text(po.read_text().replace('msgstr "租户（账号）。"', 'msgstr "租户。"'))
    os.utime(po, (mo.stat().st_mtime + 10, mo.stat().st_mtime + 10))
    assert i18n.compiled_dir(root) == root
    assert "租户。".encode() in mo.read_bytes() and "租户（账号）。".encode() not in mo.read_bytes()
    assert i18n.compiled_dir(root) == root and not list(mo.parent.glob(".*.tmp"))

    mo.unlink()
    mo.mkdir()          # the .mo cannot be written there (as in an install owned by another user)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    elsewhere = i18n.compiled_dir(root)
    assert elsewhere.parent == tmp_path / "cache" / "nuage"
    compiled = elsewhere / "zh_CN" / "LC_MESSAGES" / "cli.mo"
    assert "租户。".encode() in compiled.read_bytes()
    assert i18n.compiled_dir(root) == elsewhere            # compiled once, then reused
    assert list((tmp_path / "cache" / "nuage").iterdir()) == [elsewhere]


def test_the_build_compiles_the_cli_catalogue(tmp_path: Path) -> None:
    """build_backend/nuage_build.py compiles the command line's catalogue with the console's, and the
    package data carries both."""
    import importlib.util
    import tomllib

    root = PACKAGE.parent.parent
    spec = importlib.util.spec_from_file_location("nuage_build_test", root / "build_backend" / "nuage_build.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    assert PACKAGE / "cli" / "locale" in build.LOCALE_DIRS
    copy = tmp_path / "locale"
    shutil.copytree(PO.parent.parent.parent, copy, ignore=shutil.ignore_patterns("*.mo"))
    assert build.compile_catalogues((copy,)) == [copy / "zh_CN" / "LC_MESSAGES" / "cli.mo"]
    data = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]["nuage"]
    assert {"cli/locale/*/LC_MESSAGES/*.po", "cli/locale/*/LC_MESSAGES/*.mo"} <= set(data)


def test_setting_checks_in_chinese(tmp_path: Path) -> None:
    """The checks of nuage.config (a flag, an environment variable, a configuration file) speak the locale."""
    port = run(["serve", "--port", "70000", "--data", str(tmp_path / "d")], ZH)
    assert port.returncode != 0 and "--port 70000: 不能大于 65535，实际为 70000" in port.stderr, port.stderr
    env = run(["serve", "--data", str(tmp_path / "d")], {**ZH, "NUAGE_METERING": "maybe"})
    assert "$NUAGE_METERING: 应为 1 或 0（true 或 false），实际为 'maybe'" in env.stderr, env.stderr
    config = tmp_path / "nuage.toml"
    config.write_text('prot = 9000\nworkers = "two"\n')
    checked = run(["config", "check", str(config)], ZH)
    assert "未知的键 'prot'（您是否想输入 'port'？）" in checked.stderr + checked.stdout
    assert "workers: 应为整数，实际为 'two'（str）" in checked.stderr + checked.stdout
    english = run(["serve", "--port", "70000", "--data", str(tmp_path / "d")], {"LANG": "C"})
    assert "--port 70000: must be at most 65535, got 70000" in english.stderr, english.stderr
    assert not (tmp_path / "d").exists()   # refused before anything was created
