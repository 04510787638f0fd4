"""Import past award history from CSV or XLSX with a row-by-row error report.

Columns (header row; order free): record, person, unit, year, code, decision_number,
decision_date, commendation_type, title, ends_on.

commendation_type (an award's Law Art 8 type; empty: thường xuyên) is a code or a
Vietnamese name: thuong_xuyen/cong_trang, theo_dot/chuyen_de, dot_xuat, cong_hien,
nien_han, doi_ngoai, or "Đột xuất", "theo đợt" (khenthuong.commendation).

- record=award: an award or title (`code` from the award catalog) for a person, or for the
  unit itself when `person` is empty; needs decision_number and decision_date. With the
  catalog, the award must have a rule set in force on its decision date (it existed under
  the law of that date, e.g. NĐ 91/2017 for 2017-2023); a decision older than the catalog's
  earliest rule set is history the catalog does not judge and is recorded as it is.
- record=rating: a person's yearly rating; `code` is htxs, htt, ht or kht.
- record=initiative: a recognised initiative; `code` is its scope (grassroots, ministry,
  national), `title` its name.
- record=blocker: discipline, investigation or complaint (`code`) from decision_date
  until ends_on (empty: still open); a discipline's `level` is its measure, as a code
  (khien_trach, canh_cao, ha_bac_luong, giang_chuc, cach_chuc, buoc_thoi_viec) or in
  Vietnamese (Cảnh cáo); empty when not known.

Nothing is written from a file with errors unless skip_bad is set. A row that repeats an
earlier row of the file (the same award of the same nominee, year and decision; the same
person's rating for a year; the same initiative; the same blocker) is an error naming both
rows, and so is a row already in the history (importing a file twice adds nothing).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, insert, select

from khenthuong.commendation import accepted_types, commendation_type_of
from khenthuong.dates import BadDate, parse_date
from khenthuong.errors import KhenthuongError
from khenthuong.rules.catalog import Catalog, NoRulesInForce
from khenthuong.rules.eligibility import DISCIPLINE_LEVELS
from khenthuong.sheets import SheetError, read_rows
from khenthuong.storage.db import inserted_id
from khenthuong.storage.history import (
    AWARD_RECORDS,
    BLOCKERS,
    INITIATIVES,
    YEARLY_RATINGS,
    placement,
)
from khenthuong.storage.models import PERSONS, UNITS
from khenthuong.textsearch import clean_name, name_key

RECORDS = ("award", "rating", "initiative", "blocker")
RATINGS = ("htxs", "htt", "ht", "kht")
SCOPES = ("grassroots", "ministry", "national")
BLOCKER_KINDS = ("discipline", "investigation", "complaint")
COLUMNS = (
    "record",
    "person",
    "unit",
    "year",
    "code",
    "decision_number",
    "decision_date",
    "commendation_type",
    "title",
    "ends_on",
    "level",
)
HEADERS_VI = {
    "record": "Loại mục",
    "person": "Họ và tên",
    "unit": "Mã đơn vị",
    "year": "Năm",
    "code": "Mã",
    "decision_number": "Số quyết định",
    "decision_date": "Ngày quyết định",
    "commendation_type": "Loại khen thưởng",
    "title": "Tên, ghi chú",
    "ends_on": "Đến ngày",
    "level": "Hình thức kỷ luật",
}
"""The Vietnamese header of each column (what a page export writes); a file may name its
columns either way."""
_BY_HEADER = {unicodedata.normalize("NFC", v).lower(): k for k, v in HEADERS_VI.items()}


@dataclass
class ImportReport:
    """What an import found and did."""

    rows: int = 0
    imported: int = 0
    persons_created: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)
    """(row number in the file, message) for every bad row."""


def _date(text: str, column: str) -> date:
    try:
        return parse_date(text)
    except BadDate:
        raise ValueError(f"{column} {text!r} is not a date (YYYY-MM-DD or dd/mm/yyyy)") from None


def import_history(
    conn: Connection,
    path: Path,
    *,
    award_codes: Collection[str] | None = None,
    skip_bad: bool = False,
    catalog: Catalog | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Check every row, then write all of them (or, with skip_bad, the good ones). With
    `catalog`, award codes are its codes, checked against the rules of their decision date;
    `progress(n, total)` is told of each checked row."""
    report = ImportReport()
    if catalog is not None and award_codes is None:
        award_codes = catalog.codes()
    units = {r.code: r.id for r in conn.execute(select(UNITS.c.code, UNITS.c.id))}
    persons = _register(conn)
    planned: list[tuple[str, dict[str, Any], tuple[str, int] | None]] = []
    try:
        rows = [
            replace(r, values={_BY_HEADER.get(k, k): v for k, v in r.values.items()})
            for r in read_rows(path, (*COLUMNS, *_BY_HEADER))
        ]
    except SheetError as exc:
        report.errors.append((exc.row, exc.message))
        return report
    except OSError as exc:
        report.errors.append((1, str(exc)))
        return report
    if rows and "record" not in rows[0].values and rows[0].error is None:
        report.errors.append((1, f"tiêu đề phải có các cột: {', '.join(HEADERS_VI.values())}"))
        return report
    seen: dict[tuple[Any, ...], int] = {}
    for sheet_row in rows:
        number, row = sheet_row.number, sheet_row.values
        report.rows += 1
        if progress is not None:
            progress(1, len(rows))
        if sheet_row.error is not None:
            report.errors.append((number, sheet_row.error))
            continue
        try:
            checked = _check_row(row, units, award_codes, catalog)
            key = _identity(checked)
            if key in seen:
                raise ValueError(f"trùng với dòng {seen[key]}: {_describe(checked, catalog)}")
            _not_recorded(conn, checked, persons, catalog)
        except ValueError as exc:
            report.errors.append((number, str(exc)))
            continue
        seen[key] = number
        planned.append(checked)
    if report.errors and not skip_bad:
        return report
    report.persons_created, report.imported = _write(conn, planned, persons)
    return report


