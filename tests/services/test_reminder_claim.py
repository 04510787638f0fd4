"""The reminder job claims a backlog in one statement, with the ledger's semantics unchanged."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import event, select

from khenthuong.runtime import Runtime
from khenthuong.services import reminder_claims, reminders
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import NOMINATIONS
from khenthuong.storage.outbox import REMINDER_LEDGER
from tests.services.test_reminders import at, submitted_nomination

COPIES = 300
"""Copies of a due nomination: with two recipients each (overdue: officer and leader), more
reminders than the 500 a per-row claim put in one INSERT."""


def test_a_backlog_is_claimed_in_one_insert_with_the_ledgers_rows(rt: Runtime) -> None:
    """Every due reminder not yet in the ledger gets one `claimed` row (no attempt, claimed
    now, so stale only after the threshold) keyed as the scan keys it; one reminder claimed
    before is left alone; the whole claim is one INSERT with a fixed number of parameters,
    not one parameter per reminder. A second scan claims nothing and inserts nothing."""
    nid = submitted_nomination(rt)
    with rt.engine.connect() as conn:
        row = dict(
            conn.execute(select(NOMINATIONS).where(NOMINATIONS.c.id == nid)).mappings().one()
        )
    del row["id"]
    now = at("2026-11-18")  # overdue: the officer and the responsible unit's leader
    with write_tx(rt.engine) as conn:
        conn.execute(NOMINATIONS.insert(), [row] * COPIES)
    with rt.engine.connect() as conn:
        due = reminders.scan_due(conn, rt.registry, now=now)
    assert len(due) == 2 * (COPIES + 1)
    with write_tx(rt.engine) as conn:
        (before,) = reminders.claim(conn, due[:1], now=now - timedelta(seconds=1))

    inserts: list[Any] = []
    scans: list[Any] = []

    def count(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO REMINDER_LEDGER"):
            inserts.append(params)
        elif statement.lstrip().startswith("WITH st("):
            scans.append(params)  # the due scan's read: its parameters are per workflow state

    event.listen(rt.engine, "before_cursor_execute", count)
    try:
        groups = reminder_claims.claim_reminders(rt.engine, rt.registry, rt.settings, now=now)
        claims = len(inserts)
        again = reminder_claims.claim_reminders(
            rt.engine,
            rt.registry,
            rt.settings.model_copy(update={"full_scan_seconds": 0}),
            now=now + timedelta(minutes=1),
        )
    finally:
        event.remove(rt.engine, "before_cursor_execute", count)
    # one statement; its parameters are the due scan's plus the ledger row's few constants,
    # none per reminder
    assert claims == 1 and len(inserts[0]) <= len(scans[0]) + 8
    assert again == [] and len(inserts) == 1  # a full scan with nothing new inserts nothing
    created = sorted(i for ids in groups for i in ids)
    assert len(created) == len(due) - 1 and before not in created

    with rt.engine.connect() as conn:
        led = conn.execute(select(REMINDER_LEDGER).order_by(REMINDER_LEDGER.c.id)).mappings().all()
    assert {(r.key, r.recipient, r.kind, r.item_ref, r.due_on) for r in led} == {
        (i.key, i.recipient_email, i.kind, i.item_ref, i.due_on.isoformat()) for i in due
    }
    assert {(r.status, r.attempts, r.sent_at, r.last_error, r.message_id) for r in led} == {
        ("claimed", 0, None, None, None)
    }
    stale = timedelta(seconds=rt.settings.stale_claim_seconds)
    with write_tx(rt.engine) as conn:
        # claimed_at is `now`: just before the threshold only the reminder claimed a second
        # earlier is stale, just after it every new one is
        early = reminders.stale_claims(
            conn, older_than=stale, now=now + stale - timedelta(milliseconds=500)
        )
        late = reminders.stale_claims(
            conn, older_than=stale, now=now + stale + timedelta(seconds=1)
        )
    assert early == [before]
    assert sorted(late) == created


def _vm_steps(conn: Any, work: Any) -> int:
    """SQLite virtual-machine instructions (in hundreds) `work()` costs on `conn`."""
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0

    raw = conn.connection.driver_connection
    raw.set_progress_handler(tick, 100)
    try:
        work()
    finally:
        raw.set_progress_handler(None, 100)
    return steps[0]


def test_the_claim_check_stops_at_the_first_new_reminder_and_claims_only_new_ones(
    rt: Runtime,
) -> None:
    """Whether a scan has anything to claim is asked without the write lock, and cheaply:
    over a backlog of new reminders the check reads a window of it, not all of it (it used
    to run the whole due scan, then the claim ran it again). With nothing new no ledger row
    is inserted; one new reminder behind the window is still found, and exactly it is
    claimed."""
    from khenthuong.services import due_scan

    nid = submitted_nomination(rt)
    with rt.engine.connect() as conn:
        row = dict(
            conn.execute(select(NOMINATIONS).where(NOMINATIONS.c.id == nid)).mappings().one()
        )
    del row["id"]
    copies = 8 * due_scan.PROBE_WINDOW
    with write_tx(rt.engine) as conn:
        conn.execute(NOMINATIONS.insert(), [row] * copies)
    now = at("2026-11-18")  # overdue: the officer and the responsible unit's leader
    with rt.engine.connect() as conn:
        assert reminders.any_unclaimed(conn, rt.registry, now=now)
        if conn.dialect.name == "sqlite":
            check = _vm_steps(conn, lambda: reminders.any_unclaimed(conn, rt.registry, now=now))
            scan = _vm_steps(
                conn,
                lambda: reminders.scan_due(conn, rt.registry, now=now, unclaimed_only=True),
            )
            assert check * 4 < scan, (check, scan)  # a window (1/8), not the backlog

    reads: list[tuple[bool, str]] = []

    def note(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        text = statement.lstrip().upper()
        if text.startswith(("WITH ST(", "INSERT INTO REMINDER_LEDGER")):
            write = bool(conn.info.get("khenthuong_write"))  # set by write_tx
            reads.append((write, "insert" if text.startswith("INSERT") else "read"))

    # the full scan in one go (KHENTHUONG_SCAN_CHUNK=0), whose check reads a window first;
    # a chunked scan checks each chunk whole (tests/services/test_scan_chunks.py)
    full = rt.settings.model_copy(update={"full_scan_seconds": 0, "scan_chunk": 0})
    event.listen(rt.engine, "before_cursor_execute", note)
    try:
        first = reminder_claims.claim_reminders(rt.engine, rt.registry, full, now=now)
        first_reads = list(reads)
        reads.clear()
        nothing = reminder_claims.claim_reminders(rt.engine, rt.registry, full, now=now)
        nothing_reads = list(reads)
        reads.clear()
        # one more due nomination, due after every other (behind the check's first window)
        with write_tx(rt.engine) as conn:
            late = conn.execute(
                NOMINATIONS.insert()
                .values({**row, "due_at": row["due_at"] + timedelta(hours=1)})
                .returning(NOMINATIONS.c.id)
            ).scalar_one()
        more = reminder_claims.claim_reminders(rt.engine, rt.registry, full, now=now)
    finally:
        event.remove(rt.engine, "before_cursor_execute", note)
    assert sum(len(ids) for ids in first) == 2 * (copies + 1)
    # the check reads outside the write transaction and, finding a new reminder in its
    # first window, asks nothing more before the claim's one INSERT
    assert first_reads == [(False, "read"), (True, "insert")]
    # nothing new: the check reads (the window, then the whole scan), nothing is inserted
    assert nothing == [] and nothing_reads == [(False, "read"), (False, "read")]
    # one new reminder behind the window: the window has none, the whole scan finds it
    assert reads == [(False, "read"), (False, "read"), (True, "insert")]
    created = sorted(i for ids in more for i in ids)
    with rt.engine.connect() as conn:
        refs = conn.execute(
            select(REMINDER_LEDGER.c.item_ref).where(REMINDER_LEDGER.c.id.in_(created))
        ).scalars()
        assert sorted(refs) == [f"nomination:{late}"] * 2
