"""The sealer's incremental checkpoint reads only the new events: the count of streams it
signs grows by the new leaves of seq 1, with no read of any stream's earlier head (also when
an event given up as rolled back turns up later); when the stored state or right edge cannot
be used, it recounts or rebuilds from the stored leaf blocks, and the checkpoints still verify."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from khenthuong.audit import leaves as leaves_module
from khenthuong.audit import seal as seal_module
from khenthuong.audit.append import append_event
from khenthuong.audit.leaves import event_ids_above, leaf_count
from khenthuong.audit.seal import rebuild_edge
from khenthuong.runtime import Runtime
from khenthuong.services import checkpoints
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import EVENTS
from khenthuong.storage.seal import AUDIT_BLOCKS, AUDIT_CHECKPOINTS
from tests.audit.test_seal import Demo, check, demo  # noqa: F401 (the fixture)


def note(rt: Runtime, stream: str, new_id: int | None = None) -> None:
    with write_tx(rt.engine) as conn:
        append_event(conn, stream, actor="cb.qd", trigger="note", payload={})
        if new_id is not None:
            top = select(func.max(EVENTS.c.id)).where(EVENTS.c.stream == stream)
            conn.execute(update(EVENTS).where(EVENTS.c.id == top.scalar_subquery())
                         .values(id=new_id))  # fmt: skip


def rebuilds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the sealer's reads of every sealed leaf of seq 1 (its slow path)."""
    calls: list[int] = []
    real = seal_module._first_leaves

    def counted(conn: object) -> object:
        calls.append(1)
        return real(conn)  # type: ignore[arg-type]

    monkeypatch.setattr(seal_module, "_first_leaves", counted)
    return calls


