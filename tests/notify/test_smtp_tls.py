"""STARTTLS and implicit TLS to a real aiosmtpd server with a certificate of a test CA."""

from __future__ import annotations

import email
import email.policy
import shutil
import ssl
import subprocess
import threading
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from khenthuong.notify.mail_settings import MailSettings
from khenthuong.notify.smtp import MailUnavailable, send_messages
from tests.notify.test_smtp import _digests
from tests.service_guard import absent
from tests.smtp_fixture import free_port


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for localhost and 127.0.0.1 (it is its own private CA)."""
    if shutil.which("openssl") is None:
        absent("openssl not installed: cannot make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class _Keep:
    def __init__(self) -> None:
        self.received: list[tuple[bytes, bool]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            encrypted = server.transport.get_extra_info("ssl_object") is not None
            self.received.append((bytes(envelope.content), encrypted))
        return "250 OK"


@pytest.fixture(params=["starttls", "ssl"])
def tls_server(
    request: pytest.FixtureRequest, certificate: tuple[Path, Path]
) -> Iterator[tuple[str, int, _Keep]]:
    """aiosmtpd requiring STARTTLS, or speaking TLS from the first byte (implicit TLS)."""
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = _Keep()
    port = free_port()
    options: dict[str, Any] = (
        {"tls_context": context, "require_starttls": True}
        if request.param == "starttls"
        else {"ssl_context": context}
    )
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    yield request.param, port, handler
    controller.stop()


def _settings(security: str, port: int, **changes: object) -> MailSettings:
    values: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "security": security,
        "timeout": 5,
        "sender": "khenthuong@tinh.gov.vn",
    }
    return MailSettings.model_validate(values | changes)


def test_mail_goes_over_tls_trusting_the_private_ca(
    tls_server: tuple[str, int, _Keep], certificate: tuple[Path, Path]
) -> None:
    """With KHENTHUONG_SMTP_CA_FILE naming the CA, the batch is sent encrypted and intact."""
    security, port, handler = tls_server
    results = send_messages(_digests(), _settings(security, port, ca_file=certificate[0]))
    assert [r.ok for r in results] == [True, True, True]
    assert len(handler.received) == 3
    assert all(encrypted for _, encrypted in handler.received)
    first = email.message_from_bytes(handler.received[0][0], policy=email.policy.default)
    assert isinstance(first, EmailMessage)
    assert first["Subject"] == "[Thi đua – Khen thưởng] 1 hồ sơ cần xử lý"


def test_an_untrusted_certificate_is_refused(tls_server: tuple[str, int, _Keep]) -> None:
    """Without the CA the certificate is not trusted: nothing is sent and the error says why."""
    security, port, handler = tls_server
    with pytest.raises(MailUnavailable, match="KHENTHUONG_SMTP_CA_FILE") as caught:
        send_messages(_digests()[:1], _settings(security, port))
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
    assert handler.received == []


def test_ca_file_setting_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    """KHENTHUONG_SMTP_CA_FILE fills `ca_file`; a missing file is a clear error, not a crash."""
    monkeypatch.setenv("KHENTHUONG_SMTP_CA_FILE", str(certificate[0]))
    assert MailSettings().ca_file == certificate[0]
    missing = _settings("starttls", free_port(), ca_file=tmp_path / "none.pem")
    with pytest.raises(MailUnavailable, match="Không tìm thấy tệp CA") as caught:
        send_messages(_digests()[:1], missing)
    assert caught.value.en is not None and "not found" in caught.value.en
