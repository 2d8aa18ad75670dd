"""`nuage serve` as an operator meets it (issues 16 and 17): bad arguments, ports in use, damaged files of the
data folder and a lost IAM key end the start-up with one line on stderr (no traceback, no banner, nothing
created); the root secret is printed on the first start only; SIGINT and SIGTERM both shut down cleanly;
several gateways starting at once on an empty data folder agree on its secrets."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support.accounts import add_account, client_for
from tests.support.server import ACCESS_KEY, SECRET_KEY, SQLITE_ONLY, NuageServer, children, free_port

ON_PG = os.environ.get("NUAGE_TEST_DB") == "postgresql"


def nuage(*args: str, env_extra: dict[str, str] | None = None, root_keys: bool = True,
          timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
    """Run the `nuage` command to its end (a server that keeps running past ``timeout`` fails the test)."""
    env = {**os.environ, "NUAGE_ROOT_ACCESS_KEY": ACCESS_KEY, "NUAGE_ROOT_SECRET_KEY": SECRET_KEY,
           **(env_extra or {})}
    if not root_keys:
        env.pop("NUAGE_ROOT_ACCESS_KEY")
        env.pop("NUAGE_ROOT_SECRET_KEY")
    proc = subprocess.Popen([sys.executable, "-m", "nuage.cli.main", *args], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
        raise AssertionError(f"`nuage {' '.join(args)}` kept running:\n{out}\n{err}") from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def serve_args(data: Path, *args: str, db: str | None = None) -> list[str]:
    out = ["serve", "--host", "127.0.0.1", "--data", str(data), *args]
    port = free_port()
    if "--port" not in args:
        out += ["--port", str(port)]
    if "--console-port" not in args:
        console = free_port()
        while console == port:   # a port just released can be handed out again
            console = free_port()
        out += ["--console-port", str(console)]
    if "--workers" not in args:
        out += ["--workers", "1"]
    if db:
        out += ["--db", db]
    return out


def refused(result: subprocess.CompletedProcess[str], *names: str) -> str:
    """The one line a refused start-up printed (on stderr, nothing on stdout), which names ``names``."""
    lines = result.stderr.strip().splitlines()
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stdout == "", result.stdout          # no banner, no root key
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines
    for name in names:
        assert name in lines[0], (name, lines[0])
    return lines[0]


# -- finding 4: arguments and ports, checked before anything is printed or created ---------------------------
@pytest.mark.parametrize(("args", "named"), [
    (["--port", "99999"], "99999"),
    (["--port", "-1"], "--port"),
    (["--port", "65535"], "65536"),     # the console's port would be the next one
])
def test_a_port_out_of_range_is_refused(tmp_path: Path, args: list[str], named: str) -> None:
    data = tmp_path / "data"
    refused(nuage("serve", "--host", "127.0.0.1", "--data", str(data), "--workers", "1", *args), named)
    assert not data.exists()


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_port_taken_by_another_gateway_is_refused(tmp_path: Path, workers: str) -> None:
    # the other gateway runs two workers, which share their port with SO_REUSEPORT: a second gateway with
    # workers of its own must not join them on that port
    first = NuageServer(tmp_path / "first", extra_args=["--workers", "2"]).start()
    try:
        data = tmp_path / "second"
        result = nuage(*serve_args(data, "--port", str(first.port), "--workers", workers))
        refused(result, f"127.0.0.1:{first.port}")
        assert not data.exists()
        console = nuage(*serve_args(data, "--console-port", str(first.console_port), "--workers", workers))
        refused(console, f"127.0.0.1:{first.console_port}")
        assert not data.exists()
    finally:
        assert first.stop() == 0


# -- finding 5: damaged files name themselves, in one line ----------------------------------------------------
def test_data_naming_a_file_is_refused(tmp_path: Path) -> None:
    afile = tmp_path / "afile"
    afile.write_text("not a folder\n")
    refused(nuage(*serve_args(afile)), str(afile))
    refused(nuage(*serve_args(afile / "data")), str(afile))
    refused(nuage("keys", "add", "--data", str(afile), "--access-key", "AKIAKEYSADDTEST00001",
                  "--secret-key", "s" * 40, "--name", "n"), str(afile))
    assert afile.read_text() == "not a folder\n"


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("content", [b"{not json", b"\xff\xfe garbage", b"[]", b'{"access_key": "A"}'])
def test_damaged_root_credentials_are_named(tmp_path: Path, workers: str, content: bytes) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "root-credentials.json").write_bytes(content)
    for root_keys in (False, True):
        refused(nuage(*serve_args(data, "--workers", workers), root_keys=root_keys),
                str(data / "root-credentials.json"))
    assert (data / "root-credentials.json").read_bytes() == content


@SQLITE_ONLY
@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_damaged_metadata_database_is_named(tmp_path: Path, workers: str) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "meta.sqlite3").write_bytes(b"this is not a SQLite database\n" * 200)
    refused(nuage(*serve_args(data, "--workers", workers)), str(data / "meta.sqlite3"))
    refused(nuage("keys", "add", "--data", str(data), "--access-key", "AKIAKEYSADDTEST00001",
                  "--secret-key", "s" * 40, "--name", "n"), str(data / "meta.sqlite3"))


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("content", [b"garbage\n", base64.b64encode(b"short") + b"\n"])
def test_a_damaged_master_key_is_named(tmp_path: Path, workers: str, content: bytes) -> None:
    data = tmp_path / "data"
    (data / "keys").mkdir(parents=True)
    (data / "keys" / "master.key").write_bytes(content)
    refused(nuage(*serve_args(data, "--workers", workers)), str(data / "keys" / "master.key"))


def test_a_bad_tls_certificate_or_key_is_named(tmp_path: Path, tls_ca: tuple[Path, Path, Path]) -> None:
    _, cert, key = tls_ca
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n")
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    other_key = tmp_path / "other.key"   # a key, but not the certificate's
    import trustme
    other_key.write_bytes(trustme.CA().issue_cert("127.0.0.1").private_key_pem.bytes())
    data = tmp_path / "data"
    for cert_file, key_file, named in [(garbage, key, garbage), (empty, key, empty), (key, key, key),
                                       (cert, garbage, garbage), (cert, empty, empty), (cert, other_key, other_key)]:
        line = refused(nuage(*serve_args(data, "--tls-cert", str(cert_file), "--tls-key", str(key_file))),
                       str(named))
        assert ("--tls-cert" if named is cert_file else "--tls-key") in line
    assert not data.exists()


# -- finding 6: a lost or replaced IAM key ---------------------------------------------------------------------
@pytest.mark.parametrize("damage", ["deleted", "replaced", "garbage"])
def test_a_lost_iam_key_stops_the_start_up(tmp_path: Path, damage: str) -> None:
    data = tmp_path / "data"
    srv = NuageServer(data).start()
    try:
        tenant = add_account(srv)
        client_for(srv, tenant).list_buckets()
    finally:
        assert srv.stop() == 0
    key_file = data / "secrets" / "iam.key"
    saved = key_file.read_bytes()
    if damage == "deleted":
        key_file.unlink()
    elif damage == "replaced":
        key_file.write_bytes(base64.b64encode(os.urandom(32)) + b"\n")
    else:
        key_file.write_bytes(b"garbage\n")
    damaged = key_file.read_bytes() if key_file.exists() else None
    for workers in ("1", "2"):
        refused(nuage(*serve_args(data, "--workers", workers, db=srv.db)), str(key_file))
        assert (key_file.read_bytes() if key_file.exists() else None) == damaged   # nothing made in its place
    # the CLI that adds keys would seal them with the wrong key: refused too
    refused(nuage("keys", "add", "--data", str(data), "--access-key", "AKIAKEYSADDTEST00001",
                  "--secret-key", "s" * 40, "--name", "n", env_extra={"NUAGE_DB": srv.db} if srv.db else None),
            str(key_file))
    # restored, every key works again
    key_file.write_bytes(saved)
    again = NuageServer(data, port=0).start()
    try:
        client_for(again, tenant).list_buckets()
    finally:
        assert again.stop() == 0


# -- finding 10: the root secret is printed once -------------------------------------------------------------
@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_root_secret_is_printed_on_the_first_start_only(tmp_path: Path, workers: str) -> None:
    data = tmp_path / "data"
    first = NuageServer(data, root_keys_from_env=False, extra_args=["--workers", workers]).start()
    try:
        wait_for_banner(first)
        saved = json.loads((data / "root-credentials.json").read_text())
        assert f"Root secret key:   {saved['secret_key']}\n" in first.log()
        assert f"AWS_SECRET_ACCESS_KEY={saved['secret_key']} " in first.log()
    finally:
        assert first.stop() == 0
    again = NuageServer(data, root_keys_from_env=False, extra_args=["--workers", workers]).start()
    try:
        wait_for_banner(again)
        log = again.log()
        assert saved["secret_key"] not in log
        assert f"Root access key:   {saved['access_key']}\n" in log
        assert f"Root secret key:   in {data / 'root-credentials.json'}" in log
        # the Try line still pastes as it is: the shell reads the secret from the file
        pasted = re.search(r"^Try: (AWS_ACCESS_KEY_ID=\S+ AWS_SECRET_ACCESS_KEY=.*) aws --endpoint-url", log, re.M)
        assert pasted is not None, log
        shell = subprocess.run(["bash", "-c", f"{pasted.group(1)} bash -c 'echo $AWS_SECRET_ACCESS_KEY'"],
                               capture_output=True, text=True, check=True)
        assert shell.stdout.strip() == saved["secret_key"]
        again.client(access_key=saved["access_key"], secret_key=saved["secret_key"]).list_buckets()
    finally:
        assert again.stop() == 0
    from_env = NuageServer(data, extra_args=["--workers", workers]).start()   # NUAGE_ROOT_* set
    try:
        wait_for_banner(from_env)
        assert SECRET_KEY not in from_env.log()
        assert "Root secret key:   from $NUAGE_ROOT_SECRET_KEY" in from_env.log()
        from_env.client().list_buckets()
    finally:
        assert from_env.stop() == 0


def wait_for_banner(srv: NuageServer, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while "s3 ls" not in srv.log():
        assert time.monotonic() < deadline, srv.log()
        time.sleep(0.05)


# -- finding 11: region names and keys as AWS spells them ---------------------------------------------------
@pytest.mark.parametrize("region", ["Not A Region!", "US-EAST-1", "us_east_1", "-us-east-1", "us-east-1-",
                                    "a" * 64, "us-east-1\n", ""])
def test_a_bad_region_name_is_refused(tmp_path: Path, region: str) -> None:
    data = tmp_path / "data"
    refused(nuage(*serve_args(data, "--region", region)), "region")
    refused(nuage(*serve_args(data), env_extra={"NUAGE_REGION": region}), "NUAGE_REGION")
    assert not data.exists()


def test_region_names_of_aws_and_alibaba_are_accepted(tmp_path: Path) -> None:
    srv = NuageServer(tmp_path / "data", region="cn-hangzhou").start()
    try:
        srv.client().create_bucket(Bucket="hangzhou-photos",
                                   CreateBucketConfiguration={"LocationConstraint": "cn-hangzhou"})
    finally:
        assert srv.stop() == 0


@pytest.mark.parametrize(("access", "secret", "named"), [
    ("AKIA5", "s" * 40, "--access-key"),                       # 5 characters
    ("A" * 15, "s" * 40, "--access-key"),
    ("A" * 129, "s" * 40, "--access-key"),
    ("AKIA-NOT/A+KEY00000", "s" * 40, "--access-key"),
    ("AKIAKEYSADDTEST00001", "s", "--secret-key"),              # 1 character
    ("AKIAKEYSADDTEST00001", "s" * 7, "--secret-key"),
    ("AKIAKEYSADDTEST00001", "with a space", "--secret-key"),
])
def test_keys_add_refuses_keys_aws_would_not_take(tmp_path: Path, access: str, secret: str, named: str) -> None:
    data = tmp_path / "data"
    refused(nuage("keys", "add", "--data", str(data), "--access-key", access, "--secret-key", secret,
                  "--name", "n"), named)
    assert not data.exists()


def test_keys_add_takes_the_shortest_keys_allowed(tmp_path: Path) -> None:
    result = nuage("keys", "add", "--data", str(tmp_path / "data"), "--access-key", "A" * 16,
                   "--secret-key", "s" * 8, "--name", "n")
    assert result.returncode == 0, result.stderr


def test_root_keys_from_the_environment_are_checked(tmp_path: Path) -> None:
    data = tmp_path / "data"
    refused(nuage(*serve_args(data), env_extra={"NUAGE_ROOT_ACCESS_KEY": "SHORT"}), "NUAGE_ROOT_ACCESS_KEY")
    refused(nuage(*serve_args(data), env_extra={"NUAGE_ROOT_SECRET_KEY": "short"}), "NUAGE_ROOT_SECRET_KEY")
    assert not data.exists()


# -- finding 12: SIGTERM shuts down as SIGINT does -----------------------------------------------------------
@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_sigint_and_sigterm_shut_down_cleanly(tmp_path: Path, workers: str, sig: signal.Signals) -> None:
    data = tmp_path / "data"
    srv = NuageServer(data, extra_args=["--workers", workers]).start()
    s3 = srv.client()
    s3.create_bucket(Bucket="shutdown-test")
    for i in range(20):
        s3.put_object(Bucket="shutdown-test", Key=f"k{i}", Body=b"x" * 100_000)
    srv.close_clients()
    assert srv.proc is not None
    srv.proc.send_signal(sig)
    code = srv.proc.wait(60)
    assert code == 0, srv.log()
    assert srv.faults() == []
    assert srv.log().count("nuage stopped cleanly") >= 1
    if not ON_PG:   # the stores closed: SQLite's WAL was checkpointed and removed
        assert not (data / "meta.sqlite3-wal").exists(), sorted(p.name for p in data.iterdir())
        assert not (data / "meta.sqlite3-shm").exists()
    again = NuageServer(data).start()
    try:
        assert len(again.client().list_objects_v2(Bucket="shutdown-test")["Contents"]) == 20
    finally:
        assert again.stop() == 0


# -- issue 16: gateways starting at once on an empty data folder ------------------------------------------------
@pytest.mark.parametrize("workers", ["1", "2"])
def test_gateways_starting_at_once_share_the_new_secrets(tmp_path: Path, workers: str) -> None:
    for attempt in range(3):
        data = tmp_path / f"data{attempt}"
        servers = [NuageServer(data, root_keys_from_env=False, extra_args=["--workers", workers])
                   for _ in range(3)]
        errors: list[BaseException] = []
        threads = [threading.Thread(target=_start, args=(srv, errors)) for srv in servers]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        try:
            assert not errors, errors[0]
            for srv in servers:
                wait_for_banner(srv)
            saved = json.loads((data / "root-credentials.json").read_text())
            banners = [re.findall(r"Root access key:   (\S+)", srv.log()) for srv in servers]
            assert banners == [[saved["access_key"]]] * 3
            for srv in servers:
                srv.client(access_key=saved["access_key"], secret_key=saved["secret_key"]).list_buckets()
            servers[0].client(access_key=saved["access_key"], secret_key=saved["secret_key"]).create_bucket(
                Bucket="shared")
            tenant = add_account(servers[0])
            for srv in servers:   # each one unseals what another sealed: one IAM key
                client_for(srv, tenant).list_buckets()
            # exactly one process printed the new secret
            assert sum(saved["secret_key"] in srv.log() for srv in servers) == 1
            leftovers = [p for p in data.rglob("*") if p.name.endswith(".tmp")]
            assert leftovers == []
        finally:
            for srv in servers:
                if srv.proc is not None:
                    assert srv.stop() == 0


def _start(srv: NuageServer, errors: list[BaseException]) -> None:
    try:
        srv.start(timeout=60)
    except BaseException as exc:   # noqa: BLE001 - reported by the test
        errors.append(exc)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_the_workers_start_stops_them_cleanly(tmp_path: Path, sig: signal.Signals) -> None:
    """The stop signal sent at moments spread over the workers' start-up (stores opening, the server not yet
    running): every time the command exits 0 soon after, and no worker logs a traceback. Before, a worker's
    handler raised SystemExit wherever its code stood, once inside a weakref callback that swallowed it."""
    env = {**os.environ, "NUAGE_ROOT_ACCESS_KEY": ACCESS_KEY, "NUAGE_ROOT_SECRET_KEY": SECRET_KEY}
    env.pop("NUAGE_DB", None)
    for n, delay in enumerate((0.0, 0.05, 0.1, 0.2, 0.4, 0.8)):
        log = tmp_path / f"serve-{n}.log"
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "nuage.cli.main", "serve", "--port", str(free_port()),
                                     "--console-port", "0", "--workers", "2", "--data", str(tmp_path / "data")],
                                    stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 30
        while len(children(proc.pid)) < 2:   # the workers are forked: they open the stores now
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.01)
        time.sleep(delay)
        proc.send_signal(sig)
        try:
            code = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError(f"not stopped 30 s after the signal at {delay} s: {log.read_text()}") from None
        text = log.read_text()
        assert code == 0 and "Traceback" not in text, (delay, code, text)