Planned = tuple[str, dict[str, Any], tuple[str, int] | None]


def _register(conn: Connection) -> dict[tuple[str, int], int]:
    """The people already registered, by (name_key, unit id): a name written in another case
    or spacing is the same person, as when nominating (services.nominees)."""
    return {
        (r.name_key, r.unit_id): r.id
        for r in conn.execute(select(PERSONS.c.name_key, PERSONS.c.unit_id, PERSONS.c.id))
    }


def _who(person: tuple[str, int]) -> tuple[str, int]:
    return (name_key(person[0]), person[1])


def _identity(planned: Planned) -> tuple[Any, ...]:
    """What makes two rows the same entry (the nominee is the person's name and unit)."""
    table, values, person = planned
    who = _who(person) if person is not None else ("", values.get("unit_id"))
    if table == "award":
        return (table, who, values["award_code"], values["year"], values["decision_number"])
    if table == "rating":
        return (table, who, values["year"])
    if table == "initiative":
        return (table, who, values["year"], fold_title(values["title"]))
    return (table, who, values["kind"], values["starts_on"])


def fold_title(title: str) -> str:
    """A title compared without case or spacing differences."""
    return " ".join(unicodedata.normalize("NFC", title).casefold().split())


def _describe(planned: Planned, catalog: Catalog | None = None) -> str:
    """The entry as an officer reads it: the award by its name when the catalog knows it."""
    table, values, person = planned
    who = person[0] if person is not None else "đơn vị"
    if table == "award":
        code = values["award_code"]
        award = (
            catalog.award(code).name.vi if catalog is not None and code in catalog.awards else code
        )
        return f"{award} năm {values['year']} của {who}, quyết định {values['decision_number']}"
    if table == "rating":
        return f"xếp loại năm {values['year']} của {who}"
    if table == "initiative":
        return f"sáng kiến {values['title']!r} năm {values['year']} của {who}"
    return f"{values['kind']} từ {values['starts_on']:%d/%m/%Y} của {who}"


