"""`nuage serve --config FILE` and `nuage config check FILE` (issue 17): one table of settings gives the flags,
the file's keys and the environment variables; a flag wins over its variable, which wins over the file,
which wins over the default; a typo or a wrong type in the file is an error naming the key (and its line)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import click
import pytest

from nuage.cli.main import serve
from nuage.config import KNOBS, load_file
from tests.api.test_serve_startup import nuage
from tests.support.server import NuageServer, free_port, listens

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "deploy" / "nuage.toml"
ON_PG = os.environ.get("NUAGE_TEST_DB") == "postgresql"


# -- the table -------------------------------------------------------------------------------------------------
def test_every_serve_option_has_a_key_and_every_key_one_setting() -> None:
    options = {p.name for p in serve.params if isinstance(p, click.Option)} - {"config_file", "help"}
    assert {k.name for k in KNOBS if k.flag} == options
    flags = {opt for p in serve.params if isinstance(p, click.Option) for opt in p.opts}
    assert {k.flag for k in KNOBS if k.flag} <= flags
    keys = [k.key for k in KNOBS]
    assert len(keys) == len(set(keys)), "a key names two settings"
    envs = [k.env for k in KNOBS if k.env]
    assert len(envs) == len(set(envs))


def test_the_example_lists_every_key_with_its_default() -> None:
    text = EXAMPLE.read_text()
    lines = {m.group(1): m.group(0) for m in re.finditer(r"^# ([a-z_]+) = .*$", text, re.M)}
    assert set(lines) == {k.key for k in KNOBS}, set(lines) ^ {k.key for k in KNOBS}
    uncommented = "\n".join(line[2:] for line in lines.values())
    values = tomllib.loads(uncommented)
    for knob in KNOBS:
        default = knob.default
        if default is None or knob.secret:
            assert "default" in lines[knob.key] or knob.key in ("tls_key", "root_secret_key"), lines[knob.key]
        elif knob.choices:
            assert values[knob.key] == default and all(c in lines[knob.key] for c in knob.choices), lines[knob.key]
        else:
            assert str(values[knob.key]) == str(default), (knob.key, values[knob.key], default)
    # every value shown has the type its key takes
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"nuage-example-{os.getpid()}.toml"
    path.write_text(uncommented)
    try:
        assert set(load_file(path)) == {k.name for k in KNOBS}
    finally:
        path.unlink()


def test_the_settings_page_gives_every_key() -> None:
    doc = (ROOT / "docs" / "settings.md").read_text()
    for knob in KNOBS:
        name = knob.flag or knob.env
        rows = [line for line in doc.splitlines() if line.startswith(f"| `{name}")]
        assert rows and rows[0].rstrip().endswith(f"| `{knob.key}` |"), (knob.key, rows)


# -- nuage config check -----------------------------------------------------------------------------------------
def test_the_example_checks(tmp_path: Path) -> None:
    result = nuage("config", "check", str(EXAMPLE), root_keys=False)
    assert result.returncode == 0, result.stderr
    shown = {key: value for key, value, _ in re.findall(r"^(\S+)\s+(.*\S)\s+\((.*)\)$", result.stdout, re.M)}
    assert set(shown) == {k.key for k in KNOBS}
    assert shown["port"] == "9000" and shown["region"] == "us-east-1"


def test_check_masks_secrets_and_names_sources(tmp_path: Path) -> None:
    conf = tmp_path / "nuage.toml"
    conf.write_text('port = 9100\nregion = "eu-west-3"\ndb = "postgresql://nuage:hunter2secret@db.example:5432/n"\n'
                    'root_secret_key = "very-secret-root-key-1"\n'
                    'master_key = "c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0MTI="\n')
    result = nuage("config", "check", str(conf), root_keys=False, env_extra={"NUAGE_REGION": "ap-south-1"})
    assert result.returncode == 0, result.stderr
    assert "hunter2secret" not in result.stdout and "very-secret-root-key-1" not in result.stdout
    assert "c2VjcmV0" not in result.stdout
    lines = {line.split()[0]: line for line in result.stdout.splitlines()}
    assert "postgresql://nuage:***@db.example:5432/n" in lines["db"]
    assert "9100" in lines["port"] and f"({conf})" in lines["port"]
    assert "ap-south-1" in lines["region"] and "($NUAGE_REGION)" in lines["region"]
    assert "(default)" in lines["host"]


def test_check_refuses_typos_and_wrong_types_with_their_lines(tmp_path: Path) -> None:
    conf = tmp_path / "nuage.toml"
    conf.write_text('port = 9100\nprot = 9200\nregion = 3\nworkers = "two"\nfsync = "no"\n[http]\nmax = 1\n')
    result = nuage("config", "check", str(conf), root_keys=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 5, lines
    assert lines[0] == f"Error: {conf}:2: unknown key 'prot' (did you mean 'port'?)"
    assert lines[1].startswith(f"{conf}:3: region: expected a string")
    assert lines[2].startswith(f"{conf}:4: workers: expected a whole number")
    assert lines[3].startswith(f"{conf}:5: fsync: expected true or false")
    assert lines[4] == f"{conf}:6: unknown key 'http'"
    # out of range, and not TOML at all
    conf.write_text("port = 70000\n")
    result = nuage("config", "check", str(conf), root_keys=False)
    assert result.returncode == 1 and "port: must be at most 65535" in result.stderr
    conf.write_text("port = \n")
    result = nuage("config", "check", str(conf), root_keys=False)
    assert result.returncode == 1 and "not valid TOML" in result.stderr and "Traceback" not in result.stderr
    # serve refuses it the same way, before anything is made
    data = tmp_path / "data"
    conf.write_text(f'prot = 1\ndata = "{data}"\n')
    result = nuage("serve", "--config", str(conf))
    assert result.returncode == 1 and "unknown key 'prot'" in result.stderr and not data.exists()
    assert "Traceback" not in result.stderr


def test_a_value_the_server_would_refuse_is_named_by_its_key(tmp_path: Path) -> None:
    conf = tmp_path / "nuage.toml"
    conf.write_text('region = "Not A Region"\n')
    result = nuage("config", "check", str(conf), root_keys=False)
    assert result.returncode == 1 and f"{conf}: region" in result.stderr, result.stderr


# -- a server started with --config -----------------------------------------------------------------------------
def _serve_with_config(conf: Path, data: Path, port: int, console_port: int, region: str,
                       *args: str, env: dict[str, str] | None = None) -> NuageServer:
    """A server started with ``--config conf`` and only ``args`` as flags (NuageServer.start gives them all)."""
    srv = NuageServer(data, port=port, console_port=console_port, region=region)
    from tests.support.server import ACCESS_KEY, SECRET_KEY
    full_env = {**os.environ, "NUAGE_ROOT_ACCESS_KEY": ACCESS_KEY, "NUAGE_ROOT_SECRET_KEY": SECRET_KEY,
                **(env or {})}
    srv.log_path = conf.parent / f"server-{port}.log"
    with open(srv.log_path, "ab") as log:
        srv.proc = subprocess.Popen([sys.executable, "-m", "nuage.cli.main", "serve", "--config", str(conf), *args],
                                    stdout=log, stderr=subprocess.STDOUT, env=full_env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if srv.proc.poll() is not None:
            raise AssertionError(f"nuage exited with {srv.proc.returncode}: {srv.log()}")
        if listens(srv.proc.pid, port) and listens(srv.proc.pid, console_port):
            return srv
        time.sleep(0.05)
    srv.stop()
    raise AssertionError(f"nuage did not start: {srv.log()}")


def _config(tmp_path: Path, data: Path, port: int, console_port: int, region: str) -> Path:
    conf = tmp_path / "nuage.toml"
    text = (f'host = "127.0.0.1"\nport = {port}\nconsole_port = {console_port}\nregion = "{region}"\n'
            f'data = "{data}"\nworkers = 1\n')
    if ON_PG:
        from tests.support.postgres import database_for
        text += f'db = "{database_for(data)}"\nshared_delete_grace = 0\n'
    conf.write_text(text)
    return conf


def _region_of_a_new_bucket(srv: NuageServer, name: str) -> str:
    s3 = srv.client()
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": srv.region})
    return str(s3.get_bucket_location(Bucket=name)["LocationConstraint"])


def test_a_server_uses_its_configuration_file(tmp_path: Path) -> None:
    data = tmp_path / "from-file"
    port, console_port = free_port(), free_port()
    conf = _config(tmp_path, data, port, console_port, "eu-west-3")
    srv = _serve_with_config(conf, data, port, console_port, "eu-west-3")
    try:
        assert _region_of_a_new_bucket(srv, "from-the-file") == "eu-west-3"
        assert (data / "root-credentials.json").exists() and (data / "secrets").is_dir()
    finally:
        assert srv.stop() == 0


def test_flags_and_variables_override_the_file(tmp_path: Path) -> None:
    data = tmp_path / "from-file"
    other = tmp_path / "from-flag"
    file_port, console_port = free_port(), free_port()
    conf = _config(tmp_path, data, file_port, console_port, "eu-west-3")
    flag_port = free_port()
    srv = _serve_with_config(conf, other, flag_port, console_port, "ap-south-1", "--port", str(flag_port),
                             "--data", str(other), env={"NUAGE_REGION": "ap-south-1"})
    try:
        assert not listens(srv.proc.pid, file_port)   # type: ignore[union-attr]
        assert _region_of_a_new_bucket(srv, "from-the-flags") == "ap-south-1"
        assert (other / "root-credentials.json").exists() and not data.exists()
    finally:
        assert srv.stop() == 0
    # a variable wins over the file, and a flag over the variable
    again = _serve_with_config(conf, data, file_port, console_port, "us-west-2", "--region", "us-west-2",
                               env={"NUAGE_REGION": "ap-south-1", "NUAGE_DATA": str(other)})
    try:
        assert _region_of_a_new_bucket(again, "flag-over-variable") == "us-west-2"
        assert not data.exists()     # $NUAGE_DATA won over the file's data
    finally:
        assert again.stop() == 0


@pytest.mark.parametrize(("variable", "value", "named"), [("NUAGE_WORKERS", "x", "$NUAGE_WORKERS"),
                                                         ("NUAGE_HTTP_MAX_CONNECTIONS", "abc",
                                                          "$NUAGE_HTTP_MAX_CONNECTIONS")])
def test_check_names_a_bad_variable(tmp_path: Path, variable: str, value: str, named: str) -> None:
    result = nuage("config", "check", str(EXAMPLE), root_keys=False, env_extra={variable: value})
    assert result.returncode == 1 and named in result.stderr and "Traceback" not in result.stderr


def test_the_log_options_come_from_the_file_too(tmp_path: Path) -> None:
    data = tmp_path / "data"
    port, console_port = free_port(), free_port()
    conf = _config(tmp_path, data, port, console_port, "eu-west-3")
    access = tmp_path / "access.log"
    conf.write_text(conf.read_text() + f'log_level = "warning"\naccess_log = "{access}"\n'
                                       f'access_log_format = "common"\n')
    srv = _serve_with_config(conf, data, port, console_port, "eu-west-3")
    try:
        srv.client().list_buckets()
    finally:
        assert srv.stop() == 0
    assert " INFO " not in srv.log()              # log_level = "warning"
    assert access.exists() and access.read_text().startswith("127.0.0.1 ")   # the common format
    # a flag wins over the file
    again = _serve_with_config(conf, data, port, console_port, "eu-west-3", "--log-level", "info")
    assert again.stop() == 0
    assert " INFO " in again.log()
    conf.write_text(conf.read_text().replace('"warning"', '"loud"'))
    result = nuage("config", "check", str(conf), root_keys=False)
    assert result.returncode == 1 and "log_level: expected one of debug, info, warning, error" in result.stderr
