"""Signed session cookies and CSRF tokens for the web UI (itsdangerous)."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from itsdangerous import BadSignature, URLSafeTimedSerializer

from khenthuong.settings import Settings

COOKIE_NAME = "kt_session"
LANG_COOKIE = "kt_lang"
FLASH_COOKIE = "kt_flash"


@dataclass(frozen=True)
class Session:
    """Who is signed in and the CSRF token their forms must carry."""

    username: str
    csrf: str
    epoch: int = 0


def secret_key(settings: Settings) -> str:
    """The configured key, or one generated once and kept in the state folder (0600)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = Path(settings.state_dir) / "secret-key"
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    # Written whole under a private name, then linked into place: several processes
    # starting at once all end up with the one key that was linked first, never a
    # half-written file.
    draft = path.with_name(f".secret-key.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key)
        try:
            os.link(draft, path)
        except FileExistsError:
            return path.read_text(encoding="ascii").strip()
    finally:
        draft.unlink(missing_ok=True)
    return key


class SessionCodec:
    """Issue and read session cookies; a cookie older than `max_age` seconds is refused."""

    def __init__(self, key: str, max_age: float) -> None:
        self._serializer = URLSafeTimedSerializer(key, salt="khenthuong-session")
        self._notes = URLSafeTimedSerializer(key, salt="khenthuong-flash")
        self.max_age = max_age

    def seal(self, data: object) -> str:
        """A signed cookie value carrying `data` (a flash message for the next page)."""
        return self._notes.dumps(data)

    def unseal(self, value: str | None, max_age: int = 300) -> object | None:
        """What `seal` sealed, or None when absent, forged or older than `max_age` seconds."""
        if not value:
            return None
        try:
            data: object = self._notes.loads(value, max_age=max_age)
        except BadSignature:
            return None
        return data

    def issue(self, username: str, epoch: int = 0) -> tuple[str, Session]:
        """A new cookie value and the session it carries (fresh CSRF token)."""
        session = Session(username=username, csrf=secrets.token_urlsafe(24), epoch=epoch)
        data = {"u": username, "c": session.csrf, "e": epoch}
        return self._serializer.dumps(data), session

    def read(self, cookie: str | None) -> Session | None:
        """The session in a cookie, or None when absent, forged or expired."""
        if not cookie:
            return None
        try:
            data = self._serializer.loads(cookie, max_age=int(self.max_age))
        except BadSignature:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("u"), str):
            return None
        epoch = data.get("e", 0)
        return Session(
            username=data["u"],
            csrf=str(data.get("c", "")),
            epoch=epoch if isinstance(epoch, int) else -1,
        )


def cookie_secure(settings: Settings) -> bool:
    """Whether the cookie carries the Secure flag."""
    if settings.cookie_secure is not None:
        return settings.cookie_secure
    return bool(settings.base_url and settings.base_url.startswith("https://"))
