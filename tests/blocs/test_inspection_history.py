"""Stored plans as the planner's history: whole rotation cycles, early restarts kept."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from khenthuong.blocs.inspection_plan import check_plan
from khenthuong.runtime import Runtime
from khenthuong.services import inspections
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.blocs import BlocIn, apply_blocs, bloc_view, load_blocs
from khenthuong.storage.db import write_tx
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
