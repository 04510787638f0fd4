"""Cross-inspection plans keep every scheduling rule for blocs of 2 to 40 over 5 years."""

from __future__ import annotations

import itertools
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from khenthuong.blocs.inspection_plan import (
    InspectionPlan,
    PlanError,
    check_plan,
    generate_plan,
    used_inspectors,
)
from khenthuong.calendar.workdays import is_working_day

CY4 = ["CCYQD", "CCYCA", "CCYNG", "CCYDCQ"]


def five_years(members: list[str], seed: int, start_year: int = 2019) -> list[InspectionPlan]:
    plans: list[InspectionPlan] = []
    for year in range(start_year, start_year + 5):
        plans.append(
            generate_plan(
                "K",
                year,
                members,
                period_start=date(year, 10, 1),
                period_end=date(year, 11, 30),
                history=plans,
                seed=seed,
            )
        )
    return plans


@settings(max_examples=60, deadline=None)
@given(size=st.integers(min_value=2, max_value=40), seed=st.integers(0, 10_000))
def test_every_rule_holds_for_five_consecutive_years(size: int, seed: int) -> None:
    """Self, reciprocal, rotation, load and window rules hold for any size and seed."""
    members = [f"DV{i:02d}" for i in range(size)]
    plans = five_years(members, seed)
    for index, plan in enumerate(plans):
        history = plans[:index]
        assert check_plan(plan, members, history) == []
        pairs = plan.pairs()
        assert all(a != b for a, b in pairs)
        if size == 2:
            assert len(pairs) == 1
            if index:
                assert pairs == {(b, a) for a, b in plans[index - 1].pairs()}
            continue
        assert all((b, a) not in pairs for a, b in pairs)
        assert sorted(a for a, _ in pairs) == sorted(members)
        assert sorted(b for _, b in pairs) == sorted(members)
        used = used_inspectors(members, history)
        for inspector, inspected in pairs:
            cycle_full = used[inspected] >= set(members) - {inspected}
            assert inspector not in used[inspected] or cycle_full or inspected in plan.early_resets
        spans: dict[str, list[tuple[date, date]]] = {}
        for visit in plan.visits:
            assert date(plan.year, 10, 1) <= visit.start <= visit.end <= date(plan.year, 11, 30)
            assert is_working_day(visit.start) and is_working_day(visit.end)
            for unit in (visit.inspector, visit.inspected):
                spans.setdefault(unit, []).append((visit.start, visit.end))
        for unit_spans in spans.values():
            unit_spans.sort()
            assert all(a[1] < b[0] for a, b in itertools.pairwise(unit_spans))


def test_no_rotation_cycle_restarts_early_except_in_a_bloc_of_four() -> None:
    """Blocs of 3 and 5 to 40 keep rule 3 every year; four members cannot (Tillson)."""
    for size in (3, 5, 6, 7, 8, 9, 12, 40):
        members = [f"DV{i:02d}" for i in range(size)]
        for seed in range(3):
            assert all(not p.early_resets for p in five_years(members, seed=seed)), (size, seed)
    four = [f"DV{i:02d}" for i in range(4)]
    assert any(p.early_resets for p in five_years(four, seed=1))


def test_same_seed_same_plan_and_other_seeds_differ() -> None:
    """A plan is reproducible from its seed; another seed usually gives another plan."""
    members = [f"DV{i:02d}" for i in range(9)]
    first = five_years(members, seed=7)
    assert first == five_years(members, seed=7)
    others = {tuple(sorted(five_years(members, seed=s)[0].pairs())) for s in range(8)}
    assert len(others) > 1


def test_windows_skip_tet_2027() -> None:
    """A period over Tết 2027 (04–10/02/2027 off) puts no visit day on a holiday."""
    members = [f"DV{i:02d}" for i in range(7)]
    plan = generate_plan(
        "K",
        2027,
        members,
        period_start=date(2027, 2, 1),
        period_end=date(2027, 2, 26),
        window_days=3,
    )
    assert check_plan(plan, members) == []
    tet = {date(2027, 2, d) for d in range(4, 11)}
    for visit in plan.visits:
        assert visit.start not in tet and visit.end not in tet
        assert not (visit.start < date(2027, 2, 4) and visit.end > date(2027, 2, 10))


def test_too_short_period_says_how_many_days_are_needed() -> None:
    """Two working days cannot hold three 2-day windows: the error gives both numbers."""
    with pytest.raises(PlanError, match=r"cần 6 ngày làm việc .* chỉ có 2"):
        generate_plan(
            "K",
            2026,
            ["A", "B", "C"],
            period_start=date(2026, 11, 25),
            period_end=date(2026, 11, 26),
        )


@pytest.mark.parametrize(
    ("members", "start", "end", "fragment"),
    [
        (["A", "A", "B"], date(2026, 10, 1), date(2026, 11, 30), "trùng"),
        (["A"], date(2026, 10, 1), date(2026, 11, 30), "từ 2 đến 40"),
        ([f"U{i}" for i in range(41)], date(2026, 10, 1), date(2026, 11, 30), "từ 2 đến 40"),
        (["A", "B", "C"], date(2026, 11, 30), date(2026, 10, 1), "trước ngày bắt đầu"),
    ],
)
def test_bad_input_is_refused(members: list[str], start: date, end: date, fragment: str) -> None:
    """Duplicates, too few or too many members, or a reversed period are refused clearly."""
    with pytest.raises(PlanError, match=fragment):
        generate_plan("K", 2026, members, period_start=start, period_end=end)


def test_four_cipher_branches_2019() -> None:
    """Khối 4 Hệ Cơ yếu, 2019: four visits in October–November, each branch once each way."""
    plan = generate_plan(
        "KCY4", 2019, CY4, period_start=date(2019, 10, 1), period_end=date(2019, 11, 29)
    )
    assert check_plan(plan, CY4) == []
    assert len(plan.visits) == 4
    assert {v.inspector for v in plan.visits} == set(CY4)
