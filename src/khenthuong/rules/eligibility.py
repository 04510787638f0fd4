"""Eligibility from award history (Law 06/2022 Art 21-26, 44, 73, 74) (pure).

Each ladder rule has a parameter model: the rule sets of config/awards.yaml name the rule
and may set its parameters (dated with the rule set, overridable per organisation); every
parameter defaults to the value DOMAIN.md documents, with the source in the field's text.
Only merit awards (công trạng) count as grounds, and only merit nominations are judged by
the ladder (NĐ 98/2023 Điều 4; NĐ 152/2025 Điều 4). One achievement earns one award (Law
Art 5): the years that earned an award cannot earn the same award again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from khenthuong.errors import Refusal
from khenthuong.formats import percent
from khenthuong.rules.paths import BASIS_PATTERN, AttestedPath

GOOD = ("htt", "htxs")
DONE = ("ht", "htt", "htxs")
MERIT = "cong_trang"
SCOPES = ("grassroots", "ministry", "national")
Scope = Literal["grassroots", "ministry", "national"]
CommendationType = Literal[
    "cong_trang", "dot_xuat", "chuyen_de", "cong_hien", "nien_han", "doi_ngoai"
]
DISCIPLINE_LEVELS = {
    "khien_trach": "khiển trách",
    "canh_cao": "cảnh cáo",
    "ha_bac_luong": "hạ bậc lương",
    "giang_chuc": "giáng chức",
    "cach_chuc": "cách chức",
    "buoc_thoi_viec": "buộc thôi việc",
}
"""Disciplinary measures from the lightest to the heaviest (Luật Cán bộ, công chức 2008, Điều
79; the lists for viên chức, the army and the Party use the same names for the measures they
share): reprimand, warning, salary step down, demotion, dismissal from post, dismissal."""
DisciplineLevel = Literal[
    "khien_trach", "canh_cao", "ha_bac_luong", "giang_chuc", "cach_chuc", "buoc_thoi_viec"
]


def heavier(a: str | None, b: str | None) -> str | None:
    """The heavier of two recorded levels; a record without a level (None) outweighs any."""
    order = list(DISCIPLINE_LEVELS)
    if a not in order or b not in order:
        return None
    return a if order.index(a) >= order.index(b) else b


def at_least(level: str | None, threshold: str) -> bool:
    """True when a discipline of `level` is `threshold` or heavier. A record whose level was
    not entered counts as heavy enough: the check cannot be passed by leaving it out."""
    order = list(DISCIPLINE_LEVELS)
    return level is None or level not in order or order.index(level) >= order.index(threshold)


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

    def last(self, code: str, before: int | None = None) -> int | None:
        """The latest year of merit award `code` (up to and including `before`)."""
        years = [y for y in self.years_of(code) if before is None or y <= before]
        return years[-1] if years else None

    def initiatives_at_least(self, scope: str, years: range) -> int:
        """Initiatives in `years` recognised at `scope` or wider."""
        rank = SCOPES.index(scope)
        return sum(1 for y, s in self.initiatives if y in years and SCOPES.index(s) >= rank)


@dataclass(frozen=True)
class UnitFacts:
    """What a collective and its members achieved in one year (for collective titles)."""

    members: int = 0
    """People of the unit (its subtree)."""
    completed: int = 0
    """Members rated 'hoàn thành nhiệm vụ' or better in the year."""
    excellent: int = 0
    """Members rated 'hoàn thành xuất sắc nhiệm vụ' in the year."""
    ldtt: int = 0
    """Members holding a merit LĐTT (or Chiến sĩ tiên tiến) of the year."""
    cstdcs: int = 0
    """Members holding a merit CSTĐCS of the year."""
    discipline_levels: tuple[str | None, ...] = ()
    """One entry per member under discipline at some time in the year: the heaviest level
    recorded for the year (None when a record carries no level)."""
    bloc_ranks: tuple[tuple[str, str, int], ...] = ()
    """(bloc code, organiser unit code, rank in the bloc's year-end vote) for the year."""
    organisation: str | None = None
    """The top-level unit (ministry) the collective belongs to."""


class Params(BaseModel):
    """Common to every ladder rule: where its values come from, and which types it judges."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str | None = None
    """The legal basis of the values set here (article of law or decree)."""
    uncertain: bool = False
    """DOMAIN marks a value uncertain: a default an organisation may override."""
    applies_to: tuple[CommendationType, ...] = ("cong_trang",)
    """Commendation types judged by the ladder. Ad-hoc (đột xuất) and thematic (chuyên đề)
    awards are not merit awards and are not judged by it (Law Art 8; NĐ 98 Art 4;
    DOMAIN §8), nor are service, seniority and foreign awards, whose criteria differ."""
    basis: str | None = Field(default=None, pattern=BASIS_PATTERN)
    """The point of the article this rule judges from history, e.g. 74.1.d."""
    paths: tuple[AttestedPath, ...] = ()
    """The other points of the same article, any of which is enough instead: attested by
    the officer with the confirming document (khenthuong.rules.paths)."""


class LdttRule(Params):
    """Law Art 24: rated 'hoàn thành tốt nhiệm vụ' or better in the year."""

    rule: Literal["ldtt"] = "ldtt"


class CstdcsRule(Params):
    """Law Art 23: the LĐTT standard plus 'hoàn thành xuất sắc' or a recognised initiative."""

    rule: Literal["cstdcs"] = "cstdcs"
    initiative_scope: Scope = "grassroots"
    initiative_required: bool = False
    """True: the LĐTT standard plus a recognised initiative, an excellent rating alone does
    not do (Luật TĐKT 2003 as amended, the rule set of 2017-2023; DOMAIN §2.1)."""


class CstdBoRule(Params):
    """Law Art 22: chosen from those with 3 consecutive CSTĐCS, and an initiative with
    influence across the ministry."""

    rule: Literal["cstd_bo"] = "cstd_bo"
    streak: int = Field(default=3, ge=1)
    """Law Art 22: 3 consecutive CSTĐCS."""
    streak_of: str = "CSTDCS"
    ends_before: int = Field(default=0, ge=0)
    """Years between the streak's last year and the nomination year. 0: considered in the
    year the 3rd CSTĐCS is achieved (NĐ 91/2017; UNCERTAIN under the 2022 law)."""
    initiative_scope: Scope = "ministry"
    initiatives: int = Field(default=1, ge=0)


class CstdtqRule(Params):
    """Law Art 21: chosen from those with 2 consecutive CSTĐ cấp Bộ, and an initiative with
    nationwide influence."""

    rule: Literal["cstdtq"] = "cstdtq"
    streak: int = Field(default=2, ge=1)
    """Law Art 21: 2 consecutive CSTĐ bộ, ban, ngành, tỉnh."""
    streak_of: str = "CSTD_BO"
    ends_before: int = Field(default=1, ge=0)
    """1: considered in the year after the 2nd CSTĐ cấp Bộ (TT 07/2014/TT-BNV; NĐ 91/2017
    Điều 48(1): by 31/10 of the year after the decision; UNCERTAIN under the 2022 law)."""
    initiative_scope: Scope = "national"
    initiatives: int = Field(default=1, ge=0)


class BkBoRule(Params):
    """Law Art 74(1)(d): 2 consecutive CSTĐCS, or ≥ 2 consecutive years 'hoàn thành xuất
    sắc' with 2 initiatives recognised and applied at grassroots level."""

    rule: Literal["bk_bo"] = "bk_bo"
    cstdcs_streak: int = Field(default=2, ge=1)
    excellent_years: int = Field(default=2, ge=1)
    initiatives: int = Field(default=2, ge=0)
    initiative_scope: Scope = "grassroots"
    cstdcs_initiatives: Literal["all", "below_excellent", "none"] = "all"
    """Initiatives that earned a CSTĐCS do not count again: point (d) needs 2 more (Bộ Nội
    vụ answer, laodong 1432533). History does not record which path earned a CSTĐCS, so by
    default each CSTĐCS year with an initiative is taken to have used one ("all");
    "below_excellent": only years rated below 'xuất sắc' (the initiative path of Art 23(b)
    was then the only one); "none": no initiative is taken as used."""


class AfterAwardRule(Params):
    """Law Art 73(1)(b) (Bằng khen TTg) and Art 44(1)(e) (Huân chương Lao động hạng Ba):
    holds the prerequisite award, then ≥ 5 consecutive good years up to the proposal with
    CSTĐCS 3 times (and, for the Labour Order, ≥ 1 excellent year)."""

    rule: Literal["bk_ttg", "hcld3"]
    prerequisite: str
    good_years: int = Field(default=5, ge=1)
    cstdcs_times: int = Field(default=3, ge=0)
    excellent_years: int = Field(default=0, ge=0)


class BlocLeadRule(Params):
    """Law Art 25(1)-(2) (Cờ thi đua CP) and Art 26 (Cờ thi đua cấp Bộ): the collective led
    (dẫn đầu) an emulation bloc or cluster in the year — its rank in the bloc's year-end vote.
    Art 25(3) (a PM movement of ≥ 5 years) is a thematic award, not judged here."""

    rule: Literal["bloc_lead"] = "bloc_lead"
    top: int = Field(default=1, ge=1)
    """Ranks that count as leading the bloc (1: the first place)."""
    organiser: Literal["any", "own"] = "any"
    """own: only blocs organised by the collective's own ministry (Art 26)."""
    organisers: tuple[str, ...] = ()
    """Only blocs organised by these units count (a ministry's own flag, e.g. BCA for the
    Cờ thi đua của Bộ Công an); empty: any organiser `organiser` allows."""


class MembersRule(Params):
    """Collective titles judged on their members' year (TTLĐXS / TTLĐTT). The 2022-law text
    was not retrieved; the defaults are older and sector rules (UNCERTAIN: langson; TT
    13/2018/TT-BGTVT): TTLĐXS 100% complete their tasks, ≥ 70% LĐTT, ≥ 1 CSTĐCS, nobody
    disciplined at cảnh cáo or above (`discipline_from`)."""

    rule: Literal["members"] = "members"
    complete_share: float = Field(default=1.0, ge=0, le=1)
    excellent_share: float = Field(default=0.0, ge=0, le=1)
    """At least this share of the members rated 'hoàn thành xuất sắc nhiệm vụ' in the year
    (0: no such condition). DOMAIN gives none; sector rules that ask for one set it here."""
    ldtt_share: float = Field(default=0.7, ge=0, le=1)
    ldtt_share_strict: bool = False
    """True: more than `ldtt_share` (TTLĐTT: > 50%); False: at least."""
    min_cstdcs: int = Field(default=1, ge=0)
    no_discipline: bool = True
    discipline_from: DisciplineLevel = "canh_cao"
    """The lightest discipline that disqualifies: nobody disciplined at cảnh cáo (warning) or
    above (DOMAIN §2.3, UNCERTAIN: langson; TT 13/2018/TT-BGTVT); a khiển trách alone does
    not. A record without a level counts."""


Ladder = Annotated[
    LdttRule
    | CstdcsRule
    | CstdBoRule
    | CstdtqRule
    | BkBoRule
    | AfterAwardRule
    | BlocLeadRule
    | MembersRule,
    Field(discriminator="rule"),
]
PERSON_RULES = ("ldtt", "cstdcs", "cstd_bo", "cstdtq", "bk_bo", "bk_ttg", "hcld3")
UNIT_RULES = ("bloc_lead", "members")


def _years(values: list[int] | range) -> str:
    return ", ".join(str(v) for v in values) or "không có"


def _streak(history: History, code: str, end: int, after: int | None = None) -> list[int]:
    """Consecutive years of merit `code` ending in `end`, all later than `after`."""
    streak: list[int] = []
    while (after is None or end - len(streak) > after) and history.has(code, end - len(streak)):
        streak.append(end - len(streak))
    return sorted(streak)


def _run(history: History, end: int, after: int | None, ratings: tuple[str, ...]) -> list[int]:
    run: list[int] = []
    y = end
    while (after is None or y > after) and history.ratings.get(y) in ratings:
        run.append(y)
        y -= 1
    return sorted(run)


def _used(award: str, year: int) -> tuple[str, str]:
    return (
        f" (các năm đến {year} đã được tính cho {award} năm {year}; "
        "một thành tích chỉ khen thưởng một lần, Luật TĐKT Điều 5)",
        f" (years up to {year} already earned {award} {year}; one achievement, one award)",
    )


def ldtt(history: History, year: int, params: LdttRule | None = None) -> Refusal | None:
    """Art 24: completed tasks well or better in the year."""
    if history.ratings.get(year) in GOOD:
        return None
    if year not in history.ratings:
        return Refusal(
            "eligible",
            f"Chưa có xếp loại năm {year}: cần được đánh giá hoàn thành tốt nhiệm vụ trở lên",
            f"no rating recorded for {year}: 'completed well' or better is needed",
            {"missing_rating": year},  # each interface says where ratings are entered
        )
    return Refusal(
        "eligible",
        f"Năm {year} chưa được đánh giá hoàn thành tốt nhiệm vụ trở lên",
        f"not rated 'completed well' or better in {year}",
    )


def cstdcs(history: History, year: int, params: CstdcsRule | None = None) -> Refusal | None:
    """Art 23: LĐTT standard plus excellent rating or a grassroots-recognised initiative."""
    p = params or CstdcsRule()
    base = ldtt(history, year)
    if base is not None:
        return base
    initiative = history.initiatives_at_least(p.initiative_scope, range(year, year + 1)) > 0
    if initiative or (history.ratings.get(year) == "htxs" and not p.initiative_required):
        return None
    if p.initiative_required:
        return Refusal(
            "eligible",
            f"Năm {year} cần có sáng kiến được công nhận (Luật TĐKT 2003, Điều 23)",
            f"{year} needs a recognised initiative (2003 law)",
        )
    return Refusal(
        "eligible",
        f"Năm {year} cần hoàn thành xuất sắc nhiệm vụ hoặc có sáng kiến được công nhận",
        f"{year} needs an 'excellent' rating or a recognised initiative",
    )


_SCOPE_VI = {"grassroots": "cơ sở", "ministry": "cấp Bộ", "national": "toàn quốc"}
_TITLE_VI = {"CSTDCS": "Chiến sĩ thi đua cơ sở", "CSTD_BO": "Chiến sĩ thi đua cấp Bộ"}


def _ladder_streak(
    history: History, year: int, p: CstdBoRule | CstdtqRule, award: str
) -> Refusal | None:
    """A streak of `p.streak_of` ending `p.ends_before` years before `year`, none of whose
    years already earned `award`, and initiatives of `p.initiative_scope` in that period."""
    end = year - p.ends_before
    last = history.last(award, before=year)
    streak = _streak(history, p.streak_of, end, after=last)
    wanted = list(range(end - p.streak + 1, end + 1))
    title = _TITLE_VI.get(p.streak_of, p.streak_of)
    if len(streak) < p.streak:
        whole = _streak(history, p.streak_of, end)
        used = _used(award, last) if last is not None and len(whole) >= p.streak else ("", "")
        return Refusal(
            "eligible",
            f"Cần {p.streak} năm liên tục đạt {title} ({_years(wanted)}); "
            f"chỉ có {len(streak)} năm liên tục ({_years(streak)})" + used[0],
            f"needs {p.streak_of} in {p.streak} consecutive years ({_years(wanted)}); "
            f"has {len(streak)} ({_years(streak)})" + used[1],
        )
    period = range(streak[-p.streak], year + 1)
    if history.initiatives_at_least(p.initiative_scope, period) < p.initiatives:
        return Refusal(
            "eligible",
            f"Cần sáng kiến có phạm vi ảnh hưởng {_SCOPE_VI[p.initiative_scope]} "
            f"trong các năm {period[0]}–{period[-1]}",
            f"needs an initiative recognised at {p.initiative_scope} level in "
            f"{period[0]}-{period[-1]}",
        )
    return None


def cstd_bo(
    history: History, year: int, params: CstdBoRule | None = None, award: str = "CSTD_BO"
) -> Refusal | None:
    """Art 22: 3 consecutive CSTĐCS ending in the year, and a ministry-level initiative."""
    return _ladder_streak(history, year, params or CstdBoRule(), award)


def cstdtq(
    history: History, year: int, params: CstdtqRule | None = None, award: str = "CSTDTQ"
) -> Refusal | None:
    """Art 21: 2 consecutive CSTĐ cấp Bộ (the year before by default) and a national initiative."""
    return _ladder_streak(history, year, params or CstdtqRule(), award)


def bk_bo(
    history: History, year: int, params: BkBoRule | None = None, award: str = "BK_BO"
) -> Refusal | None:
    """Art 74(1)(d): 2 consecutive CSTĐCS, or 2 excellent years with 2 initiatives (beyond
    those that earned a CSTĐCS), counting only years after the last Bằng khen cấp Bộ.

    Points (a)-(c) (an emulation movement, sudden achievements, contributions) are not shown
    by history: they are proposed as thematic or ad-hoc awards, or confirmed in the dossier.
    """
    p = params or BkBoRule()
    last = history.last(award, before=year)
    if len(_streak(history, "CSTDCS", year, after=last)) >= p.cstdcs_streak:
        return None
    excellent = _run(history, year, last, ("htxs",))
    if len(excellent) >= p.excellent_years:
        period = range(excellent[0], year + 1)
        found = history.initiatives_at_least(p.initiative_scope, period)
        used = sum(
            1
            for y in period
            if p.cstdcs_initiatives != "none"
            and history.has("CSTDCS", y)
            and (p.cstdcs_initiatives == "all" or history.ratings.get(y) != "htxs")
            and history.initiatives_at_least(p.initiative_scope, range(y, y + 1))
        )
        if found - used >= p.initiatives:
            return None
    since = (
        (f" sau Bằng khen năm {last}", f" after the Bằng khen of {last}")
        if last is not None
        else ("", "")
    )
    return Refusal(
        "eligible",
        f"Cần {p.cstdcs_streak} năm liên tục đạt CSTĐCS đến năm {year}, hoặc "
        f"{p.excellent_years} năm liên tục hoàn thành xuất sắc nhiệm vụ với {p.initiatives} "
        f"sáng kiến được công nhận (ngoài sáng kiến đã dùng để đạt CSTĐCS){since[0]} "
        "(Luật TĐKT, Điều 74(1)(d))",
        f"needs CSTĐCS in {p.cstdcs_streak} consecutive years up to {year}, or "
        f"{p.excellent_years} excellent years with {p.initiatives} initiatives not already "
        f"counted{since[1]}",
    )


def after_award(
    history: History, year: int, params: AfterAwardRule, award: str | None = None
) -> Refusal | None:
    """The prerequisite award, then the window of good years after it (and after the last
    award of the same kind: its years cannot be counted twice)."""
    p = params
    label = {"BK_BO": "Bằng khen cấp Bộ", "BK_TTG": "Bằng khen của Thủ tướng"}.get(
        p.prerequisite, p.prerequisite
    )
    held = [y for y in history.years_of(p.prerequisite) if y < year]
    if not held:
        return Refusal("eligible", f"Chưa có {label}", f"does not hold {p.prerequisite}")
    since = held[-1]
    same = history.last(award, before=year) if award else None
    if same is not None and same > since:
        since = same
    run = _run(history, year, since, GOOD)
    after = (
        f"{label} năm {held[-1]}" if since == held[-1] else f"lần khen {award} gần nhất năm {since}"
    )
    if len(run) < p.good_years:
        return Refusal(
            "eligible",
            f"Cần {p.good_years} năm liên tục hoàn thành tốt nhiệm vụ trở lên sau {after}; "
            f"có {len(run)} ({_years(run)})",
            f"needs {p.good_years} consecutive good years after {since}; has {len(run)}",
        )
    period = range(run[0], year + 1)
    cs = [y for y in period if history.has("CSTDCS", y)]
    if len(cs) < p.cstdcs_times:
        return Refusal(
            "eligible",
            f"Cần {p.cstdcs_times} lần CSTĐCS trong giai đoạn {run[0]}–{year}; "
            f"có {len(cs)} ({_years(cs)})",
            f"needs CSTĐCS {p.cstdcs_times} times in {run[0]}-{year}; has {len(cs)}",
        )
    excellent = [y for y in period if history.ratings.get(y) == "htxs"]
    if len(excellent) < p.excellent_years:
        return Refusal(
            "eligible",
            f"Cần ít nhất {p.excellent_years} năm hoàn thành xuất sắc nhiệm vụ trong "
            f"{run[0]}–{year}",
            f"needs at least {p.excellent_years} excellent year(s) in the period",
        )
    return None


def bk_ttg(
    history: History, year: int, params: AfterAwardRule | None = None, award: str = "BK_TTG"
) -> Refusal | None:
    """Art 73(1)(b): holds a ministry Bằng khen, then 5 good years with CSTĐCS 3 times."""
    return after_award(
        history, year, params or AfterAwardRule(rule="bk_ttg", prerequisite="BK_BO"), award
    )


def hcld3(
    history: History, year: int, params: AfterAwardRule | None = None, award: str = "HCLD3"
) -> Refusal | None:
    """Art 44(1)(e): holds a PM Bằng khen, then 5 good years, 1 excellent, CSTĐCS 3 times."""
    default = AfterAwardRule(rule="hcld3", prerequisite="BK_TTG", excellent_years=1)
    return after_award(history, year, params or default, award)


def bloc_lead(facts: UnitFacts, year: int, params: BlocLeadRule | None = None) -> Refusal | None:
    """The collective ranked within `top` in a bloc's year-end vote of the year."""
    p = params or BlocLeadRule()
    led = [
        code
        for code, organiser, rank in facts.bloc_ranks
        if rank <= p.top
        and (p.organiser == "any" or organiser == facts.organisation)
        and (not p.organisers or organiser in p.organisers)
    ]
    if led:
        return None
    ranks = ", ".join(f"{c}: hạng {r}" for c, _, r in facts.bloc_ranks) or "chưa có kết quả suy tôn"
    scope = "do Bộ tổ chức " if p.organiser == "own" else ""
    if p.organisers:
        scope = f"do {', '.join(p.organisers)} tổ chức "
    return Refusal(
        "eligible",
        f"Tập thể không dẫn đầu cụm, khối thi đua {scope}nào năm {year} ({ranks}) "
        "(Luật TĐKT, Điều 25, 26)",
        f"the collective led no emulation bloc {scope and 'of its ministry '}in {year}",
    )


def members(facts: UnitFacts, year: int, params: MembersRule | None = None) -> Refusal | None:
    """The members' year: tasks completed, LĐTT share, a CSTĐCS, nobody disciplined."""
    p = params or MembersRule()
    if facts.members == 0:
        return Refusal(
            "eligible",
            f"Chưa có dữ liệu cá nhân của tập thể năm {year}",
            f"no member records for {year}",
        )
    problems: list[tuple[str, str]] = []
    if facts.completed < p.complete_share * facts.members:
        problems.append(
            (
                f"{facts.completed}/{facts.members} cá nhân hoàn thành nhiệm vụ "
                f"(cần {percent(p.complete_share, 'vi', 0)})",
                f"{facts.completed}/{facts.members} completed their tasks",
            )
        )
    if facts.excellent < p.excellent_share * facts.members:
        problems.append(
            (
                f"{facts.excellent}/{facts.members} cá nhân hoàn thành xuất sắc nhiệm vụ "
                f"(cần ít nhất {percent(p.excellent_share, 'vi', 0)})",
                f"{facts.excellent}/{facts.members} rated excellent",
            )
        )
    share = facts.ldtt / facts.members
    if share < p.ldtt_share or (p.ldtt_share_strict and share <= p.ldtt_share):
        ldtt = percent(p.ldtt_share, "vi", 0)
        need = f"trên {ldtt}" if p.ldtt_share_strict else f"ít nhất {ldtt}"
        problems.append(
            (
                f"{facts.ldtt}/{facts.members} cá nhân đạt Lao động tiên tiến (cần {need})",
                f"{facts.ldtt}/{facts.members} hold LĐTT",
            )
        )
    if facts.cstdcs < p.min_cstdcs:
        problems.append(
            (
                f"cần ít nhất {p.min_cstdcs} Chiến sĩ thi đua cơ sở, có {facts.cstdcs}",
                f"needs {p.min_cstdcs} CSTĐCS, has {facts.cstdcs}",
            )
        )
    disciplined = sum(1 for lvl in facts.discipline_levels if at_least(lvl, p.discipline_from))
    if p.no_discipline and disciplined:
        lightest = DISCIPLINE_LEVELS[p.discipline_from]
        problems.append(
            (
                f"{disciplined} cá nhân bị kỷ luật từ mức {lightest} trở lên trong năm",
                f"{disciplined} member(s) disciplined at {p.discipline_from} or above",
            )
        )
    if not problems:
        return None
    return Refusal(
        "eligible",
        f"Tập thể chưa đạt tiêu chuẩn năm {year}: " + "; ".join(vi for vi, _ in problems),
        f"the collective does not meet the standard for {year}: "
        + "; ".join(en for _, en in problems),
    )


def discipline_ended(history: History, year: int) -> date | None:
    """The end of the latest discipline that ended by the end of `year` (None if none)."""
    ends = [
        end
        for kind, _start, end in history.blockers
        if kind == "discipline" and end is not None and end <= date(year, 12, 31)
    ]
    return max(ends) if ends else None


def counted_after(history: History, ended: date) -> History:
    """The history that counts after a discipline that ended on `ended`: achievements count
    from the end of the discipline (NĐ 98/2023 Điều 4), so the years up to and including
    the year it ended are left out (a yearly title needs the whole year)."""
    return History(
        ratings={y: r for y, r in history.ratings.items() if y > ended.year},
        awards=tuple(a for a in history.awards if a[1] > ended.year),
        initiatives=tuple(i for i in history.initiatives if i[0] > ended.year),
        blockers=history.blockers,
    )


def judge_person(history: History, year: int, ladder: Any, award: str) -> Refusal | None:
    """Run a person ladder rule with its parameters; `award` is the code being judged.

    After a discipline, only what was achieved after it ended counts (`counted_after`): a
    refusal then says which years were left out."""
    rule = ladder.rule
    if rule in ("ldtt", "cstdcs") and history.has(award, year):
        return Refusal(
            "eligible",
            f"Đã đạt {award} năm {year} (một thành tích chỉ khen thưởng một lần, Luật TĐKT Điều 5)",
            f"already holds {award} for {year}",
        )
    ended = discipline_ended(history, year)
    if ended is None:
        return _judge_person(history, year, ladder, award)
    refusal = _judge_person(counted_after(history, ended), year, ladder, award)
    if refusal is None or _judge_person(history, year, ladder, award) is not None:
        return refusal
    return Refusal(
        refusal.code,
        f"{refusal.message_vi} (thành tích đến hết năm {ended.year} không được tính: kỷ luật "
        f"chấm dứt ngày {ended:%d/%m/%Y}, thành tích tính từ khi chấm dứt kỷ luật, NĐ 98/2023 "
        "Điều 4)",
        f"{refusal.message_en} (achievements up to {ended.year} do not count: a discipline "
        f"ended on {ended.isoformat()})",
        refusal.details,
    )


def _judge_person(history: History, year: int, ladder: Any, award: str) -> Refusal | None:
    rule = ladder.rule
    if rule == "ldtt":
        return ldtt(history, year, ladder)
    if rule == "cstdcs":
        return cstdcs(history, year, ladder)
    if rule == "cstd_bo":
        return cstd_bo(history, year, ladder, award)
    if rule == "cstdtq":
        return cstdtq(history, year, ladder, award)
    if rule == "bk_bo":
        return bk_bo(history, year, ladder, award)
    if rule in ("bk_ttg", "hcld3"):
        return after_award(history, year, ladder, award)
    raise ValueError(f"{rule!r} is not a rule for persons")


UNIT_CHECKS: dict[str, Callable[..., Refusal | None]] = {
    "bloc_lead": bloc_lead,
    "members": members,
}


def judge_unit(facts: UnitFacts, year: int, ladder: Any) -> Refusal | None:
    """Run a collective rule with its parameters."""
    return UNIT_CHECKS[ladder.rule](facts, year, ladder)


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
