"""Typed settings, loaded once by the composition root."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from gettext import gettext as _
from pathlib import Path


def N_(message: str) -> str:
    """A message marked for the catalogue, translated where it is shown (gettext's N_)."""
    return message


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
    # metering (nuage.core.metering, docs/metering.md)
    metering: bool = True                            # False: nothing metered (only to measure its cost)
    meter_flush_seconds: float = 10.0                # counts go to the store this often (kill -9 loses this much)
    meter_sample_seconds: float = 600.0              # storage is sampled this often (0: never)
    meter_clock_offset_seconds: float = 0.0          # added to the metering clock (tests of month boundaries)
    budget_interval_seconds: float = 300.0           # budgets are evaluated this often (0: never; billing/budgets.py)
    # HTTP limits (nuage.httpserver.limits says what each refusal answers)
    http_max_request_line: int = 16 * 1024           # bytes of a request's URL (414 beyond)
    http_max_header_size: int = 16 * 1024            # bytes of one header, name and value (431 beyond)
    http_max_headers_size: int = 64 * 1024           # bytes of all headers of a request (431 beyond)
    http_header_timeout_seconds: float = 30.0        # from a request's first byte to its last header (408)
    http_max_connections: int = 4096                 # open connections; beyond, new ones get 503 SlowDown
    http_max_connections_per_client: int = 1024      # open connections per client address (0: no cap)
    # how nuage serve listens (used by the command, not by the server's parts)
    console_port: int | None = None                  # None: the S3 port + 1
    console_address: str | None = None               # [HOST]:PORT, instead of console_port
    workers: int | None = None                       # None: one per core
    # logs
    access_log: str | None = None                    # a file, or "-" for stdout; None: no access log
    access_log_format: str = "json"                  # json or common
    log_level: str = "info"                          # debug, info, warning or error
    prices_file: Path | None = None                  # the price sheet of invoices (TOML); None: nuage's default
    # metrics (GET /_nuage/metrics): a bearer token, or a file holding it, and/or the addresses allowed
    metrics_token: str | None = field(default=None, repr=False)
    metrics_token_file: Path | None = None
    metrics_allow: str | None = None                 # addresses and networks, comma-separated
    metrics_buckets: int = 20                        # buckets with series of their own (the largest)

    @property
    def scheme(self) -> str:
        return "https" if self.tls_cert else "http"

    @property
    def endpoint(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"


class ConfigError(ValueError):
    """Settings that cannot be used: one line per problem, each naming the key, variable or file line."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        super().__init__("\n".join(lines))


@dataclass(frozen=True)
class Knob:
    """One setting: its field of :class:`Settings`, its key in a configuration file, its environment
    variable and its ``nuage serve`` flag (either may be None), its type, and whether it is a secret."""

    name: str                     # the Settings field
    key: str                      # the TOML key
    kind: str                     # "str", "int", "float", "bool" or "path"
    env: str | None = None
    flag: str | None = None
    help: str = ""
    secret: bool = False
    low: float | None = None      # numbers: the smallest allowed (and the largest)
    high: float | None = None
    metavar: str | None = None
    blank_is_unset: bool = True   # False: an empty variable is a value (refused later: NUAGE_REGION="")
    choices: tuple[str, ...] = ()  # strings: the only values allowed

    @property
    def default(self) -> object:
        return _DEFAULTS[self.name]


_KIND_WORDS = {"str": N_("a string"), "path": N_("a file or folder path (a string)"), "int": N_("a whole number"),
               "float": N_("a number"), "bool": N_("true or false")}

#: every setting of ``nuage serve``, once: the flags, the configuration file's keys, the environment
#: variables and ``nuage config check`` all come from this table (docs/settings.md lists it for people)
KNOBS: tuple[Knob, ...] = (
    Knob("host", "host", "str", flag="--host", help="Address to listen on."),
    Knob("port", "port", "int", flag="--port", low=0, high=65535,
         help="Port to listen on, 0 to 65535 (0: a free port)."),
    Knob("data_dir", "data", "path", env="NUAGE_DATA", flag="--data", metavar="DIR", help="Data folder."),
    Knob("region", "region", "str", env="NUAGE_REGION", flag="--region", blank_is_unset=False,
         help="Region name, as AWS names them: lowercase letters, digits and hyphens, e.g. us-west-1 or "
              "cn-hangzhou."),
    Knob("domain", "domain", "str", flag="--domain",
         help="Domain for virtual-hosted-style requests (bucket.DOMAIN)."),
    Knob("tls_cert", "tls_cert", "path", flag="--tls-cert", metavar="FILE", help="TLS certificate."),
    Knob("tls_key", "tls_key", "path", flag="--tls-key", metavar="FILE", help="TLS private key."),
    Knob("regions_file", "regions", "path", env="NUAGE_REGIONS", flag="--regions", metavar="FILE",
         help="Region registry (JSON) for redirects and replication."),
    Knob("console_port", "console_port", "int", env="NUAGE_CONSOLE_PORT", flag="--console-port", low=0,
         high=65535, help="Port of the web console, an origin of its own (default: the S3 port + 1; 0: a "
                          "free port)."),
    Knob("console_address", "console_address", "str", flag="--console-address", metavar="[HOST]:PORT",
         help="Address of the web console, as MinIO's (default: --host, and --console-port)."),
    Knob("http_max_connections", "max_connections", "int", env="NUAGE_HTTP_MAX_CONNECTIONS",
         flag="--max-connections", low=0, help="Open connections at most; beyond, new ones get 503 SlowDown "
                                                "(0: no cap)."),
    Knob("http_max_connections_per_client", "max_connections_per_client", "int",
         env="NUAGE_HTTP_MAX_CONNECTIONS_PER_CLIENT", flag="--max-connections-per-client", low=0,
         help="Open connections per client address at most (0: no cap, e.g. behind a proxy)."),
    Knob("http_header_timeout_seconds", "header_timeout", "float", env="NUAGE_HTTP_HEADER_TIMEOUT",
         flag="--header-timeout", low=0, help="Seconds a client has to send a request's headers."),
    Knob("db", "db", "str", env="NUAGE_DB", flag="--db", secret=True,
         metavar="postgresql://USER:PASS@HOST:PORT/DB",
         help="Keep metadata in this PostgreSQL database, which several gateways can share (default: SQLite "
              "in the data folder)."),
    Knob("workers", "workers", "int", env="NUAGE_WORKERS", flag="--workers", low=1, high=1024,
         help="Worker processes serving the ports, so that one machine uses all its cores (default: one per "
              "core)."),
    Knob("access_log", "access_log", "str", env="NUAGE_ACCESS_LOG", flag="--access-log", metavar="PATH|-",
         help="Write one line per request to this file (appended to; a file moved away, as logrotate does, is "
              "created again) or to stdout (-) (default: none)."),
    Knob("access_log_format", "access_log_format", "str", env="NUAGE_ACCESS_LOG_FORMAT",
         flag="--access-log-format", choices=("json", "common"),
         help="JSON lines, or the common log format with request id, operation and duration added."),
    Knob("log_level", "log_level", "str", env="NUAGE_LOG_LEVEL", flag="--log-level",
         choices=("debug", "info", "warning", "error"), help="Least severe server message written to stderr."),
    Knob("metrics_token", "metrics_token", "str", env="NUAGE_METRICS_TOKEN", flag="--metrics-token", secret=True,
         metavar="TOKEN", help="Bearer token that Prometheus sends to read /_nuage/metrics (16 characters at "
                               "least)."),
    Knob("metrics_token_file", "metrics_token_file", "path", env="NUAGE_METRICS_TOKEN_FILE",
         flag="--metrics-token-file", metavar="FILE", help="File holding the metrics bearer token (instead of "
                                                           "--metrics-token)."),
    Knob("metrics_allow", "metrics_allow", "str", env="NUAGE_METRICS_ALLOW", flag="--metrics-allow",
         metavar="ADDR,NET,...", help="Source addresses and networks allowed to read /_nuage/metrics, e.g. "
                                     "127.0.0.1,10.0.0.0/8 (with a token too: both are needed)."),
    Knob("metrics_buckets", "metrics_buckets", "int", env="NUAGE_METRICS_BUCKETS", flag="--metrics-buckets",
         low=0, high=1000, help="Buckets with metrics of their own (the largest; the others add up in one "
                                "series)."),
    Knob("prices_file", "prices", "path", env="NUAGE_PRICES", flag="--prices", metavar="FILE",
         help="Price sheet of invoices (TOML, docs/billing.md); default: the sheet shipped with nuage."),
    Knob("root_access_key", "root_access_key", "str", env="NUAGE_ROOT_ACCESS_KEY", blank_is_unset=False),
    Knob("root_secret_key", "root_secret_key", "str", env="NUAGE_ROOT_SECRET_KEY", secret=True,
         blank_is_unset=False),
    Knob("master_key", "master_key", "str", env="NUAGE_MASTER_KEY", secret=True),
    Knob("fsync", "fsync", "bool", env="NUAGE_FSYNC"),
    Knob("direct_io", "direct_io", "bool", env="NUAGE_DIRECT_IO"),
    Knob("inline_max", "inline_max", "int", env="NUAGE_INLINE_MAX", low=0),
    Knob("sweep_interval_seconds", "sweep_interval", "float", env="NUAGE_SWEEP_INTERVAL", low=0),
    Knob("orphan_grace_seconds", "orphan_grace", "float", env="NUAGE_ORPHAN_GRACE", low=0),
    Knob("shared_delete_grace_seconds", "shared_delete_grace", "float", env="NUAGE_SHARED_DELETE_GRACE", low=0),
    Knob("multipart_expiry_seconds", "multipart_expiry", "float", env="NUAGE_MULTIPART_EXPIRY", low=0),
    Knob("scrub_interval_seconds", "scrub_interval", "float", env="NUAGE_SCRUB_INTERVAL", low=0),
    Knob("scrub_rate_mb", "scrub_rate", "float", env="NUAGE_SCRUB_RATE", low=0),
    Knob("lifecycle_interval_seconds", "lifecycle_interval", "float", env="NUAGE_LIFECYCLE_INTERVAL", low=0),
    Knob("lifecycle_day_seconds", "lifecycle_day_seconds", "float", env="NUAGE_LIFECYCLE_DAY_SECONDS", low=0),
    Knob("usage_interval_seconds", "usage_interval", "float", env="NUAGE_USAGE_INTERVAL", low=0),
    Knob("metering", "metering", "bool", env="NUAGE_METERING"),
    Knob("meter_flush_seconds", "meter_flush_interval", "float", env="NUAGE_METER_FLUSH_INTERVAL", low=0.01),
    Knob("meter_sample_seconds", "meter_sample_interval", "float", env="NUAGE_METER_SAMPLE_INTERVAL", low=0,
         high=3600),
    Knob("meter_clock_offset_seconds", "meter_clock_offset", "float", env="NUAGE_METER_CLOCK_OFFSET"),
    Knob("budget_interval_seconds", "budget_interval", "float", env="NUAGE_BUDGET_INTERVAL", low=0),
    Knob("console_session_seconds", "console_session_seconds", "float", env="NUAGE_CONSOLE_SESSION_SECONDS",
         low=0),
    Knob("http_max_request_line", "http_max_request_line", "int", env="NUAGE_HTTP_MAX_REQUEST_LINE", low=0),
    Knob("http_max_header_size", "http_max_header_size", "int", env="NUAGE_HTTP_MAX_HEADER_SIZE", low=0),
    Knob("http_max_headers_size", "http_max_headers_size", "int", env="NUAGE_HTTP_MAX_HEADERS_SIZE", low=0),
)
KNOB_BY_KEY = {knob.key: knob for knob in KNOBS}
_DEFAULTS: dict[str, object] = {f.name: (f.default_factory() if f.default_factory is not MISSING else f.default)
                                for f in fields(Settings)}
_FALSE, _TRUE = ("0", "false", "no", "off"), ("1", "true", "yes", "on")


@dataclass(frozen=True)
class Resolved:
    """The effective settings, and where each value came from: ``flag --port``, ``$NUAGE_DATA``,
    ``FILE`` (a configuration file) or ``default``."""

    settings: Settings
    sources: dict[str, str]


def _check_range(knob: Knob, value: float) -> str | None:
    if knob.low is not None and value < knob.low:
        return _("must be at least {low}, got {value}").format(low=f"{knob.low:g}", value=f"{value:g}")
    if knob.high is not None and value > knob.high:
        return _("must be at most {high}, got {value}").format(high=f"{knob.high:g}", value=f"{value:g}")
    return None


def _expected(kind: str, raw: str) -> str:
    return _("expected {kind}, got {raw}").format(kind=_(_KIND_WORDS[kind]), raw=repr(raw))


def _from_env(knob: Knob, raw: str) -> object:
    """An environment variable's value as the knob's type; ValueError saying why not."""
    value: object
    if knob.kind == "bool":
        if raw.strip().lower() in _FALSE:
            return False
        if raw.strip().lower() in _TRUE:
            return True
        raise ValueError(_("expected 1 or 0 (true or false), got {raw}").format(raw=repr(raw)))
    if knob.kind in ("int", "float"):
        try:
            value = int(raw) if knob.kind == "int" else float(raw)
        except ValueError:
            raise ValueError(_expected(knob.kind, raw)) from None
        if value != value or value in (float("inf"), float("-inf")):   # nan, inf
            raise ValueError(_expected(knob.kind, raw))
        problem = _check_range(knob, float(value))
        if problem:
            raise ValueError(problem)
        return value
    if knob.choices and raw not in knob.choices:
        raise ValueError(_("expected one of {choices}, got {raw}").format(choices=", ".join(knob.choices),
                                                                         raw=repr(raw)))
    return Path(raw) if knob.kind == "path" else raw


def _from_file(knob: Knob, value: object) -> object:
    """A configuration file's value as the knob's type; ValueError saying why not."""
    kind = knob.kind
    ok = {"str": isinstance(value, str), "path": isinstance(value, str), "bool": isinstance(value, bool),
          "int": isinstance(value, int) and not isinstance(value, bool),
          "float": isinstance(value, int | float) and not isinstance(value, bool)}[kind]
    if not ok:
        got = type(value).__name__ if not isinstance(value, dict) else _("a table")
        raise ValueError(_("expected {kind}, got {value} ({got})").format(kind=_(_KIND_WORDS[kind]), value=repr(value),
                                                                          got=got))
    if kind in ("int", "float"):
        problem = _check_range(knob, float(value))  # type: ignore[arg-type]
        if problem:
            raise ValueError(problem)
        return float(value) if kind == "float" else value  # type: ignore[arg-type]
    if knob.choices and value not in knob.choices:
        raise ValueError(_("expected one of {choices}, got {value}").format(choices=", ".join(knob.choices),
                                                                           value=repr(value)))
    return Path(value) if kind == "path" else value  # type: ignore[arg-type]


def _line_of(text: str, key: str) -> int | None:
    """The line that sets ``key`` at the top of a TOML file (tomllib does not say), if one can be found."""
    pattern = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*[=.]""")
    pattern_table = re.compile(rf"""^\s*\[+\s*(?:{re.escape(key)}|"{re.escape(key)}")\s*[\].]""")
    for number, line in enumerate(text.splitlines(), 1):
        if pattern.match(line) or pattern_table.match(line):
            return number
    return None


def load_file(path: Path) -> dict[str, object]:
    """The values a configuration file (TOML) sets, by Settings field; :class:`ConfigError` listing every
    unknown key, wrong type and syntax error, each with the file, its line when known, and the key."""
    import difflib
    import tomllib

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([_("{path}: cannot read it ({reason})").format(
            path=path, reason=getattr(exc, "strerror", None) or exc)]) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([_("{path}: not valid TOML ({reason})").format(path=path, reason=exc)]) from None
    values: dict[str, object] = {}
    errors = []
    for key, value in doc.items():
        line = _line_of(text, key)
        where = f"{path}:{line}" if line else str(path)
        knob = KNOB_BY_KEY.get(key)
        if knob is None:
            near = difflib.get_close_matches(key, list(KNOB_BY_KEY), n=1)
            errors.append(_("{where}: unknown key {key} (did you mean {near}?)").format(where=where, key=repr(key),
                                                                                        near=repr(near[0]))
                          if near else _("{where}: unknown key {key}").format(where=where, key=repr(key)))
            continue
        try:
            values[knob.name] = _from_file(knob, value)
        except ValueError as exc:
            errors.append(f"{where}: {key}: {exc}")
    if errors:
        raise ConfigError(errors)
    return values


def resolve(flags: Mapping[str, object] | None = None, config: Path | None = None,
            environ: Mapping[str, str] | None = None) -> Resolved:
    """The effective settings: a flag (a value not None in ``flags``, by Settings field) wins over its
    environment variable, which wins over the configuration file, which wins over the default.
    :class:`ConfigError` listing every value that cannot be used."""
    environ = os.environ if environ is None else environ
    file_values = load_file(config) if config is not None else {}
    values: dict[str, object] = {}
    sources: dict[str, str] = {}
    errors = []
    for knob in KNOBS:
        given = (flags or {}).get(knob.name)
        raw = environ.get(knob.env) if knob.env else None
        if given is not None:
            values[knob.name], sources[knob.name] = given, f"flag {knob.flag}" if knob.flag else "option"
            problem = _check_range(knob, float(given)) if knob.kind in ("int", "float") else None  # type: ignore[arg-type]
            if problem:
                errors.append(f"{knob.flag} {given}: {problem}")
        elif raw is not None and (raw.strip() or not knob.blank_is_unset):
            try:
                values[knob.name] = _from_env(knob, raw.strip() if knob.kind != "str" else raw)
                sources[knob.name] = f"${knob.env}"
            except ValueError as exc:
                errors.append(f"${knob.env}: {exc}")
        elif knob.name in file_values:
            values[knob.name], sources[knob.name] = file_values[knob.name], str(config)
        else:
            sources[knob.name] = "default"
    if errors:
        raise ConfigError(errors)
    return Resolved(Settings(**values), sources)  # type: ignore[arg-type]


def settings_from_env(**overrides: object) -> Settings:
    """Settings from NUAGE_* environment variables, with explicit overrides (not None) winning;
    :class:`ConfigError` when a variable's value cannot be used."""
    return resolve(overrides).settings


def masked(knob: Knob, value: object) -> str:
    """How ``nuage config check`` shows a value: secrets hidden (a database URL keeps all but its password)."""
    if value is None:
        return "(none)"
    text = str(value)
    if knob.secret:
        if knob.name == "db":
            return re.sub(r"^([a-z]+://[^:/@]*):[^@]*@", r"\1:***@", text)
        return "***"
    return text
