"""Fixtures for the bloc tests: the shared aiosmtpd server."""

from __future__ import annotations

from tests.smtp_fixture import smtp_server

__all__ = ["smtp_server"]
