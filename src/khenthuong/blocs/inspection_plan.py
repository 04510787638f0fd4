"""Cross-inspection (kiểm tra chéo) plans between the members of a bloc (pure).

Rules a plan keeps, for a bloc of 2 to 40 members in one year:

1. nobody inspects itself;
2. no reciprocal pair: if A inspects B, B does not inspect A that year;
3. rotation across years: a unit is not inspected by the same inspector twice until every
   other member has inspected it. The "cycle" of a unit starts over once all others have
   inspected it;
4. balanced loads: every member inspects exactly once and is inspected exactly once (blocs of
   two and four: ±1, see below);
5. each visit is a window of D consecutive working days inside the inspection period with
   no public holiday (Tết, 30/4-1/5, 2/9, a day off by decision...) between its first and
   last day; a weekend inside is fine. No unit is in two overlapping windows (it never
   inspects and is inspected at once);
6. the same bloc, year, members, history and seed always give the same plan, in any process
   (nothing depends on the order of a set or on PYTHONHASHSEED).

A bloc of two cannot keep rules 2 and 4 together: it gets one visit a year and the direction
alternates (loads 1 and 0, the ±1 the issue allows). For blocs of up to eight members the
year's assignment is chosen so that the rest of every unit's rotation cycle can still be
completed (a search over the coming years), so rule 3 always holds for 3 and 5 to 8 members.

A bloc of four cannot keep rules 1 to 4 with everyone inspecting once a year: three yearly
permutations without fixed points or reciprocal pairs would be Hamiltonian directed cycles
decomposing the complete symmetric digraph on four vertices, which Tillson's theorem rules
out. The size forces the ±1 the issue allows: a year may be one directed triangle (three
visits, the fourth member neither inspects nor is inspected). The four faces of a
tetrahedron, oriented alike, use every ordered pair exactly once, so four such years give
each unit the three others as inspectors, one each, with no early restart. Each year the
planner picks a 4-cycle (preferred: every member inspects) or a triangle from those that
leave the rotation able to go on forever without an early restart (`_FourBloc`); from a
fresh start that is always a triangle.

Blocs of nine members or more follow a whole-cycle design (`cycle_design`): n − 1 yearly
assignments that together give every unit each other member as inspector exactly once, none
with a reciprocal pair, so every rotation cycle completes in n − 1 years and all start over
together. For an odd n, year k has unit i inspect unit i + k (mod n): no reciprocal pair as
2k ≢ 0. For an even n such shifts cannot work (k = n/2 pairs everyone off), and a design is
found by a seeded search whose seed is stored per size (`EVEN_DESIGN_SEEDS`), so it is the
same everywhere and cheap to rebuild. The planner uses the design year that keeps the rest
of every unit's cycle completable by the design's next years; a history that no design year
continues (plans made by hand, by an older planner, a change of members) is planned as
before.

When no assignment keeps rule 3 for every unit (a history made by hand or by an older
planner), the units whose cycle had to start over early are listed in
`InspectionPlan.early_resets`, and `check_plan` accepts exactly those.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from itertools import combinations, pairwise, permutations, product

from khenthuong.calendar.workdays import default_calendar, is_working_day
from khenthuong.errors import KhenthuongError

MIN_MEMBERS = 2
MAX_MEMBERS = 40
LOOKAHEAD_MAX_MEMBERS = 8
"""Up to this size the planner searches the coming years so no rotation cycle restarts early."""
LOOKAHEAD_BUDGET = 200_000


class PlanError(KhenthuongError):
    """The plan cannot be made as asked (bad members, period too short...)."""


@dataclass(frozen=True)
class Visit:
    """`inspector` inspects `inspected` from `start` to `end` (working days, inclusive)."""

    inspector: str
    inspected: str
    start: date
    end: date


@dataclass(frozen=True)
class InspectionPlan:
    """A bloc's visits for one year."""

    bloc: str
    year: int
    seed: int
    visits: tuple[Visit, ...]
    early_resets: frozenset[str] = field(default_factory=frozenset)

    def pairs(self) -> set[tuple[str, str]]:
        """(inspector, inspected) pairs."""
        return {(v.inspector, v.inspected) for v in self.visits}

    def as_rows(self) -> list[tuple[str, str, str, str]]:
        """Rows for export: inspector, inspected, start, end (ISO dates)."""
        return [
            (v.inspector, v.inspected, v.start.isoformat(), v.end.isoformat()) for v in self.visits
        ]


