"""Stored plans as the planner's history: whole rotation cycles, early restarts kept."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select

from khenthuong.audit.query import AuditFilter, query_events
from khenthuong.blocs.inspection_plan import check_plan, used_inspectors
from khenthuong.runtime import Runtime
from khenthuong.services import inspections
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.blocs import BlocIn, apply_blocs, bloc_view, load_blocs
from khenthuong.storage.blocs import BLOCS, INSPECTION_PLANS, INSPECTION_VISITS
from khenthuong.storage.db import inserted_id, write_tx
from khenthuong.storage.models import UNITS
from tests.conftest import CONFIG

EIGHT = ["BQP", "BCA", "BTP", "TTCP", "TANDTC", "VKSNDTC", "BCY", "VPCTN"]


@pytest.fixture
def admin(rt: Runtime) -> Actor:
    with write_tx(rt.engine) as conn:
        known = set(conn.execute(select(UNITS.c.code)).scalars())
        apply_blocs(conn, load_blocs(CONFIG / "blocs.yaml", known))
        apply_blocs(
            conn,
            [
                BlocIn(
                    code="K8",
                    name="Khối thử tám thành viên",
                    kind="khoi",
                    organiser="BTDKTTW",
                    members=EIGHT,
                    since=2018,
                    rotation=EIGHT,
                )
            ],
        )
        return load_actor(conn, "admin")


def test_a_bloc_of_eight_reads_its_whole_cycle(rt: Runtime, admin: Actor) -> None:
    """Eight members, 2019-2026: each year keeps every rule against every earlier stored year
    (not only the last five), so in 2019-2025 each unit is inspected by all seven others."""
    with write_tx(rt.engine) as conn:
        for year in range(2019, 2027):
            inspections.plan_inspections(conn, "K8", year, actor=admin, seed=year)
        plans = inspections.plan_history(conn, "K8", 2027)
        window = bloc_view(conn, "K8", 2026).window_days
    assert [p.year for p in plans] == list(range(2019, 2027))
    for index, plan in enumerate(plans):
        problems = check_plan(
            plan,
            EIGHT,
            plans[:index],
            window_days=window,
            period_start=date(plan.year, 10, 1),
            period_end=date(plan.year, 11, 30),
        )
        assert problems == [], (plan.year, problems)
    for unit in EIGHT:
        inspectors = [v.inspector for p in plans[:7] for v in p.visits if v.inspected == unit]
        assert sorted(inspectors) == sorted(set(EIGHT) - {unit}), unit


def test_early_restarts_are_stored_and_read_back(rt: Runtime, admin: Actor) -> None:
    """An old stored 2018 plan (a 4-cycle, from before blocs of four rested a member) forces
    the 2019 plan to restart some cycles early: the restart is stored with the plan, read
    back as history, and no pair repeats in the years after."""
    cycle = ["CCYQD", "CCYDCQ", "CCYCA", "CCYNG"]
    with write_tx(rt.engine) as conn:
        ids = dict(conn.execute(select(UNITS.c.code, UNITS.c.id)).all())
        bloc = conn.execute(select(BLOCS.c.id).where(BLOCS.c.code == "KCY4")).scalar_one()
        plan_id = inserted_id(
            conn.execute(
                insert(INSPECTION_PLANS).values(
                    bloc_id=bloc,
                    year=2018,
                    seed=0,
                    period_start=date(2018, 10, 1),
                    period_end=date(2018, 11, 30),
                    generated_by="old planner",
                    generated_at=datetime.now(UTC),
                    current=True,
                )
            )
        )
        for inspector, inspected in itertools.pairwise([*cycle, cycle[0]]):
            conn.execute(
                insert(INSPECTION_VISITS).values(
                    plan_id=plan_id,
                    inspector_unit_id=ids[inspector],
                    inspected_unit_id=ids[inspected],
                    starts_on=date(2018, 10, 1),
                    ends_on=date(2018, 10, 2),
                    report_due_on=date(2018, 10, 9),
                )
            )
        for year in range(2019, 2024):
            inspections.plan_inspections(conn, "KCY4", year, actor=admin, seed=year)
        stored = dict(
            conn.execute(
                select(INSPECTION_PLANS.c.year, INSPECTION_PLANS.c.early_resets).where(
                    INSPECTION_PLANS.c.bloc_id == bloc
                )
            ).all()
        )
        plans = inspections.plan_history(conn, "KCY4", 2024)
        trail = [
            e["payload"]["early_resets"]
            for e in query_events(conn, AuditFilter(trigger="plan_inspections"))
        ]
    resets = {p.year: sorted(p.early_resets) for p in plans}
    assert resets[2019], "the old 4-cycle leaves no way on without an early restart"
    assert {year: json.loads(text) for year, text in stored.items()} == resets
    assert trail == [resets[year] for year in range(2019, 2024)]
    assert all(not resets[year] for year in range(2020, 2024))
    for index, plan in enumerate(plans[1:], start=1):
        problems = check_plan(
            plan,
            cycle,
            plans[:index],
            window_days=2,
            period_start=date(plan.year, 10, 1),
            period_end=date(plan.year, 11, 30),
        )
        assert problems == [], (plan.year, problems)
    # The old symptom: the same inspector two years running, mid-cycle. Only right after a
    # unit's cycle completed (all three others inspected it) may its last inspector return.
    for index in range(2, len(plans)):
        earlier, later = plans[index - 1], plans[index]
        used = used_inspectors(cycle, plans[:index])
        for _, unit in earlier.pairs() & later.pairs():
            assert used[unit] == set(cycle) - {unit}, (later.year, unit)
