"""One-time set-password links for officers who have no password yet (accounts imported
from a file never carry one): the administrator hands each officer their link; the officer
opens it, chooses a password and signs in. A link works once, expires, and a newer link of
the same user voids the older ones. Issuing and using a link are audited on `user:ID`."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, insert, select, update

from khenthuong.audit.append import append_event
from khenthuong.errors import KhenthuongError, NotFound
from khenthuong.passwords import token_digest
from khenthuong.services.accounts import set_password
from khenthuong.storage.models import USERS
from khenthuong.storage.password_links import PASSWORD_LINKS

LINK_HOURS = 72
"""How long a link works."""
LINK_PATH = "/set-password"
_PREFIX = "ktp_"


class BadLink(KhenthuongError):
    """The link is unknown, used, expired, or its account is disabled."""

    def __init__(self) -> None:
        super().__init__(
            "Liên kết đặt mật khẩu không hợp lệ, đã dùng hoặc đã hết hạn; "
            "xin quản trị viên một liên kết mới"
        )


@dataclass(frozen=True)
class IssuedLink:
    """A link just issued: shown once, never stored."""

    username: str
    email: str
    url: str
    expires_at: datetime


def issue_links(
    conn: Connection,
    usernames: Sequence[str],
    *,
    base_url: str,
    actor: str,
    hours: int = LINK_HOURS,
    now: datetime | None = None,
) -> list[IssuedLink]:
    """A fresh link for each user (their older unused links stop working)."""
    moment = now or datetime.now(UTC)
    expires = moment + timedelta(hours=hours)
    out: list[IssuedLink] = []
    for username in usernames:
        user = conn.execute(
            select(USERS.c.id, USERS.c.email, USERS.c.active).where(USERS.c.username == username)
        ).first()
        if user is None:
            raise NotFound(f"Không có người dùng {username!r}")
        if not user.active:
            raise KhenthuongError(f"Tài khoản {username} đã bị khóa; mở lại trước khi gửi liên kết")
        conn.execute(
            update(PASSWORD_LINKS)
            .where(PASSWORD_LINKS.c.user_id == user.id, PASSWORD_LINKS.c.used_at.is_(None),
                   PASSWORD_LINKS.c.expires_at > moment)
            .values(expires_at=moment)
        )  # fmt: skip
        token = _PREFIX + secrets.token_urlsafe(32)
        conn.execute(
            insert(PASSWORD_LINKS).values(
                user_id=user.id, token_sha256=token_digest(token), created_at=moment,
                expires_at=expires,
            )
        )  # fmt: skip
        append_event(
            conn, f"user:{user.id}", actor=actor, trigger="password_link_issued",
            payload={"username": username, "expires_at": expires.isoformat()}, now=moment,
        )  # fmt: skip
        url = f"{base_url.rstrip('/')}{LINK_PATH}?token={token}"
        out.append(IssuedLink(username, str(user.email), url, expires))
    return out


def _live_link(conn: Connection, token: str, moment: datetime) -> tuple[int, int, str]:
    row = conn.execute(
        select(PASSWORD_LINKS.c.id, PASSWORD_LINKS.c.user_id, PASSWORD_LINKS.c.expires_at,
               PASSWORD_LINKS.c.used_at, USERS.c.username, USERS.c.active)
        .join(USERS, USERS.c.id == PASSWORD_LINKS.c.user_id)
        .where(PASSWORD_LINKS.c.token_sha256 == token_digest(token))
    ).first()  # fmt: skip
    if row is None or row.used_at is not None or not row.active:
        raise BadLink()
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if expires <= moment:
        raise BadLink()
    return int(row.id), int(row.user_id), str(row.username)


def link_user(conn: Connection, token: str, now: datetime | None = None) -> str:
    """The username a live link is for, or BadLink."""
    return _live_link(conn, token, now or datetime.now(UTC))[2]


def use_link(
    conn: Connection,
    token: str,
    password: str,
    *,
    refused: Collection[str] = (),
    now: datetime | None = None,
) -> str:
    """Set the password through a live link, which then stops working; returns the username.
    A password of `refused` (the published demo password in production) is not taken."""
    moment = now or datetime.now(UTC)
    link_id, user_id, username = _live_link(conn, token, moment)
    if password in refused:
        raise KhenthuongError("Mật khẩu này đã được công bố (dữ liệu mẫu); chọn mật khẩu khác")
    set_password(conn, username, password)
    claimed = conn.execute(
        update(PASSWORD_LINKS)
        .where(PASSWORD_LINKS.c.id == link_id, PASSWORD_LINKS.c.used_at.is_(None))
        .values(used_at=moment)
    )
    if claimed.rowcount != 1:  # used by a concurrent request
        raise BadLink()
    append_event(
        conn, f"user:{user_id}", actor=username, trigger="password_set_by_link",
        payload={"username": username}, now=moment,
    )  # fmt: skip
    return username
