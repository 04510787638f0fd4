"""Deliver rendered messages: one SMTP connection per batch, or a maildir in the embedded mode."""

from __future__ import annotations

import mailbox
import smtplib
import ssl
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path

from khenthuong.errors import KhenthuongError
from khenthuong.notify.mail_settings import MailSettings
from khenthuong.notify.render import KEY_HEADER


class MailUnavailable(KhenthuongError):
    """The SMTP relay (or the maildir) cannot take any message; nothing in the batch was sent."""


@dataclass(frozen=True)
class SendResult:
    """What happened to one message of a batch."""

    key: str
    """The message's X-Khenthuong-Key (its ledger key), empty when it has none."""
    message_id: str
    recipients: tuple[str, ...]
    ok: bool
    error: str | None = None
    """Why the message was not accepted; or, when ok, the recipients the relay refused."""


def deliver(messages: Sequence[EmailMessage], settings: MailSettings) -> list[SendResult]:
    """Send over SMTP when a host is configured, else write to the maildir."""
    if settings.host:
        return send_messages(messages, settings)
    return write_to_maildir(messages, settings.maildir)


def send_messages(messages: Sequence[EmailMessage], settings: MailSettings) -> list[SendResult]:
    """Send a batch over one SMTP connection; one bad message or recipient fails alone.

    The envelope sender (where bounces go) is `settings.sender`, whatever From says.
    Raises MailUnavailable when the relay cannot be reached or refuses the login. If the
    connection drops mid-batch it is opened again once; the messages still unsent after
    that are reported as failed rather than raised, so callers can record those sent.
    """
    if not settings.host:
        raise MailUnavailable("Chưa cấu hình máy chủ SMTP", en="No SMTP host configured")
    results: list[SendResult] = []
    pending = list(messages)
    if not pending:
        return results
    connections_left = 2  # the first, and one more if the relay hangs up mid-batch
    while pending and connections_left:
        connections_left -= 1
        try:
            with _connection(settings) as smtp:
                while pending:
                    if smtp.sock is None:  # the relay closed after its last reply (e.g. 421)
                        break
                    msg = pending[0]
                    try:
                        refused = smtp.send_message(msg, from_addr=settings.sender)
                    except (smtplib.SMTPServerDisconnected, TimeoutError, ConnectionError):
                        # The connection is gone; the message may or may not have arrived
                        # (its Message-ID lets the receiving side spot a duplicate).
                        raise
                    except (smtplib.SMTPException, ValueError) as exc:
                        results.append(_result(msg, ok=False, error=_describe(exc)))
                    else:
                        error = _describe_refused(refused) if refused else None
                        results.append(_result(msg, ok=True, error=error))
                    pending.pop(0)
        except MailUnavailable:
            if results:  # reached the relay before; report the rest instead of raising
                break
            raise
        except OSError as exc:
            results.append(_result(pending.pop(0), ok=False, error=_describe(exc)))
    reason = "không gửi được do mất kết nối SMTP (not sent: SMTP connection lost)"
    results.extend(_result(msg, ok=False, error=reason) for msg in pending)
    return results


def write_to_maildir(messages: Sequence[EmailMessage], folder: Path) -> list[SendResult]:
    """Store each message as one file in a Maildir (embedded mode, no SMTP relay).

    The folder and its tmp/new/cur subfolders are created when missing, also in a folder that
    exists already (an empty mounted volume): `mailbox.Maildir` creates them only with the
    folder itself."""
    try:
        for sub in ("tmp", "new", "cur"):
            (Path(folder) / sub).mkdir(parents=True, exist_ok=True)
        box = mailbox.Maildir(folder, create=True)
        results = []
        for msg in messages:
            box.add(msg)
            results.append(_result(msg, ok=True))
    except OSError as exc:
        raise MailUnavailable(
            f"Không ghi được thư vào thư mục maildir {folder}: {_describe(exc)}",
            en=f"Cannot write to the maildir {folder}: {_describe(exc)}",
        ) from exc
    return results


