"""Typed settings, loaded once by the composition root."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

#: region names as AWS and Alibaba Cloud spell them (us-west-1, eu-central-2, cn-hangzhou)
REGION_RE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
REGION_RULE = "lowercase letters, digits and hyphens (not first or last), 63 at most, e.g. us-west-1 or cn-hangzhou"
#: an access key id as AWS IAM documents it (AccessKeyId: 16 to 128 characters of [\w]) ...
ACCESS_KEY_RE = re.compile(r"\w{16,128}", re.ASCII)
ACCESS_KEY_RULE = "an access key id is 16 to 128 letters, digits or underscores (as AWS's)"
#: ... and a secret key of 8 characters at least (as MinIO's), printable ASCII without spaces
SECRET_KEY_RE = re.compile(r"[\x21-\x7e]{8,128}")
SECRET_KEY_RULE = "a secret key is 8 to 128 printable ASCII characters, without spaces"


def valid_region(name: str) -> bool:
    return REGION_RE.fullmatch(name) is not None


def valid_access_key(key: str) -> bool:
    return ACCESS_KEY_RE.fullmatch(key) is not None


def valid_secret_key(secret: str) -> bool:
    return SECRET_KEY_RE.fullmatch(secret) is not None


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("nuage-data")
    # postgresql://... : metadata in PostgreSQL (shareable by several gateways); None: SQLite in data_dir
    db: str | None = field(default=None, repr=False)    # (its password stays out of logs)
    host: str = "127.0.0.1"
    port: int = 9000
    region: str = "us-east-1"
    domain: str | None = None
    root_access_key: str | None = None
    root_secret_key: str | None = None
    tls_cert: Path | None = None
    tls_key: Path | None = None
    fsync: bool = True
    direct_io: bool = True               # durable stores write object files with O_DIRECT where the fs allows
    inline_max: int = 16 * 1024          # objects up to this size live in the metadata row, not in a file
    max_skew_seconds: int = 900
    sweep_interval_seconds: float = 600.0
    orphan_grace_seconds: float = 3600.0
    shared_delete_grace_seconds: float = 60.0        # a blob folder read by several processes: files go this late
    multipart_expiry_seconds: float = 7 * 24 * 3600.0
    lifecycle_interval_seconds: float = 3600.0     # how often the lifecycle worker runs
    lifecycle_day_seconds: float = 86400.0          # a lifecycle "day" (smaller for tests, as rgw_lc_debug_interval)
    extra_domains: tuple[str, ...] = field(default_factory=tuple)
    master_key: str | None = field(default=None, repr=False)   # base64; else DATA/keys/master.key
    console_session_seconds: float = 8 * 3600.0     # how long a console sign-in lasts
    regions_file: Path | None = None     # the region registry (JSON); None: a region alone, no replication
    usage_interval_seconds: float = 300.0            # how often usage per bucket is sampled (console charts)
    scrub_interval_seconds: float = 7 * 86400.0      # a background scrub pass this often (0: never)
    scrub_rate_mb: float = 10.0                      # ... reading at most this many MB/s (0: no limit)
    # HTTP limits (nuage.httpserver.limits says what each refusal answers)
    http_max_request_line: int = 16 * 1024           # bytes of a request's URL (414 beyond)
    http_max_header_size: int = 16 * 1024            # bytes of one header, name and value (431 beyond)
    http_max_headers_size: int = 64 * 1024           # bytes of all headers of a request (431 beyond)
    http_header_timeout_seconds: float = 30.0        # from a request's first byte to its last header (408)
    http_max_connections: int = 4096                 # open connections; beyond, new ones get 503 SlowDown
    http_max_connections_per_client: int = 1024      # open connections per client address (0: no cap)

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


def settings_from_env(**overrides: object) -> Settings:
    """Settings from NUAGE_* environment variables, with explicit overrides winning."""
    env: dict[str, object] = {}
    if "NUAGE_DATA" in os.environ:
        env["data_dir"] = Path(os.environ["NUAGE_DATA"])
    if os.environ.get("NUAGE_DB"):
        env["db"] = os.environ["NUAGE_DB"]
    if "NUAGE_REGION" in os.environ:
        env["region"] = os.environ["NUAGE_REGION"]
    if "NUAGE_ROOT_ACCESS_KEY" in os.environ:
        env["root_access_key"] = os.environ["NUAGE_ROOT_ACCESS_KEY"]
    if "NUAGE_ROOT_SECRET_KEY" in os.environ:
        env["root_secret_key"] = os.environ["NUAGE_ROOT_SECRET_KEY"]
    if os.environ.get("NUAGE_REGIONS"):
        env["regions_file"] = Path(os.environ["NUAGE_REGIONS"])
    if os.environ.get("NUAGE_MASTER_KEY"):
        env["master_key"] = os.environ["NUAGE_MASTER_KEY"]
    if os.environ.get("NUAGE_FSYNC", "1") in ("0", "false", "no"):
        env["fsync"] = False
    if os.environ.get("NUAGE_DIRECT_IO", "1") in ("0", "false", "no"):
        env["direct_io"] = False
    for var, name in (("NUAGE_SWEEP_INTERVAL", "sweep_interval_seconds"),
                      ("NUAGE_ORPHAN_GRACE", "orphan_grace_seconds"),
                      ("NUAGE_SHARED_DELETE_GRACE", "shared_delete_grace_seconds"),
                      ("NUAGE_MULTIPART_EXPIRY", "multipart_expiry_seconds"),
                      ("NUAGE_LIFECYCLE_INTERVAL", "lifecycle_interval_seconds"),
                      ("NUAGE_LIFECYCLE_DAY_SECONDS", "lifecycle_day_seconds"),
                      ("NUAGE_CONSOLE_SESSION_SECONDS", "console_session_seconds"),
                      ("NUAGE_USAGE_INTERVAL", "usage_interval_seconds"),
                      ("NUAGE_SCRUB_INTERVAL", "scrub_interval_seconds"),
                      ("NUAGE_SCRUB_RATE", "scrub_rate_mb"),
                      ("NUAGE_HTTP_HEADER_TIMEOUT", "http_header_timeout_seconds")):
        if var in os.environ:
            env[name] = float(os.environ[var])
    for var, name in (("NUAGE_INLINE_MAX", "inline_max"),
                      ("NUAGE_HTTP_MAX_REQUEST_LINE", "http_max_request_line"),
                      ("NUAGE_HTTP_MAX_HEADER_SIZE", "http_max_header_size"),
                      ("NUAGE_HTTP_MAX_HEADERS_SIZE", "http_max_headers_size"),
                      ("NUAGE_HTTP_MAX_CONNECTIONS", "http_max_connections"),
                      ("NUAGE_HTTP_MAX_CONNECTIONS_PER_CLIENT", "http_max_connections_per_client")):
        if var in os.environ:
            env[name] = int(os.environ[var])
    env.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**env)  # type: ignore[arg-type]
