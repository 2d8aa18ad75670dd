"""Console sessions: a signed, timestamped cookie (itsdangerous) holding the signed-in access key id and
the CSRF token of the session. Nothing secret is in the cookie (the secret key never leaves the server);
the signature stops a browser from editing it and the timestamp bounds its life.

The signing key is the server's console key: ``$NUAGE_CONSOLE_KEY`` or ``DATA/secrets/console.key``
(32 random bytes, mode 0600, created on first use), so sessions survive a restart and are shared by the
gateways of one data folder. Sign-out replaces the cookie and remembers the ended session in the metadata
store until its cookie would have expired anyway (by a hash of its id): a replayed copy is refused by
every worker process and every gateway, after a restart too. Each request of a signed-in session asks the
store (one small read); anonymous ones do not.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from nuage.core.iam import SecretsError
from nuage.secretfiles import create_once
from nuage.storage.meta.console_state import ConsoleState

COOKIE = "nuage_console"
# Over HTTPS the cookie is a __Host- cookie: the browser keeps it host-only, Secure and for Path=/, so a page
# of another port of the same host (the S3 endpoint's tenant content: cookies know no ports) can neither
# overwrite it nor shadow it with one of a longer path.
SECURE_COOKIE = "__Host-" + COOKIE
KEY_PATH = Path("secrets") / "console.key"
KEY_ENV = "NUAGE_CONSOLE_KEY"
SALT = "nuage-console-session"


#: a signing key shorter than this is refused (the file holds 32 random bytes; an empty or cut one signs
#: cookies anybody can forge)
MIN_KEY_BYTES = 16


def load_key(data_dir: Path) -> bytes:
    """The console's signing key, created (0600) on first use: by one of the processes that start at once on
    a new data folder, whose key the others read. :class:`SecretsError`, naming the file or the variable,
    when it cannot be read or is too short to be a key (an empty file, a truncated one)."""
    if os.environ.get(KEY_ENV):
        key = os.environ[KEY_ENV].encode()
        if len(key) < MIN_KEY_BYTES:
            raise SecretsError(f"${KEY_ENV} is too short to sign console sessions ({len(key)} bytes; "
                               f"{MIN_KEY_BYTES} at least)")
        return key
    path = data_dir / KEY_PATH
    try:
        key, _ = create_once(path, secrets.token_bytes(32))
    except OSError as exc:
        raise SecretsError(f"cannot read the console key {path}: {exc.strerror or exc}") from None
    if len(key) < MIN_KEY_BYTES:
        raise SecretsError(f"{path} does not hold a console signing key ({len(key)} bytes; {MIN_KEY_BYTES} at "
                           f"least): restore it from a backup, or remove it to create a new one (console "
                           f"users then sign in again)")
    return key


@dataclass
class Session:
    csrf: str                         # also names the session (for sign-out)
    access_key: str | None = None     # None: not signed in
    fresh: bool = False               # must be (re)sent to the browser

    def as_dict(self) -> dict[str, str]:
        out = {"csrf": self.csrf}
        if self.access_key is not None:
            out["ak"] = self.access_key
        return out

    def csrf_ok(self, token: str | None) -> bool:
        return token is not None and hmac.compare_digest(token.encode(), self.csrf.encode())


def new_session(access_key: str | None = None) -> Session:
    return Session(csrf=secrets.token_urlsafe(32), access_key=access_key, fresh=True)


class Sessions:
    def __init__(self, key: bytes, max_age: float, state: ConsoleState) -> None:
        self.serializer = URLSafeTimedSerializer(key, salt=SALT)
        self.max_age = max_age
        self.state = state     # signed-out sessions, shared by every process of the region

    async def end(self, session: Session) -> None:
        """Sign-out: this session's cookie stops working everywhere even if a copy of it is replayed."""
        if session.access_key is None:
            return                    # an anonymous session grants nothing: there is nothing to end
        now = time.time()
        await self.state.end_session(session_id(session), now + self.max_age, now)

    async def load(self, cookie: str | None) -> Session:
        """The session of a cookie; a new anonymous one when missing, tampered with, expired or signed out."""
        if cookie:
            try:
                data = self.serializer.loads(cookie, max_age=max(1, int(self.max_age)))
            except (SignatureExpired, BadSignature):
                data = None
            if isinstance(data, dict) and isinstance(data.get("csrf"), str):
                ak = data.get("ak")
                session = Session(csrf=data["csrf"], access_key=ak if isinstance(ak, str) else None)
                # an anonymous session grants nothing: only signed-in ones are looked up
                if session.access_key is None or not await self.state.session_ended(session_id(session), time.time()):
                    return session
        return new_session()

    def cookie_header(self, session: Session, *, secure: bool) -> str:
        """Set-Cookie for the session: host-only (no Domain), HttpOnly (no script reads it), SameSite=Strict
        (no other site's page sends it along), Secure over HTTPS."""
        value = self.serializer.dumps(session.as_dict())
        flags = "; Path=/; HttpOnly; SameSite=Strict"
        if secure:
            flags += "; Secure"
        return f"{cookie_name(secure)}={value}{flags}"


def session_id(session: Session) -> str:
    """What the store knows a session by: a hash of its CSRF token (the token itself stays in the cookie)."""
    return hashlib.sha256(session.csrf.encode()).hexdigest()


def cookie_name(secure: bool) -> str:
    return SECURE_COOKIE if secure else COOKIE
