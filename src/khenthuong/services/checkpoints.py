"""Signed checkpoints of the audit log: the key file, the checkpoint file, when to seal.

The Ed25519 private key lives in a file outside the database (`<state_dir>/audit-key.pem`
or KHENTHUONG_AUDIT_KEY_FILE, mode 0600, created by `khenthuong init`). Each checkpoint is
stored in `audit_checkpoint` and appended, one JSON line, to the checkpoint file
(`<state_dir>/audit-checkpoints.jsonl` or KHENTHUONG_AUDIT_CHECKPOINT_FILE) after its
transaction commits. Checkpoints are written at each reminder scan, after each decision and
by `khenthuong audit checkpoint`; without a key file nothing is sealed (a warning is logged).
With KHENTHUONG_AUDIT_MAIL_TO set, each new checkpoint is also e-mailed there through the
outbox (queued in the sealing transaction, sent by the notice delivery).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)
from sqlalchemy import Connection, Engine, insert

from khenthuong.audit.checkpoint import Checkpoint
from khenthuong.audit.seal import seal
from khenthuong.errors import KhenthuongError
from khenthuong.notify.mail_settings import MailSettings
from khenthuong.notify.render import (
    KEY_HEADER,
    MAIL_POLICY,
    SUBJECT_PREFIX,
    Sender,
    message_id_for,
)
from khenthuong.notify.smtp import SendResult, deliver
from khenthuong.settings import Settings, get_settings
from khenthuong.storage.db import AFTER_COMMIT, write_tx
from khenthuong.storage.outbox import OUTBOX

log = logging.getLogger(__name__)


def key_path(settings: Settings) -> Path:
    """Where the private signing key is kept."""
    return Path(settings.audit_key_file or Path(settings.state_dir) / "audit-key.pem")


def checkpoint_path(settings: Settings) -> Path:
    """The file every checkpoint is appended to."""
    return Path(
        settings.audit_checkpoint_file or Path(settings.state_dir) / "audit-checkpoints.jsonl"
    )


def create_key(settings: Settings) -> tuple[Path, bool]:
    """Create the signing key file (mode 0600) unless it exists; (path, created)."""
    path = key_path(settings)
    if path.exists():
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    pem = Ed25519PrivateKey.generate().private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
    return path, True


def load_private_key(settings: Settings) -> Ed25519PrivateKey | None:
    """The signing key, or None when its file does not exist."""
    path = key_path(settings)
    if not path.exists():
        return None
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise KhenthuongError(f"{path}: không đọc được khóa ký nhật ký ({exc})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KhenthuongError(f"{path}: khóa ký nhật ký phải là khóa Ed25519")
    return key


def public_key_pem(key: Ed25519PrivateKey) -> bytes:
    """The public half, PEM (SubjectPublicKeyInfo): what auditors keep."""
    return key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)


def load_public_key(path: Path) -> Ed25519PublicKey:
    """A public key from a PEM file (a private key file gives its public half)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise KhenthuongError(f"{path}: không đọc được khóa công khai ({exc.strerror})") from None
    try:
        if b"PRIVATE KEY" in data:
            private = load_pem_private_key(data, password=None)
            if isinstance(private, Ed25519PrivateKey):
                return private.public_key()
        else:
            public = load_pem_public_key(data)
            if isinstance(public, Ed25519PublicKey):
                return public
    except (ValueError, TypeError):
        pass
    raise KhenthuongError(f"{path}: không phải khóa Ed25519 dạng PEM")


