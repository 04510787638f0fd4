"""Emulation registration (đăng ký thi đua): at the start of the year a unit registers its
collective targets and the titles its people and collectives aim for.

By form (`register_in`, `add_entries_in`) or from a danh sách (XLSX/CSV, `import_file`): every
row is checked first, errors read `FILE:ROW: message` in Vietnamese and nothing is written
unless all rows are good; then all are written in the caller's transaction. Every change is
audited on the stream `registration:UNIT:YEAR`. Where the rule set in force requires it
(config/awards.yaml `registration`), the guard `registered` refuses a nomination whose
nominee has no registration for the title and year (services.unit_year_guards)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, or_, select, update

from khenthuong.audit.append import append_event
from khenthuong.errors import KhenthuongError
from khenthuong.localtime import LOCAL_TZ
from khenthuong.rules.catalog import Catalog
from khenthuong.services.actors import Actor
from khenthuong.services.nominees import COLLECTIVE, INDIVIDUAL, matching_people
from khenthuong.services.org import add_person
from khenthuong.services.proposal_import import ImportRefused, refused, unlisted
from khenthuong.services.unit_sheets import (
    Headers,
    award_of,
    check_writer,
    find_unit,
    header_key,
    sheet_rows,
    unit_row,
    units_under,
)
from khenthuong.storage.db import inserted_id
from khenthuong.storage.models import PERSONS, UNITS
from khenthuong.storage.registrations import REGISTRATION_ENTRIES, REGISTRATIONS
from khenthuong.textsearch import clean_name

COLUMNS: dict[str, tuple[str, ...]] = {
    "stt": ("STT", "Số thứ tự", "TT"),
    "name": ("Họ và tên / Tên tập thể", "Họ và tên", "Họ tên", "Tên tập thể"),
    "kind": ("Đối tượng", "Cá nhân / Tập thể"),
    "unit": ("Đơn vị", "Đơn vị công tác"),
    "titles": ("Danh hiệu đăng ký", "Danh hiệu", "Đăng ký danh hiệu"),
    "note": ("Ghi chú",),
}
"""Internal key → header texts (compared without case or diacritics); the first is the
template's."""
HEADERS = Headers(COLUMNS)
_KINDS = {"ca nhan": INDIVIDUAL, "individual": INDIVIDUAL, "tap the": COLLECTIVE,
          "collective": COLLECTIVE}  # fmt: skip


def stream_of(unit_code: str, year: int) -> str:
    """The audit stream of a unit's registration for a year."""
    return f"registration:{unit_code}:{year}"


@dataclass(frozen=True)
class EntryIn:
    """One title to register: for a person of the register, or for a collective (a unit)."""

    award_code: str
    person_id: int | None = None
    unit_code: str | None = None
    note: str | None = None
    row: int | None = None
    """The row of the imported file, for error messages."""


@dataclass(frozen=True)
class EntryView:
    """A registered title, as shown."""

    id: int
    kind: str
    name: str
    unit_name: str
    award_code: str
    award_name: str
    note: str | None


@dataclass(frozen=True)
class RegistrationView:
    """A unit's registration for a year with its entries."""

    id: int
    unit_code: str
    unit_name: str
    year: int
    registered_on: date
    targets: list[str]
    entries: list[EntryView]


