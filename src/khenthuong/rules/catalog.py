"""The award catalog (config/awards.yaml): titles and forms with effective-dated rules."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from khenthuong.errors import InvalidDefinition, KhenthuongError
from khenthuong.rules.shares import HALF, Share
from khenthuong.services.dossier import DOC_TYPES
from khenthuong.workflow.definition import Text
from khenthuong.yamlsource import load_yaml, pydantic_problems

ELIGIBILITY_RULES = ("ldtt", "cstdcs", "cstd_bo", "cstdtq", "bk_bo", "bk_ttg", "hcld3")


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
      unit's subtree that year), e.g. CSTĐCS ≤ 15% of LĐTT (NĐ 91/2017 Điều 9(3));
    - `count`: at most this many places per proposing unit and year;
    - `bloc`: at most the `flag_quota` (config/blocs.yaml) of every bloc the nominee unit
      belongs to that year, counted over all the bloc's members (Cờ thi đua của Chính phủ,
      Luật TĐKT 2022 Điều 25).
    Places are counted and taken inside the step's transaction under a row lock.
    """

    share: float | None = Field(default=None, gt=0, le=1)
    of: str | None = None
    count: int | None = Field(default=None, ge=0)
    bloc: bool = False
    source: str | None = None

    @model_validator(mode="after")
    def _one_limit_at_least(self) -> QuotaRule:
        if (self.share is None) != (self.of is None):
            raise ValueError("share and of go together")
        if self.share is None and self.count is None and not self.bloc:
            raise ValueError("a quota needs share and of, count, or bloc: true")
        return self


class RuleSet(Strict):
    """The rules of one award from a date on."""

    effective_from: date
    source: str = Field(min_length=1)
    coefficient: float = Field(ge=0)
    vote: VoteRule | None = None
    quota: QuotaRule | None = None
    uncertain: bool = False


class Award(Strict):
    """One title or form."""

    name: Text
    subject: Literal["individual", "collective", "both"]
    category: Literal["title", "form"]
    authority: str
    workflow: str | None = None
    eligibility: str | None = None
    documents: list[str] = Field(default_factory=list)
    collective_multiplier: float = 1.0
    rules: list[RuleSet] = Field(min_length=1)


class BaseSalary(Strict):
    """Mức lương cơ sở from a date on."""

    effective_from: date
    vnd: int = Field(gt=0)
    source: str


class Catalog(Strict):
    """The whole catalog."""

    money_rounding_vnd: int = Field(default=10_000, gt=0)
    base_salary: list[BaseSalary] = Field(min_length=1)
    awards: dict[str, Award] = Field(min_length=1)

    def codes(self) -> list[str]:
        """Every award code."""
        return sorted(self.awards)

    def award(self, code: str) -> Award:
        """The award `code`; a clear error when unknown."""
        try:
            return self.awards[code]
        except KeyError:
            raise KhenthuongError(
                f"Không có mã khen thưởng {code!r} (unknown award code {code!r})"
            ) from None

    def rules_for(self, code: str, on: date) -> RuleSet:
        """The rule set of `code` in force on `on`."""
        applicable = [r for r in self.award(code).rules if r.effective_from <= on]
        if not applicable:
            first = self.award(code).rules[0].effective_from
            raise KhenthuongError(
                f"{code}: chưa có quy định áp dụng ngày {on:%d/%m/%Y} (rules start {first})"
            )
        return applicable[-1]

    def base_salary_on(self, on: date) -> int:
        """The base salary in force on `on` (VND)."""
        applicable = [b for b in self.base_salary if b.effective_from <= on]
        if not applicable:
            raise KhenthuongError(f"Không có mức lương cơ sở áp dụng ngày {on:%d/%m/%Y}")
        return applicable[-1].vnd

    def award_for_workflow(self, workflow: str) -> str | None:
        """The award code a workflow carries when exactly one does."""
        codes = [c for c, a in self.awards.items() if a.workflow == workflow]
        return codes[0] if len(codes) == 1 else None


def load_catalog(path: Path) -> Catalog:
    """Read and check the catalog; every problem names FILE:LINE."""
    doc = load_yaml(path)
    try:
        catalog = Catalog.model_validate(doc.data)
    except ValidationError as exc:
        raise InvalidDefinition(pydantic_problems(doc, exc)) from exc
    problems = []
    dates = [b.effective_from for b in catalog.base_salary]
    if dates != sorted(dates):
        problems.append(doc.problem(("base_salary",), "base salaries must be in date order"))
    for code, award in catalog.awards.items():
        at = ("awards", code)
        starts = [r.effective_from for r in award.rules]
        if starts != sorted(set(starts)):
            problems.append(
                doc.problem((*at, "rules"), "rule sets must have increasing effective dates")
            )
        for i, document in enumerate(award.documents):
            if document not in DOC_TYPES:
                problems.append(
                    doc.problem((*at, "documents", i), f"unknown document type {document!r}")
                )
        if award.eligibility is not None and award.eligibility not in ELIGIBILITY_RULES:
            problems.append(
                doc.problem((*at, "eligibility"), f"unknown eligibility rule {award.eligibility!r}")
            )
        for i, rule in enumerate(award.rules):
            if (
                rule.quota is not None
                and rule.quota.of is not None
                and rule.quota.of not in catalog.awards
            ):
                problems.append(
                    doc.problem(
                        (*at, "rules", i, "quota", "of"), f"unknown award {rule.quota.of!r}"
                    )
                )
    if problems:
        raise InvalidDefinition(problems)
    return catalog


@lru_cache(maxsize=4)
def catalog_in(config_dir: Path) -> Catalog:
    """The cached catalog of a config folder."""
    return load_catalog(config_dir / "awards.yaml")
