"""Checkpoints are written at the reminder scan and after decisions, appended to the
checkpoint file, e-mailed to the auditors, and never without the key file."""

from __future__ import annotations

import email
import email.policy
import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import func, select

from khenthuong.audit.leaves import leaf_count
from khenthuong.errors import KhenthuongError
from khenthuong.notify.mail_settings import MailSettings
from khenthuong.runtime import Runtime
from khenthuong.services import checkpoints, notice_relay, reminder_claims
from khenthuong.settings import get_settings
from khenthuong.storage.models import EVENTS
from khenthuong.storage.outbox import OUTBOX
from khenthuong.storage.seal import AUDIT_CHECKPOINTS
from tests.audit.test_verify import decided_nomination


def lines(rt: Runtime) -> list[dict[str, str]]:
    path = checkpoints.checkpoint_path(rt.settings)
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def test_no_key_no_checkpoint(rt: Runtime, caplog: pytest.LogCaptureFixture) -> None:
    """Without the key file the scan seals nothing and says why."""
    with caplog.at_level(logging.WARNING):
        reminder_claims.claim_reminders(rt.engine, rt.registry, rt.settings)
    assert "no audit signing key" in caplog.text
    with rt.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AUDIT_CHECKPOINTS)).scalar() == 0
    assert not checkpoints.checkpoint_path(rt.settings).exists()


def test_scan_and_decision_write_checkpoints(rt: Runtime) -> None:
    """The scan seals every event so far; a decision seals itself once committed; a scan with
    nothing new adds no checkpoint."""
    path, created = checkpoints.create_key(rt.settings)
    assert created
    assert checkpoints.create_key(rt.settings) == (path, False)
    reminder_claims.claim_reminders(rt.engine, rt.registry, rt.settings)
    assert len(lines(rt)) == 1
    decided_nomination(rt)
    assert len(lines(rt)) == 2
    reminder_claims.claim_reminders(rt.engine, rt.registry, rt.settings)
    assert len(lines(rt)) == 2
    with rt.engine.connect() as conn:
        events = conn.execute(select(func.count()).select_from(EVENTS)).scalar_one()
        leaves = leaf_count(conn)
        stored = conn.execute(select(func.count()).select_from(AUDIT_CHECKPOINTS)).scalar_one()
    last = checkpoints.read_checkpoint_file(checkpoints.checkpoint_path(rt.settings))
    assert last.size == leaves == events
    assert stored == 2


def test_checkpoint_is_mailed_to_the_auditors(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """With KHENTHUONG_AUDIT_MAIL_TO the checkpoint line goes out through the outbox."""
    monkeypatch.setenv("KHENTHUONG_AUDIT_MAIL_TO", "kiemtoan@bcy.gov.vn")
    get_settings.cache_clear()
    settings = get_settings()
    checkpoints.create_key(settings)
    made = checkpoints.write_checkpoint(rt.engine, settings)
    assert made is not None
    with rt.engine.connect() as conn:
        (oid,) = conn.execute(
            select(OUTBOX.c.id).where(OUTBOX.c.kind == checkpoints.MAIL_KIND)
        ).scalars()
    maildir = tmp_path / "maildir"
    mail = MailSettings.model_validate({"KHENTHUONG_MAILDIR": str(maildir)})
    answer = notice_relay.deliver_notice(rt.engine, rt.registry, oid, mail=mail)
    assert answer == "audit checkpoint sent to kiemtoan@bcy.gov.vn"
    (sent,) = [p for p in maildir.rglob("*") if p.is_file()]
    msg = email.message_from_bytes(sent.read_bytes(), policy=email.policy.default)
    assert msg["To"] == "kiemtoan@bcy.gov.vn"
    body = msg.get_body().get_content()  # type: ignore[union-attr]
    assert made.line() in body


def test_malformed_checkpoint_file_names_the_line(tmp_path: Path) -> None:
    """A damaged line of the checkpoint file is named FILE:LINE."""
    path = tmp_path / "cp.jsonl"
    path.write_text('{"checkpoint": "{}", "signature": "00"}\n', encoding="utf-8")
    with pytest.raises(KhenthuongError, match=r"cp\.jsonl:1: dòng điểm niêm phong hỏng"):
        checkpoints.read_checkpoint_file(path)
