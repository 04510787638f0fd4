"""Cross-inspection plans keep every scheduling rule for blocs of 2 to 40 over 5 years."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from khenthuong.blocs.inspection_plan import (
    DESIGN_MIN_MEMBERS,
    EVEN_DESIGN_SEEDS,
    FOUR,
    MAX_MEMBERS,
    InspectionPlan,
    PlanError,
    Visit,
    check_plan,
    cycle_design,
    generate_plan,
    used_inspectors,
)
from khenthuong.calendar.workdays import default_calendar, is_working_day

CY4 = ["CCYQD", "CCYCA", "CCYNG", "CCYDCQ"]
AUTUMN = ((10, 1), (11, 30))
"""The default inspection period (1 Oct - 30 Nov), as (month, day) pairs."""
HOLIDAY_PERIODS = [
    ((1, 10), (3, 15)),  # Tết Nguyên Đán, every year
    ((4, 15), (5, 31)),  # Giỗ Tổ, 30/4 and 1/5
    ((8, 15), (10, 15)),  # Quốc khánh 2/9
    ((11, 1), (12, 31)),  # Ngày Văn hóa Việt Nam 24/11 (from 2026)
    AUTUMN,
]


def five_years(
    members: list[str],
    seed: int,
    start_year: int = 2019,
    period: tuple[tuple[int, int], tuple[int, int]] = AUTUMN,
    window_days: int = 2,
) -> list[InspectionPlan]:
    (m1, d1), (m2, d2) = period
    plans: list[InspectionPlan] = []
    for year in range(start_year, start_year + 5):
        plans.append(
            generate_plan(
                "K",
                year,
                members,
                period_start=date(year, m1, d1),
                period_end=date(year, m2, d2),
                history=plans,
                seed=seed,
                window_days=window_days,
            )
        )
    return plans


def is_holiday(day: date) -> bool:
    """A day off that is not merely a Saturday or Sunday (the calendar's own list)."""
    named = {d for d, _ in default_calendar().holidays_in(day.year)}
    return day in named or (day.weekday() < 5 and not is_working_day(day))


def window_days_of(visit: Visit) -> list[date]:
    return [visit.start + timedelta(days=i) for i in range((visit.end - visit.start).days + 1)]


@st.composite
def periods(draw: st.DrawFn) -> tuple[tuple[int, int], tuple[int, int]]:
    """A holiday-heavy period, or any period of 45 to 150 days inside one year."""
    if draw(st.booleans()):
        return draw(st.sampled_from(HOLIDAY_PERIODS))
    first = draw(st.integers(0, 365 - 45))
    length = draw(st.integers(45, 150))
    start = date(2019, 1, 1) + timedelta(days=first)
    end = min(start + timedelta(days=length), date(2019, 12, 31))  # 2019: never a 29/02
    return (start.month, start.day), (end.month, end.day)


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(min_value=2, max_value=40),
    seed=st.integers(0, 10_000),
    period=periods(),
    window=st.integers(1, 5),
    start_year=st.integers(2019, 2030),
)
def test_every_rule_holds_for_five_consecutive_years(
    size: int,
    seed: int,
    period: tuple[tuple[int, int], tuple[int, int]],
    window: int,
    start_year: int,
) -> None:
    """Self, reciprocal, rotation, load and window rules hold for any size, seed, period
    (Tết, 30/4-1/5 and 2/9 included) and window length."""
    members = [f"DV{i:02d}" for i in range(size)]
    plans = five_years(members, seed, start_year, period, window)
    (m1, d1), (m2, d2) = period
    for index, plan in enumerate(plans):
        history = plans[:index]
        first, last = date(plan.year, m1, d1), date(plan.year, m2, d2)
        assert (
            check_plan(
                plan, members, history, window_days=window, period_start=first, period_end=last
            )
            == []
        )
        pairs = plan.pairs()
        assert all(a != b for a, b in pairs)
        spans: dict[str, list[tuple[date, date]]] = {}
        for visit in plan.visits:
            assert first <= visit.start <= visit.end <= last
            days = window_days_of(visit)
            assert sum(is_working_day(d) for d in days) == window
            assert is_working_day(visit.start) and is_working_day(visit.end)
            assert not any(is_holiday(d) for d in days), visit
            for unit in (visit.inspector, visit.inspected):
                spans.setdefault(unit, []).append((visit.start, visit.end))
        for unit_spans in spans.values():
            unit_spans.sort()
            assert all(a[1] < b[0] for a, b in itertools.pairwise(unit_spans))
        # No size from 2 to 40 forces an early restart: the planner never needs the excuse.
        assert plan.early_resets == frozenset(), (size, plan.year, plan.early_resets)
        used = used_inspectors(members, history)
        for inspector, inspected in pairs:
            cycle_full = used[inspected] >= set(members) - {inspected}
            assert inspector not in used[inspected] or cycle_full, (inspector, inspected)
        if size == 2:
            assert len(pairs) == 1
            if index:
                assert pairs == {(b, a) for a, b in plans[index - 1].pairs()}
            continue
        assert all((b, a) not in pairs for a, b in pairs)
        if size == FOUR:
            assert_four_loads(plan, members)
            continue
        assert sorted(a for a, _ in pairs) == sorted(members)
        assert sorted(b for _, b in pairs) == sorted(members)