def test_growing_streams_verify_after_each_checkpoint(
    rt: Runtime,
    demo: Demo,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Old and new streams grow over three checkpoints, each taken incrementally (no read
    of every stream's head); each one verifies."""
    slow = rebuilds(monkeypatch)
    for round_ in range(3):
        note(rt, demo.decision_stream)
        note(rt, f"test:new{round_}")
        note(rt, "test:grows")
        assert checkpoints.write_checkpoint(rt.engine, rt.settings) is not None
        report = check(rt, demo)
        assert report.ok and report.unsealed == 0, [str(f) for f in report.findings]
    assert slow == []


def test_stream_whose_previous_event_was_given_up(
    rt: Runtime,
    demo: Demo,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An event below the window given up at once, then its stream's next event: sealed
    without a read of earlier leaves; the late event stays visible as not sealed."""
    monkeypatch.setattr(seal_module, "WINDOW", 2)
    monkeypatch.setattr(seal_module, "HOLE_WAIT", timedelta(seconds=-1))
    with rt.engine.connect() as conn:
        top = conn.execute(select(func.max(EVENTS.c.id))).scalar_one()
    note(rt, "test:ahead", top + 5)
    assert checkpoints.write_checkpoint(rt.engine, rt.settings) is not None
    note(rt, "test:late", top + 1)  # committed late: its id was given up
    note(rt, "test:late", top + 10)
    slow = rebuilds(monkeypatch)
    assert checkpoints.write_checkpoint(rt.engine, rt.settings) is not None
    assert slow == []
    report = check(rt, demo)
    assert report.ok, [str(f) for f in report.findings]
    assert report.unsealed == 1


@pytest.mark.parametrize("spoil", ["state", "peaks"])
def test_lost_state_or_edge_is_rebuilt_from_the_leaves(
    rt: Runtime,
    demo: Demo,  # noqa: F811
    spoil: str,
) -> None:
    """The newest checkpoint's stored state (window, count of streams) or right edge is unusable:
    the next checkpoint rebuilds them from the stored leaf blocks and verifies."""
    with write_tx(rt.engine) as conn:
        newest = select(func.max(AUDIT_CHECKPOINTS.c.id)).scalar_subquery()
        value = "" if spoil == "state" else '["00"]'
        conn.execute(update(AUDIT_CHECKPOINTS).where(AUDIT_CHECKPOINTS.c.id == newest)
                     .values({spoil: value}))  # fmt: skip
    note(rt, demo.decision_stream)
    note(rt, "test:fresh")
    assert checkpoints.write_checkpoint(rt.engine, rt.settings) is not None
    report = check(rt, demo)
    assert report.ok and report.unsealed == 0, [str(f) for f in report.findings]
    with rt.engine.connect() as conn:
        leaves = leaf_count(conn)
        events = conn.execute(select(func.count()).select_from(EVENTS)).scalar_one()
    assert leaves == events


@pytest.mark.parametrize("many", [False, True])
def test_event_committed_late_inside_the_window(
    rt: Runtime,
    demo: Demo,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    many: bool,
) -> None:
    """An event whose id is below the highest sealed one, within the window, is sealed by
    the next checkpoint (also when the ids awaited are many and read as one range)."""
    if many:
        monkeypatch.setattr(seal_module, "MANY_AWAITED", 0)
    with rt.engine.connect() as conn:
        top = conn.execute(select(func.max(EVENTS.c.id))).scalar_one()
    note(rt, "test:ahead", top + 5)
    assert checkpoints.write_checkpoint(rt.engine, rt.settings) is not None
    note(rt, "test:late", top + 2)
    assert checkpoints.write_checkpoint(rt.engine, rt.settings) is not None
    report = check(rt, demo)
    assert report.ok and report.unsealed == 0, [str(f) for f in report.findings]


def test_event_committed_between_the_leaves_and_the_window_move(
    rt: Runtime,
    demo: Demo,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An event that becomes visible after the sealer wrote its leaves (READ COMMITTED: a
    later statement sees a commit the leaves' statement did not), with an id the window is
    leaving behind, is kept as a hole and sealed by the next checkpoint, not lost."""
    with rt.engine.connect() as conn:
        top = conn.execute(select(func.max(EVENTS.c.id))).scalar_one()
    assert checkpoints.write_checkpoint(rt.engine, rt.settings) is not None
    note(rt, "test:ahead", top + seal_module.WINDOW + 10)  # the window jumps past top + 5
    real = seal_module._State.insert_leaves

    def then_a_late_commit(self: seal_module._State, conn: object, start: int) -> object:
        rows = real(self, conn, start)  # type: ignore[arg-type]
        append_event(conn, "test:late", actor="cb.qd", trigger="note", payload={})  # type: ignore[arg-type]
        late = select(func.max(EVENTS.c.id)).where(EVENTS.c.stream == "test:late")
        conn.execute(  # type: ignore[attr-defined]
            update(EVENTS).where(EVENTS.c.id == late.scalar_subquery()).values(id=top + 5)
        )
        return rows

    monkeypatch.setattr(seal_module._State, "insert_leaves", then_a_late_commit)
    assert checkpoints.write_checkpoint(rt.engine, rt.settings) is not None
    monkeypatch.setattr(seal_module._State, "insert_leaves", real)
    assert checkpoints.write_checkpoint(rt.engine, rt.settings, force=True) is not None
    with rt.engine.connect() as conn:
        sealed = event_ids_above(conn)
    assert top + 5 in sealed
    report = check(rt, demo)
    assert report.ok and report.unsealed == 0, [str(f) for f in report.findings]


def test_partial_blocks_are_extended_across_checkpoints(
    rt: Runtime,
    demo: Demo,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With blocks of 3 leaves, checkpoints of 1, 2 and 4 new events each extend the partial
    last block and add new ones: every leaf is stored once in its place, the tree rebuilt
    from the blocks gives the signed root, and each checkpoint verifies."""
    monkeypatch.setattr(leaves_module, "LEAF_BLOCK", 3)
    with write_tx(rt.engine) as conn:
        leaves_module.rewrite_leaves(
            conn, [(lf.event_id, lf.text) for lf in leaves_module.read_leaves(conn)]
        )
    for count in (1, 2, 4):
        for n in range(count):
            note(rt, f"test:block{count}:{n}")
        made = checkpoints.write_checkpoint(rt.engine, rt.settings)
        assert made is not None
        report = check(rt, demo)
        assert report.ok and report.unsealed == 0, [str(f) for f in report.findings]
        with rt.engine.connect() as conn:
            stored = list(leaves_module.read_leaves(conn))
            blocks = conn.execute(select(AUDIT_BLOCKS.c.block, AUDIT_BLOCKS.c.leaves)).all()
            assert rebuild_edge(conn).root().hex() == made.root
        assert [lf.idx for lf in stored] == list(range(made.size))
        assert len({lf.event_id for lf in stored}) == made.size
        assert sorted(blocks) == [(b, min(3, made.size - 3 * b)) for b in range(len(blocks))]
        assert len(blocks) == -(-made.size // 3)
