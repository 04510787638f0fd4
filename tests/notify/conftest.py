"""Fixtures for the e-mail tests: the shared aiosmtpd server."""

from __future__ import annotations

from tests.smtp_fixture import SmtpServer, smtp_server

__all__ = ["SmtpServer", "smtp_server"]