def register_in(
    conn: Connection,
    *,
    unit: str,
    year: int,
    actor: Actor,
    registered_on: date | None = None,
    targets: Sequence[str] | None = None,
    now: datetime | None = None,
) -> int:
    """The unit's registration for `year`, created if missing; `targets` (when given)
    replace its collective targets. Returns its id."""
    now = now or datetime.now(UTC)
    row = unit_row(conn, unit)
    check_writer(actor, row.path, f"đăng ký thi đua của {row.name}")
    if not 1945 <= year <= 2100:
        raise KhenthuongError(f"Năm {year} không hợp lệ")
    lines = [t.strip() for t in targets or () if t and t.strip()]
    existing = conn.execute(
        select(REGISTRATIONS.c.id).where(
            REGISTRATIONS.c.unit_id == row.id, REGISTRATIONS.c.year == year
        )
    ).scalar()
    if existing is None:
        reg_id = inserted_id(
            conn.execute(
                insert(REGISTRATIONS).values(
                    unit_id=row.id,
                    unit_path=row.path,
                    year=year,
                    registered_on=registered_on or now.astimezone(LOCAL_TZ).date(),
                    targets="\n".join(lines),
                    created_by=actor.username,
                    created_at=now,
                )
            )
        )
        trigger = "register"
    else:
        reg_id = int(existing)
        current = conn.execute(
            select(REGISTRATIONS.c.targets, REGISTRATIONS.c.registered_on).where(
                REGISTRATIONS.c.id == reg_id
            )
        ).one()
        values: dict[str, Any] = {}
        if targets is not None and "\n".join(lines) != current.targets:
            values["targets"] = "\n".join(lines)
        if registered_on is not None and registered_on != current.registered_on:
            values["registered_on"] = registered_on
        if not values:
            return reg_id
        conn.execute(update(REGISTRATIONS).where(REGISTRATIONS.c.id == reg_id).values(**values))
        trigger = "update_registration"
    append_event(
        conn,
        stream_of(row.code, year),
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger=trigger,
        payload={"targets": lines if targets is not None else None},
        now=now,
    )
    return reg_id


def _registration(conn: Connection, unit: str, year: int) -> Any:
    row = unit_row(conn, unit)
    reg = conn.execute(
        select(REGISTRATIONS).where(REGISTRATIONS.c.unit_id == row.id, REGISTRATIONS.c.year == year)
    ).first()
    return row, reg


def add_entries_in(
    conn: Connection,
    catalog: Catalog,
    *,
    unit: str,
    year: int,
    entries: Sequence[EntryIn],
    actor: Actor,
    label: str | None = None,
    now: datetime | None = None,
) -> list[int]:
    """Register titles for people and collectives of the unit's subtree (the registration
    is created when missing). Every entry is checked first; errors name the row (`label:ROW`)
    or the entry, and nothing is written unless all are good."""
    now = now or datetime.now(UTC)
    row = unit_row(conn, unit)
    check_writer(actor, row.path, f"đăng ký thi đua của {row.name}")
    units = {u.code: u for u in units_under(conn, row.path)}
    errors: list[str] = []
    planned: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], str] = {}
    for n, entry in enumerate(entries, start=1):
        where = f"{label}:{entry.row}" if label and entry.row else f"mục {entry.row or n}"
        problem, values = _check_entry(conn, catalog, units, row, year, entry)
        if problem is None:
            key = (values["nominee_key"], values["award_code"])
            if key in seen:
                problem = f"trùng với {seen[key]}"
            else:
                seen[key] = where
        if problem is not None:
            errors.append(f"{where}: {problem}")
            continue
        planned.append(values)
    if errors:
        raise ImportRefused(errors)
    reg_id = register_in(conn, unit=unit, year=year, actor=actor, now=now)
    ids = [
        inserted_id(conn.execute(insert(REGISTRATION_ENTRIES).values(registration_id=reg_id, **v)))
        for v in planned
    ]
    append_event(
        conn,
        stream_of(row.code, year),
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger="register_titles",
        payload={"entries": [[v["nominee_key"], v["award_code"]] for v in planned]},
        now=now,
    )
    return ids


def _check_entry(
    conn: Connection, catalog: Catalog, units: dict[str, Any], unit: Any, year: int, entry: EntryIn
) -> tuple[str | None, dict[str, Any]]:
    code = entry.award_code
    if code not in catalog.awards:
        return f"không có danh hiệu {code!r} trong danh mục", {}
    award = catalog.award(code)
    if award.category != "title":
        return f"{award.name.vi} là hình thức khen thưởng, không phải danh hiệu thi đua", {}
    values: dict[str, Any] = {"year": year, "award_code": code, "note": entry.note or None}
    if entry.person_id is not None:
        if award.subject == COLLECTIVE:
            return f"{award.name.vi} là danh hiệu tập thể, không đăng ký cho cá nhân", {}
        person = conn.execute(
            select(PERSONS.c.full_name, UNITS.c.path)
            .join(UNITS, UNITS.c.id == PERSONS.c.unit_id)
            .where(PERSONS.c.id == entry.person_id)
        ).first()
        if person is None:
            return f"không có cá nhân #{entry.person_id}", {}
        if not str(person.path).startswith(unit.path):
            return f"{person.full_name} không thuộc {unit.name}", {}
        values |= {"person_id": entry.person_id, "nominee_key": f"p:{entry.person_id}"}
        who = person.full_name
    else:
        if award.subject == INDIVIDUAL:
            return f"{award.name.vi} là danh hiệu cá nhân, không đăng ký cho tập thể", {}
        target = units.get(entry.unit_code or "")
        if target is None:
            return f"tập thể {entry.unit_code!r} không thuộc {unit.name}", {}
        values |= {"unit_id": target.id, "nominee_key": f"u:{target.id}"}
        who = target.name
    done = conn.execute(
        select(REGISTRATION_ENTRIES.c.id).where(
            REGISTRATION_ENTRIES.c.year == year,
            REGISTRATION_ENTRIES.c.nominee_key == values["nominee_key"],
            REGISTRATION_ENTRIES.c.award_code == code,
        )
    ).first()
    if done is not None:
        return f"{who} đã đăng ký {award.name.vi} năm {year}", {}
    return None, values


