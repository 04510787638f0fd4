"""The embedded default: the same jobs in-process, mail to a local maildir, no broker."""

from __future__ import annotations

import dataclasses
import json
import logging
import mailbox
import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.embedded import tick
from khenthuong.notify.mail_settings import get_mail_settings
from khenthuong.runtime import Runtime
from khenthuong.services import digests, reminder_claims, stepping
from khenthuong.services.actors import load_actor
from khenthuong.settings import get_settings
from khenthuong.storage.db import write_tx
from khenthuong.storage.outbox import OUTBOX, REMINDER_LEDGER
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
    stepping.advance(
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


def _return_one_for_supplement(rt: Runtime, nid: int) -> None:
    with rt.engine.connect() as conn:
        secretary = load_actor(conn, "tk.qd")
    stepping.advance(
        rt.engine, rt.registry, nid, "return_for_supplement", secretary, {"reason": "Bổ sung"}
    )


def _outbox_statuses(rt: Runtime) -> list[str]:
    with rt.engine.connect() as conn:
        return list(conn.execute(select(OUTBOX.c.status)).scalars())


def test_a_stop_asked_during_a_run_ends_it_after_the_digest_being_sent(
    rt: Runtime, maildir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scheduler is asked to stop while the first of six digests goes out: that one is
    sent, the five others and the pending notice are left, unspent, for the next run, which
    sends each of them once."""
    nid = overdue_nominations(rt)[0]
    _return_one_for_supplement(rt, nid)
    stop = threading.Event()
    send = digests.send_digest

    def send_then_stop(*args: object, **kwargs: object) -> str:
        outcome = send(*args, **kwargs)  # type: ignore[arg-type]
        stop.set()  # SIGTERM arrives while this digest was being sent
        return outcome

    monkeypatch.setattr(digests, "send_digest", send_then_stop)
    first = tick(rt, stop)
    assert (first.digests_sent, first.notices_sent) == (1, 0)
    assert len(list(mailbox.Maildir(str(maildir)))) == 1
    assert _outbox_statuses(rt) == ["pending"]
    assert sorted(_attempts(rt)) == [0] * 8 + [1] * 2, "the rest given back, no attempt counted"

    second = tick(rt, threading.Event())
    assert (second.digests_sent, second.notices_sent) == (5, 1)
    texts = [m.as_string() for m in mailbox.Maildir(str(maildir))]
    assert len(texts) == 7
    recipients = [re.search(r"^To: (.*)$", t, re.M).group(1) for t in texts]  # type: ignore[union-attr]
    assert len(set(recipients)) == 7, "each digest and the notice once, to its own addressee"
    assert _outbox_statuses(rt) == ["sent"]
    assert _attempts(rt) == [1] * 10, "each reminder sent in one attempt"


def _attempts(rt: Runtime) -> list[int]:
    with rt.engine.connect() as conn:
        return list(conn.execute(select(REMINDER_LEDGER.c.attempts)).scalars())


def test_a_stop_asked_before_a_run_sends_nothing_and_spends_nothing(
    rt: Runtime, maildir: Path
) -> None:
    """Stop already asked: the run claims, gives everything back and sends nothing; the
    next run sends all of it."""
    nid = overdue_nominations(rt)[0]
    _return_one_for_supplement(rt, nid)
    stop = threading.Event()
    stop.set()
    first = tick(rt, stop)
    assert (first.digests_sent, first.notices_sent) == (0, 0)
    assert not maildir.exists() or not list(mailbox.Maildir(str(maildir)))
    assert _outbox_statuses(rt) == ["pending"]
    second = tick(rt)
    assert (second.digests_sent, second.notices_sent) == (6, 1)


def test_a_stop_cuts_the_pauses_of_a_spread_full_scan_short(
    rt: Runtime, maildir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan's pause between chunks is the stop event's wait: once stop is asked, a pause
    of an hour returns at once (the rest of the scan runs back to back); before, it waits."""
    pauses: list[Callable[[float], None]] = []

    def claim(*args: object, sleep: Callable[[float], None], **kwargs: object) -> list[list[int]]:
        pauses.append(sleep)
        return []

    monkeypatch.setattr(reminder_claims, "claim_reminders", claim)
    stop = threading.Event()
    tick(rt, stop)
    pause = threading.Thread(target=pauses[0], args=(3600.0,), daemon=True)
    pause.start()
    pause.join(0.5)
    assert pause.is_alive(), "before a stop is asked, the pause waits"
    stop.set()
    pause.join(30)
    assert not pause.is_alive(), "asked to stop, the pause ends"


def _flat(text: str) -> str:
    """Output with Rich's line wrapping undone (words joined by single spaces)."""
    return " ".join(text.split())


def test_reminders_cli_dry_run_and_status(rt: Runtime, maildir: Path) -> None:
    """`reminders run --dry-run` and `reminders status` give the real figures before a run
    (12 due, never run) and after it (nothing due, 12 sent, last and next run)."""
    overdue_nominations(rt)
    runner = CliRunner()
    out = runner.invoke(app, ["reminders", "run", "--dry-run"])
    assert out.exit_code == 0, out.output
    # 6 nominations x (secretary + leader), one digest per person.
    assert "12 nhắc hạn sẽ được gửi (12 mới, 0 gửi lại) trong 6 bản tổng hợp" in _flat(out.output)
    assert "0 thông báo sẽ được gửi" in _flat(out.output)
    assert not maildir.exists() or len(list(mailbox.Maildir(str(maildir)))) == 0
    out = runner.invoke(app, ["reminders", "status"])
    assert out.exit_code == 0, out.output
    text = _flat(out.output)
    assert "Đến hạn gửi ngay bây giờ: 12 nhắc hạn (12 mới, 0 gửi lại)" in text
    assert text.count("chưa chạy lần nào") == 2
    assert "chạy trong tiến trình serve" in text
    # One language per message: no English gloss in brackets (the CLI speaks Vietnamese).
    assert not re.search(r"\((?:due now|never run|mode|reminders|pending)", text), text

    out = runner.invoke(app, ["reminders", "run"])
    assert out.exit_code == 0, out.output
    assert len(list(mailbox.Maildir(str(maildir)))) == 6
    out = runner.invoke(app, ["reminders", "run", "--dry-run"])
    assert "0 nhắc hạn sẽ được gửi (0 mới, 0 gửi lại) trong 0 bản tổng hợp" in _flat(out.output)
    out = runner.invoke(app, ["reminders", "status"])
    assert out.exit_code == 0, out.output
    text = _flat(out.output)
    assert "Đến hạn gửi ngay bây giờ: 0 nhắc hạn (0 mới, 0 gửi lại)" in text
    assert re.search(r"Nhắc hạn │ 0 │ 12 │ 0", text), text
    assert "chưa chạy lần nào" not in text
    assert "Quét nhắc hạn, mỗi 60 giây: lần cuối" in text
    # The run's counts are worded here, in the line's language (stored as data).
    assert "(trong tiến trình serve: đã gửi 6 bản tổng hợp, 0 lỗi); lần tới" in text
    assert "(trong tiến trình serve: đã gửi 0 thông báo, 0 lỗi, 0 không có người nhận)" in text
    assert "Chuyển thông báo, mỗi 60 giây: lần cuối" in text
    out = runner.invoke(app, ["reminders", "status", "--format", "json"])
    assert out.exit_code == 0, out.output
    runs = json.loads(out.output)["last_runs"]
    assert runs["scan_reminders"]["last_result"] == {"sent": 6, "failed": 0}
    assert runs["scan_reminders"]["runner"] == "embedded"


def test_dry_run_lists_notices_and_re_sends(rt: Runtime, maildir: Path) -> None:
    """A pending outbox notice and a reminder left `sending` by a dead worker both show up in
    the dry run, and the next run sends exactly those."""
    nid = overdue_nominations(rt)[0]
    assert tick(rt).digests_sent == 6
    with rt.engine.connect() as conn:
        secretary = load_actor(conn, "tk.qd")
    stepping.advance(
        rt.engine, rt.registry, nid, "return_for_supplement", secretary, {"reason": "Bổ sung"}
    )
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    with write_tx(rt.engine) as conn:
        first = conn.execute(select(REMINDER_LEDGER.c.id).order_by(REMINDER_LEDGER.c.id)).scalar()
        conn.execute(
            update(REMINDER_LEDGER)
            .where(REMINDER_LEDGER.c.id == first)
            .values(status="sending", claimed_at=long_ago, sent_at=None)
        )
    out = CliRunner().invoke(app, ["reminders", "run", "--dry-run"])
    assert out.exit_code == 0, out.output
    text = _flat(out.output)
    assert "1 nhắc hạn sẽ được gửi (0 mới, 1 gửi lại) trong 1 bản tổng hợp" in text
    assert "1 thông báo sẽ được gửi" in text
    result = tick(rt)
    assert (result.digests_sent, result.notices_sent) == (1, 1)


def test_an_unwritable_maildir_stops_the_run_with_one_warning(
    rt: Runtime, maildir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The delivery target cannot be written: the run stops after the first digest with one
    warning naming the folder; that digest waits for its retry, the others were not tried
    (no attempt counted) and go at the next run once the folder can be written."""
    overdue_nominations(rt)
    maildir.parent.mkdir(parents=True)
    maildir.write_text("a file where the maildir should be")
    with caplog.at_level("WARNING", logger="khenthuong"):
        result = tick(rt)
    assert (result.digests_sent, result.digests_failed) == (0, 1)
    warnings = [
        r for r in caplog.records
        if r.levelname == "WARNING" and r.name != "khenthuong.services.checkpoints"
    ]  # fmt: skip
    assert len(warnings) == 1 and str(maildir) in warnings[0].getMessage()
    with rt.engine.connect() as conn:
        rows = conn.execute(select(REMINDER_LEDGER.c.status, REMINDER_LEDGER.c.attempts)).all()
    assert {(r.status, r.attempts) for r in rows} == {("retry", 1), ("claimed", 0)}
    maildir.unlink()
    assert tick(rt).digests_sent == 5  # the one waiting for its backoff goes later
    assert len(list(mailbox.Maildir(str(maildir)))) == 5


def test_a_mail_outage_is_logged_once_each_way_and_told_to_the_administrator_once(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """SMTP unreachable over three runs: one warning when it goes, none per run after that;
    past KHENTHUONG_MAIL_ALERT_AFTER_SECONDS the administrator gets one notice (queued, sent
    once mail goes through); when SMTP is back, one warning with the time it was down."""
    from tests.smtp_fixture import SmtpServer, free_port

    overdue_nominations(rt)
    monkeypatch.setenv("KHENTHUONG_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("KHENTHUONG_SMTP_PORT", str(free_port()))
    monkeypatch.setenv("KHENTHUONG_SMTP_TIMEOUT", "2")
    monkeypatch.setenv("KHENTHUONG_MAIL_ALERT_AFTER_SECONDS", "0")
    monkeypatch.setenv("KHENTHUONG_SEND_RETRY_SECONDS", "1")
    get_mail_settings.cache_clear()
    get_settings.cache_clear()
    rt = dataclasses.replace(rt, settings=get_settings())
    with caplog.at_level("INFO", logger="khenthuong"):
        for _ in range(3):
            tick(rt)
            time.sleep(1.1)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len([w for w in warnings if "cannot be delivered" in w]) == 1, warnings
    assert len([w for w in warnings if "has been failing" in w]) == 1, warnings
    with rt.engine.connect() as conn:
        alerts = conn.execute(select(OUTBOX).where(OUTBOX.c.kind == "mail_alert")).all()
    assert [a.dedup_key.split(":")[-1] for a in alerts] == ["admin"]
    caplog.clear()
    with SmtpServer() as server:
        monkeypatch.setenv("KHENTHUONG_SMTP_PORT", str(server.port))
        get_mail_settings.cache_clear()
        with caplog.at_level("INFO", logger="khenthuong"):
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not any(
                "admin@btdkt.example" in str(m["To"]) for m in server.messages
            ):
                tick(rt)
                time.sleep(0.5)
        received = server.messages
    back = [r.getMessage() for r in caplog.records if "delivered again" in r.getMessage()]
    assert len(back) == 1 and "s down (since" in back[0]
    to_admin = [m for m in received if "admin@btdkt.example" in str(m["To"])]
    assert len(to_admin) == 1
    assert "không gửi được" in str(to_admin[0]["Subject"])
    body = to_admin[0].get_body(("plain",))
    assert body is not None and "Connection refused" in body.get_content()