def _validate(
    members: Sequence[str], period_start: date, period_end: date, window_days: int
) -> None:
    if len(set(members)) != len(members):
        dupes = sorted({m for m in members if members.count(m) > 1})
        raise PlanError(f"Thành viên bị trùng: {', '.join(dupes)}")
    if not MIN_MEMBERS <= len(members) <= MAX_MEMBERS:
        raise PlanError(
            f"Khối cần từ {MIN_MEMBERS} đến {MAX_MEMBERS} thành viên, có {len(members)}",
            en=f"A bloc needs {MIN_MEMBERS}..{MAX_MEMBERS} members",
        )
    if period_end < period_start:
        raise PlanError(
            f"Ngày kết thúc {period_end:%d/%m/%Y} trước ngày bắt đầu {period_start:%d/%m/%Y}",
            en="Period ends before it starts",
        )
    if window_days < 1:
        raise PlanError(
            "Mỗi đợt kiểm tra cần ít nhất 1 ngày làm việc",
            en="Each inspection window needs at least 1 working day",
        )


def used_inspectors(
    members: Sequence[str], history: Sequence[InspectionPlan]
) -> dict[str, set[str]]:
    """For each member, the inspectors of its current rotation cycle (oldest plan first).

    A cycle starts over once every other member has inspected the unit, or early where a
    plan lists the unit in `early_resets`. A past plan that repeats an inspector inside the
    cycle without listing it (plans stored before early resets were kept) can only have
    been an early reset, and is read as one.
    """
    used: dict[str, set[str]] = {m: set() for m in members}
    for plan in sorted(history, key=lambda p: p.year):
        for inspector, inspected in sorted(plan.pairs()):
            if inspected not in used or inspector not in used:
                continue
            others = set(members) - {inspected}
            cycle = used[inspected]
            if inspected in plan.early_resets or cycle >= others or inspector in cycle:
                used[inspected] = set()
            used[inspected].add(inspector)
    return used


def _assign(
    members: list[str], allowed: dict[str, set[str]], rng: random.Random, budget: int
) -> dict[str, str] | None:
    """inspected -> inspector: a permutation with no fixed points and no 2-cycles."""
    order = sorted(members, key=lambda m: (len(allowed[m]), rng.random()))
    inspector_of: dict[str, str] = {}
    busy: set[str] = set()
    steps = 0

    def place(index: int) -> bool:
        nonlocal steps
        steps += 1
        if steps > budget:
            return False
        if index == len(order):
            return True
        inspected = order[index]
        # Sorted first: a set's order depends on PYTHONHASHSEED, the shuffle must not.
        candidates = sorted(c for c in allowed[inspected] if c not in busy)
        rng.shuffle(candidates)
        for inspector in candidates:
            if inspector_of.get(inspector) == inspected:
                continue  # reciprocal pair
            inspector_of[inspected] = inspector
            busy.add(inspector)
            if place(index + 1):
                return True
            del inspector_of[inspected]
            busy.discard(inspector)
        return False

    return inspector_of if place(0) else None


@lru_cache(maxsize=16)
def _derangements(n: int) -> tuple[tuple[int, ...], ...]:
    """Permutations of range(n) with no fixed point and no 2-cycle (index -> inspector)."""
    return tuple(
        p for p in permutations(range(n)) if all(p[i] != i and p[p[i]] != i for i in range(n))
    )


def _allowed_ix(used: list[frozenset[int]], n: int) -> list[frozenset[int]]:
    everyone = frozenset(range(n))
    return [
        (everyone - {x} - used[x]) if used[x] != everyone - {x} else everyone - {x}
        for x in range(n)
    ]


def _advance_used(
    used: list[frozenset[int]], perm: tuple[int, ...], n: int
) -> list[frozenset[int]]:
    everyone = frozenset(range(n))
    return [(frozenset() if used[x] == everyone - {x} else used[x]) | {perm[x]} for x in range(n)]


