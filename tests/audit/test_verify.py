"""The hash chain detects edited, deleted and reordered events and names them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update

from khenthuong.audit import query as query_module
from khenthuong.audit.append import append_event
from khenthuong.audit.chain import GENESIS, event_hash
from khenthuong.audit.query import AuditFilter, history, query_events
from khenthuong.audit.verify import verify_all
from khenthuong.runtime import Runtime
from khenthuong.services import new_nominations, stepping
from khenthuong.services.actors import load_actor
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import EVENTS


def decided_nomination(rt: Runtime) -> int:
    with rt.engine.connect() as conn:
        users = {u: load_actor(conn, u) for u in ("cb.qd", "tk.qd", "tt.qd")}
    nid = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="giay_khen",
        proposing_unit="CCYQD",
        actor=users["cb.qd"],
        nominee_name="Lê Hoàng Phúc",
        create_person=True,
    )
    stepping.advance(rt.engine, rt.registry, nid, "submit", users["cb.qd"])
    stepping.advance(
        rt.engine, rt.registry, nid, "council_approve", users["tk.qd"], comment="Nhất trí 9/9"
    )
    # Decision numbers are unique: the signing step writes the decision itself.
    stepping.advance(
        rt.engine,
        rt.registry,
        nid,
        "decide",
        users["tt.qd"],
        {"decision_number": f"{nid}/QĐ-CCYQD"},
    )
    return nid


def event_id(rt: Runtime, nid: int, seq: int) -> int:
    with rt.engine.connect() as conn:
        return int(
            conn.execute(
                select(EVENTS.c.id).where(EVENTS.c.nomination_id == nid, EVENTS.c.seq == seq)
            ).scalar_one()
        )


def test_untouched_trail_verifies(rt: Runtime) -> None:
    """A trail nobody touched verifies with every event counted."""
    decided_nomination(rt)
    with rt.engine.connect() as conn:
        report = verify_all(conn)
    assert report.ok
    assert report.events >= 4


def test_edited_event_is_named(rt: Runtime) -> None:
    """Changing the comment of one event makes verification fail naming that event."""
    nid = decided_nomination(rt)
    target = event_id(rt, nid, 3)
    with rt.engine.begin() as conn:
        conn.execute(update(EVENTS).where(EVENTS.c.id == target).values(comment="Nhất trí 5/9"))
    with rt.engine.connect() as conn:
        report = verify_all(conn)
    assert not report.ok
    first = report.findings[0]
    assert (first.event_id, first.kind) == (target, "altered")


def test_edited_actor_is_detected(rt: Runtime) -> None:
    """Rewriting who acted breaks the chain at that event."""
    nid = decided_nomination(rt)
    target = event_id(rt, nid, 4)
    with rt.engine.begin() as conn:
        conn.execute(update(EVENTS).where(EVENTS.c.id == target).values(actor="someone.else"))
    with rt.engine.connect() as conn:
        report = verify_all(conn)
    assert [(f.event_id, f.kind) for f in report.findings] == [(target, "altered")]


def test_deleted_middle_event_is_named(rt: Runtime) -> None:
    """Deleting an event in the middle is reported at the next event."""
    nid = decided_nomination(rt)
    removed, following = event_id(rt, nid, 2), event_id(rt, nid, 3)
    with rt.engine.begin() as conn:
        conn.execute(delete(EVENTS).where(EVENTS.c.id == removed))
    with rt.engine.connect() as conn:
        report = verify_all(conn)
    assert [(f.event_id, f.kind) for f in report.findings] == [(following, "deleted")]


def test_deleted_last_event_is_detected_by_the_head(rt: Runtime) -> None:
    """Deleting the newest event is caught because the nomination's head no longer matches."""
    nid = decided_nomination(rt)
    last = event_id(rt, nid, 4)
    with rt.engine.begin() as conn:
        conn.execute(delete(EVENTS).where(EVENTS.c.id == last))
    with rt.engine.connect() as conn:
        report = verify_all(conn)
    assert len(report.findings) == 1
    assert report.findings[0].stream == f"nomination:{nid}"
    assert report.findings[0].kind == "deleted"


