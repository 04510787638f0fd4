"""A full reminder scan spread over time in chunks (KHENTHUONG_SCAN_CHUNK, KHENTHUONG_SCAN_DUTY):
the same reminders as one statement over everything, a pause after each chunk, no lock held
across a pause, and nothing that changes meanwhile lost to the next scan."""

from __future__ import annotations

from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from sqlalchemy import delete, func, select

from khenthuong.runtime import Runtime
from khenthuong.services import reminder_claims, reminders
from khenthuong.services.actors import load_actor
from khenthuong.services.scan_state import STATE_JOB
from khenthuong.services.stepping import advance
from khenthuong.settings import Settings
from khenthuong.storage.db import make_engine, write_tx
from khenthuong.storage.models import NOMINATIONS, UNITS
from khenthuong.storage.outbox import JOB_RUNS, REMINDER_LEDGER
from tests.services.test_reminders import at, submitted_nomination

NOW = at("2026-11-18")  # Wed: the submitted nomination (due Mon 16/11) is overdue
SHAPES = [
    ("CCYQD", "unit_council"),
    ("CCYDCQ", "head_decision"),
    ("CCYCA", "unit_council"),  # no council secretary of its own: those covering it
    ("CCYNG", "head_decision"),
    ("BCY", "unit_council"),
    ("CCYQD", "returned"),
]
DAYS = [-3, 0, 1, 2, 10]
"""Due dates from NOW: overdue (officers and the responsible unit's leader), due today,
`before` reminders, beyond the horizon (nothing yet)."""


def backlog(rt: Runtime, copies: int = 30) -> tuple[int, int]:
    """The submitted nomination and `copies` more over units, states and due days, every
    seventh closed (skipped by the chunks' bounds): (the submitted one's id, how many
    nominations are open and due before the horizon)."""
    nid = submitted_nomination(rt)
    with rt.engine.connect() as conn:
        row = dict(
            conn.execute(select(NOMINATIONS).where(NOMINATIONS.c.id == nid)).mappings().one()
        )
        units = {u.code: u for u in conn.execute(select(UNITS.c.code, UNITS.c.id, UNITS.c.path))}
    del row["id"]
    rows = []
    for k in range(copies):
        code, state = SHAPES[k % len(SHAPES)]
        rows.append(
            {
                **row,
                "proposing_unit_id": units[code].id,
                "unit_path": units[code].path,
                "state": state,
                "due_at": NOW + timedelta(days=DAYS[k % len(DAYS)]),
                "closed": k % 7 == 3,
                "nominee_name": f"Nguyễn Văn {k}",
            }
        )
    with write_tx(rt.engine) as conn:
        conn.execute(NOMINATIONS.insert(), rows)
    due = 1 + sum(1 for r in rows if not r["closed"] and r["due_at"] < NOW + timedelta(days=5))
    return nid, due


def ledger(rt: Runtime) -> set[tuple[str, str, str, str, str]]:
    with rt.engine.connect() as conn:
        rows = conn.execute(select(REMINDER_LEDGER)).mappings().all()
    keys = [r.key for r in rows]
    assert len(keys) == len(set(keys))
    return {(r.key, r.recipient, r.kind, r.item_ref, r.due_on) for r in rows}


def forget(rt: Runtime) -> None:
    """No reminder claimed, no scan remembered: the next scan is a first full scan."""
    with write_tx(rt.engine) as conn:
        conn.execute(delete(REMINDER_LEDGER))
        conn.execute(delete(JOB_RUNS).where(JOB_RUNS.c.job == STATE_JOB))


def chunked(rt: Runtime, chunk: int, duty: float = 0.25) -> Settings:
    return rt.settings.model_copy(update={"scan_chunk": chunk, "scan_duty": duty})