def import_file(
    conn: Connection,
    catalog: Catalog,
    path: Path,
    *,
    unit: str,
    year: int,
    actor: Actor,
    registered_on: date | None = None,
    create_persons: bool = False,
    display_name: str | None = None,
) -> list[int]:
    """Register the titles of a danh sách đăng ký thi đua (XLSX or CSV). Every row is checked
    first (ImportRefused lists every `FILE:ROW: message`), then all are written."""
    label = display_name or path.name
    row = unit_row(conn, unit)
    check_writer(actor, row.path, f"đăng ký thi đua của {row.name}")
    rows = sheet_rows(path, HEADERS, label)
    units = units_under(conn, row.path)
    errors: list[str] = []
    missing: list[int] = []
    entries: list[EntryIn] = []
    creations: list[tuple[int, str, str]] = []
    for sheet_row in rows:
        where = f"{label}:{sheet_row.number}"
        if sheet_row.error:
            errors.append(f"{where}: {sheet_row.error}")
            continue
        values = {HEADERS.key(k): v for k, v in sheet_row.values.items()}
        problem, found = _read_row(conn, catalog, units, row, values, sheet_row.number)
        if problem == "create" and create_persons:
            creations.append((sheet_row.number, clean_name(values.get("name", "")), found[0]))
            continue
        if problem == "create":
            name = clean_name(values.get("name", ""))
            problem = unlisted(name, str(row.name), creatable=True)
            missing.append(sheet_row.number)
        if problem:
            errors.append(f"{where}: {problem}")
            continue
        entries.extend(found)
    if errors:
        raise refused(errors, missing, creatable=True)
    for number, name, unit_code in creations:
        pid = add_person(conn, name, unit_code)
        values = {HEADERS.key(k): v for k, v in rows[_index(rows, number)].values.items()}
        for code in _titles(catalog, values.get("titles", ""))[1]:
            entries.append(EntryIn(code, person_id=pid, note=values.get("note"), row=number))
    if registered_on is not None:
        register_in(conn, unit=unit, year=year, actor=actor, registered_on=registered_on)
    return add_entries_in(
        conn, catalog, unit=unit, year=year, entries=entries, actor=actor, label=label
    )


def _index(rows: list[Any], number: int) -> int:
    return next(i for i, r in enumerate(rows) if r.number == number)


def _titles(catalog: Catalog, text: str) -> tuple[list[str], list[str]]:
    """(unknown spellings, award codes) of a cell naming one or several titles."""
    parts = [p.strip() for p in re.split(r"[;,\n]", text) if p.strip()]
    codes = [award_of(catalog, p) for p in parts]
    return [p for p, c in zip(parts, codes, strict=True) if c is None], [c for c in codes if c]


