"""A notice whose delivery fails is retried with exponential backoff, then given up (failed)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from khenthuong.notify.mail_settings import MailSettings
from khenthuong.runtime import Runtime
from khenthuong.services import mail_health, notice_relay, outbox, reminder_claims, stepping
from khenthuong.services.actors import load_actor
from khenthuong.settings import get_settings
from khenthuong.storage.db import write_tx
from khenthuong.storage.outbox import OUTBOX
from tests.smtp_fixture import free_port
from tests.workers.test_worker_delivery import overdue_nominations


def returned_nomination(rt: Runtime) -> int:
    """A nomination returned for supplementation: one notice to its proposer in the outbox."""
    nid = overdue_nominations(rt)[0]
    with rt.engine.connect() as conn:
        secretary = load_actor(conn, "tk.qd")
    stepping.advance(
        rt.engine,
        rt.registry,
        nid,
        "return_for_supplement",
        secretary,
        {"reason": "Thiếu biên bản họp"},
    )
    with rt.engine.connect() as conn:
        return int(conn.execute(select(OUTBOX.c.id)).scalar_one())


def row(rt: Runtime, outbox_id: int) -> dict[str, object]:
    with rt.engine.connect() as conn:
        return dict(conn.execute(select(OUTBOX).where(OUTBOX.c.id == outbox_id)).mappings().one())


def as_utc(moment: object) -> datetime:
    assert isinstance(moment, datetime)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@pytest.fixture
def max_three(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("KHENTHUONG_SEND_MAX_ATTEMPTS", "3")
    monkeypatch.setenv("KHENTHUONG_SEND_RETRY_SECONDS", "60")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_backoff_doubles_and_the_last_failure_is_final(rt: Runtime) -> None:
    """Each failure waits twice as long as the one before; after N attempts: failed, kept."""
    oid = returned_nomination(rt)
    t = datetime(2026, 11, 20, 2, tzinfo=UTC)
    waits, statuses = [], []
    for n in range(3):
        with write_tx(rt.engine) as conn:
            assert outbox.begin_delivery(conn, oid) is not None
            status = outbox.finish_delivery(
                conn, oid, ok=False, error=f"451 lần {n + 1}", max_attempts=3, now=t
            )
        statuses.append(status)
        waits.append(as_utc(row(rt, oid)["available_at"]) - t)
    assert statuses == ["pending", "pending", "failed"]
    assert waits[:2] == [timedelta(seconds=60), timedelta(seconds=120)]
    final = row(rt, oid)
    assert (final["attempts"], final["last_error"]) == (3, "451 lần 3")
    with write_tx(rt.engine) as conn:
        assert outbox.begin_delivery(conn, oid) is None  # never taken again
        assert oid not in outbox.pending(conn, now=t + timedelta(days=30))
        assert outbox.counts(conn) == {"failed": 1}
    assert outbox.retry_delay(20) == timedelta(hours=1)  # capped


def test_a_failed_delivery_is_rescheduled_then_given_up(rt: Runtime, max_three: None) -> None:
    """Through notice_relay.deliver_notice with an unreachable relay: the error is recorded, the row
    waits for its backoff, and after KHENTHUONG_SEND_MAX_ATTEMPTS it is failed."""
    oid = returned_nomination(rt)
    mail = MailSettings.model_validate({"host": "127.0.0.1", "port": free_port(), "timeout": 2})
    for attempt in (1, 2, 3):
        before = datetime.now(UTC)
        with pytest.raises(mail_health.DeliveryFailed):
            notice_relay.deliver_notice(rt.engine, rt.registry, oid, mail=mail)
        current = row(rt, oid)
        assert current["attempts"] == attempt
        assert "Không kết nối được máy chủ thư" in str(current["last_error"])
        if attempt < 3:
            assert current["status"] == "pending"
            wait = as_utc(current["available_at"]) - before
            assert (
                timedelta(seconds=60 * 2 ** (attempt - 1))
                <= wait
                < timedelta(seconds=60 * 2 ** (attempt - 1) + 30)
            )
            with write_tx(rt.engine) as conn:  # time passes: the retry is due
                conn.execute(update(OUTBOX).where(OUTBOX.c.id == oid).values(available_at=before))
    assert row(rt, oid)["status"] == "failed"
    assert notice_relay.relay_outbox(rt.engine, lambda _id: None) == 0


def test_a_notice_lost_on_its_last_attempt_is_failed_not_requeued(
    rt: Runtime, max_three: None
) -> None:
    """A worker killed during the last allowed attempt leaves the row `sending`: the relay
    marks it failed with the reason instead of leaving it stuck or retrying forever."""
    oid = returned_nomination(rt)
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    with write_tx(rt.engine) as conn:
        conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == oid)
            .values(status="sending", attempts=3, available_at=long_ago)
        )
    assert notice_relay.relay_outbox(rt.engine, lambda _id: None) == 0
    final = row(rt, oid)
    assert final["status"] == "failed"
    assert "given up" in str(final["last_error"])


def test_a_redelivered_notice_waits_for_its_backoff(rt: Runtime) -> None:
    """After a failed delivery the row waits: a redelivered or retried deliver_notice message
    takes nothing before the next-try time, and counts no attempt."""
    oid = returned_nomination(rt)
    with write_tx(rt.engine) as conn:
        outbox.mark_queued(conn, [oid])
        assert outbox.begin_delivery(conn, oid) is not None
        outbox.finish_delivery(conn, oid, ok=False, error="Connection refused")
        assert outbox.begin_delivery(conn, oid) is None
    assert (row(rt, oid)["status"], row(rt, oid)["attempts"]) == ("pending", 1)
    with write_tx(rt.engine) as conn:  # time passes: the retry is due
        conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == oid)
            .values(available_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        assert outbox.begin_delivery(conn, oid) is not None


def test_a_queued_notice_lost_with_the_broker_waits_the_stale_threshold(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A notice queued whose message Redis lost is published again after
    KHENTHUONG_STALE_CLAIM_SECONDS (the reminders' threshold), not a fixed ten minutes."""
    monkeypatch.setenv("KHENTHUONG_STALE_CLAIM_SECONDS", "30")
    get_settings.cache_clear()
    oid = returned_nomination(rt)
    published: list[int] = []
    assert notice_relay.relay_outbox(rt.engine, published.append) == 1  # the message is then lost
    assert notice_relay.relay_outbox(rt.engine, published.append) == 0  # queued, not stale yet
    with write_tx(rt.engine) as conn:
        conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == oid)
            .values(available_at=datetime.now(UTC) - timedelta(seconds=31))
        )
    with rt.engine.connect() as conn:
        assert [
            r["id"] for r in reminder_claims.preview(conn, rt.registry, get_settings()).notices
        ] == [oid]
    assert notice_relay.relay_outbox(rt.engine, published.append) == 1
    assert published == [oid, oid]


def test_reminders_retry_puts_given_up_notices_back_by_id(rt: Runtime, settings: object) -> None:
    """`reminders retry n<ID>` makes a failed notice pending with a fresh count; a bare
    number or no argument is refused with the expected form; an unknown id exits 1."""
    from typer.testing import CliRunner

    from khenthuong.cli.app import app

    oid = returned_nomination(rt)
    with write_tx(rt.engine) as conn:
        conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id == oid)
            .values(status="failed", attempts=8, last_error="Connection refused")
        )
    runner = CliRunner()
    assert runner.invoke(app, ["reminders", "retry", str(oid)]).exit_code == 2
    assert runner.invoke(app, ["reminders", "retry"]).exit_code == 2
    done = runner.invoke(app, ["reminders", "retry", f"n{oid}", "r999"])
    assert done.exit_code == 1, done.output
    assert "0 nhắc hạn và 1 thông báo" in done.output and "r999" in done.output
    back = row(rt, oid)
    assert (back["status"], back["attempts"], back["last_error"]) == (
        "pending",
        0,
        "Connection refused",
    )
    assert notice_relay.relay_outbox(rt.engine, lambda _id: None) == 1
