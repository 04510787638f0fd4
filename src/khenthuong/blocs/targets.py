"""Covenant targets, their kinds, the bloc's scoring rule and the year-end outcome (pure).

A target is met or not: "over 80 % of party members rated good or excellent" is a
`more_than` target with threshold 80 on a percentage; a member at 70 % has not met it and
earns nothing for it (no proportional share). The score is the bloc's scoring rule applied to
the targets met: points per target met (a target may name its own points), times the target's
weight, minus the deductions the bloc's leader records (each kind with its points per case).

No official thang điểm was found (DOMAIN-2 §3.3, UNCERTAIN): every number is the bloc's own
setting (config/blocs.yaml `scoring`), with these defaults.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from khenthuong.documents.text import money
from khenthuong.errors import KhenthuongError

KINDS = {
    "at_least": "ít nhất",
    "more_than": "trên",
    "at_most": "không quá",
    "equals": "bằng",
    "zero_cases": "không có trường hợp nào",
    "done": "hoàn thành / không hoàn thành",
}
"""Target kinds and how a target of that kind reads in Vietnamese."""
UNITS = {"percent": "%", "count": ""}
"""What a threshold and a reported value measure (kinds with a threshold)."""
THRESHOLD_KINDS = ("at_least", "more_than", "at_most", "equals")
MAX_NUMBER = 1_000_000
"""No threshold, points, weight or reported value is larger (a count of a million cases)."""


class TargetError(KhenthuongError):
    """A target or a reported value that does not fit its kind."""


@dataclass(frozen=True)
class Target:
    """A covenant target: its kind, threshold (kinds with one), unit, points and weight.

    `points` None: the bloc's points per target met."""

    code: str
    description: str
    kind: str = "at_least"
    threshold: float = 0.0
    unit: str = "percent"
    points: float | None = None
    weight: float = 1.0

    def wording(self) -> str:
        """How the condition reads, e.g. 'trên 80 %' or 'không có trường hợp nào'."""
        if self.kind in THRESHOLD_KINDS:
            suffix = "\u00a0%" if self.unit == "percent" else ""
            return f"{KINDS[self.kind]} {self.threshold:g}{suffix}"
        return KINDS[self.kind]


def check_target(target: Target) -> None:
    """Refuse a target whose kind, unit, threshold, points or weight make no sense."""
    where = f"Chỉ tiêu {target.code}"
    numbers = (target.threshold, target.weight, target.points or 1.0)
    if not all(math.isfinite(x) and abs(x) <= MAX_NUMBER for x in numbers):
        raise TargetError(f"{where}: ngưỡng, điểm, hệ số phải là số từ 0 đến {money(MAX_NUMBER)}")
    if target.kind not in KINDS:
        raise TargetError(f"{where}: loại {target.kind!r} không có; dùng {', '.join(KINDS)}")
    if target.kind in THRESHOLD_KINDS:
        if target.unit not in UNITS:
            raise TargetError(f"{where}: đơn vị {target.unit!r} không có; dùng percent hoặc count")
        if target.unit == "percent" and not 0 <= target.threshold <= 100:
            raise TargetError(f"{where}: ngưỡng {target.threshold:g} % phải từ 0 đến 100")
        if target.unit == "count" and (target.threshold < 0 or target.threshold % 1):
            raise TargetError(f"{where}: ngưỡng {target.threshold:g} phải là số nguyên không âm")
    if target.points is not None and target.points <= 0:
        raise TargetError(f"{where}: điểm phải lớn hơn 0")
    if target.weight <= 0:
        raise TargetError(f"{where}: hệ số phải lớn hơn 0")


def value_unit(target: Target) -> str:
    """What the member reports: percent, count (zero_cases) or done (0/1)."""
    if target.kind == "zero_cases":
        return "count"
    if target.kind == "done":
        return "done"
    return target.unit


def check_value(target: Target, value: float) -> None:
    """Refuse a reported value outside what the target's kind accepts: a percentage from 0
    to 100, a count as a whole number from 0, done as 1 (done) or 0 (not done)."""
    where = f"Chỉ tiêu {target.code}"
    if not math.isfinite(value) or abs(value) > MAX_NUMBER:
        raise TargetError(f"{where}: giá trị {value} không hợp lệ")
    unit = value_unit(target)
    if unit == "percent" and not 0 <= value <= 100:
        raise TargetError(f"{where}: giá trị {value:g} % ngoài khoảng 0–100 %")
    if unit == "count" and (value < 0 or value % 1):
        raise TargetError(f"{where}: số {value:g} phải là số nguyên không âm")
    if unit == "done" and value not in (0, 1):
        raise TargetError(f"{where}: ghi 1 (hoàn thành) hoặc 0 (không hoàn thành), không {value:g}")


def is_met(target: Target, value: float) -> bool:
    """Whether `value` meets the target (the value is checked first)."""
    check_value(target, value)
    if target.kind == "at_least":
        return value >= target.threshold
    if target.kind == "more_than":
        return value > target.threshold
    if target.kind == "at_most":
        return value <= target.threshold
    if target.kind == "equals":
        return value == target.threshold
    if target.kind == "zero_cases":
        return value == 0
    return value == 1


@dataclass(frozen=True)
class Deduction:
    """A kind of deduction in the bloc's rule: points taken off per case."""

    code: str
    description: str
    points: float