def _read_row(
    conn: Connection,
    catalog: Catalog,
    units: list[Any],
    registering: Any,
    values: dict[str, str],
    number: int,
) -> tuple[str | None, list[Any]]:
    name = clean_name(values.get("name", ""))
    if not name:
        return "thiếu họ và tên / tên tập thể", []
    kind = _KINDS.get(header_key(values.get("kind", ""))) if values.get("kind") else INDIVIDUAL
    if kind is None:
        return f"đối tượng {values['kind']!r} không hợp lệ: ghi 'Cá nhân' hoặc 'Tập thể'", []
    unknown, codes = _titles(catalog, values.get("titles", ""))
    if unknown:
        return f"danh hiệu {', '.join(repr(u) for u in unknown)} không có trong danh mục", []
    if not codes:
        return "thiếu danh hiệu đăng ký", []
    unit = registering
    if values.get("unit"):
        found = find_unit(units, values["unit"])
        if not found:
            return f"đơn vị {values['unit']!r} không thuộc {registering.name}", []
        if len(found) > 1:
            return f"có {len(found)} đơn vị tên {values['unit']!r}: ghi mã đơn vị", []
        unit = found[0]
    note = values.get("note") or None
    if kind == COLLECTIVE:
        found = find_unit([u for u in units if str(u.path).startswith(unit.path)], name)
        if len(found) != 1:
            return f"không có tập thể (đơn vị) {name!r} trong {unit.name}", []
        return None, [EntryIn(c, unit_code=found[0].code, note=note, row=number) for c in codes]
    people = matching_people(conn, name, unit.path)
    if len(people) > 1:
        listed = "; ".join(p.label() for p in people)
        return f"có {len(people)} cá nhân tên {name!r}: {listed}; ghi đơn vị để phân biệt", []
    if not people:
        return "create", [unit.code]
    return None, [EntryIn(c, person_id=people[0].id, note=note, row=number) for c in codes]


def view(conn: Connection, catalog: Catalog, unit: str, year: int) -> RegistrationView | None:
    """The unit's registration for `year` with every entry of its subtree's people and
    collectives (None when the unit has not registered)."""
    row, reg = _registration(conn, unit, year)
    if reg is None:
        return None
    e = REGISTRATION_ENTRIES.c
    person_unit = UNITS.alias("person_unit")
    nominee_unit = UNITS.alias("nominee_unit")
    entries = []
    for r in conn.execute(
        select(
            e.id, e.award_code, e.note, e.person_id, PERSONS.c.full_name,
            person_unit.c.name.label("person_unit"), nominee_unit.c.name.label("collective"),
        )
        .outerjoin(PERSONS, PERSONS.c.id == e.person_id)
        .outerjoin(person_unit, person_unit.c.id == PERSONS.c.unit_id)
        .outerjoin(nominee_unit, nominee_unit.c.id == e.unit_id)
        .where(e.registration_id == reg.id)
        .order_by(e.person_id.is_(None), PERSONS.c.full_name, e.id)
    ):  # fmt: skip
        award = catalog.award(r.award_code)
        individual = r.person_id is not None
        entries.append(
            EntryView(
                int(r.id),
                INDIVIDUAL if individual else COLLECTIVE,
                r.full_name if individual else r.collective,
                r.person_unit if individual else r.collective,
                r.award_code,
                award.name.vi,
                r.note,
            )
        )
    return RegistrationView(
        int(reg.id),
        row.code,
        row.name,
        year,
        reg.registered_on,
        [t for t in str(reg.targets or "").split("\n") if t],
        entries,
    )


def registered_codes(
    conn: Connection, year: int, person_id: int | None, unit_id: int | None
) -> set[str]:
    """The titles a nominee registered for in `year`."""
    e = REGISTRATION_ENTRIES.c
    who = []
    if person_id is not None:
        who.append(e.person_id == person_id)
    if unit_id is not None and person_id is None:
        who.append(e.unit_id == unit_id)
    if not who:
        return set()
    return set(conn.execute(select(e.award_code).where(e.year == year, or_(*who))).scalars())


def write_template(path: Path) -> None:
    """An XLSX with the danh sách đăng ký thi đua's headers and example rows."""
    from openpyxl import Workbook  # noqa: PLC0415

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Đăng ký thi đua"
    sheet.append(HEADERS.template)
    sheet.append(["1", "Nguyễn Văn An", "Cá nhân", "CCYQD", "Chiến sĩ thi đua cơ sở", ""])
    sheet.append(["2", "Trần Thị Bích", "Cá nhân", "CCYQD", "LDTT", ""])
    sheet.append(["3", "Cục Cơ yếu Quân đội", "Tập thể", "", "TTLDTT", ""])
    for letter, width in zip("ABCDEF", (6, 30, 12, 16, 34, 30), strict=True):
        sheet.column_dimensions[letter].width = width
    book.save(path)
