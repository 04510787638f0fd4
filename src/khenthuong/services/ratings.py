"""Year-end ratings (xếp loại) of a whole unit in one go: entered on a form or imported from
a danh sách (XLSX/CSV). They are the yearly ratings eligibility reads (Lao động tiên tiến:
hoàn thành tốt nhiệm vụ trở lên, Law Art 24; a collective's members' results).

Every row is checked first (`FILE:ROW: message` in Vietnamese, nothing written on any error);
then all are written in the caller's transaction and audited on `ratings:UNIT:YEAR`. A
person's rating that is already recorded is kept when the same, and refused when different
unless `replace` (a correction, audited with the old value)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, update

from khenthuong.audit.append import append_event
from khenthuong.errors import KhenthuongError
from khenthuong.services.actors import Actor
from khenthuong.services.nominees import matching_people
from khenthuong.services.proposal_import import ImportRefused, Unlisted, refused, unlisted
from khenthuong.services.unit_sheets import (
    Headers,
    check_writer,
    find_unit,
    header_key,
    sheet_rows,
    unit_row,
    units_under,
)
from khenthuong.storage.history import YEARLY_RATINGS
from khenthuong.storage.models import PERSONS, UNITS
from khenthuong.textsearch import clean_name

RATINGS = {
    "htxs": "Hoàn thành xuất sắc nhiệm vụ",
    "htt": "Hoàn thành tốt nhiệm vụ",
    "ht": "Hoàn thành nhiệm vụ",
    "kht": "Không hoàn thành nhiệm vụ",
}
"""The four ratings of cán bộ, công chức, viên chức (xếp loại chất lượng), best first."""
_SPELLINGS = {
    **{header_key(code): code for code in RATINGS},
    **{header_key(name): code for code, name in RATINGS.items()},
    **{header_key(a): c for a, c in (("HTXSNV", "htxs"), ("HTTNV", "htt"), ("HTNV", "ht"),
                                     ("KHTNV", "kht"))},
}  # fmt: skip
COLUMNS: dict[str, tuple[str, ...]] = {
    "stt": ("STT", "Số thứ tự", "TT"),
    "name": ("Họ và tên", "Họ tên"),
    "unit": ("Đơn vị", "Đơn vị công tác"),
    "rating": ("Xếp loại", "Xếp loại chất lượng", "Mức xếp loại"),
    "note": ("Ghi chú",),
}
HEADERS = Headers(COLUMNS)


def rating_of(text: str) -> str | None:
    """A rating code from its code, its Vietnamese name or its usual abbreviation."""
    return _SPELLINGS.get(header_key(text))


def stream_of(unit_code: str, year: int) -> str:
    """The audit stream of a unit's ratings for a year."""
    return f"ratings:{unit_code}:{year}"


@dataclass
class RatingsReport:
    """What a bulk rating did."""

    added: int = 0
    changed: int = 0
    unchanged: int = 0
    changes: list[tuple[int, str | None, str]] = field(default_factory=list)
    """(person id, old rating or None, new rating) of every write."""


@dataclass(frozen=True)
class PersonRating:
    """One person of the unit and their rating of the year (None: not rated yet)."""

    person_id: int
    full_name: str
    unit_name: str
    position: str | None
    rating: str | None


def unit_ratings(conn: Connection, unit: str, year: int) -> list[PersonRating]:
    """Every person of the unit's subtree with their rating of `year`."""
    row = unit_row(conn, unit)
    found = {
        r.person_id: r.rating
        for r in conn.execute(
            select(YEARLY_RATINGS.c.person_id, YEARLY_RATINGS.c.rating)
            .join(PERSONS, PERSONS.c.id == YEARLY_RATINGS.c.person_id)
            .join(UNITS, UNITS.c.id == PERSONS.c.unit_id)
            .where(YEARLY_RATINGS.c.year == year, UNITS.c.path.startswith(row.path))
        )
    }
    return [
        PersonRating(int(p.id), p.full_name, p.name, p.position, found.get(p.id))
        for p in conn.execute(
            select(PERSONS.c.id, PERSONS.c.full_name, PERSONS.c.position, UNITS.c.name)
            .join(UNITS, UNITS.c.id == PERSONS.c.unit_id)
            .where(UNITS.c.path.startswith(row.path, autoescape=True))
            .order_by(UNITS.c.path, PERSONS.c.full_name, PERSONS.c.id)
        )
    ]


