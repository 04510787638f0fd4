"""The embedded default: the same jobs in-process, mail to a local maildir, no broker."""

from __future__ import annotations

import mailbox
from pathlib import Path

import pytest
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.notify.mail_settings import get_mail_settings
from khenthuong.runtime import Runtime
from khenthuong.services import nominations as svc
from khenthuong.services.actors import load_actor
from khenthuong.services.embedded import tick
from tests.workers.test_worker_delivery import overdue_nominations


@pytest.fixture
def maildir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "var" / "maildir"  # the parent does not exist yet
    monkeypatch.delenv("KHENTHUONG_SMTP_HOST", raising=False)
    monkeypatch.setenv("KHENTHUONG_MAILDIR", str(folder))
    get_mail_settings.cache_clear()
    yield folder
    get_mail_settings.cache_clear()


def test_tick_mails_digests_once_into_the_maildir(rt: Runtime, maildir: Path) -> None:
    """Two ticks: six digests the first time, nothing more the second."""
    overdue_nominations(rt)
    first = tick(rt)
    second = tick(rt)
    assert (first.digests_sent, second.digests_sent) == (6, 0)
    assert len(list(mailbox.Maildir(str(maildir)))) == 6


def test_tick_delivers_outbox_notices(rt: Runtime, maildir: Path) -> None:
    """A return for supplementation reaches the proposer's mailbox on the next tick."""
    nid = overdue_nominations(rt)[0]
    with rt.engine.connect() as conn:
        secretary = load_actor(conn, "tk.qd")
    svc.advance(
        rt.engine,
        rt.registry,
        nid,
        "return_for_supplement",
        secretary,
        {"reason": "Bổ sung biên bản họp Hội đồng"},
    )
    result = tick(rt)
    assert result.notices_sent == 1
    texts = [m.as_string() for m in mailbox.Maildir(str(maildir))]
    assert sum("cb.qd@bcy.example" in t for t in texts) == 1


def test_reminders_cli_dry_run_and_status(rt: Runtime, maildir: Path) -> None:
    """`reminders run --dry-run` lists without sending; `reminders status` counts."""
    overdue_nominations(rt)
    runner = CliRunner()
    out = runner.invoke(app, ["reminders", "run", "--dry-run"])
    assert out.exit_code == 0, out.output
    assert "12 nhắc hạn" in out.output  # 6 nominations x (secretary + leader)
    assert not maildir.exists() or len(list(mailbox.Maildir(str(maildir)))) == 0
    out = runner.invoke(app, ["reminders", "run"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["reminders", "status"])
    assert out.exit_code == 0
    assert "embedded" in out.output
