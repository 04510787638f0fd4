"""One-time links that let a new officer choose their own password; only the SHA-256 of the
link's token is stored."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from khenthuong.storage.models import table_of


class PasswordLink(SQLModel, table=True):
    """A set-password link of a user: usable once, until `expires_at`."""

    __tablename__ = "password_link"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    token_sha256: str = Field(max_length=64, unique=True)
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None = None


PASSWORD_LINKS = table_of(PasswordLink)