def set_ratings_in(
    conn: Connection,
    *,
    unit: str,
    year: int,
    ratings: Sequence[tuple[int, str]],
    actor: Actor,
    replace: bool = False,
    label: str | None = None,
    rows: Sequence[int] | None = None,
    now: datetime | None = None,
) -> RatingsReport:
    """Record (person id, rating code) for people of the unit's subtree, all or nothing: any
    problem (a person outside the unit, an unknown rating, a person twice, a different rating
    already recorded without `replace`) is an error naming its row, and nothing is written."""
    now = now or datetime.now(UTC)
    row = unit_row(conn, unit)
    check_writer(actor, row.path, f"xếp loại của {row.name}")
    if not 1945 <= year <= 2100:
        raise KhenthuongError(f"Năm {year} không hợp lệ")
    members = {p.person_id: p for p in unit_ratings(conn, unit, year)}
    errors: list[str] = []
    rated: list[str] = []
    seen: dict[int, str] = {}
    report = RatingsReport()
    for n, (person_id, code) in enumerate(ratings):
        where = f"{label}:{rows[n]}" if label and rows else f"mục {n + 1}"
        person = members.get(person_id)
        if person is None:
            errors.append(f"{where}: cá nhân #{person_id} không thuộc {row.name}")
            continue
        if code not in RATINGS:
            errors.append(f"{where}: xếp loại {code!r} không hợp lệ; dùng: {_accepted()}")
            continue
        if person_id in seen:
            errors.append(f"{where}: {person.full_name} đã có ở {seen[person_id]}")
            continue
        seen[person_id] = where
        if person.rating == code:
            report.unchanged += 1
        elif person.rating is not None and not replace:
            # The CLI adds its --replace (`RATED`), the page has its box of the same words.
            errors.append(
                f"{where}: {person.full_name} đã được xếp loại năm {year} là "
                f"{RATINGS[person.rating]}; muốn sửa thành {RATINGS[code]} thì chọn sửa cả "
                "xếp loại đã có"
            )
            rated.append(where)
        else:
            report.changes.append((person_id, person.rating, code))
    if errors:
        raise ImportRefused(errors, {RATED: rated} if rated else None)
    for person_id, old, code in report.changes:
        if old is None:
            conn.execute(insert(YEARLY_RATINGS).values(person_id=person_id, year=year, rating=code))
            report.added += 1
        else:
            conn.execute(
                update(YEARLY_RATINGS)
                .where(YEARLY_RATINGS.c.person_id == person_id, YEARLY_RATINGS.c.year == year)
                .values(rating=code)
            )
            report.changed += 1
    if report.changes:
        append_event(
            conn,
            stream_of(row.code, year),
            actor=actor.username,
            actor_unit=actor.unit_code,
            trigger="rate",
            payload={"ratings": [[p, old, new] for p, old, new in report.changes]},
            now=now,
        )
    return report


def _accepted() -> str:
    return ", ".join(f"{code} ({name})" for code, name in RATINGS.items())


def import_file(
    conn: Connection,
    path: Path,
    *,
    unit: str,
    year: int,
    actor: Actor,
    replace: bool = False,
    display_name: str | None = None,
) -> RatingsReport:
    """The ratings of a danh sách xếp loại (XLSX or CSV): columns STT, Họ và tên, Đơn vị,
    Xếp loại, Ghi chú. Every row checked first; ImportRefused lists every `FILE:ROW`."""
    label = display_name or path.name
    row = unit_row(conn, unit)
    check_writer(actor, row.path, f"xếp loại của {row.name}")
    rows = sheet_rows(path, HEADERS, label)
    units = units_under(conn, row.path)
    errors: list[str] = []
    missing: list[int] = []
    ratings: list[tuple[int, str]] = []
    numbers: list[int] = []
    seen: dict[int, int] = {}
    for sheet_row in rows:
        where = f"{label}:{sheet_row.number}"
        if sheet_row.error:
            errors.append(f"{where}: {sheet_row.error}")
            continue
        values = {HEADERS.key(k): v for k, v in sheet_row.values.items()}
        problem, found = _read_row(conn, units, row, values)
        if problem:
            errors.append(f"{where}: {problem}")
            if isinstance(problem, Unlisted):
                missing.append(sheet_row.number)
            continue
        assert found is not None
        person_id, code, full_name = found
        if person_id in seen:
            errors.append(f"{where}: {full_name} đã có ở {label}:{seen[person_id]}")
            continue
        seen[person_id] = sheet_row.number
        ratings.append((person_id, code))
        numbers.append(sheet_row.number)
    if errors:
        raise refused(errors, missing, creatable=False)
    return set_ratings_in(
        conn, unit=unit, year=year, ratings=ratings, actor=actor, replace=replace, label=label,
        rows=numbers,
    )  # fmt: skip


def _read_row(
    conn: Connection, units: list[Any], rating_unit: Any, values: dict[str, str]
) -> tuple[str | None, tuple[int, str, str] | None]:
    name = clean_name(values.get("name", ""))
    if not name:
        return "thiếu họ và tên", None
    given = values.get("rating", "")
    code = rating_of(given) if given else None
    if code is None:
        what = f"xếp loại {given!r} không hợp lệ" if given else "thiếu xếp loại"
        return f"{what}; dùng: {_accepted()}", None
    unit = rating_unit
    if values.get("unit"):
        found = find_unit(units, values["unit"])
        if not found:
            return f"đơn vị {values['unit']!r} không thuộc {rating_unit.name}", None
        if len(found) > 1:
            return f"có {len(found)} đơn vị tên {values['unit']!r}: ghi mã đơn vị", None
        unit = found[0]
    people = matching_people(conn, name, unit.path)
    if len(people) > 1:
        listed = "; ".join(p.label() for p in people)
        return f"có {len(people)} cá nhân tên {name!r}: {listed}; ghi đơn vị để phân biệt", None
    if not people:
        return unlisted(name, str(unit.name), creatable=False), None
    return None, (people[0].id, code, people[0].full_name)


RATED = "rated"
"""The detail of a refusal to change ratings already given (where): only with replace."""


def write_template(path: Path, people: Sequence[PersonRating] = ()) -> None:
    """An XLSX with the danh sách xếp loại's headers: one row per person given (rating empty),
    or two example rows."""
    from openpyxl import Workbook  # noqa: PLC0415

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Xếp loại"
    sheet.append(HEADERS.template)
    if people:
        for i, p in enumerate(people, start=1):
            sheet.append([str(i), p.full_name, p.unit_name, RATINGS.get(p.rating or "", ""), ""])
    else:
        sheet.append(["1", "Nguyễn Văn An", "CCYQD", "Hoàn thành xuất sắc nhiệm vụ", ""])
        sheet.append(["2", "Trần Thị Bích", "CCYQD", "Hoàn thành tốt nhiệm vụ", ""])
    for letter, width in zip("ABCDE", (6, 30, 26, 32, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    book.save(path)
