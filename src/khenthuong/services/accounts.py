"""Passwords and API tokens of officers."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, insert, select, update

from khenthuong.errors import KhenthuongError, NotFound
from khenthuong.passwords import hash_password, new_token, token_digest
from khenthuong.storage.db import inserted_id
from khenthuong.storage.models import API_TOKENS, USERS


def _user_id(conn: Connection, username: str) -> int:
    user_id = conn.execute(select(USERS.c.id).where(USERS.c.username == username)).scalar()
    if user_id is None:
        raise NotFound(f"Không có người dùng {username!r}", en=f"No user named {username!r}")
    return int(user_id)


def set_password(conn: Connection, username: str, password: str) -> None:
    """Store an argon2id hash of `password` for the user; their open sessions end."""
    user_id = _user_id(conn, username)
    try:
        hashed = hash_password(password)
    except ValueError as exc:
        raise KhenthuongError(str(exc)) from exc
    conn.execute(
        update(USERS)
        .where(USERS.c.id == user_id)
        .values(password_hash=hashed, session_epoch=USERS.c.session_epoch + 1)
    )


def create_token(conn: Connection, username: str, name: str) -> tuple[int, str]:
    """A new bearer token for the user: (token id, token). Only its SHA-256 is stored."""
    user_id = _user_id(conn, username)
    token = new_token()
    token_id = inserted_id(
        conn.execute(
            insert(API_TOKENS).values(
                user_id=user_id,
                name=name[:100],
                token_sha256=token_digest(token),
                created_at=datetime.now(UTC),
                revoked=False,
            )
        )
    )
    return token_id, token


def revoke_token(conn: Connection, token_id: int) -> None:
    """Revoke a token; it is refused from the next request on."""
    result = conn.execute(
        update(API_TOKENS).where(API_TOKENS.c.id == token_id).values(revoked=True)
    )
    if result.rowcount != 1:
        raise NotFound(f"Không có mã truy cập #{token_id}", en=f"No token #{token_id}")
