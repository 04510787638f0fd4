"""The statistics report of titles and awards for the level above (báo cáo thống kê thi đua,
khen thưởng): its layout (config/statistics.yaml) and the report built from the ledger's
counts. Pure: the counts come from `khenthuong.services.statistics`.

The TĐKT tables of TT 18/2025/TT-BNV were not retrieved (DOMAIN-2 §6 [UNCERTAIN]); the
layout follows DOMAIN-2 §6's recommendation (by form, level, subject, gender and period)
and is configurable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from khenthuong.errors import InvalidDefinition
from khenthuong.yamlsource import load_yaml, pydantic_problems

COLUMNS: dict[str, str] = {
    "total": "Tổng số",
    "collective": "Tập thể",
    "individual": "Cá nhân",
    "female": "Trong đó nữ",
    "cong_trang": "Thường xuyên (công trạng)",
    "chuyen_de": "Theo đợt (chuyên đề)",
    "dot_xuat": "Đột xuất",
    "other_type": "Loại hình khác",
}
"""The count columns of every line, with their Vietnamese headers: subject (tập thể, cá
nhân and the women among them) and the commendation type (Luật TĐKT 2022, Điều 8; cống
hiến, niên hạn and đối ngoại together in "Loại hình khác")."""
TYPE_COLUMNS = ("cong_trang", "chuyen_de", "dot_xuat")
OTHER = "other"
SECTION_CATEGORY = {"title": "title", "form": "form"}
"""A section key and the catalog category (config/awards.yaml `category`) whose unlisted
awards fall into its "Khác" row."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RowDef(Strict):
    """One line of the report: the award codes it counts and their level."""

    label: str = Field(min_length=1)
    awards: list[str] = Field(min_length=1)
    level: str


class SectionDef(Strict):
    """A section of lines (danh hiệu thi đua, hình thức khen thưởng)."""

    key: str
    title: str = Field(min_length=1)
    rows: list[RowDef]


class Layout(Strict):
    """config/statistics.yaml."""

    title: str = Field(min_length=1)
    basis: str = Field(min_length=1)
    levels: dict[str, str] = Field(min_length=1)
    sections: list[SectionDef] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Layout:
        seen: dict[str, str] = {}
        for section in self.sections:
            for row in section.rows:
                if row.level not in self.levels:
                    raise ValueError(f"row {row.label!r}: level {row.level!r} is not in levels")
                for code in row.awards:
                    if code in seen:
                        raise ValueError(
                            f"award {code} is in two rows: {seen[code]!r} and {row.label!r}"
                        )
                    seen[code] = row.label
        return self

    def row_of(self, code: str) -> tuple[int, int] | None:
        """(section index, row index) of the row counting `code`, if any."""
        for s, section in enumerate(self.sections):
            for r, row in enumerate(section.rows):
                if code in row.awards:
                    return s, r
        return None


def load_layout(path: Path, award_codes: Iterable[str] | None = None) -> Layout:
    """The layout in `path`; with `award_codes`, every code a row lists must be one of them.
    Problems are FILE:LINE (InvalidDefinition)."""
    doc = load_yaml(path)
    try:
        layout = Layout.model_validate(doc.data)
    except ValidationError as exc:
        raise InvalidDefinition(pydantic_problems(doc, exc)) from exc
    if award_codes is not None:
        known = set(award_codes)
        problems = [
            doc.problem(("sections", s, "rows", r, "awards"), f"unknown award code {code!r}")
            for s, section in enumerate(layout.sections)
            for r, row in enumerate(section.rows)
            for code in row.awards
            if code not in known
        ]
        if problems:
            raise InvalidDefinition(problems)
    return layout


@lru_cache(maxsize=4)
def layout_in(config_dir: Path) -> Layout:
    """The cached layout of a config folder (config/statistics.yaml)."""
    return load_layout(config_dir / "statistics.yaml")


@dataclass(frozen=True)
class Count:
    """One group of the ledger: how many awards share these values."""

    award_code: str
    year: int
    commendation_type: str
    collective: bool
    female: bool
    unit_code: str
    """The unit directly under the report's unit the award counts under ('' for the
    report's unit itself): a collective's own unit, an individual's unit."""
    n: int


