"""The award catalog (config/awards.yaml): titles and forms with effective-dated rules."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from khenthuong.doctypes import DOC_TYPES
from khenthuong.errors import InvalidDefinition, KhenthuongError, Problem
from khenthuong.rules.eligibility import PERSON_RULES, UNIT_RULES, Ladder
from khenthuong.rules.shares import HALF, Share
from khenthuong.workflow.definition import Text
from khenthuong.yamlsource import PathKey, SourceDoc, load_yaml, pydantic_problems

ELIGIBILITY_RULES = PERSON_RULES + UNIT_RULES
CARRIED = ("coefficient", "vote", "quota", "eligibility", "registration", "uncertain")
"""Fields a later rule set carries over from the one before when it does not set them."""
OVERRIDABLE = ("vote", "quota", "eligibility", "registration", "uncertain")
"""Fields an organisation may set for itself (money stays national: coefficients and the
base salary are set by decree, ND 98 Art 54-56 / ND 152 Art 51-54)."""
STAFF = "staff"
"""`quota.of: staff` counts the people of the proposing unit's subtree (unit strength)."""
ORG_CODE = r"^[A-Z0-9][A-Z0-9_.-]{0,39}$"
_LADDER: TypeAdapter[Any] = TypeAdapter(Ladder)


def organisation_of(unit_path: str) -> str:
    """The top-level unit (ministry, province or central agency) of a unit path: the code
    below the root, e.g. BCY for '/CP/BCY/CCYQD/'; the root itself for '/CP/'."""
    codes = [c for c in unit_path.split("/") if c]
    return codes[1] if len(codes) > 1 else codes[0] if codes else ""


def organisation_path(unit_path: str) -> str:
    """The path of the unit's organisation (`organisation_of`): '/CP/BCY/' for
    '/CP/BCY/CCYQD/'; the root's own path for the root."""
    codes = [c for c in unit_path.split("/") if c]
    return "/" + "".join(f"{c}/" for c in codes[:2])


