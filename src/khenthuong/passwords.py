"""Password hashing (argon2id) and API token generation; no I/O."""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_HASHER = PasswordHasher()
MIN_PASSWORD_LENGTH = 8
TOKEN_PREFIX = "kt_"


def hash_password(password: str) -> str:
    """An argon2id hash with a random salt."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự")
    return _HASHER.hash(password)


@cache
def _dummy_hash() -> str:
    """A hash to verify against when the account has none (made on first use, not at import:
    every command would otherwise pay one argon2 hash to start)."""
    return _HASHER.hash("khenthuong-timing-equaliser")


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches; an account without a hash never matches.

    A missing hash still costs one verification, so timing does not reveal which
    user names exist.
    """
    try:
        return _HASHER.verify(stored_hash or _dummy_hash(), password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """A fresh bearer token (shown once; only its SHA-256 is stored)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