def _assign_ahead(
    members: list[str], used: dict[str, set[str]], rng: random.Random
) -> dict[str, str] | None:
    """This year's assignment such that no cycle must restart early in the coming years.

    Searches chains of yearly permutations until every unit's current cycle is complete;
    None when there is none (a bloc of four) or the search budget runs out.
    """
    n = len(members)
    index = {m: i for i, m in enumerate(members)}
    start = [frozenset(index[u] for u in used[m] if u in index) for m in members]
    perms = list(_derangements(n))
    rng.shuffle(perms)
    steps = 0

    def years_left(state: list[frozenset[int]]) -> int:
        return max(n - 1 - len(state[x]) if len(state[x]) < n - 1 else 0 for x in range(n))

    def chain(state: list[frozenset[int]], depth: int) -> bool:
        nonlocal steps
        if depth == 0:
            return True
        allowed = _allowed_ix(state, n)
        for perm in perms:
            steps += 1
            if steps > LOOKAHEAD_BUDGET:
                return False
            if all(perm[x] in allowed[x] for x in range(n)) and chain(
                _advance_used(state, perm, n), depth - 1
            ):
                return True
        return False

    allowed = _allowed_ix(start, n)
    for perm in perms:
        if not all(perm[x] in allowed[x] for x in range(n)):
            continue
        after = _advance_used(start, perm, n)
        if chain(after, years_left(after)):
            return {members[x]: members[perm[x]] for x in range(n)}
        if steps > LOOKAHEAD_BUDGET:
            return None
    return None


DESIGN_MIN_MEMBERS = LOOKAHEAD_MAX_MEMBERS + 1
EVEN_DESIGN_SEEDS = {
    10: 1, 12: 3, 14: 2, 16: 4, 18: 2, 20: 1, 22: 1, 24: 2, 26: 2, 28: 2, 30: 2, 32: 5,
    34: 41, 36: 43, 38: 403, 40: 625,
}  # fmt: skip
"""For each even bloc size, the first seed of `_searched_design` that completes (found once
by trying 1, 2, 3 …; `test_every_cycle_design_is_complete` rebuilds and checks each)."""
DESIGN_STEPS = 20_000
"""Search steps per year of `_searched_design` before that attempt is given up."""


def _searched_design(n: int, seed: int) -> tuple[tuple[int, ...], ...] | None:
    """n − 1 years (index -> inspector) using every ordered pair once, none reciprocal:
    each year a backtracking search over the inspectors each unit has not had yet, the most
    constrained units first; None when a year cannot be completed within DESIGN_STEPS."""
    rng = random.Random(seed)
    remaining = [set(range(n)) - {j} for j in range(n)]
    years: list[tuple[int, ...]] = []
    for _ in range(n - 1):
        year = _searched_year(n, remaining, rng)
        if year is None:
            return None
        for j in range(n):
            remaining[j].discard(year[j])
        years.append(year)
    return tuple(years)


def _searched_year(n: int, remaining: list[set[int]], rng: random.Random) -> tuple[int, ...] | None:
    order = sorted(range(n), key=lambda j: (len(remaining[j]), rng.random()))
    inspector_of: dict[int, int] = {}
    busy: set[int] = set()
    steps = 0

    def place(i: int) -> bool:
        nonlocal steps
        steps += 1
        if steps > DESIGN_STEPS:
            return False
        if i == n:
            return True
        j = order[i]
        candidates = sorted(c for c in remaining[j] if c not in busy and inspector_of.get(c) != j)
        rng.shuffle(candidates)
        for c in candidates:
            inspector_of[j] = c
            busy.add(c)
            if place(i + 1):
                return True
            del inspector_of[j]
            busy.discard(c)
        return False

    return tuple(inspector_of[j] for j in range(n)) if place(0) else None


@lru_cache(maxsize=64)
def cycle_design(n: int) -> tuple[tuple[int, ...], ...] | None:
    """The whole-cycle design for a bloc of `n` (see the module docstring): year t maps each
    member index to its inspector's index; None for a size without one."""
    if n % 2:
        return tuple(tuple((j - k) % n for j in range(n)) for k in range(1, n))
    seed = EVEN_DESIGN_SEEDS.get(n)
    return None if seed is None else _searched_design(n, seed)