def _not_recorded(
    conn: Connection,
    planned: Planned,
    persons: dict[tuple[str, int], int],
    catalog: Catalog | None = None,
) -> None:
    """ValueError when the history already holds this entry."""
    table, values, person = planned
    person_id = persons.get(_who(person)) if person is not None else None
    if person is not None and person_id is None:
        return  # a person met for the first time has no history yet
    if table == "award":
        nominee = (
            AWARD_RECORDS.c.person_id == person_id
            if person_id is not None
            else and_(
                AWARD_RECORDS.c.unit_id == values["unit_id"], AWARD_RECORDS.c.person_id.is_(None)
            )
        )
        found = conn.execute(
            select(AWARD_RECORDS.c.id).where(
                nominee,
                AWARD_RECORDS.c.award_code == values["award_code"],
                AWARD_RECORDS.c.year == values["year"],
                AWARD_RECORDS.c.decision_number == values["decision_number"],
            )
        ).first()
        if found is not None:
            raise ValueError(f"đã có trong lịch sử: {_describe(planned, catalog)}")
        return
    if table == "rating":
        existing = conn.execute(
            select(YEARLY_RATINGS.c.rating).where(
                YEARLY_RATINGS.c.person_id == person_id,
                YEARLY_RATINGS.c.year == values["year"],
            )
        ).scalar()
        if existing is not None:
            raise ValueError(
                f"{person[0] if person else ''} đã có xếp loại năm {values['year']} ({existing}); "
                "không ghi đè"
            )
        return
    if table == "initiative":
        titles = conn.execute(
            select(INITIATIVES.c.title).where(
                INITIATIVES.c.person_id == person_id, INITIATIVES.c.year == values["year"]
            )
        ).scalars()
        if any(fold_title(t) == fold_title(values["title"]) for t in titles):
            raise ValueError(f"đã có trong lịch sử: {_describe(planned, catalog)}")
        return
    found = conn.execute(
        select(BLOCKERS.c.id).where(
            BLOCKERS.c.person_id == person_id,
            BLOCKERS.c.kind == values["kind"],
            BLOCKERS.c.starts_on == values["starts_on"],
        )
    ).first()
    if found is not None:
        raise ValueError(f"đã có trong lịch sử: {_describe(planned, catalog)}")


def _write(
    conn: Connection,
    planned: list[tuple[str, dict[str, Any], tuple[str, int] | None]],
    persons: dict[tuple[str, int], int],
) -> tuple[int, int]:
    """Insert checked rows, creating persons met for the first time: (persons, rows)."""
    now = datetime.now(UTC)
    created = 0
    for table, values, person in planned:
        if person is not None:
            key = _who(person)
            if key not in persons:
                persons[key] = inserted_id(
                    conn.execute(
                        insert(PERSONS).values(
                            full_name=person[0], name_key=name_key(person[0]), unit_id=person[1]
                        )
                    )
                )
                created += 1
            values["person_id"] = persons[key]
        if table == "award":
            where = placement(conn, values.get("person_id"), values.get("unit_id"))
            conn.execute(
                insert(AWARD_RECORDS).values(**values, **where, source="import", created_at=now)
            )
        elif table == "rating":
            existing = conn.execute(
                select(YEARLY_RATINGS.c.rating).where(
                    YEARLY_RATINGS.c.person_id == values["person_id"],
                    YEARLY_RATINGS.c.year == values["year"],
                )
            ).scalar()
            if existing is not None:
                who = person[0] if person else values["person_id"]
                raise KhenthuongError(
                    f"{who} đã có xếp loại năm {values['year']} ({existing}); không ghi đè",
                    en=f"A rating for {values['year']} is already recorded",
                )
            conn.execute(insert(YEARLY_RATINGS).values(**values))
        elif table == "initiative":
            conn.execute(insert(INITIATIVES).values(**values))
        else:
            conn.execute(insert(BLOCKERS).values(**values))
    return created, len(planned)


def record_one(
    conn: Connection,
    row: dict[str, str],
    *,
    award_codes: Collection[str] | None = None,
    catalog: Catalog | None = None,
) -> None:
    """Record one history entry (same columns and checks as a row of an import file).

    Raises KhenthuongError naming the column when the entry is invalid.
    """
    if catalog is not None and award_codes is None:
        award_codes = catalog.codes()
    units = {r.code: r.id for r in conn.execute(select(UNITS.c.code, UNITS.c.id))}
    persons = _register(conn)
    try:
        planned = _check_row(
            {k: v for k, v in row.items() if v is not None}, units, award_codes, catalog
        )
    except ValueError as exc:
        raise KhenthuongError(f"Dữ liệu lịch sử không hợp lệ: {exc}") from exc
    try:
        _not_recorded(conn, planned, persons, catalog)
    except ValueError as exc:
        raise KhenthuongError(str(exc)) from exc
    _write(conn, [planned], persons)