def test_reordered_events_are_detected(rt: Runtime) -> None:
    """Swapping the sequence numbers of two events is reported as a reorder."""
    nid = decided_nomination(rt)
    a, b = event_id(rt, nid, 2), event_id(rt, nid, 3)
    with rt.engine.begin() as conn:
        conn.execute(update(EVENTS).where(EVENTS.c.id == a).values(seq=-1))
        conn.execute(update(EVENTS).where(EVENTS.c.id == b).values(seq=2))
        conn.execute(update(EVENTS).where(EVENTS.c.id == a).values(seq=3))
    with rt.engine.connect() as conn:
        report = verify_all(conn)
    assert not report.ok
    assert report.findings[0].event_id == a
    assert report.findings[0].kind == "reordered"


def test_first_event_links_to_genesis_and_history_is_ordered(rt: Runtime) -> None:
    """The timeline starts at the genesis hash and lists steps in order with actors and roles."""
    nid = decided_nomination(rt)
    with rt.engine.connect() as conn:
        timeline = history(conn, nid)
        assert timeline == list(query_events(conn, AuditFilter(nomination_id=nid)))
    assert {e["occurred_at"].tzinfo for e in timeline} == {UTC}
    assert [e["trigger"] for e in timeline] == ["create", "submit", "council_approve", "decide"]
    assert [e["actor_role"] for e in timeline] == [
        "unit_officer",
        "unit_officer",
        "council_secretary",
        "unit_head",
    ]
    assert timeline[3]["payload"] == {"decision_number": f"{nid}/QĐ-CCYQD"}
    with rt.engine.connect() as conn:
        first = conn.execute(
            select(EVENTS.c.prev_hash).where(EVENTS.c.id == event_id(rt, nid, 1))
        ).scalar_one()
    assert first == GENESIS