def assert_four_loads(plan: InspectionPlan, members: list[str]) -> None:
    """A bloc of four: a 4-cycle (everyone once each way) or a triangle (one member rests)."""
    outs = Counter(v.inspector for v in plan.visits)
    ins = Counter(v.inspected for v in plan.visits)
    if len(plan.visits) == FOUR:
        assert set(outs) == set(ins) == set(members)
    else:
        assert len(plan.visits) == FOUR - 1
        assert set(outs) == set(ins) and len(set(members) - set(outs)) == 1
    assert set(outs.values()) == set(ins.values()) == {1}


def test_a_bloc_of_four_completes_every_rotation_without_an_early_restart() -> None:
    """Four members, eight years, several seeds: every four years each unit is inspected by
    each of the three others exactly once; no self, no reciprocal pair, loads within ±1."""
    for seed in range(6):
        plans = five_years(CY4, seed)
        for year in range(2024, 2027):
            plans.append(
                generate_plan(
                    "K",
                    year,
                    CY4,
                    period_start=date(year, 10, 1),
                    period_end=date(year, 11, 30),
                    history=plans,
                    seed=seed,
                )
            )
        for index, plan in enumerate(plans):
            assert plan.early_resets == frozenset()
            assert_four_loads(plan, CY4)
            problems = check_plan(
                plan,
                CY4,
                plans[:index],
                window_days=2,
                period_start=date(plan.year, 10, 1),
                period_end=date(plan.year, 11, 30),
            )
            assert problems == []
        for block in (plans[:4], plans[4:]):
            pairs = [p for plan in block for p in plan.pairs()]
            assert sorted(pairs) == sorted(itertools.permutations(CY4, 2)), seed


def test_a_bloc_of_four_after_an_old_four_cycle_restarts_once_then_never() -> None:
    """A stored 2018 plan from the old planner (a 4-cycle) leaves no way to finish every
    cycle; the next plan restarts the fewest units early, says which, and none after."""
    old = InspectionPlan(
        "K",
        2018,
        0,
        tuple(
            Visit(a, b, date(2018, 10, 1), date(2018, 10, 2))
            for a, b in itertools.pairwise([*CY4, CY4[0]])
        ),
    )
    plans = [old]
    for year in range(2019, 2027):
        plans.append(
            generate_plan(
                "K",
                year,
                CY4,
                period_start=date(year, 10, 1),
                period_end=date(year, 11, 30),
                history=plans,
                seed=3,
            )
        )
    resets = [p.early_resets for p in plans[1:]]
    assert resets[0] and len(resets[0]) <= 2
    assert all(not r for r in resets[1:])
    for index, plan in enumerate(plans[1:], start=1):
        problems = check_plan(
            plan,
            CY4,
            plans[:index],
            window_days=2,
            period_start=date(plan.year, 10, 1),
            period_end=date(plan.year, 11, 30),
        )
        assert problems == []


def test_an_unrecorded_repeat_in_a_stored_plan_reads_as_an_early_restart() -> None:
    """Plans stored before early resets were kept: a repeated inspector starts the cycle over."""
    members = ["A", "B", "C", "D", "E"]

    def plan(year: int, pairs: list[tuple[str, str]]) -> InspectionPlan:
        day = date(year, 10, 1)
        return InspectionPlan("K", year, 0, tuple(Visit(a, b, day, day) for a, b in pairs))

    history = [plan(2019, [("B", "A")]), plan(2020, [("C", "A")]), plan(2021, [("B", "A")])]
    assert used_inspectors(members, history)["A"] == {"B"}


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
    assert (
        check_plan(
            plan,
            members,
            window_days=3,
            period_start=date(2027, 2, 1),
            period_end=date(2027, 2, 26),
        )
        == []
    )
    tet = {date(2027, 2, d) for d in range(4, 11)}
    for visit in plan.visits:
        assert visit.start not in tet and visit.end not in tet
        assert not (visit.start < date(2027, 2, 4) and visit.end > date(2027, 2, 10))