def _assign_by_design(
    members: list[str], used: dict[str, set[str]], label_seed: str
) -> dict[str, str] | None:
    """This year's design assignment (inspected -> inspector), or None when no design year
    lets the design complete every unit's current cycle from this history."""
    design = cycle_design(len(members))
    if design is None:
        return None
    n = len(members)
    labels = sorted(members)
    random.Random(label_seed).shuffle(labels)
    index = {m: i for i, m in enumerate(labels)}
    state = [frozenset(index[u] for u in used[m] if u in index) for m in labels]
    needed = max(n - 1 - len(cycle) if len(cycle) < n - 1 else 0 for cycle in state)
    for t in range(n - 1):
        current = state
        for year in range(t, t + max(needed, 1)):
            perm = design[year % (n - 1)]
            allowed = _allowed_ix(current, n)
            if not all(perm[x] in allowed[x] for x in range(n)):
                break
            current = _advance_used(current, perm, n)
        else:
            return {labels[x]: labels[design[t][x]] for x in range(n)}
    return None


FOUR = 4
State = tuple[frozenset[int], ...]
"""Per member (by index), the inspectors of its current rotation cycle."""
Move = tuple[tuple[int, int], ...]
"""(inspector, inspected) pairs of one year, by member index."""


class _FourBloc:
    """The yearly moves of a bloc of four and the states from which none must restart early.

    Moves: the six directed 4-cycles, then the eight directed triangles. A state is "safe"
    when some move keeps rule 3 for every unit and leads to a safe state again: the greatest
    such set, computed once over all 8**4 states.
    """

    def __init__(self) -> None:
        members = range(FOUR)
        cycles = [
            p for p in permutations(members) if all(p[x] != x and p[p[x]] != x for x in members)
        ]
        self.moves: list[Move] = [tuple((p[x], x) for x in members) for p in cycles]
        for idle in members:
            a, b, c = (m for m in members if m != idle)
            for ring in ((a, b, c), (a, c, b)):
                self.moves.append(tuple((ring[i], ring[(i + 1) % 3]) for i in range(3)))
        subsets = [
            [frozenset(c) for k in range(FOUR) for c in combinations(self.others(x), k)]
            for x in members
        ]
        safe = set(product(*subsets))
        while True:
            stuck = {
                state
                for state in safe
                if not any(
                    not resets and after in safe
                    for after, resets in (self.step(state, move) for move in self.moves)
                )
            }
            if not stuck:
                break
            safe -= stuck
        self.safe = frozenset(safe)

    @staticmethod
    def others(x: int) -> list[int]:
        return [m for m in range(FOUR) if m != x]

    def step(self, state: State, move: Move) -> tuple[State, frozenset[int]]:
        """The state after `move`, and the units whose cycle it restarts early."""
        after, resets = list(state), set()
        for inspector, inspected in move:
            cycle = state[inspected]
            if len(cycle) == FOUR - 1:
                cycle = frozenset()
            if inspector in cycle:
                resets.add(inspected)
                cycle = frozenset()
            after[inspected] = cycle | {inspector}
        return tuple(after), frozenset(resets)


@lru_cache(maxsize=1)
def _four_bloc() -> _FourBloc:
    return _FourBloc()


def _assign_four(
    members: list[str], used: dict[str, set[str]], rng: random.Random
) -> tuple[list[tuple[str, str]], set[str]]:
    """A bloc of four: (inspector, inspected) pairs and the units restarted early (normally
    none; some only when the history already left no safe way on)."""
    four = _four_bloc()
    index = {m: i for i, m in enumerate(members)}
    state = tuple(frozenset(index[u] for u in used[m] if u in index) for m in members)
    ranked = []
    for order, move in enumerate(four.moves):
        after, resets = four.step(state, move)
        # Back to a safe state first (one early restart now rather than more later), then
        # the fewest restarts, then everyone inspecting (a 4-cycle), then the seed.
        ranked.append((after not in four.safe, len(resets), len(move) != FOUR, rng.random(), order))
    best = four.moves[min(ranked)[-1]]
    _after, resets = four.step(state, best)
    return [(members[i], members[x]) for i, x in best], {members[x] for x in resets}


def _working_days(start: date, end: date) -> list[date]:
    days = []
    day = start
    while day <= end:
        if is_working_day(day):
            days.append(day)
        day += timedelta(days=1)
    return days


def _holidays(start: date, end: date) -> set[date]:
    """Public holidays and other days off from `start` to `end`, weekends that are only
    weekends left out (a holiday falling on a Saturday is still a holiday)."""
    calendar = default_calendar()
    named = {
        day
        for year in range(start.year, end.year + 1)
        for day, _name in calendar.holidays_in(year)
        if start <= day <= end
    }
    day, off = start, set()
    while day <= end:
        if day in named or (day.weekday() < 5 and not is_working_day(day)):
            off.add(day)
        day += timedelta(days=1)
    return off