def test_history_is_in_time_order_across_streams_and_within_its_limit(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An event of another stream about the nomination, earlier than all of its own, comes
    first; a timeline longer than the limit keeps its earliest events, as query_events."""
    nid = decided_nomination(rt)
    other = f"note:{nid}"
    with write_tx(rt.engine) as conn:
        append_event(conn, other, actor="cb.qd", trigger="note", payload={"n": 1})
        start = conn.execute(
            select(func.min(EVENTS.c.occurred_at)).where(EVENTS.c.nomination_id == nid)
        ).scalar_one()
        conn.execute(
            update(EVENTS)
            .where(EVENTS.c.stream == other)
            .values(nomination_id=nid, occurred_at=start - timedelta(seconds=1))
        )
    with rt.engine.connect() as conn:
        timeline = history(conn, nid)
        assert timeline == list(query_events(conn, AuditFilter(nomination_id=nid)))
        assert [e["stream"] for e in timeline][:2] == [other, f"nomination:{nid}"]
        monkeypatch.setattr(query_module, "HISTORY_LIMIT", 3)
        assert history(conn, nid) == timeline[:3]


def test_history_gives_exact_utc_instants_and_vietnamese_text_whatever_the_session_zone(
    rt: Runtime,
) -> None:
    """The same items as query_events: instants to the microsecond (before 1970 too) as UTC
    datetimes, Vietnamese comments and payloads as written, even when the database session
    runs in another time zone (PostgreSQL reads `occurred_at` as the interval since 1970)."""
    nid = decided_nomination(rt)
    note = f"ghi-chú:{nid}"
    instants = [
        datetime(2026, 3, 9, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(1969, 12, 31, 23, 59, 58, 123_456, tzinfo=UTC),
        datetime(2038, 1, 19, 3, 14, 8, 1, tzinfo=UTC),
    ]
    with write_tx(rt.engine) as conn:
        for k, at in enumerate(instants):
            append_event(
                conn, note, actor="cb.qd", trigger="note", payload={"lý_do": "Bổ sung minh chứng"},
                comment=f"Đồng ý khen thưởng lần {k}",
            )  # fmt: skip
            conn.execute(
                update(EVENTS)
                .where(EVENTS.c.stream == note, EVENTS.c.seq == k + 1)
                .values(nomination_id=nid, occurred_at=at)
            )
    with rt.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET TIME ZONE 'Asia/Ho_Chi_Minh'")
        timeline = history(conn, nid)
        expected = list(query_events(conn, AuditFilter(nomination_id=nid)))
        if conn.dialect.name == "postgresql":
            conn.exec_driver_sql("SET TIME ZONE DEFAULT")
    assert timeline == expected
    assert {e["occurred_at"].tzinfo for e in timeline} == {UTC}
    mine = [e for e in timeline if e["stream"] == note]
    assert [e["occurred_at"] for e in mine] == sorted(instants)
    assert [e["comment"] for e in mine] == [f"Đồng ý khen thưởng lần {k}" for k in (1, 0, 2)]
    assert {e["payload"]["lý_do"] for e in mine} == {"Bổ sung minh chứng"}


def test_query_filters_combine(rt: Runtime) -> None:
    """Filtering by unit subtree, trigger and actor returns just the matching events."""
    decided_nomination(rt)
    decided_nomination(rt)
    with rt.engine.connect() as conn:
        by_unit = list(query_events(conn, AuditFilter(unit="BCY", trigger="decide")))
        by_actor = list(query_events(conn, AuditFilter(actor="tk.qd")))
        other_unit = list(query_events(conn, AuditFilter(unit="BCA")))
    assert len(by_unit) == 2
    assert all(e["actor"] == "tt.qd" for e in by_unit)
    assert {e["trigger"] for e in by_actor} == {"council_approve"}
    assert other_unit == []


def rewrite(rt: Runtime, target: int, rehash: bool = True, **values: object) -> None:
    """Change an event row; with `rehash`, recompute its hash as the project does."""
    with rt.engine.begin() as conn:
        row = dict(conn.execute(select(EVENTS).where(EVENTS.c.id == target)).mappings().one())
        row.update(values)
        if rehash:
            values = {**values, "hash": event_hash(row)}
        conn.execute(update(EVENTS).where(EVENTS.c.id == target).values(**values))


def test_edited_and_rehashed_event_is_named_not_the_next(rt: Runtime) -> None:
    """An edit with a recomputed hash is reported at the edited event, as altered."""
    nid = decided_nomination(rt)
    target, following = event_id(rt, nid, 2), event_id(rt, nid, 3)
    rewrite(rt, target, actor="tt.qd")
    with rt.engine.connect() as conn:
        report = verify_all(conn)
    assert [(f.event_id, f.seq, f.kind) for f in report.findings] == [(target, 2, "altered")]
    message = report.findings[0].message
    assert f"id {following}, seq 3" in message
    assert "tính lại mã băm" in message and "edited" not in message
    english = report.findings[0].message_en
    assert "edited and its hash recomputed" in english and "tính" not in english


def test_edited_and_rehashed_last_event_is_named(rt: Runtime) -> None:
    """The newest event re-hashed after an edit no longer matches the nomination's head."""
    nid = decided_nomination(rt)
    last = event_id(rt, nid, 4)
    rewrite(rt, last, payload='{"decision_number":"8/QĐ-CCYQD"}')
    with rt.engine.connect() as conn:
        report = verify_all(conn)
    assert [(f.event_id, f.seq, f.kind) for f in report.findings] == [(last, 4, "altered")]
    assert "đầu chuỗi" in report.findings[0].message and "head" in report.findings[0].message_en


def test_edited_link_is_named_at_that_event(rt: Runtime) -> None:
    """Editing only an event's prev_hash is reported at that event as altered."""
    nid = decided_nomination(rt)
    target = event_id(rt, nid, 3)
    rewrite(rt, target, rehash=False, prev_hash="f" * 64)
    with rt.engine.connect() as conn:
        report = verify_all(conn)
    assert [(f.event_id, f.kind) for f in report.findings] == [(target, "altered")]


def test_event_relinked_past_its_predecessor_is_named(rt: Runtime) -> None:
    """An event re-hashed to chain past the one before it is the one reported (reordered)."""
    nid = decided_nomination(rt)
    first, target = event_id(rt, nid, 1), event_id(rt, nid, 3)
    with rt.engine.connect() as conn:
        first_hash = conn.execute(select(EVENTS.c.hash).where(EVENTS.c.id == first)).scalar_one()
    rewrite(rt, target, prev_hash=first_hash)
    with rt.engine.connect() as conn:
        report = verify_all(conn)
    assert [(f.event_id, f.kind) for f in report.findings] == [(target, "reordered")]
