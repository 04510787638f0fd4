"""A real SMTP server for tests: aiosmtpd's Controller on a free loopback port.

Import `smtp_server` into a folder's conftest.py to use it, or start `SmtpServer`
directly (as a context manager) when a test needs options such as a login.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nobody listens on right now (aiosmtpd cannot start on port 0)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Received:
    """One message as the server took it: envelope, raw bytes and the client's address."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    peer: tuple[str, int]

    @property
    def message(self) -> EmailMessage:
        """The content parsed with the modern e-mail policy."""
        return email.message_from_bytes(self.content, policy=email.policy.default)


class _Handler:
    """aiosmtpd handler hooks: refuse or hang up on chosen recipients, capture every DATA."""

    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address.lower() in self.owner.refused:
            return "550 5.1.1 Mailbox unavailable"
        if address.lower() in self.owner.hang_up_for:
            server.transport.close()
            return "421 4.3.0 Closing connection"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        content = envelope.original_content or envelope.content
        with self.owner.lock:
            self.owner.received.append(
                Received(
                    mail_from=envelope.mail_from,
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    content=bytes(content),
                    peer=(str(session.peer[0]), int(session.peer[1])),
                )
            )
        return "250 Message accepted for delivery"


class SmtpServer:
    """A running aiosmtpd server on 127.0.0.1 that keeps what it receives."""

    def __init__(self, *, credentials: tuple[str, str] | None = None) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.credentials = credentials
        self.refused: set[str] = set()
        """Recipient addresses (lower case) answered with 550."""
        self.hang_up_for: set[str] = set()
        """Recipient addresses (lower case) for which the server drops the connection."""
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self._controller: Controller | None = None

    def start(self) -> SmtpServer:
        """Start on a freshly picked port, retrying if another process takes it first."""
        last: Exception | None = None
        for _ in range(5):
            self.port = free_port(self.host)
            kwargs: dict[str, Any] = {}
            if self.credentials:
                kwargs |= {"authenticator": self._authenticate, "auth_require_tls": False}
            controller = Controller(_Handler(self), hostname=self.host, port=self.port, **kwargs)
            try:
                controller.start()
            except (OSError, RuntimeError) as exc:
                last = exc
                continue
            self._controller = controller
            return self
        raise RuntimeError(f"aiosmtpd did not start: {last}")

    def stop(self) -> None:
        """Stop the server thread."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def messages(self) -> list[EmailMessage]:
        """Every message received so far, parsed, in arrival order."""
        with self.lock:
            return [r.message for r in self.received]

    @property
    def connections(self) -> set[tuple[str, int]]:
        """The distinct client addresses that delivered mail (one per SMTP connection)."""
        with self.lock:
            return {r.peer for r in self.received}

    def _authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        ok = (
            isinstance(auth_data, LoginPassword)
            and self.credentials is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        )
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    """A real SMTP server on 127.0.0.1, stopped after the test."""
    with SmtpServer() as server:
        yield server