def window_problems(start: date, end: date, window_days: int) -> list[str]:
    """Why start..end is not a visit window: it must hold exactly `window_days` working days,
    start and end on one, and have no public holiday anywhere from start to end (weekends
    inside are fine, they are not holidays)."""
    if end < start:
        return [f"ends before it starts ({start} > {end})"]
    problems = [f"{day} is a day off" for day in (start, end) if not is_working_day(day)]
    count = len(_working_days(start, end))
    if count != window_days:
        problems.append(f"holds {count} working days, not {window_days}")
    holidays = sorted(_holidays(start, end))
    if holidays:
        problems.append(f"a holiday falls inside ({', '.join(map(str, holidays))})")
    return problems


def _place_windows(
    period_start: date, period_end: date, window_days: int, count: int
) -> list[tuple[date, date]]:
    """`count` disjoint windows in date order, spread over the period.

    A window is `window_days` consecutive working days with no holiday between its first and
    last day, so a run of working days broken by Tết, 30/4-1/5 or 2/9 is never bridged.
    """
    days = _working_days(period_start, period_end)
    needed = count * window_days
    if needed > len(days):
        raise PlanError(
            f"Thời gian kiểm tra quá ngắn: cần {needed} ngày làm việc ({count} đợt × "
            f"{window_days} ngày), chỉ có {len(days)}",
            en=f"Period too short: needs {needed} working days, has {len(days)}",
        )
    holidays = sorted(_holidays(period_start, period_end))
    size = len(days)

    def clear(i: int) -> bool:
        last = i + window_days - 1
        return last < size and not any(days[i] < h < days[last] for h in holidays)

    valid = [clear(i) for i in range(size)]
    # fits[i]: how many disjoint windows fit in days[i:] (exact, right to left).
    fits = [0] * (size + window_days + 1)
    for i in range(size - 1, -1, -1):
        fits[i] = max(fits[i + 1], 1 + fits[i + window_days] if valid[i] else 0)
    if fits[0] < count:
        raise PlanError(
            f"Thời gian kiểm tra bị ngày lễ chia cắt: cần {count} đợt × {window_days} ngày làm "
            f"việc liên tiếp không xen ngày lễ, chỉ xếp được {fits[0]}",
            en=f"Holidays split the period: {count} windows needed, {fits[0]} fit",
        )
    gap = (size - needed) // count
    windows: list[tuple[date, date]] = []
    free = 0
    for index in range(count):
        left = count - index - 1
        feasible = [i for i in range(free, size) if valid[i] and fits[i + window_days] >= left]
        target = index * (window_days + gap)
        later = [i for i in feasible if i >= target]
        first = later[0] if later else feasible[-1]
        windows.append((days[first], days[first + window_days - 1]))
        free = first + window_days
    return windows


