"""Eligibility from a person's award history (Law 06/2022 Art 21-24, 44, 73, 74) (pure)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from khenthuong.errors import Refusal

GOOD = ("htt", "htxs")
MERIT = "cong_trang"
SCOPES = ("grassroots", "ministry", "national")


@dataclass(frozen=True)
class History:
    """What a person achieved, year by year. Only merit awards (công trạng) count as grounds."""

    ratings: dict[int, str] = field(default_factory=dict)
    """year -> htxs (excellent), htt (good), ht, kht."""
    awards: tuple[tuple[str, int, str], ...] = ()
    """(award code, year, commendation type)."""
    initiatives: tuple[tuple[int, str], ...] = ()
    """(year, scope: grassroots | ministry | national)."""
    blockers: tuple[tuple[str, date, date | None], ...] = ()
    """(discipline | investigation | complaint, from, until or None if open)."""

    def has(self, code: str, year: int) -> bool:
        """A merit award `code` in `year` (ad-hoc and thematic awards do not count, ND 98 Art 4)."""
        return any(c == code and y == year and t == MERIT for c, y, t in self.awards)

    def years_of(self, code: str) -> list[int]:
        """Years of merit award `code`, ascending."""
        return sorted({y for c, y, t in self.awards if c == code and t == MERIT})

    def initiatives_at_least(self, scope: str, years: range) -> int:
        """Initiatives in `years` recognised at `scope` or wider."""
        rank = SCOPES.index(scope)
        return sum(1 for y, s in self.initiatives if y in years and SCOPES.index(s) >= rank)


def _years(values: list[int]) -> str:
    return ", ".join(str(v) for v in values) or "không có"


def _streak(history: History, code: str, year: int) -> list[int]:
    streak: list[int] = []
    while history.has(code, year - len(streak)):
        streak.append(year - len(streak))
    return sorted(streak)


def _good_run(history: History, year: int, after: int) -> list[int]:
    run: list[int] = []
    y = year
    while y > after and history.ratings.get(y) in GOOD:
        run.append(y)
        y -= 1
    return sorted(run)


def ldtt(history: History, year: int) -> Refusal | None:
    """Art 24: completed tasks well or better in the year."""
    if history.ratings.get(year) in GOOD:
        return None
    return Refusal(
        "eligible",
        f"Năm {year} chưa được đánh giá hoàn thành tốt nhiệm vụ trở lên",
        f"not rated 'completed well' or better in {year}",
    )


def cstdcs(history: History, year: int) -> Refusal | None:
    """Art 23: LĐTT standard plus excellent rating or a grassroots-recognised initiative."""
    base = ldtt(history, year)
    if base is not None:
        return base
    if history.ratings.get(year) == "htxs" or history.initiatives_at_least(
        "grassroots", range(year, year + 1)
    ):
        return None
    return Refusal(
        "eligible",
        f"Năm {year} cần hoàn thành xuất sắc nhiệm vụ hoặc có sáng kiến được công nhận",
        f"{year} needs an 'excellent' rating or a recognised initiative",
    )


def cstd_bo(history: History, year: int) -> Refusal | None:
    """Art 22: 3 consecutive CSTĐCS ending in the year, and a ministry-level initiative."""
    streak = _streak(history, "CSTDCS", year)
    wanted = [year - 2, year - 1, year]
    if len(streak) < 3:
        return Refusal(
            "eligible",
            f"Cần 3 năm liên tục đạt Chiến sĩ thi đua cơ sở ({_years(wanted)}); "
            f"chỉ có {len(streak)} năm liên tục ({_years(streak)})",
            f"needs CSTĐCS in 3 consecutive years ({_years(wanted)}); has {len(streak)} ({_years(streak)})",
        )
    if not history.initiatives_at_least("ministry", range(year - 2, year + 1)):
        return Refusal(
            "eligible",
            f"Cần sáng kiến có phạm vi ảnh hưởng cấp Bộ trong các năm {_years(wanted)}",
            "needs an initiative recognised at ministry level in those years",
        )
    return None


def cstdtq(history: History, year: int) -> Refusal | None:
    """Art 21: 2 consecutive CSTĐ cấp Bộ and a nationally recognised initiative."""
    streak = _streak(history, "CSTD_BO", year)
    if len(streak) < 2:
        return Refusal(
            "eligible",
            f"Cần 2 lần liên tục đạt Chiến sĩ thi đua cấp Bộ ({year - 1}, {year}); có {_years(streak)}",
            f"needs CSTĐ cấp Bộ in {year - 1} and {year}; has {_years(streak)}",
        )
    if not history.initiatives_at_least("national", range(year - 1, year + 1)):
        return Refusal(
            "eligible",
            "Cần sáng kiến có phạm vi ảnh hưởng toàn quốc",
            "needs an initiative recognised nationwide",
        )
    return None


def bk_bo(history: History, year: int) -> Refusal | None:
    """Art 74(1)(d): 2 consecutive CSTĐCS, or 2 excellent years with 2 initiatives."""
    if len(_streak(history, "CSTDCS", year)) >= 2:
        return None
    excellent = all(history.ratings.get(y) == "htxs" for y in (year - 1, year))
    if excellent and history.initiatives_at_least("grassroots", range(year - 1, year + 1)) >= 2:
        return None
    return Refusal(
        "eligible",
        f"Cần 2 năm liên tục đạt CSTĐCS ({year - 1}, {year}) hoặc 2 năm liên tục hoàn thành xuất sắc "
        "nhiệm vụ với 2 sáng kiến được công nhận",
        "needs CSTĐCS in 2 consecutive years, or 2 excellent years with 2 initiatives",
    )


def _after_award(
    history: History, year: int, prerequisite: str, label: str, need_excellent: bool
) -> Refusal | None:
    held = [y for y in history.years_of(prerequisite) if y < year]
    if not held:
        return Refusal(
            "eligible", f"Chưa có {label}", f"does not hold the prerequisite {prerequisite}"
        )
    since = held[-1]
    run = _good_run(history, year, since)
    if len(run) < 5:
        return Refusal(
            "eligible",
            f"Cần 5 năm liên tục hoàn thành tốt nhiệm vụ trở lên sau {label} năm {since}; "
            f"có {len(run)} ({_years(run)})",
            f"needs 5 consecutive good years after {prerequisite} {since}; has {len(run)}",
        )
    period = range(run[0], year + 1)
    cs = [y for y in period if history.has("CSTDCS", y)]
    if len(cs) < 3:
        return Refusal(
            "eligible",
            f"Cần 3 lần CSTĐCS trong giai đoạn {run[0]}–{year}; có {len(cs)} ({_years(cs)})",
            f"needs CSTĐCS 3 times in {run[0]}-{year}; has {len(cs)}",
        )
    if need_excellent and not any(history.ratings.get(y) == "htxs" for y in period):
        return Refusal(
            "eligible",
            f"Cần ít nhất 1 năm hoàn thành xuất sắc nhiệm vụ trong {run[0]}–{year}",
            "needs at least one excellent year in the period",
        )
    return None


def bk_ttg(history: History, year: int) -> Refusal | None:
    """Art 73(1)(b): holds a ministry Bằng khen, then 5 good years with CSTĐCS 3 times."""
    return _after_award(history, year, "BK_BO", "Bằng khen cấp Bộ", need_excellent=False)


def hcld3(history: History, year: int) -> Refusal | None:
    """Art 44(1)(e): holds a PM Bằng khen, then 5 good years, 1 excellent, CSTĐCS 3 times."""
    return _after_award(history, year, "BK_TTG", "Bằng khen của Thủ tướng", need_excellent=True)


RULES: dict[str, Callable[[History, int], Refusal | None]] = {
    "ldtt": ldtt,
    "cstdcs": cstdcs,
    "cstd_bo": cstd_bo,
    "cstdtq": cstdtq,
    "bk_bo": bk_bo,
    "bk_ttg": bk_ttg,
    "hcld3": hcld3,
}


def check_not_blocked(history: History, on: date) -> Refusal | None:
    """ND 98 Art 4: nobody under discipline, investigation or complaint verification."""
    for kind, start, end in history.blockers:
        if start <= on and (end is None or on <= end):
            names = {
                "discipline": "đang trong thời hạn kỷ luật",
                "investigation": "đang bị điều tra",
                "complaint": "đang xác minh khiếu nại, tố cáo",
            }
            return Refusal(
                "not_blocked",
                f"Không đề nghị khen thưởng: {names.get(kind, kind)} (từ {start:%d/%m/%Y})",
                f"blocked: {kind} since {start}",
            )
    return None
