"""Who may scrape the metrics: a bearer token, a list of source addresses and networks, or both (then a
scrape needs both). With neither the endpoint answers 403 to everyone: metrics say how busy a gateway is
and name its largest buckets, which a stranger has no business knowing.

The source address is the TCP peer's: ``X-Forwarded-For`` is never trusted (list the proxy's address when
Prometheus scrapes through one)."""

from __future__ import annotations

import hmac
import ipaddress
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Guard", "GuardError"]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class GuardError(ValueError):
    """The token or the allow list cannot be used: the message says which and why."""


@dataclass(frozen=True)
class Guard:
    token: bytes | None = None                  # None: no token asked for
    networks: tuple[Network, ...] | None = None  # None: any source address

    @property
    def enabled(self) -> bool:
        return self.token is not None or self.networks is not None

    @classmethod
    def from_settings(cls, token: str | None, token_file: Path | None, allow: str | None) -> Guard:
        """The guard of ``--metrics-token`` or ``--metrics-token-file`` (one of them) and ``--metrics-allow``
        (addresses and networks separated by commas: ``127.0.0.1,10.0.0.0/8,::1``)."""
        if token is not None and token_file is not None:
            raise GuardError("give --metrics-token or --metrics-token-file, not both")
        if token_file is not None:
            try:
                token = token_file.read_text(encoding="utf-8").strip()
            except (OSError, UnicodeDecodeError) as exc:
                raise GuardError(f"cannot read the metrics token file {token_file}: "
                                 f"{getattr(exc, 'strerror', None) or exc}") from None
            if not token:
                raise GuardError(f"the metrics token file {token_file} is empty")
        if token is not None and (len(token) < 16 or not token.isascii() or not token.isprintable()
                                  or " " in token):
            raise GuardError("the metrics token must be 16 printable ASCII characters at least, without spaces")
        networks: tuple[Network, ...] | None = None
        if allow is not None:
            parts = [p.strip() for p in allow.split(",") if p.strip()]
            if not parts:
                raise GuardError("--metrics-allow: no address or network given")
            found = []
            for part in parts:
                try:
                    found.append(ipaddress.ip_network(part, strict=False))
                except ValueError:
                    raise GuardError(f"--metrics-allow: {part!r} is not an address or a network "
                                     f"(e.g. 10.0.0.0/8)") from None
            networks = tuple(found)
        return cls(token.encode() if token is not None else None, networks)

    def check(self, remote: str, authorization: bytes) -> int:
        """0 when a scrape from ``remote`` with this Authorization header may read the metrics; else the
        status to answer: 401 (no token given where one is asked for) or 403."""
        if not self.enabled:
            return 403
        if self.networks is not None and not self.allows(remote):
            return 403
        if self.token is not None:
            scheme, _, given = authorization.partition(b" ")
            if scheme.lower() != b"bearer" or not given.strip():
                return 401
            if not hmac.compare_digest(given.strip(), self.token):
                return 403
        return 0

    def allows(self, remote: str) -> bool:
        try:
            address = ipaddress.ip_address(remote)
        except ValueError:
            return False
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        assert self.networks is not None
        return any(address in network for network in self.networks)
