"""Fixtures: one real `nuage serve` per xdist worker (plain HTTP, and HTTPS on demand), boto3 clients,
a fresh bucket per test, and an awscli runner. Everything listens on 127.0.0.1 with free ports."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.awscli import AwsCli
from tests.support.server import STARTED_LOGS, NuageServer

CHECKSUM_MODES = ("when_supported", "when_required")

# The command line and the server's banner speak the language of the environment (nuage.cli.i18n): the
# tests read their English, whatever the locale of the shell that runs them (LANG=zh_CN.UTF-8, say);
# tests/api/test_cli_i18n.py sets the locale of the commands it runs itself.
for _variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_variable, None)
os.environ["LANG"] = "C.UTF-8"


def unique_bucket_name(prefix: str = "b") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NuageServer]:
    srv = NuageServer(tmp_path_factory.mktemp("nuage-http") / "data").start()
    yield srv
    code = srv.stop()
    assert code == 0, srv.log()


@pytest.fixture(scope="session")
def tls_ca(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(CA file, server certificate chain, server key) for 127.0.0.1."""
    import trustme

    base = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    ca_file, cert_file, key_file = base / "ca.pem", base / "server.pem", base / "server.key"
    ca.cert_pem.write_to_path(str(ca_file))
    cert.private_key_pem.write_to_path(str(key_file))
    cert_file.write_bytes(b"".join(blob.bytes() for blob in cert.cert_chain_pems))
    return ca_file, cert_file, key_file


@pytest.fixture(scope="session")
def tls_server(tmp_path_factory: pytest.TempPathFactory, tls_ca: tuple[Path, Path, Path]) -> Iterator[NuageServer]:
    ca, cert, key = tls_ca
    srv = NuageServer(tmp_path_factory.mktemp("nuage-https") / "data", tls=(cert, key), ca_file=ca).start()
    yield srv
    srv.stop()


@pytest.fixture
def s3(server: NuageServer) -> Any:
    """boto3 S3 client, path style, default checksum behaviour of current SDKs."""
    return server.client()


@pytest.fixture(params=CHECKSUM_MODES)
def checksum_mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def s3m(server: NuageServer, checksum_mode: str) -> Any:
    """boto3 client parametrised over both request_checksum_calculation modes."""
    return server.client(checksum=checksum_mode)


@pytest.fixture
def s3tls(tls_server: NuageServer, checksum_mode: str) -> Any:
    """boto3 client over HTTPS (aws-chunked bodies), both checksum modes."""
    return tls_server.client(checksum=checksum_mode)


def _make_bucket(client: Any) -> str:
    name = unique_bucket_name()
    client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def bucket(s3: Any) -> str:
    return _make_bucket(s3)


@pytest.fixture
def tls_bucket(tls_server: NuageServer) -> str:
    return _make_bucket(tls_server.client())


@pytest.fixture
def aws(server: NuageServer, tmp_path: Path) -> AwsCli:
    return AwsCli(server.endpoint, server.region, tmp_path / "awshome")


@pytest.fixture(autouse=True)
def _close_clients(request: pytest.FixtureRequest) -> Iterator[None]:
    """Drop each test's keep-alive connections so the servers never pile up idle sockets."""
    yield
    for name in ("server", "tls_server"):
        if name in request.fixturenames:
            request.getfixturevalue(name).close_clients()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """When a test fails, add what the servers logged during it (tracebacks of a 500 above all) to
    its report: CI keeps no temporary folders."""
    outcome = yield
    report = outcome.get_result()
    if call.when == "setup":
        for path in STARTED_LOGS:
            STARTED_LOGS[path] = path.stat().st_size if path.exists() else 0
    if not report.failed:
        return
    for path, start in STARTED_LOGS.items():
        try:
            with open(path, "rb") as f:
                f.seek(start)
                text = f.read().decode(errors="replace")
        except OSError:
            continue
        if text.strip():
            report.sections.append((f"server log {path.name}", text[-20000:]))