def test_a_chunked_full_scan_claims_what_one_statement_claims(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the chunk size (one nomination, a few, exactly the due count, more than it),
    the chunks cover the open due nominations in id order without gap or overlap, and the
    ledger ends up with the same reminders (keys, recipients, kinds incl. the leaders'
    overdue escalations, due dates) as the one-statement scan claims, each returned once
    for its digest. A pause follows every chunk but the last."""
    _, due = backlog(rt)
    one = reminder_claims.claim_reminders(rt.engine, rt.registry, chunked(rt, 0), now=NOW)
    expected = ledger(rt)
    kinds = {k for _, _, k, _, _ in expected}
    assert kinds == {"overdue", "due", "before"}  # the data exercise every kind
    assert len({r for _, r, _, _, _ in expected}) >= 4  # and several recipients
    assert sum(len(ids) for ids in one) == len(expected)

    ranges: list[Any] = []
    real_check = reminders.any_unclaimed

    def check(*args: Any, **kwargs: Any) -> bool:
        ranges.append(kwargs.get("id_range"))
        return real_check(*args, **kwargs)

    monkeypatch.setattr(reminders, "any_unclaimed", check)
    with rt.engine.connect() as conn:
        open_due = list(
            conn.execute(
                select(NOMINATIONS.c.id)
                .where(
                    NOMINATIONS.c.closed.is_(False),
                    NOMINATIONS.c.due_at < NOW + timedelta(days=5),
                )
                .order_by(NOMINATIONS.c.id)
            ).scalars()
        )
    assert len(open_due) == due
    for size in (1, 4, due, due + 1, 5000):
        forget(rt)
        ranges.clear()
        pauses: list[float] = []
        groups = reminder_claims.claim_reminders(
            rt.engine, rt.registry, chunked(rt, size), now=NOW, sleep=pauses.append
        )
        assert ledger(rt) == expected, size
        with rt.engine.connect() as conn:
            every = set(conn.execute(select(REMINDER_LEDGER.c.id)).scalars())
        assert sorted(i for ids in groups for i in ids) == sorted(every)
        # contiguous chunks: from the start, each after the last one's bound, the last open
        assert ranges[0][0] is None and ranges[-1][1] is None
        assert all(a[1] == b[0] for a, b in pairwise(ranges))
        for after, upto in ranges[:-1]:
            inside = [i for i in open_due if (after is None or i > after) and i <= upto]
            assert len(inside) == size
        assert len(ranges) == due // size + 1
        assert len(pauses) == len(ranges) - 1


def test_a_chunk_skips_what_another_worker_claimed_meanwhile(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between a chunk's check and its claim another worker claims part of the same
    chunk: the unique key skips those, nothing fails, nothing is claimed twice, and the two
    claims together are what one scan claims. Between chunks no write lock is held: another
    connection writes at once."""
    backlog(rt)
    reminder_claims.claim_reminders(rt.engine, rt.registry, chunked(rt, 0), now=NOW)
    expected = ledger(rt)
    forget(rt)

    theirs: list[int] = []
    real_check = reminders.any_unclaimed

    def check(conn: Any, registry: Any, **kwargs: Any) -> bool:
        found = real_check(conn, registry, **kwargs)
        _, upto = kwargs["id_range"]
        if found and upto is not None:
            with write_tx(rt.engine) as other:  # the other worker: the chunk's last nomination
                theirs.extend(reminders.claim_due(other, registry, now=NOW, only_ids=[upto]))
        return found

    other = make_engine(rt.settings.database_url)
    written: list[int] = []

    def pause(seconds: float) -> None:
        with other.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA busy_timeout = 1000")
                conn.commit()
            conn.execute(
                UNITS.update().where(UNITS.c.code == "CCYQD").values(leader_email="x@y.vn")
            )
            conn.execute(
                UNITS.update()
                .where(UNITS.c.code == "CCYQD")
                .values(leader_email="cuctruong@ccyqd.example")
            )
            conn.commit()
        written.append(1)

    monkeypatch.setattr(reminders, "any_unclaimed", check)
    try:
        groups = reminder_claims.claim_reminders(
            rt.engine, rt.registry, chunked(rt, 3), now=NOW, sleep=pause
        )
    finally:
        other.dispose()
    ours = [i for ids in groups for i in ids]
    assert theirs and ours and not set(theirs) & set(ours)
    assert ledger(rt) == expected  # every reminder once (ledger() checks the keys' uniqueness)
    assert len(theirs) + len(ours) == len(expected)
    assert len(written) >= 5  # a write between every two chunks went through at once


def test_a_step_during_a_spread_scan_is_seen_by_the_next_scan(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scan remembers the newest event it had seen when it began, not when it ended: a
    step taken on a nomination of a chunk already scanned, while the scan pauses, is
    scanned by the next (incremental) scan, which claims its new reminder."""
    nid, _ = backlog(rt)
    with rt.engine.connect() as conn:
        secretary = load_actor(conn, "tk.qd")
    stepped: list[int] = []

    def pause(seconds: float) -> None:
        if not stepped:  # after the first chunk, which holds `nid` (the lowest id)
            # the council approves: head_decision, due 5 working days after Fri 13/11 (20/11),
            # within the horizon: a new `before` reminder to the head
            advance(rt.engine, rt.registry, nid, "council_approve", secretary, now=at("2026-11-13"))
            stepped.append(nid)

    checks: list[Any] = []
    real_check = reminders.any_unclaimed

    def check(*args: Any, **kwargs: Any) -> bool:
        checks.append(kwargs.get("only_ids"))
        return real_check(*args, **kwargs)

    monkeypatch.setattr(reminders, "any_unclaimed", check)
    settings = chunked(rt, 4)
    reminder_claims.claim_reminders(rt.engine, rt.registry, settings, now=NOW, sleep=pause)
    assert stepped == [nid]
    with rt.engine.connect() as conn:
        # the step's reminder is not claimed by the scan it came in the middle of
        found = conn.execute(
            select(func.count()).where(
                REMINDER_LEDGER.c.item_ref == f"nomination:{nid}",
                REMINDER_LEDGER.c.kind == "before",
            )
        ).scalar()
    assert found == 0
    checks.clear()
    later = reminder_claims.claim_reminders(
        rt.engine, rt.registry, settings, now=NOW + timedelta(minutes=2), sleep=pause
    )
    assert checks == [[nid]]  # incremental: the stepped nomination only
    with rt.engine.connect() as conn:
        new = conn.execute(
            select(
                REMINDER_LEDGER.c.item_ref, REMINDER_LEDGER.c.kind, REMINDER_LEDGER.c.recipient
            ).where(REMINDER_LEDGER.c.id.in_([i for ids in later for i in ids]))
        ).all()
    assert [(r.item_ref, r.kind, r.recipient) for r in new] == [
        (f"nomination:{nid}", "before", "tt.qd@bcy.example")
    ]


@pytest.mark.parametrize(("duty", "pause"), [(0.25, 1.5), (0.5, 0.5), (1.0, None)])
def test_a_chunk_is_followed_by_a_pause_of_its_duty_cycle(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch, duty: float, pause: float | None
) -> None:
    """After every chunk but the last the scan pauses (1 - duty) / duty times as long as
    the chunk took (each chunk takes 0.5 s of the test's clock): busy at most `duty` of the
    time; duty 1 never pauses. Each chunk's rows are claimed at the time of their chunk."""
    _, due = backlog(rt)
    ticks = iter(range(1000))
    monkeypatch.setattr(reminder_claims, "_clock", lambda: next(ticks) * 0.5)
    pauses: list[float] = []
    reminder_claims.claim_reminders(
        rt.engine, rt.registry, chunked(rt, 4, duty), now=NOW, sleep=pauses.append
    )
    chunks = due // 4 + 1
    assert pauses == ([] if pause is None else [pause] * (chunks - 1))
    with rt.engine.connect() as conn:
        times = set(conn.execute(select(REMINDER_LEDGER.c.claimed_at)).scalars())
    assert len(times) > 1  # chunk by chunk, not all at the scan's start
    if rt.engine.dialect.name == "sqlite":
        return  # stored as naive UTC text: the count above is the check
    # chunk k (from 0) begins k seconds of the test's clock after the scan's start
    starts = {NOW + timedelta(seconds=k) for k in range(chunks)}
    assert min(times) == NOW and times <= starts


def test_the_settings_bound_chunk_and_duty() -> None:
    with pytest.raises(ValueError):
        Settings(scan_duty=0)
    with pytest.raises(ValueError):
        Settings(scan_duty=1.5)
    with pytest.raises(ValueError):
        Settings(scan_chunk=-1)
    assert (Settings().scan_chunk, Settings().scan_duty) == (5000, 0.25)
    assert isinstance(NOW, datetime)