def _check_row(
    row: dict[str, str],
    units: dict[str, int],
    award_codes: Collection[str] | None,
    catalog: Catalog | None = None,
) -> tuple[str, dict[str, Any], tuple[str, int] | None]:
    record = row.get("record", "").lower()
    if record not in RECORDS:
        raise ValueError(f"record {record!r} must be one of {', '.join(RECORDS)}")
    unit_code = row.get("unit", "")
    if unit_code not in units:
        raise ValueError(f"unit {unit_code!r} is not a known unit code")
    person_name = clean_name(row.get("person", ""))
    person = (person_name, units[unit_code]) if person_name else None
    code = row.get("code", "").strip()
    year_text = row.get("year", "")
    if record != "blocker" and (not year_text.isdigit() or not 1945 <= int(year_text) <= 2100):
        raise ValueError(f"year {year_text!r} must be a year between 1945 and 2100")
    if record == "award":
        if award_codes is not None and code not in award_codes:
            raise ValueError(f"award code {code!r} is not in the award catalog")
        if not code:
            raise ValueError("code (the award code) is required")
        if not row.get("decision_number"):
            raise ValueError("decision_number is required for an award")
        given = row.get("commendation_type") or "cong_trang"
        ctype = commendation_type_of(given)
        if ctype is None:
            raise ValueError(f"commendation_type {given!r} must be one of: {accepted_types()}")
        values: dict[str, Any] = {
            "award_code": code,
            "year": int(year_text),
            "decision_number": row["decision_number"],
            "decision_date": _date(row.get("decision_date", ""), "decision_date"),
            "commendation_type": ctype,
        }
        if catalog is not None:
            _in_force_then(catalog, code, values["decision_date"])
        if person is None:
            values["unit_id"] = units[unit_code]
        return "award", values, person
    if person is None:
        raise ValueError(f"person is required for a {record} record")
    if record == "rating":
        if code not in RATINGS:
            raise ValueError(f"rating {code!r} must be one of {', '.join(RATINGS)}")
        return "rating", {"year": int(year_text), "rating": code}, person
    if record == "initiative":
        if code not in SCOPES:
            raise ValueError(f"initiative scope {code!r} must be one of {', '.join(SCOPES)}")
        if not row.get("title"):
            raise ValueError("title of the initiative is required")
        recognised = row.get("decision_date")
        return (
            "initiative",
            {
                "year": int(year_text),
                "title": row["title"],
                "scope": code,
                "recognised_on": _date(recognised, "decision_date") if recognised else None,
                "reference": row.get("decision_number") or None,
            },
            person,
        )
    if code not in BLOCKER_KINDS:
        raise ValueError(f"blocker kind {code!r} must be one of {', '.join(BLOCKER_KINDS)}")
    ends = row.get("ends_on")
    starts_on = _date(row.get("decision_date", ""), "decision_date")
    ends_on = _date(ends, "ends_on") if ends else None
    if ends_on is not None and ends_on < starts_on:
        raise ValueError(f"ends_on {ends_on:%d/%m/%Y} is before decision_date {starts_on:%d/%m/%Y}")
    return (
        "blocker",
        {
            "kind": code,
            "starts_on": starts_on,
            "ends_on": ends_on,
            "note": row.get("title") or None,
            "level": _level(row.get("level", ""), code),
        },
        person,
    )


def _in_force_then(catalog: Catalog, code: str, decided_on: date) -> None:
    """ValueError when award `code` had no rule set on `decided_on` although the catalog
    covers that date (the award did not exist under the law then, or its rules are not
    entered yet); decisions before the catalog's earliest rule set are not judged."""
    if decided_on < catalog.earliest():
        return
    try:
        catalog.rules_for(code, decided_on)
    except NoRulesInForce as exc:
        raise ValueError(f"decision_date: {exc}") from exc


def _level(text: str, kind: str) -> str | None:
    """A discipline's level from its code or its Vietnamese name; None when empty."""
    value = unicodedata.normalize("NFC", text.strip()).lower()
    if not value:
        return None
    if kind != "discipline":
        raise ValueError(f"level is only for a discipline, not for a {kind}")
    for level, name in DISCIPLINE_LEVELS.items():
        if value in (level, name):
            return level
    raise ValueError(
        f"level {text.strip()!r} must be one of {', '.join(DISCIPLINE_LEVELS)} "
        f"({', '.join(DISCIPLINE_LEVELS.values())})"
    )
