"""Reminder scanning and claiming: the right people, the right kind, at most once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from khenthuong.runtime import Runtime
from khenthuong.services import nominations as svc
from khenthuong.services import reminders
from khenthuong.services.actors import load_actor
from khenthuong.storage.db import write_tx

SUBMITTED = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # Mon 02/11/2026, 09:00 in Hà Nội


def submitted_nomination(rt: Runtime) -> int:
    with rt.engine.connect() as conn:
        officer = load_actor(conn, "cb.qd")
    nid = svc.create_nomination(
        rt.engine,
        rt.registry,
        workflow="giay_khen",
        proposing_unit="CCYQD",
        actor=officer,
        nominee_name="Nguyễn Văn An",
        now=SUBMITTED,
    )
    result = svc.advance(rt.engine, rt.registry, nid, "submit", officer, now=SUBMITTED)
    assert result.due_at is not None
    # 10 working days after Mon 02/11 is Mon 16/11/2026.
    assert result.due_at.astimezone(svc.LOCAL_TZ).date().isoformat() == "2026-11-16"
    return nid


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T09:00:00+07:00")


def test_nothing_is_due_long_before_the_deadline(rt: Runtime) -> None:
    """A week before the window opens nothing is reported."""
    submitted_nomination(rt)
    with rt.engine.connect() as conn:
        assert reminders.scan_due(conn, rt.registry, now=at("2026-11-05"), before_days=3) == []


def test_before_due_and_overdue_kinds(rt: Runtime) -> None:
    """3 working days ahead: before; on the day: due; after: overdue with the leader added."""
    nid = submitted_nomination(rt)
    with rt.engine.connect() as conn:
        before = reminders.scan_due(conn, rt.registry, now=at("2026-11-11"), before_days=3)
        due = reminders.scan_due(conn, rt.registry, now=at("2026-11-16"), before_days=3)
        late = reminders.scan_due(conn, rt.registry, now=at("2026-11-18"), before_days=3)
    assert [(i.kind, i.recipient_email, i.working_days_left) for i in before] == [
        ("before", "tk.qd@bcy.example", 3)
    ]
    assert [i.kind for i in due] == ["due"]
    assert {(i.kind, i.recipient_email) for i in late} == {
        ("overdue", "tk.qd@bcy.example"),
        ("overdue", "cuctruong@ccyqd.example"),
    }
    assert all(i.nomination_id == nid and i.working_days_left == -2 for i in late)
    assert late[0].state_title == "Hội đồng TĐKT đơn vị xét"


def test_a_reminder_is_claimed_only_once(rt: Runtime) -> None:
    """Claiming the same due items twice creates ledger rows only the first time."""
    submitted_nomination(rt)
    with rt.engine.connect() as conn:
        items = reminders.scan_due(conn, rt.registry, now=at("2026-11-18"))
    with write_tx(rt.engine) as conn:
        first = reminders.claim(conn, items)
    with write_tx(rt.engine) as conn:
        second = reminders.claim(conn, items)
    assert len(first) == 2
    assert second == []
    with write_tx(rt.engine) as conn:
        groups = reminders.group_by_recipient(conn, first)
        reminders.mark(conn, groups["tk.qd@bcy.example"], "sent", message_id="<x@k>")
        assert reminders.status_counts(conn) == {"claimed": 1, "sent": 1}
        stale = reminders.stale_claims(
            conn, older_than=timedelta(minutes=5), now=datetime.now(UTC) + timedelta(hours=1)
        )
    assert stale == groups["cuctruong@ccyqd.example"]


def test_closed_nominations_get_no_reminders(rt: Runtime) -> None:
    """Once withdrawn a nomination drops out of the scan."""
    nid = submitted_nomination(rt)
    with rt.engine.connect() as conn:
        officer = load_actor(conn, "cb.qd")
    svc.advance(rt.engine, rt.registry, nid, "withdraw", officer, {"reason": "Rút"}, now=SUBMITTED)
    with rt.engine.connect() as conn:
        assert reminders.scan_due(conn, rt.registry, now=at("2026-11-18")) == []
