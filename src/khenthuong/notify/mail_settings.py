"""E-mail settings: the SMTP relay (KHENTHUONG_SMTP_*), the embedded maildir and the web link."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class MailSettings(BaseSettings):
    """How outgoing mail leaves: SMTP when `host` is set, else files in `maildir`."""

    model_config = SettingsConfigDict(
        env_prefix="KHENTHUONG_SMTP_",
        env_file=".env",
        extra="ignore",
        # maildir and base_url are read from KHENTHUONG_MAILDIR / KHENTHUONG_BASE_URL
        # (no SMTP_ in the name); code and tests still pass them by field name.
        validate_by_name=True,
        validate_by_alias=True,
    )

    host: str | None = None
    """SMTP relay host name; unset means the embedded mode (messages go to `maildir`)."""

    port: int = Field(default=25, ge=1, le=65535)
    """SMTP relay port: 25 or 587 (starttls), 465 (ssl), 1025 for Mailpit."""

    security: Literal["none", "starttls", "ssl"] = "none"
    """none: plain SMTP; starttls: upgrade after EHLO; ssl: TLS from the first byte (SMTP_SSL)."""

    username: str | None = None
    """Login name for SMTP AUTH; unset means no login."""

    password: SecretStr | None = None
    """Password for SMTP AUTH (used only together with `username`)."""

    ca_file: Path | None = None
    """PEM file of the certificate authorities trusted for starttls/ssl (a private CA); unset
    uses the system's trust store. Server names and certificates are always checked."""

    timeout: float = Field(default=10.0, gt=0)
    """Seconds to wait for the relay on connect and on each command."""

    sender: str = "khenthuong@localhost"
    """Envelope sender and From address."""

    sender_name: str = "Hệ thống Thi đua – Khen thưởng"
    """Display name shown in From."""

    maildir: Path = Field(default=Path("var/maildir"), validation_alias="KHENTHUONG_MAILDIR")
    """Maildir folder written in the embedded mode (env KHENTHUONG_MAILDIR)."""

    base_url: str | None = Field(default=None, validation_alias="KHENTHUONG_BASE_URL")
    """Public address of the web application, e.g. https://thiduakhenthuong.example.vn;
    links in e-mails appear only when it is set (env KHENTHUONG_BASE_URL)."""


@lru_cache
def get_mail_settings() -> MailSettings:
    """The process-wide mail settings (cached; tests clear the cache or pass their own)."""
    return MailSettings()