@dataclass(frozen=True)
class ScoringRule:
    """A bloc's scoring rule and what its year-end vote may propose.

    government_flags: members that may be proposed for Cờ thi đua của Chính phủ (the leading
    member, where it met every target); ministry_flags: the next N for the ministry's flag
    (`ministry_flag_name`, e.g. Cờ thi đua của Bộ Công an); merit_share: members scoring at
    least this share of the best score are proposed for Bằng khen (None: not configured).
    """

    points_per_target: float = 10.0
    deductions: tuple[Deduction, ...] = ()
    government_flags: int = 1
    ministry_flags: int = 0
    ministry_flag_name: str = "Cờ thi đua cấp Bộ"
    merit_share: float | None = None

    def deduction(self, code: str) -> Deduction:
        for d in self.deductions:
            if d.code == code:
                return d
        known = ", ".join(d.code for d in self.deductions) or "không có loại nào"
        raise TargetError(f"Khoản trừ {code!r} không có trong quy tắc chấm điểm của khối ({known})")


@dataclass(frozen=True)
class ScoreLine:
    """One target's contribution: value reported, met or not, points earned."""

    code: str
    description: str
    condition: str
    value: float
    met: bool
    points: float
    weight: float
    earned: float


@dataclass(frozen=True)
class DeductionLine:
    code: str
    description: str
    cases: int
    points: float
    lost: float


@dataclass(frozen=True)
class Score:
    """A member's score for a round and how it was computed."""

    lines: tuple[ScoreLine, ...]
    deductions: tuple[DeductionLine, ...] = field(default_factory=tuple)

    @property
    def total(self) -> float:
        return round(sum(x.earned for x in self.lines) - sum(d.lost for d in self.deductions), 2)

    @property
    def met_all(self) -> bool:
        return all(x.met for x in self.lines)

    @property
    def met_count(self) -> int:
        return sum(1 for x in self.lines if x.met)

    def explain(self) -> str:
        """The computation in one line, e.g. 'hoan_thanh: đạt (100 ≥ …) 1 × 10 = 10; …'."""
        parts = [
            f"{x.code}: {'đạt' if x.met else 'không đạt'} ({x.value:g}; {x.condition}) "
            f"→ {x.weight:g} × {x.points:g} = {x.earned:g}"
            if x.met
            else f"{x.code}: không đạt ({x.value:g}; {x.condition}) → 0"
            for x in self.lines
        ]
        parts += [
            f"trừ {d.description}: {d.cases} × {d.points:g} = −{d.lost:g}" for d in self.deductions
        ]
        return "; ".join(parts) + f"; tổng {self.total:g} điểm"


def score(
    targets: Sequence[Target],
    values: Mapping[str, float],
    rule: ScoringRule,
    cases: Mapping[str, int] | None = None,
) -> Score:
    """Apply the rule: every target met earns weight × points; deductions subtract."""
    unknown = sorted(set(values) - {t.code for t in targets})
    missing = [t.code for t in targets if t.code not in values]
    if unknown or missing:
        raise TargetError(
            "Báo cáo không khớp chỉ tiêu: "
            + (f"không có chỉ tiêu {', '.join(unknown)}; " if unknown else "")
            + (f"thiếu {', '.join(missing)}" if missing else "")
        )
    lines = []
    for t in targets:
        value = float(values[t.code])
        met = is_met(t, value)
        points = t.points if t.points is not None else rule.points_per_target
        earned = round(t.weight * points, 2) if met else 0.0
        lines.append(
            ScoreLine(t.code, t.description, t.wording(), value, met, points, t.weight, earned)
        )
    taken = []
    for code, n in sorted((cases or {}).items()):
        if n < 0:
            raise TargetError(f"Khoản trừ {code}: số trường hợp {n} âm")
        if n == 0:
            continue
        d = rule.deduction(code)
        taken.append(DeductionLine(code, d.description, n, d.points, round(n * d.points, 2)))
    return Score(tuple(lines), tuple(taken))


@dataclass(frozen=True)
class Ranked:
    """A member's place in the year-end table."""

    unit: str
    score: float
    met_all: bool
    votes: int
    rank: int
    inspection: float | None = None


GOVERNMENT_FLAG = "government_flag"
MINISTRY_FLAG = "ministry_flag"
MERIT = "merit"


def rank(
    totals: Mapping[str, float],
    met_all: Mapping[str, bool],
    votes: Mapping[str, int],
    inspection: Mapping[str, float] | None = None,
) -> list[Ranked]:
    """Order by year-end score, then the cross-inspection score received, then votes."""
    inspection = inspection or {}
    order = sorted(
        totals, key=lambda u: (-totals[u], -(inspection.get(u) or 0.0), -votes.get(u, 0), u)
    )
    return [
        Ranked(u, totals[u], met_all[u], votes.get(u, 0), i + 1, inspection.get(u))
        for i, u in enumerate(order)
    ]


def outcome(ranked: Sequence[Ranked], rule: ScoringRule, government_quota: int) -> dict[str, str]:
    """What each member is proposed for after the vote (members absent: nothing).

    The leading members (up to `government_quota`, the bloc's flag quota) get the Government
    flag where they met every target and received votes; the next `ministry_flags` members
    with a score above zero get the ministry's flag; then, where the rule has a merit share,
    those scoring at least that share of the best score get Bằng khen."""
    result: dict[str, str] = {}
    best = max((r.score for r in ranked), default=0.0)
    gov = 0
    ministry = 0
    for r in ranked:
        if r.score <= 0:
            continue
        if gov < government_quota and r.rank == gov + 1 and r.met_all and r.votes > 0:
            result[r.unit] = GOVERNMENT_FLAG
            gov += 1
        elif ministry < rule.ministry_flags:
            result[r.unit] = MINISTRY_FLAG
            ministry += 1
        elif rule.merit_share is not None and r.score >= rule.merit_share * best:
            result[r.unit] = MERIT
    return result