def read_checkpoint_file(path: Path) -> Checkpoint:
    """The last checkpoint of a checkpoint file; a malformed line is named FILE:LINE."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise KhenthuongError(
            f"{path}: không đọc được tệp điểm niêm phong ({exc.strerror})"
        ) from None
    last = None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            last = Checkpoint.from_line(line)
        except ValueError as exc:
            raise KhenthuongError(f"{path}:{number}: dòng điểm niêm phong hỏng ({exc})") from None
    if last is None:
        raise KhenthuongError(f"{path}: tệp không có điểm niêm phong nào")
    return last


_WARNED_NO_KEY: set[Path] = set()


def write_checkpoint(
    engine: Engine,
    settings: Settings | None = None,
    *,
    now: datetime | None = None,
    force: bool = False,
) -> Checkpoint | None:
    """Seal new events and sign a checkpoint; None when there is no key file.

    When nothing was appended since the last checkpoint it is returned unchanged (unless
    `force`). A new checkpoint is appended to the checkpoint file once it has committed.
    """
    settings = settings or get_settings()
    key = load_private_key(settings)
    if key is None:
        missing = key_path(settings)
        if missing not in _WARNED_NO_KEY:  # once per process, not at every scan
            _WARNED_NO_KEY.add(missing)
            log.warning("no audit signing key at %s: nothing sealed", missing)
        return None
    path = checkpoint_path(settings)
    anchor = read_checkpoint_file(path) if path.exists() and path.stat().st_size else None
    with write_tx(engine) as conn:
        checkpoint, new = seal(conn, key, now=now, force=force, anchor=anchor)
        if new and settings.audit_mail_to:
            _queue_mail(conn, checkpoint, settings.audit_mail_to)
    if new:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as out:
            out.write(checkpoint.line() + "\n")
    return checkpoint


MAIL_KIND = "audit_checkpoint"
"""Outbox kind of the e-mail that sends a checkpoint to the auditors."""


def _queue_mail(conn: Connection, checkpoint: Checkpoint, to: str) -> None:
    """Queue the checkpoint's e-mail in the outbox, in the sealing transaction."""
    now = datetime.now(UTC)
    conn.execute(
        insert(OUTBOX).values(
            dedup_key=f"{MAIL_KIND}:{checkpoint.size}:{checkpoint.time}",
            kind=MAIL_KIND,
            payload=json.dumps({"to": to, "line": checkpoint.line()}),
            created_at=now,
            available_at=now,
            status="pending",
            attempts=0,
        )
    )


def send_mail(row: Mapping[Any, Any], data: Mapping[str, Any], mail: MailSettings) -> SendResult:
    """Send one queued checkpoint to the auditors' address (called by notice_relay.deliver_notice)."""
    checkpoint = Checkpoint.from_line(str(data["line"]))
    sender = Sender.from_settings(mail)
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["Subject"] = f"{SUBJECT_PREFIX} Điểm niêm phong nhật ký kiểm tra: {checkpoint.size} sự kiện"
    msg["From"] = Address(display_name=sender.name, addr_spec=sender.address)
    msg["To"] = str(data["to"])
    msg["Date"] = format_datetime(datetime.now(UTC))
    msg["Message-ID"] = message_id_for(str(row["dedup_key"]))
    msg[KEY_HEADER] = str(row["dedup_key"])
    msg.set_content(
        "Điểm niêm phong mới của nhật ký kiểm tra (đã ký Ed25519).\n"
        f"Số sự kiện: {checkpoint.size}\nGốc cây Merkle: {checkpoint.root}\n"
        f"Số chuỗi: {checkpoint.streams}\nThời điểm (UTC): {checkpoint.time}\n\n"
        # An e-mail to the auditors, who check a checkpoint with the CLI only (no page does).
        "Lưu nguyên dòng dưới đây ngoài máy chủ; kiểm tra bằng lệnh\n"
        "khenthuong audit verify --checkpoint TỆP --public-key KHÓA_CÔNG_KHAI\n\n"
        f"{checkpoint.line()}\n",
        cte="quoted-printable",
    )
    return deliver([msg], mail)[0]


def checkpoint_quietly(engine: Engine, settings: Settings | None = None) -> Checkpoint | None:
    """`write_checkpoint` for the scan and decisions: a failure is logged, never raised
    (the step or scan it follows has committed; the next checkpoint seals its events)."""
    try:
        return write_checkpoint(engine, settings)
    except Exception:
        log.exception("audit checkpoint failed")
        return None


def after_commit(conn: Connection) -> None:
    """Write a checkpoint once the caller's write transaction (`write_tx`) commits."""
    hooks: list[Callable[[], object]] = conn.info.setdefault(AFTER_COMMIT, [])
    engine = conn.engine
    if not hooks:
        hooks.append(lambda: checkpoint_quietly(engine))