class Strict(BaseModel):
    """Unknown keys are errors; objects are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class VoteRule(Strict):
    """How a council vote is counted for one title.

    `threshold` and `quorum` are exact shares: a fraction ("2/3"), a decimal (0.9) or a
    percentage ("90%"), compared without rounding, so 2 of 3 members meet a 2/3 quorum.
    The quorum is members present over the council's whole membership. `recusal` says what
    a recused member (the nominee, or the head of the nominated unit) does to the item's
    denominator: `exclude_recused` (default) takes them out of the membership and of the
    members present; `keep` leaves them in, so the vote they cannot cast counts as not in
    favour (khenthuong.rules.votes).
    """

    threshold: Share
    denominator: Literal["total_members", "present_members"]
    quorum: Share = HALF
    count_written_votes: bool = False
    recusal: Literal["exclude_recused", "keep"] = "exclude_recused"


class QuotaRule(Strict):
    """How many nominations of an award may take a place in a year; every limit given applies.

    - `share` of `of`: at most floor(share × the number of `of` titles held in the proposing
      unit's subtree that year), e.g. CSTĐCS ≤ 15% of LĐTT (NĐ 91/2017 Điều 9(3)); `of:
      staff` counts the unit's people instead (army: CSTĐCS ≤ 10% of strength, TT 151/2018);
    - `count`: at most this many places per proposing unit and year;
    - `per`: `unit` (the default) counts the places and the share's base in the proposing
      unit; `organisation` counts them across the whole ministry or province the proposing
      unit belongs to (a provincial CSTĐ ≤ 10% of the province's CSTĐCS, DOMAIN §2.4);
    - `bloc`: at most the `flag_quota` (config/blocs.yaml) of every bloc the nominee unit
      belongs to that year, counted over all the bloc's members (Cờ thi đua của Chính phủ,
      Luật TĐKT 2022 Điều 25).
    Places are counted and taken inside the step's transaction under a row lock.
    """

    share: float | None = Field(default=None, gt=0, le=1)
    of: str | None = None
    count: int | None = Field(default=None, ge=0)
    bloc: bool = False
    per: Literal["unit", "organisation"] = "unit"
    source: str | None = None

    @model_validator(mode="after")
    def _one_limit_at_least(self) -> QuotaRule:
        if (self.share is None) != (self.of is None):
            raise ValueError("share and of go together")
        if self.share is None and self.count is None and not self.bloc:
            raise ValueError("a quota needs share and of, count, or bloc: true")
        return self


class RegistrationRule(Strict):
    """Whether a nominee must have registered for the title at the start of the year
    (đăng ký thi đua) before it can be proposed, and which other registered titles count
    (a registration for Chiến sĩ thi đua cơ sở also aims at the Lao động tiên tiến standard)."""

    required: bool
    covered_by: tuple[str, ...] = ()
    """Other award codes whose registration also counts for this title."""
    source: str | None = None
    uncertain: bool = False


class RuleSet(Strict):
    """The rules of one award from a date on (resolved: nothing is carried over any more)."""

    effective_from: date
    era: str | None = None
    """The era (`eras:` of the catalog) the rule set was written for, if any."""
    source: str = Field(min_length=1)
    coefficient: float = Field(ge=0)
    vote: VoteRule | None = None
    quota: QuotaRule | None = None
    eligibility: Ladder | None = None
    """The ladder rule and its parameters (khenthuong.rules.eligibility), or None."""
    registration: RegistrationRule | None = None
    """Registration (đăng ký thi đua) required before a nomination, or None (not required)."""
    uncertain: bool = False


class Era(Strict):
    """A legal regime's start, named once and used by the rule sets written for it (`era:`
    in place of `effective_from`), so one value moves every rule set of the regime."""

    effective_from: date
    source: str = Field(min_length=1)
    uncertain: bool = False


class RuleSetIn(Strict):
    """A rule set as written: after the first, fields left out carry over from the one before
    (DOMAIN §7: most values carry over from NĐ 98/2023 into NĐ 152/2025). It starts on
    `effective_from`, or on the start of the named `era` (config: `eras:`)."""

    effective_from: date | None = None
    era: str | None = None
    source: str = Field(min_length=1)
    coefficient: float | None = Field(default=None, ge=0)
    vote: VoteRule | None = None
    quota: QuotaRule | None = None
    eligibility: Ladder | None = None
    registration: RegistrationRule | None = None
    uncertain: bool = False

    @model_validator(mode="after")
    def _one_start(self) -> RuleSetIn:
        if (self.effective_from is None) == (self.era is None):
            raise ValueError("a rule set needs effective_from or era (one of them)")
        return self


def resolve_rules(rules: list[RuleSetIn], eras: dict[str, Era]) -> list[dict[str, Any]]:
    """Each rule set with its start date (from its era) and the fields it leaves out taken
    from the one before."""
    resolved: list[dict[str, Any]] = []
    for rule in rules:
        values = {k: getattr(rule, k) for k in RuleSetIn.model_fields}
        if rule.era is not None:
            values["effective_from"] = eras[rule.era].effective_from
        if resolved:
            for name in CARRIED:
                if name not in rule.model_fields_set:
                    values[name] = resolved[-1][name]
        resolved.append(values)
    return resolved


class Award(Strict):
    """One title or form."""

    name: Text
    subject: Literal["individual", "collective", "both"]
    category: Literal["title", "form"]
    decided_as: Literal["recognition", "grant"] | None = None
    """How its decision words the award: `recognition` ("Về việc công nhận danh hiệu …",
    "Công nhận danh hiệu … cho …"), `grant` ("Về việc tặng …", "Tặng … cho …"). Default:
    recognition for a title, grant for a form; a flag (Cờ thi đua) is a title that is
    handed over, its decision "tặng" it."""
    authority: str
    counts_as: str | None = None
    """A ministry's own version of another award (Cờ thi đua của Bộ Công an of the ministry
    flag CO_BO): counted as that award in quotas and statistics; a bloc its eligibility's
    `organisers` organise proposes it in that award's place (`own_version`)."""
    workflow: str | None = None
    adhoc_workflow: str | None = None
    """The shorter path of this award's ad-hoc (đột xuất) nominations: the simplified
    procedure (thủ tục đơn giản, Luật TĐKT 2022, Điều 85); a nomination on it carries this
    award."""
    workflow_default: bool = False
    """Several awards may follow one workflow (Huân chương Lao động I/II/III): the default is
    the award of a nomination that names none."""
    documents: list[str] = Field(default_factory=list)
    """Documents required wherever the workflow checks the dossier (Law Art 84)."""
    documents_at: dict[str, list[str]] = Field(default_factory=dict)
    """Documents required only when the dossier is checked at these triggers (e.g. agency
    opinions at submit_to_pm, publicity evidence at end_publicity)."""
    collective_multiplier: float = 1.0
    """Award money of a collective nominee: this many times the individual amount."""
    collective_multiplier_source: str | None = None
    collective_multiplier_uncertain: bool = False
    rules: list[RuleSet] = Field(min_length=1)

    @property
    def recognised(self) -> bool:
        """Its decision recognises a title (công nhận danh hiệu) rather than grants it."""
        return (self.decided_as or ("recognition" if self.category == "title" else "grant")) == (
            "recognition"
        )

    @property
    def awardees_vi(self) -> str:
        """Who receives it, as a column header: "cá nhân", "tập thể", or "được khen" (both)."""
        return {"individual": "cá nhân", "collective": "tập thể"}.get(self.subject, "được khen")

    def count_vi(self, count: int) -> str:
        """How many receive it, in Vietnamese: "7 cá nhân", "1 tập thể"; "3 đối tượng" for
        an award given to individuals and collectives alike."""
        noun = {"individual": "cá nhân", "collective": "tập thể"}.get(self.subject, "đối tượng")
        return f"{count} {noun}"


class AwardIn(Award):
    """An award as written (rule sets with carry-over)."""

    rules: list[RuleSetIn] = Field(min_length=1)  # type: ignore[assignment]


class Override(Strict):
    """An organisation's own value for one award from a date on (its TĐKT regulation).

    Only the fields written replace the national rule set in force on the same date:
    `vote` and `quota` whole (`quota: null` removes a quota), `eligibility` parameter by
    parameter (a different `rule` replaces the ladder; `eligibility: null` removes it).
    """

    effective_from: date
    source: str = Field(min_length=1)
    vote: VoteRule | None = None
    quota: QuotaRule | None = None
    eligibility: dict[str, Any] | None = None
    registration: RegistrationRule | None = None
    uncertain: bool = False


class Organisation(Strict):
    """Overrides of one organisation: the top-level unit of the proposing unit."""

    name: str | None = None
    awards: dict[str, list[Override]] = Field(default_factory=dict)


def merge_ladder(base: Any, patch: dict[str, Any] | None) -> Any:
    """`base` ladder parameters with `patch` applied (validated); None removes the ladder."""
    if patch is None:
        return None
    if base is None or patch.get("rule", base.rule) != base.rule:
        return _LADDER.validate_python(patch)
    return _LADDER.validate_python({**base.model_dump(), **patch})


def apply_override(base: RuleSet, org: str, override: Override) -> RuleSet:
    """The national rule set `base` with an organisation's override applied."""
    update: dict[str, Any] = {"source": f"{base.source}; {org}: {override.source}"}
    for name in OVERRIDABLE:
        if name in override.model_fields_set:
            value = getattr(override, name)
            update[name] = merge_ladder(base.eligibility, value) if name == "eligibility" else value
    return base.model_copy(update=update)


class NoRulesInForce(KhenthuongError):
    """A date before the earliest rule set of an award (or the earliest base salary): the
    message (Vietnamese) names the date asked and the earliest date covered."""

    def __init__(self, subject_vi: str, subject_en: str, on: date, earliest: date) -> None:
        self.on = on
        self.earliest = earliest
        self.message_en = (
            f"no {subject_en} in force on {on.isoformat()}: the earliest applies from "
            f"{earliest.isoformat()}"
        )
        super().__init__(
            f"Chưa có {subject_vi} áp dụng ngày {on:%d/%m/%Y}: quy định sớm nhất áp dụng từ "
            f"ngày {earliest:%d/%m/%Y}"
        )


class BaseSalary(Strict):
    """Mức lương cơ sở from a date on."""

    effective_from: date
    vnd: int = Field(gt=0)
    source: str


class Catalog(Strict):
    """The whole catalog."""

    money_rounding_vnd: int = Field(default=10_000, gt=0)
    eras: dict[str, Era] = Field(default_factory=dict)
    base_salary: list[BaseSalary] = Field(min_length=1)
    awards: dict[str, Award] = Field(min_length=1)
    organisations: dict[str, Organisation] = Field(default_factory=dict)

    def codes(self) -> list[str]:
        """Every award code."""
        return sorted(self.awards)

    def award(self, code: str) -> Award:
        """The award `code`; a clear error when unknown."""
        try:
            return self.awards[code]
        except KeyError:
            raise KhenthuongError(
                f"Không có mã khen thưởng {code!r}", en=f"Unknown award code {code!r}"
            ) from None

    def rules_for(self, code: str, on: date, org: str | None = None) -> RuleSet:
        """The rule set of `code` in force on `on`, with the overrides of organisation `org`
        (the proposing unit's top-level unit, `organisation_of`) in force on that date.
        A date before the award's first rule set raises NoRulesInForce naming that date."""
        award = self.award(code)
        applicable = [r for r in award.rules if r.effective_from <= on]
        if not applicable:
            raise NoRulesInForce(
                f"quy định khen thưởng {award.name.vi}",
                f"rules of {award.name.en}",
                on,
                award.rules[0].effective_from,
            )
        rule = applicable[-1]
        organisation = self.organisations.get(org) if org else None
        if organisation is None:
            return rule
        own = [o for o in organisation.awards.get(code, []) if o.effective_from <= on]
        return apply_override(rule, org or "", own[-1]) if own else rule

    def grounds_of(self, code: str, on: date, org: str | None = None) -> list[tuple[str, str]]:
        """(basis, Vietnamese title) of every point a nomination for `code` may claim under
        the rules in force on `on`: the one history shows, then the attested ones; empty
        when the award has no alternative grounds."""
        ladder = self.rules_for(code, on, org).eligibility
        if ladder is None or not ladder.paths:
            return []
        found = [(p.basis, p.title) for p in ladder.paths]
        if ladder.basis:
            found.append((ladder.basis, "theo lịch sử thi đua (kiểm tra tự động)"))
        return sorted(found)

    def base_salary_on(self, on: date) -> int:
        """The base salary in force on `on` (VND)."""
        applicable = [b for b in self.base_salary if b.effective_from <= on]
        if not applicable:
            raise NoRulesInForce(
                "mức lương cơ sở", "base salary", on, self.base_salary[0].effective_from
            )
        return applicable[-1].vnd

    def earliest(self) -> date:
        """The first day any rule set of the catalog is in force: the law before it is not
        encoded (award history older than this is history, not judged by a rule set)."""
        return min(award.rules[0].effective_from for award in self.awards.values())

    def workflow_of(self, code: str, commendation_type: str) -> str | None:
        """The path a nomination for `code` of this commendation type follows: the ad-hoc
        path for an ad-hoc (dot_xuat) one when the award has it, else the award's workflow."""
        award = self.award(code)
        if commendation_type == "dot_xuat" and award.adhoc_workflow:
            return award.adhoc_workflow
        return award.workflow

    def counted_as(self, code: str) -> list[str]:
        """`code` and the awards counted as it (a ministry's own flag counts as CO_BO)."""
        return [code, *sorted(c for c, a in self.awards.items() if a.counts_as == code)]

    def own_version(self, code: str, organiser: str, on: date) -> str:
        """The award a bloc organised by `organiser` proposes for `code` on `on`: the
        organiser's own version of it (its eligibility's `organisers` name the organiser),
        else `code` itself."""
        for other in self.counted_as(code)[1:]:
            rules = [r for r in self.awards[other].rules if r.effective_from <= on]
            if organiser in getattr(rules[-1].eligibility if rules else None, "organisers", ()):
                return other
        return code

    def award_for_workflow(self, workflow: str) -> str | None:
        """The award code a workflow carries: the only one, or the one marked default."""
        codes = [c for c, a in self.awards.items() if workflow in (a.workflow, a.adhoc_workflow)]
        if len(codes) == 1:
            return codes[0]
        defaults = [c for c in codes if self.awards[c].workflow_default]
        return defaults[0] if len(defaults) == 1 else None


class CatalogIn(Strict):
    """The catalog file as written."""

    money_rounding_vnd: int = Field(default=10_000, gt=0)
    eras: dict[str, Era] = Field(default_factory=dict)
    base_salary: list[BaseSalary] = Field(min_length=1)
    awards: dict[str, AwardIn] = Field(min_length=1)
    organisations: dict[str, Organisation] = Field(default_factory=dict)


def _start(catalog: CatalogIn, rule: RuleSetIn) -> date:
    """The first day of a rule set as written (its era's start when it names one)."""
    if rule.era is not None:
        return catalog.eras[rule.era].effective_from
    assert rule.effective_from is not None  # RuleSetIn checks one of the two is given
    return rule.effective_from


def _award_problems(doc: SourceDoc, catalog: CatalogIn, code: str, award: AwardIn) -> list[Problem]:
    at: PathKey = ("awards", code)
    problems = []
    for i, rule in enumerate(award.rules):
        if rule.era is not None and rule.era not in catalog.eras:
            known = ", ".join(sorted(catalog.eras)) or "none"
            problems.append(
                doc.problem((*at, "rules", i, "era"), f"unknown era {rule.era!r} (known: {known})")
            )
    if problems:
        return problems
    starts = [_start(catalog, r) for r in award.rules]
    if starts != sorted(set(starts)):
        problems.append(
            doc.problem((*at, "rules"), "rule sets must have increasing effective dates")
        )
    if award.rules[0].coefficient is None:
        problems.append(doc.problem((*at, "rules", 0), "the first rule set needs a coefficient"))
    if award.collective_multiplier != 1.0 and not award.collective_multiplier_source:
        problems.append(
            doc.problem((*at, "collective_multiplier"), "a collective multiplier needs its source")
        )
    if award.counts_as is not None and award.counts_as not in catalog.awards:
        problems.append(doc.problem((*at, "counts_as"), f"unknown award {award.counts_as!r}"))
    for i, document in enumerate(award.documents):
        if document not in DOC_TYPES:
            problems.append(
                doc.problem((*at, "documents", i), f"unknown document type {document!r}")
            )
    for trigger, documents in award.documents_at.items():
        for i, document in enumerate(documents):
            if document not in DOC_TYPES:
                problems.append(
                    doc.problem(
                        (*at, "documents_at", trigger, i), f"unknown document type {document!r}"
                    )
                )
    for i, rule in enumerate(award.rules):
        problems += _rule_problems(doc, catalog, award, rule, (*at, "rules", i))
    return problems


def _rule_problems(
    doc: SourceDoc, catalog: CatalogIn, award: Award, rule: RuleSetIn, at: PathKey
) -> list[Problem]:
    problems = []
    problems += _quota_problems(doc, catalog, rule.quota, at)
    if rule.registration is not None:
        for j, code in enumerate(rule.registration.covered_by):
            if code not in catalog.awards:
                problems.append(
                    doc.problem((*at, "registration", "covered_by", j), f"unknown award {code!r}")
                )
    return problems + _ladder_problems(doc, catalog, award, rule.eligibility, at)


def _quota_problems(
    doc: SourceDoc, catalog: CatalogIn, quota: QuotaRule | None, at: PathKey
) -> list[Problem]:
    if quota is None or quota.of is None or quota.of == STAFF or quota.of in catalog.awards:
        return []
    return [doc.problem((*at, "quota", "of"), f"unknown award {quota.of!r}")]


def _ladder_problems(
    doc: SourceDoc, catalog: CatalogIn, award: Award, ladder: Any, at: PathKey
) -> list[Problem]:
    problems: list[Problem] = []
    if ladder is None:
        return problems
    for name in ("streak_of", "prerequisite"):
        ref = getattr(ladder, name, None)
        if ref is not None and ref not in catalog.awards:
            problems.append(doc.problem((*at, "eligibility", name), f"unknown award {ref!r}"))
    seen = {ladder.basis} if ladder.basis else set()
    for i, path in enumerate(ladder.paths):
        where = (*at, "eligibility", "paths", i)
        if path.basis in seen:
            problems.append(doc.problem((*where, "basis"), f"basis {path.basis} given twice"))
        seen.add(path.basis)
        for j, document in enumerate(path.documents):
            if document not in DOC_TYPES:
                problems.append(
                    doc.problem((*where, "documents", j), f"unknown document type {document!r}")
                )
    if ladder.rule in PERSON_RULES and award.subject == "collective":
        problems.append(
            doc.problem((*at, "eligibility", "rule"), f"{ladder.rule!r} judges individuals")
        )
    if ladder.rule in UNIT_RULES and award.subject == "individual":
        problems.append(
            doc.problem((*at, "eligibility", "rule"), f"{ladder.rule!r} judges collectives")
        )
    return problems


def _overlapping(rules: list[RuleSet], start: date, until: date | None) -> list[RuleSet]:
    """The rule sets in force at some day of [start, until): those an override written for
    that period is applied to (an override of 2024 never meets the rule sets of 2017)."""
    ends = [r.effective_from for r in rules[1:]] + [None]
    return [
        rule
        for rule, end in zip(rules, ends, strict=True)
        if (until is None or rule.effective_from < until) and (end is None or end > start)
    ]


def _organisation_problems(
    doc: SourceDoc,
    catalog: CatalogIn,
    resolved: dict[str, Award],
    known_units: set[str] | None,
) -> list[Problem]:
    """Every override names a known organisation and award, in date order, and merges into
    each national rule set of the award in force while it is to valid parameters."""
    problems = []
    for org, organisation in catalog.organisations.items():
        at: PathKey = ("organisations", org)
        if not re.match(ORG_CODE, org):
            problems.append(doc.problem(at, f"organisation code {org!r} must look like BCY"))
        elif known_units is not None and org not in known_units:
            problems.append(doc.problem(at, f"unknown unit {org!r}"))
        for code, overrides in organisation.awards.items():
            where: PathKey = (*at, "awards", code)
            if code not in resolved:
                problems.append(doc.problem(where, f"unknown award {code!r}"))
                continue
            starts = [o.effective_from for o in overrides]
            if starts != sorted(set(starts)):
                problems.append(doc.problem(where, "overrides must have increasing dates"))
            award = resolved[code]
            for i, override in enumerate(overrides):
                problems += _quota_problems(doc, catalog, override.quota, (*where, i))
                if "eligibility" not in override.model_fields_set:
                    continue
                found: dict[str, Problem] = {}
                until = overrides[i + 1].effective_from if i + 1 < len(overrides) else None
                for rule in _overlapping(award.rules, override.effective_from, until):
                    try:
                        ladder = merge_ladder(rule.eligibility, override.eligibility)
                    except ValidationError as exc:
                        for item in exc.errors():
                            loc = (*where, i, "eligibility", *item["loc"][1:])
                            msg = (
                                f"unknown key {item['loc'][-1]!r}"
                                if item["type"] == "extra_forbidden"
                                else f"eligibility: {item['msg']}"
                            )
                            found.setdefault(msg, doc.problem(loc, msg))
                        continue
                    for problem in _ladder_problems(doc, catalog, award, ladder, (*where, i)):
                        found.setdefault(problem.message, problem)
                problems += found.values()
    return problems


def load_catalog(path: Path, known_units: set[str] | None = None) -> Catalog:
    """Read and check the catalog; every problem names FILE:LINE. With `known_units`, every
    organisation of the overrides must be one of them."""
    doc = load_yaml(path)
    try:
        written = CatalogIn.model_validate(doc.data)
    except ValidationError as exc:
        raise InvalidDefinition(pydantic_problems(doc, exc)) from exc
    problems = []
    dates = [b.effective_from for b in written.base_salary]
    if dates != sorted(dates):
        problems.append(doc.problem(("base_salary",), "base salaries must be in date order"))
    for code, award in written.awards.items():
        problems += _award_problems(doc, written, code, award)
    by_workflow: dict[str, list[str]] = {}
    for code, award in written.awards.items():
        for flow in [w for w in (award.workflow, award.adhoc_workflow) if w]:
            by_workflow.setdefault(flow, []).append(code)
    for workflow, codes in by_workflow.items():
        defaults = [c for c in codes if written.awards[c].workflow_default]
        if len(codes) > 1 and len(defaults) != 1:
            problems.append(
                doc.problem(
                    ("awards", codes[-1], "workflow"),
                    f"awards {', '.join(codes)} follow {workflow}: mark exactly one "
                    "workflow_default: true",
                )
            )
    if problems:
        raise InvalidDefinition(problems)
    awards = {
        code: Award.model_validate(
            {
                **award.model_dump(exclude={"rules"}),
                "rules": resolve_rules(award.rules, written.eras),
            }
        )
        for code, award in written.awards.items()
    }
    problems = _organisation_problems(doc, written, awards, known_units)
    if problems:
        raise InvalidDefinition(problems)
    return Catalog(
        money_rounding_vnd=written.money_rounding_vnd,
        eras=written.eras,
        base_salary=written.base_salary,
        awards=awards,
        organisations=written.organisations,
    )


@lru_cache(maxsize=4)
def catalog_in(config_dir: Path) -> Catalog:
    """The cached catalog of a config folder."""
    return load_catalog(config_dir / "awards.yaml")