def test_a_window_never_bridges_30_4_and_1_5() -> None:
    """Six units, 4-day windows, 20/04-20/05/2027: no window runs over 30/4, 1/5 and the
    make-up day 3/5 (the old planner gave 29/04-06/05, four working days around them)."""
    members = [f"DV{i:02d}" for i in range(6)]
    start, end = date(2027, 4, 20), date(2027, 5, 20)
    for seed in range(4):
        plan = generate_plan(
            "K", 2027, members, period_start=start, period_end=end, seed=seed, window_days=4
        )
        assert check_plan(plan, members, window_days=4, period_start=start, period_end=end) == []
        for visit in plan.visits:
            assert not any(is_holiday(d) for d in window_days_of(visit)), visit


def test_check_plan_names_a_window_over_a_holiday_or_of_the_wrong_length() -> None:
    """check_plan looks at every day of a window, not only its first and last."""
    bridged = InspectionPlan(
        "K",
        2027,
        0,
        (
            Visit("A", "B", date(2027, 4, 29), date(2027, 5, 6)),
            Visit("B", "C", date(2027, 5, 10), date(2027, 5, 11)),
            Visit("C", "A", date(2027, 5, 12), date(2027, 5, 17)),
        ),
    )
    problems = check_plan(
        bridged,
        ["A", "B", "C"],
        window_days=4,
        period_start=date(2027, 4, 20),
        period_end=date(2027, 5, 14),
    )
    text = "; ".join(problems)
    assert "A->B (2027-04-29..2027-05-06) a holiday falls inside (2027-04-30" in text
    assert "B->C (2027-05-10..2027-05-11) holds 2 working days, not 4" in text
    assert "C->A (2027-05-12..2027-05-17) is outside the period" in text


def test_holidays_that_leave_no_run_long_enough_are_refused() -> None:
    """13 working days hold three 4-day windows, but Tết 2027 cuts them into runs of 6 and 7."""
    with pytest.raises(PlanError, match=r"ngày lễ chia cắt.* chỉ xếp được 2"):
        generate_plan(
            "K",
            2027,
            ["A", "B", "C"],
            period_start=date(2027, 1, 27),
            period_end=date(2027, 2, 19),
            window_days=4,
        )


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
    """Khối 4 Hệ Cơ yếu, 2019 (no history): three visits in October–November, a triangle of
    three branches, the fourth rests (a first-year 4-cycle would force an early restart)."""
    plan = generate_plan(
        "KCY4", 2019, CY4, period_start=date(2019, 10, 1), period_end=date(2019, 11, 29)
    )
    assert (
        check_plan(
            plan,
            CY4,
            window_days=2,
            period_start=date(2019, 10, 1),
            period_end=date(2019, 11, 29),
        )
        == []
    )
    assert len(plan.visits) == 3
    assert_four_loads(plan, CY4)
    assert plan.early_resets == frozenset()


def test_every_cycle_design_is_complete() -> None:
    """From 9 to 40 members there is a design (the stored seeds rebuild every even size):
    n − 1 years of derangements without reciprocal pairs using every ordered pair once."""
    assert set(EVEN_DESIGN_SEEDS) >= set(range(DESIGN_MIN_MEMBERS + 1, MAX_MEMBERS + 1, 2))
    for n in range(DESIGN_MIN_MEMBERS, MAX_MEMBERS + 1):
        design = cycle_design(n)
        assert design is not None and len(design) == n - 1, n
        pairs = set()
        for year in design:
            assert sorted(year) == list(range(n)), n
            assert all(year[j] != j and year[year[j]] != j for j in range(n)), n
            pairs |= {(year[j], j) for j in range(n)}
        assert len(pairs) == n * (n - 1), n


@pytest.mark.parametrize("size", [9, 10, 12, 17, 40])
def test_large_blocs_complete_whole_rotations_without_an_early_restart(size: int) -> None:
    """n − 1 years from a fresh start: every unit is inspected by each other member exactly
    once, no early restart, the plans pass check_plan; the next year starts every cycle over
    together and the second cycle is as complete as the first."""
    members = [f"DV{i:02d}" for i in range(size)]
    plans: list[InspectionPlan] = []
    for year in range(2020, 2020 + 2 * (size - 1)):
        first, last = date(year, 10, 1), date(year, 11, 30)
        plan = generate_plan("KNC", year, members, period_start=first, period_end=last,
                             history=plans, seed=7)  # fmt: skip
        assert check_plan(plan, members, plans, window_days=2, period_start=first,
                          period_end=last) == []  # fmt: skip
        assert plan.early_resets == frozenset(), (size, year)
        plans.append(plan)
    for cycle in (plans[: size - 1], plans[size - 1 :]):
        inspectors: dict[str, list[str]] = {m: [] for m in members}
        for plan in cycle:
            for inspector, inspected in plan.pairs():
                inspectors[inspected].append(inspector)
        for unit, got in inspectors.items():
            assert sorted(got) == sorted(set(members) - {unit}), (size, unit)