def _empty() -> dict[str, int]:
    return dict.fromkeys(COLUMNS, 0)


def _add(values: dict[str, int], c: Count) -> None:
    values["total"] += c.n
    values["collective" if c.collective else "individual"] += c.n
    if c.female and not c.collective:
        values["female"] += c.n
    values[c.commendation_type if c.commendation_type in TYPE_COLUMNS else "other_type"] += c.n


@dataclass
class Line:
    """A line of the report and its counts."""

    label: str
    level: str
    awards: tuple[str, ...]
    values: dict[str, int] = field(default_factory=_empty)


@dataclass
class Section:
    key: str
    title: str
    lines: list[Line]


@dataclass
class UnitLine:
    """A unit directly under the report's unit (or the unit itself), with its counts by
    subject and by level."""

    code: str
    name: str
    values: dict[str, int] = field(default_factory=_empty)
    levels: dict[str, int] = field(default_factory=dict)


@dataclass
class Report:
    """The whole report for one unit's subtree and a range of years."""

    title: str
    basis: str
    unit_code: str
    unit_name: str
    year_from: int
    year_to: int
    levels: dict[str, str]
    sections: list[Section]
    units: list[UnitLine]
    years: dict[int, dict[str, int]]
    """Per year: the count of each level and the total."""
    total: dict[str, int]
    unknown: dict[str, int]
    """Award codes the catalog does not know, with their counts (in the "Khác" rows)."""


def build_report(
    layout: Layout,
    counts: Iterable[Count],
    *,
    categories: Mapping[str, str],
    unit_code: str,
    unit_name: str,
    children: Mapping[str, str],
    year_from: int,
    year_to: int,
    other_level: str = "co_so",
) -> Report:
    """Sum the counts into the layout's lines, the units under the report's unit (`children`:
    code -> name, in order; '' is the unit itself) and the years. `categories`: award code ->
    catalog category (title/form) for the awards no row lists; those go to a "Khác" line of
    their category's section, at `other_level` (unknown codes: the last section)."""
    sections = [
        Section(s.key, s.title, [Line(r.label, r.level, tuple(r.awards)) for r in s.rows])
        for s in layout.sections
    ]
    others: dict[int, Line] = {}
    units = {code: UnitLine(code, name) for code, name in children.items()}
    years = {
        y: {**dict.fromkeys(layout.levels, 0), "total": 0} for y in range(year_from, year_to + 1)
    }
    total = _empty()
    unknown: dict[str, int] = {}
    for c in counts:
        place = layout.row_of(c.award_code)
        if place is not None:
            line = sections[place[0]].lines[place[1]]
        else:
            category = categories.get(c.award_code)
            if category is None:
                unknown[c.award_code] = unknown.get(c.award_code, 0) + c.n
            index = next(
                (i for i, s in enumerate(sections) if SECTION_CATEGORY.get(s.key) == category),
                len(sections) - 1,
            )
            if index not in others:
                others[index] = Line("Khác", other_level, ())
            line = others[index]
        _add(line.values, c)
        _add(total, c)
        unit = units.get(c.unit_code)
        if unit is None:
            unit = units[c.unit_code] = UnitLine(c.unit_code, c.unit_code)
        _add(unit.values, c)
        unit.levels[line.level] = unit.levels.get(line.level, 0) + c.n
        if c.year in years:
            years[c.year][line.level] = years[c.year].get(line.level, 0) + c.n
            years[c.year]["total"] += c.n
    for index, line in sorted(others.items()):
        line.awards = ()
        sections[index].lines.append(line)
    return Report(
        title=layout.title,
        basis=layout.basis,
        unit_code=unit_code,
        unit_name=unit_name,
        year_from=year_from,
        year_to=year_to,
        levels=dict(layout.levels),
        sections=sections,
        units=[u for u in units.values() if u.values["total"] or u.code in children],
        years=years,
        total=total,
        unknown=unknown,
    )
