"""Concurrent steps on one nomination: exactly one wins, nothing is half-written."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from khenthuong.audit.verify import verify_all
from khenthuong.errors import StepRefused, VersionConflict
from khenthuong.runtime import Runtime
from khenthuong.services import new_nominations, stepping
from khenthuong.services import nominations as svc
from khenthuong.services.actors import load_actor
from khenthuong.storage.models import EVENTS


def _race(rt: Runtime, nid: int, workers: int, expected_version: int | None) -> list[object]:
    with rt.engine.connect() as conn:
        officer = load_actor(conn, "cb.qd")
    barrier = threading.Barrier(workers)
    outcomes: list[object] = []
    lock = threading.Lock()

    def attempt() -> None:
        barrier.wait()
        try:
            result: object = stepping.advance(
                rt.engine, rt.registry, nid, "submit", officer, expected_version=expected_version
            )
        except (VersionConflict, StepRefused) as exc:
            result = exc
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


@pytest.mark.parametrize("expected_version", [1, None])
def test_eight_concurrent_advances_write_exactly_one_event(
    rt: Runtime, expected_version: int | None
) -> None:
    """8 threads submit the same nomination at once; one succeeds, seven are refused or conflict."""
    with rt.engine.connect() as conn:
        officer = load_actor(conn, "cb.qd")
    nid = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="giay_khen",
        proposing_unit="CCYQD",
        actor=officer,
        nominee_name="Trần Thị Bích",
        create_person=True,
    )
    outcomes = _race(rt, nid, 8, expected_version)
    wins = [o for o in outcomes if isinstance(o, svc.StepResult)]
    losses = [o for o in outcomes if not isinstance(o, svc.StepResult)]
    assert len(outcomes) == 8
    assert len(wins) == 1
    assert len(losses) == 7
    if expected_version is not None:
        assert all(isinstance(o, VersionConflict) for o in losses)
        assert all(
            o.current_state == "unit_council" for o in losses if isinstance(o, VersionConflict)
        )
    with rt.engine.connect() as conn:
        events = conn.execute(
            select(func.count())
            .select_from(EVENTS)
            .where(EVENTS.c.nomination_id == nid, EVENTS.c.trigger == "submit")
        ).scalar_one()
        assert events == 1
        assert svc.get_row(conn, nid)["version"] == 2
        assert verify_all(conn).ok