def _slots(pairs: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """Group visits so that no unit appears twice in a group (cycles: 2 or 3 groups)."""
    slots: list[list[tuple[str, str]]] = []
    for pair in pairs:
        for slot in slots:
            if not any(set(pair) & set(other) for other in slot):
                slot.append(pair)
                break
        else:
            slots.append([pair])
    return slots


def generate_plan(
    bloc: str,
    year: int,
    members: Sequence[str],
    *,
    period_start: date,
    period_end: date,
    history: Sequence[InspectionPlan] = (),
    seed: int = 0,
    window_days: int = 2,
) -> InspectionPlan:
    """The year's plan; see the module docstring for the rules it keeps."""
    members = list(members)
    _validate(members, period_start, period_end, window_days)
    rng = random.Random(f"{bloc}|{year}|{seed}")
    used = used_inspectors(members, history)
    early: set[str] = set()
    if len(members) == 2:
        a, b = sorted(members)
        last = max((p for p in history if p.pairs()), key=lambda p: p.year, default=None)
        if last is not None:
            inspector, inspected = next(iter(last.pairs()))
            pairs = [(inspected, inspector)] if {inspector, inspected} == {a, b} else [(a, b)]
        else:
            pairs = [(a, b)] if rng.random() < 0.5 else [(b, a)]
    elif len(members) == FOUR:
        pairs, early = _assign_four(sorted(members), used, rng)
    else:
        allowed = {m: (set(members) - {m} - used[m]) or (set(members) - {m}) for m in members}
        assignment = None
        if len(members) <= LOOKAHEAD_MAX_MEMBERS:
            assignment = _assign_ahead(sorted(members), used, rng)
        else:
            assignment = _assign_by_design(members, used, f"{bloc}|{seed}|design")
        if assignment is None:
            assignment = _assign(members, allowed, rng, budget=20_000)
        while assignment is None:
            # Start over the cycle of the most constrained unit, then try again.
            tight = min(
                (m for m in members if m not in early),
                key=lambda m: (len(allowed[m]), m),
            )
            early.add(tight)
            allowed[tight] = set(members) - {tight}
            assignment = _assign(members, allowed, rng, budget=20_000)
        pairs = sorted(
            ((inspector, inspected) for inspected, inspector in assignment.items()),
            key=lambda p: p[0],
        )
    rng.shuffle(pairs)
    slots = _slots(pairs)
    windows = _place_windows(period_start, period_end, window_days, len(slots))
    visits: list[Visit] = []
    for slot, (start, end) in zip(slots, windows, strict=True):
        visits.extend(Visit(i, x, start, end) for i, x in sorted(slot))
    visits.sort(key=lambda v: (v.start, v.inspector))
    return InspectionPlan(bloc, year, seed, tuple(visits), frozenset(early))


def check_plan(
    plan: InspectionPlan,
    members: Sequence[str],
    history: Sequence[InspectionPlan] = (),
    *,
    window_days: int,
    period_start: date,
    period_end: date,
) -> list[str]:
    """Every rule the plan breaks, as text (empty when it keeps them all).

    Every day of every window is checked: inside the period, exactly `window_days` working
    days, starting and ending on one, no holiday inside.
    """
    problems: list[str] = []
    members = list(members)
    pairs = [(v.inspector, v.inspected) for v in plan.visits]
    unknown = {u for pair in pairs for u in pair} - set(members)
    if unknown:
        problems.append(f"units outside the bloc: {sorted(unknown)}")
    for inspector, inspected in pairs:
        if inspector == inspected:
            problems.append(f"{inspector} inspects itself")
        if (inspected, inspector) in pairs and inspector < inspected:
            problems.append(f"{inspector} and {inspected} inspect each other")
    if len(set(pairs)) != len(pairs):
        problems.append("a pair is planned twice")
    outs = {m: sum(1 for i, _ in pairs if i == m) for m in members}
    ins = {m: sum(1 for _, x in pairs if x == m) for m in members}
    if len(members) == 2:
        if len(pairs) != 1:
            problems.append(f"a bloc of two has one visit a year, not {len(pairs)}")
    elif len(members) == FOUR:
        spread = max(outs.values()) - min(outs.values()), max(ins.values()) - min(ins.values())
        if max(spread) > 1 or len(pairs) < FOUR - 1:
            problems.append(f"unbalanced loads: inspects {outs}, inspected {ins}")
    elif set(outs.values()) != {1} or set(ins.values()) != {1}:
        problems.append(f"unbalanced loads: inspects {outs}, inspected {ins}")
    used = used_inspectors(members, history)
    for inspector, inspected in pairs:
        others = set(members) - {inspected}
        if (
            inspector in used.get(inspected, set())
            and not used[inspected] >= others
            and inspected not in plan.early_resets
        ):
            problems.append(
                f"{inspected} is inspected by {inspector} again before every other member has"
            )
    by_unit: dict[str, list[Visit]] = {}
    for visit in plan.visits:
        name = f"visit {visit.inspector}->{visit.inspected} ({visit.start}..{visit.end})"
        if not (period_start <= visit.start and visit.end <= period_end):
            problems.append(f"{name} is outside the period {period_start}..{period_end}")
        problems.extend(
            f"{name} {problem}" for problem in window_problems(visit.start, visit.end, window_days)
        )
        by_unit.setdefault(visit.inspector, []).append(visit)
        by_unit.setdefault(visit.inspected, []).append(visit)
    for unit, unit_visits in by_unit.items():
        ordered = sorted(unit_visits, key=lambda v: v.start)
        for earlier, later in pairwise(ordered):
            if later.start <= earlier.end:
                problems.append(
                    f"{unit} is in two overlapping visits ({earlier.start}, {later.start})"
                )
    return problems