def tls_context(settings: MailSettings) -> ssl.SSLContext:
    """The client TLS context: the system's CAs, or only `settings.ca_file` when set."""
    if settings.ca_file is not None and not Path(settings.ca_file).is_file():
        raise MailUnavailable(
            f"Không tìm thấy tệp CA {settings.ca_file} (KHENTHUONG_SMTP_CA_FILE)",
            en=f"KHENTHUONG_SMTP_CA_FILE {settings.ca_file} not found",
        )
    try:
        return ssl.create_default_context(
            cafile=str(settings.ca_file) if settings.ca_file else None
        )
    except (ssl.SSLError, OSError) as exc:
        raise MailUnavailable(
            f"Tệp CA {settings.ca_file} (KHENTHUONG_SMTP_CA_FILE) không phải tệp chứng chỉ PEM: "
            f"{_describe(exc)}",
            en=f"KHENTHUONG_SMTP_CA_FILE {settings.ca_file} is not a PEM certificate file: "
            f"{_describe(exc)}",
        ) from exc


@contextmanager
def _connection(settings: MailSettings) -> Iterator[smtplib.SMTP]:
    host, port = settings.host or "", settings.port
    where = f"{host}:{port}"
    context = tls_context(settings) if settings.security != "none" else None
    smtp: smtplib.SMTP | None = None
    try:
        if settings.security == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=settings.timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=settings.timeout)
            if settings.security == "starttls":
                smtp.starttls(context=context)
        if settings.username:
            password = settings.password.get_secret_value() if settings.password else ""
            smtp.login(settings.username, password)
    except smtplib.SMTPAuthenticationError as exc:
        _close(smtp)
        raise MailUnavailable(
            f"Máy chủ thư {where} từ chối đăng nhập của {settings.username}: {_describe(exc)}",
            en=f"The SMTP server {where} refused the login of {settings.username}: "
            f"{_describe(exc)}",
        ) from exc
    except ssl.SSLCertVerificationError as exc:
        _close(smtp)
        raise MailUnavailable(
            f"Chứng chỉ của máy chủ thư {where} không được tin cậy; CA riêng của cơ quan ghi "
            f"trong KHENTHUONG_SMTP_CA_FILE: {_describe(exc)}",
            en=f"The certificate of the SMTP server {where} is not trusted; a private CA goes "
            f"in KHENTHUONG_SMTP_CA_FILE: {_describe(exc)}",
        ) from exc
    except UnicodeEncodeError as exc:
        _close(smtp)
        # smtplib sends AUTH data as ASCII only.
        raise MailUnavailable(
            f"Tên đăng nhập/mật khẩu SMTP cho {where} phải là ký tự ASCII",
            en=f"The SMTP username and password for {where} must be ASCII",
        ) from exc
    except (OSError, smtplib.SMTPException) as exc:
        _close(smtp)
        raise MailUnavailable(
            f"Không kết nối được máy chủ thư {where} (security={settings.security}, "
            f"timeout={settings.timeout:g}s): {_describe(exc)}",
            en=f"The SMTP server {where} is unreachable (security={settings.security}, "
            f"timeout={settings.timeout:g}s): {_describe(exc)}",
        ) from exc
    try:
        yield smtp
    finally:
        _close(smtp, polite=True)


def _close(smtp: smtplib.SMTP | None, *, polite: bool = False) -> None:
    if smtp is None:
        return
    with suppress(OSError):
        if polite:
            smtp.quit()
    with suppress(OSError):
        smtp.close()


def _result(msg: EmailMessage, *, ok: bool, error: str | None = None) -> SendResult:
    fields = [str(v) for name in ("To", "Cc", "Bcc") for v in msg.get_all(name, [])]
    return SendResult(
        key=str(msg.get(KEY_HEADER, "")),
        message_id=str(msg.get("Message-ID", "")),
        recipients=tuple(addr for _, addr in getaddresses(fields) if addr),
        ok=ok,
        error=error,
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return _describe_refused(exc.recipients) or "SMTPRecipientsRefused: no recipients"
    if isinstance(exc, smtplib.SMTPResponseException):
        reply = exc.smtp_error
        text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
        return f"{exc.__class__.__name__}: {exc.smtp_code} {text}"
    return f"{exc.__class__.__name__}: {exc}"


def _describe_refused(refused: dict[str, tuple[int, bytes]]) -> str:
    parts = [
        f"{addr}: {code} {reply.decode('utf-8', 'replace')}"
        for addr, (code, reply) in sorted(refused.items())
    ]
    return "refused " + "; ".join(parts)
