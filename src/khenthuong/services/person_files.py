"""The person register from a staff list and back: staff number, name, gender, year of
birth, position, unit, and the dates a move or a departure takes effect.

A row is one person, found by `ID` (the register's number, as exported) or else by the staff
number (`Mã cán bộ`); a row with neither is refused, so a list imported twice never doubles
anyone. A person found in another unit has moved (from the row's `Ngày hiệu lực`, else the
import's date); a `Ngày nghỉ` marks them as having left. The register keeps every stay in a
unit (`person_membership`); awards, ratings and nominations stay on the person's id, so a move
or a departure carries their history along. With `absent_leave`, the active people of the
units the file names whom the file leaves out are marked as having left on the import's date.
A column left out of the file keeps its values; an empty cell clears them (except the staff
number, which only a new number replaces).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, insert, select, update

from khenthuong.audit.bulk import NewEvent
from khenthuong.dates import BadDate, parse_date
from khenthuong.services.actors import Actor
from khenthuong.services.org_files import (
    Change,
    ImportPlan,
    RowErrors,
    Table,
    admin_paths,
    export_file,
    file_digest,
    hold_import_lock,
    read_table,
    record,
    units_by_code,
    within,
)
from khenthuong.sheets import SheetRow
from khenthuong.storage.models import PERSONS, UNITS
from khenthuong.storage.org_history import MEMBERSHIPS
from khenthuong.textsearch import clean_name, name_key

PERSON_TABLE = Table(
    columns={
        "id": ("ID",),
        "staff_code": ("Mã cán bộ", "số hiệu", "code"),
        "full_name": ("Họ và tên", "họ tên"),
        "gender": ("Giới tính",),
        "birth_year": ("Năm sinh",),
        "position": ("Chức vụ",),
        "unit": ("Mã đơn vị", "đơn vị"),
        "effective_date": ("Ngày hiệu lực",),
        "left_on": ("Ngày nghỉ", "ngày thôi công tác"),
    },
    required=("full_name", "unit"),
    title="Danh sách cá nhân",
)
GENDERS = {"nam": "nam", "nữ": "nữ", "nu": "nữ"}
FIELDS = ("full_name", "staff_code", "gender", "birth_year", "position")
FIELD_VI = {
    "full_name": "họ tên",
    "staff_code": "mã cán bộ",
    "gender": "giới tính",
    "birth_year": "năm sinh",
    "position": "chức vụ",
    "left_on": "ngày nghỉ",
}


@dataclass(frozen=True)
class _Row:
    number: int
    person_id: int | None
    values: dict[str, Any]
    """The fields the file gives (only the columns it has)."""
    unit_id: int
    effective: date
    left_on: date | None
    says_left: bool
    """The file has the Ngày nghỉ column: an empty cell there brings back a person who left."""


@dataclass(frozen=True)
class _Context:
    units: dict[str, Any]
    unit_by_id: dict[int, Any]
    people: dict[int, Any]
    by_code: dict[str, int]
    open_stays: dict[int, Any]
    mine: tuple[str, ...]
    effective: date


def _load(conn: Connection, mine: tuple[str, ...], effective: date) -> _Context:
    units = units_by_code(conn)
    people = {r.id: r for r in conn.execute(select(PERSONS))}
    stays = {
        r.person_id: r
        for r in conn.execute(select(MEMBERSHIPS).where(MEMBERSHIPS.c.to_date.is_(None)))
    }
    return _Context(
        units=units,
        unit_by_id={u.id: u for u in units.values()},
        people=people,
        by_code={p.staff_code: p.id for p in people.values() if p.staff_code},
        open_stays=stays,
        mine=mine,
        effective=effective,
    )


def _year(text: str, today: date) -> int:
    if not text.isdigit() or not 1900 <= int(text) <= today.year:
        raise ValueError(f"năm sinh {text!r} không hợp lệ (một năm từ 1900 đến {today.year})")
    return int(text)


def _date(text: str, column: str) -> date:
    try:
        return parse_date(text)
    except BadDate as exc:
        raise ValueError(f"{column}: {exc}") from None


def _check(sheet_row: SheetRow, ctx: _Context, seen: dict[tuple[str, Any], int]) -> _Row:
    """The row checked against the register, or ValueError saying every problem of it."""
    v = sheet_row.values
    problems: list[str] = []
    values: dict[str, Any] = {}
    name = clean_name(v.get("full_name", ""))
    if not name:
        problems.append("thiếu họ tên")
    elif len(name) > 200:
        problems.append("họ tên dài quá 200 ký tự")
    values["full_name"] = name
    person_id: int | None = None
    if v.get("id"):
        if not v["id"].isdigit() or int(v["id"]) not in ctx.people:
            problems.append(f"không có cá nhân ID {v['id']} trong danh sách cá nhân")
        else:
            person_id = int(v["id"])
    code = v.get("staff_code", "")
    if code:
        values["staff_code"] = code
        if len(code) > 40:
            problems.append("mã cán bộ dài quá 40 ký tự")
        owner = ctx.by_code.get(code)
        if person_id is None:
            person_id = owner
        elif owner is not None and owner != person_id:
            problems.append(
                f"mã cán bộ {code} là của cá nhân ID {owner}, không phải ID {person_id}"
            )
    if not v.get("id") and not code:
        problems.append(
            "thiếu mã cán bộ (hoặc ID trong hệ thống): cần để nhận ra người này ở lần nhập sau"
        )
    for key, label in (("id", "ID"), ("staff_code", "mã cán bộ")):
        if v.get(key):
            if (key, v[key]) in seen:
                problems.append(f"{label} {v[key]} trùng với dòng {seen[(key, v[key])]}")
            seen[(key, v[key])] = sheet_row.number
    if "gender" in v:
        gender = GENDERS.get(v["gender"].casefold()) if v["gender"] else None
        if v["gender"] and gender is None:
            problems.append(f"giới tính {v['gender']!r} không hợp lệ; ghi 'nam' hoặc 'nữ'")
        values["gender"] = gender
    if "birth_year" in v:
        values["birth_year"] = None
        if v["birth_year"]:
            try:
                values["birth_year"] = _year(v["birth_year"], ctx.effective)
            except ValueError as exc:
                problems.append(str(exc))
    if "position" in v:
        values["position"] = v["position"][:200] or None
    unit = ctx.units.get(v.get("unit", "").upper())
    if unit is None:
        problems.append(
            f"không có đơn vị mã {v.get('unit')!r}" if v.get("unit") else "thiếu mã đơn vị"
        )
    elif not within(str(unit.path), ctx.mine):
        problems.append(f"đơn vị {unit.name} ngoài phạm vi quản trị của bạn")
    effective, left_on = ctx.effective, None
    try:
        if v.get("effective_date"):
            effective = _date(v["effective_date"], "ngày hiệu lực")
        if v.get("left_on"):
            left_on = _date(v["left_on"], "ngày nghỉ")
    except ValueError as exc:
        problems.append(str(exc))
    if person_id is not None and unit is not None:
        person = ctx.people[person_id]
        stay = ctx.open_stays.get(person_id)
        was = ctx.unit_by_id[person.unit_id]
        if not within(str(was.path), ctx.mine):
            problems.append(f"{person.full_name} đang ở {was.name}, ngoài phạm vi quản trị của bạn")
        stays_left = left_on is not None or "left_on" not in v
        if person.left_on is not None and stays_left and unit.id != person.unit_id:
            problems.append(
                f"{person.full_name} đã nghỉ từ {person.left_on:%d/%m/%Y} ở {was.name}; "
                "không chuyển đơn vị của người đã nghỉ"
            )
        if unit.id != person.unit_id and stay and stay.from_date and effective < stay.from_date:
            problems.append(
                f"ngày hiệu lực {effective:%d/%m/%Y} trước ngày {person.full_name} vào "
                f"{was.name} ({stay.from_date:%d/%m/%Y})"
            )
    if problems:
        raise ValueError("; ".join(problems))
    assert unit is not None
    return _Row(
        sheet_row.number, person_id, values, int(unit.id), effective, left_on, "left_on" in v
    )


def plan_persons(
    conn: Connection,
    path: Path,
    actor: Actor,
    *,
    effective: date,
    absent_leave: bool = False,
    display_name: str | None = None,
) -> ImportPlan:
    """Every difference between the staff list and the register, or OrgFileRefused naming
    each bad row. Writes nothing. `effective` dates the moves and departures whose row gives
    no date of its own."""
    hold_import_lock(conn)
    name = display_name or path.name
    ctx = _load(conn, admin_paths(actor), effective)
    sheet = read_table(path, PERSON_TABLE, name)
    errors = RowErrors(name)
    rows: list[_Row] = []
    seen: dict[tuple[str, Any], int] = {}
    matched: dict[int, int] = {}
    for sheet_row in sheet:
        if sheet_row.error:
            errors.add(sheet_row.number, sheet_row.error)
            continue
        try:
            row = _check(sheet_row, ctx, seen)
        except ValueError as exc:
            errors.add(sheet_row.number, str(exc))
            continue
        if row.person_id is not None:
            if row.person_id in matched:
                errors.add(row.number, f"cùng một người với dòng {matched[row.person_id]}")
                continue
            matched[row.person_id] = row.number
        rows.append(row)
    errors.raise_any()
    plan = ImportPlan("persons", name, file_digest(path), rows=len(sheet))
    for row in rows:
        plan.changes.extend(_differences(row, ctx))
    if absent_leave:
        named = {r.unit_id for r in rows}
        for person in ctx.people.values():
            if person.id in matched or person.left_on is not None or person.unit_id not in named:
                continue
            plan.changes.append(
                Change(
                    "person_left",
                    None,
                    f"{person.full_name} ({ctx.unit_by_id[person.unit_id].name}) không có trong "
                    f"tệp: ghi nhận đã nghỉ từ {effective:%d/%m/%Y}",
                    f"person:{person.id}",
                    {"on": effective.isoformat(), "absent": True},
                    {"id": person.id, "unit_id": person.unit_id, "on": effective},
                )
            )
    return plan


def _differences(row: _Row, ctx: _Context) -> list[Change]:
    unit = ctx.unit_by_id[row.unit_id]
    if row.person_id is None:
        values = {"full_name": row.values["full_name"], "unit_id": row.unit_id,
                  **{k: row.values.get(k) for k in FIELDS[1:]}}  # fmt: skip
        left = f", đã nghỉ từ {row.left_on:%d/%m/%Y}" if row.left_on else ""
        return [
            Change(
                "person_added",
                row.number,
                f"Thêm {values['full_name']} vào {unit.name}{left}",
                None,
                {
                    **{k: values[k] for k in FIELDS},
                    "unit": unit.code,
                    "from": row.effective.isoformat(),
                    "left_on": row.left_on.isoformat() if row.left_on else None,
                },
                {"values": values, "from": row.effective, "left_on": row.left_on},
            )
        ]
    person = ctx.people[row.person_id]
    stream = f"person:{person.id}"
    who = person.full_name
    out: list[Change] = []
    changed = {k: v for k, v in row.values.items() if getattr(person, k) != v}
    if changed:
        said = "; ".join(
            f"{FIELD_VI[k]}: {getattr(person, k) or '—'} → {v or '—'}" for k, v in changed.items()
        )
        out.append(
            Change(
                "person_changed",
                row.number,
                f"Sửa thông tin {who}: {said}",
                stream,
                {k: [getattr(person, k), v] for k, v in changed.items()},
                {"id": person.id, "values": changed},
            )
        )
    was = ctx.unit_by_id[person.unit_id]
    data = {"id": person.id, "unit_id": row.unit_id, "was_unit_id": person.unit_id,
            "on": row.effective}  # fmt: skip
    if person.left_on is not None and row.left_on is None and row.says_left:
        out.append(
            Change(
                "person_returned",
                row.number,
                f"{who} trở lại, vào {unit.name} từ {row.effective:%d/%m/%Y}",
                stream,
                {
                    "unit": unit.code,
                    "from": row.effective.isoformat(),
                    "left_on": person.left_on.isoformat(),
                },
                data,
            )
        )
        return out
    if row.unit_id != person.unit_id:
        out.append(
            Change(
                "person_moved",
                row.number,
                f"Chuyển {who} từ {was.name} sang {unit.name} từ {row.effective:%d/%m/%Y}",
                stream,
                {"from_unit": was.code, "to_unit": unit.code, "on": row.effective.isoformat()},
                data,
            )
        )
    if row.left_on is not None and row.left_on != person.left_on:
        if person.left_on is None:
            kind, text = "person_left", f"{who} ({unit.name}) nghỉ từ {row.left_on:%d/%m/%Y}"
        else:
            kind, text = (
                "person_changed",
                (f"Sửa ngày nghỉ của {who}: {person.left_on:%d/%m/%Y} → {row.left_on:%d/%m/%Y}"),
            )
        out.append(
            Change(
                kind,
                row.number,
                text,
                stream,
                {"on": row.left_on.isoformat()}
                if kind == "person_left"
                else {"left_on": [person.left_on.isoformat(), row.left_on.isoformat()]},
                {**data, "on": row.left_on, "unit_id": row.unit_id},
            )
        )
    return out


def apply_persons(conn: Connection, plan: ImportPlan, actor: Actor) -> int:
    """Write the plan's changes, the stays they open and close, and their audit events;
    returns the events written."""
    added = [c for c in plan.changes if c.kind == "person_added"]
    events: list[NewEvent] = []
    if added:
        params = [
            {**c.data["values"], "name_key": name_key(c.data["values"]["full_name"]),
             "left_on": c.data["left_on"]}
            for c in added
        ]  # fmt: skip
        ids = conn.execute(
            insert(PERSONS).returning(PERSONS.c.id, sort_by_parameter_order=True), params
        ).scalars().all()  # fmt: skip
        conn.execute(
            insert(MEMBERSHIPS),
            [
                {"person_id": pid, "unit_id": c.data["values"]["unit_id"],
                 "from_date": None if c.data["left_on"] else c.data["from"],
                 "to_date": c.data["left_on"]}
                for pid, c in zip(ids, added, strict=True)
            ],
        )  # fmt: skip
        events.extend(
            NewEvent(f"person:{pid}", c.kind, c.payload) for pid, c in zip(ids, added, strict=True)
        )
    for change in plan.changes:
        if change.kind == "person_added":
            continue
        data = change.data
        if change.kind == "person_changed":
            values = dict(data.get("values") or {"left_on": data["on"]})
            if "full_name" in values:
                values["name_key"] = name_key(values["full_name"])
            conn.execute(update(PERSONS).where(PERSONS.c.id == data["id"]).values(values))
        elif change.kind == "person_moved":
            _close_stay(conn, data["id"], data["was_unit_id"], data["on"])
            conn.execute(insert(MEMBERSHIPS).values(person_id=data["id"], unit_id=data["unit_id"],
                                                    from_date=data["on"]))  # fmt: skip
            conn.execute(
                update(PERSONS).where(PERSONS.c.id == data["id"]).values(unit_id=data["unit_id"])
            )
        elif change.kind == "person_left":
            _close_stay(conn, data["id"], data["unit_id"], data["on"])
            conn.execute(
                update(PERSONS).where(PERSONS.c.id == data["id"]).values(left_on=data["on"])
            )
        elif change.kind == "person_returned":
            conn.execute(insert(MEMBERSHIPS).values(person_id=data["id"], unit_id=data["unit_id"],
                                                    from_date=data["on"]))  # fmt: skip
            conn.execute(
                update(PERSONS)
                .where(PERSONS.c.id == data["id"])
                .values(left_on=None, unit_id=data["unit_id"])
            )
        assert change.stream is not None
        events.append(NewEvent(change.stream, change.kind, change.payload))
    return record(conn, plan, actor, events)


def _close_stay(conn: Connection, person_id: int, unit_id: int, on: date) -> None:
    """End the person's open stay on `on`; a person registered before stays were kept gets
    one stay in `unit_id` with no start."""
    closed = conn.execute(
        update(MEMBERSHIPS)
        .where(MEMBERSHIPS.c.person_id == person_id, MEMBERSHIPS.c.to_date.is_(None))
        .values(to_date=on)
    )
    if closed.rowcount == 0:
        conn.execute(insert(MEMBERSHIPS).values(person_id=person_id, unit_id=unit_id, to_date=on))


def export_persons(conn: Connection, path: Path) -> int:
    """The register (people who left too, with their date) as .xlsx or .csv; row count."""
    rows = conn.execute(
        select(PERSONS.c.id, PERSONS.c.staff_code, PERSONS.c.full_name, PERSONS.c.gender,
               PERSONS.c.birth_year, PERSONS.c.position, UNITS.c.code.label("unit"),
               PERSONS.c.left_on)
        .join(UNITS, UNITS.c.id == PERSONS.c.unit_id)
        .order_by(UNITS.c.path, PERSONS.c.id)
    )  # fmt: skip
    return export_file(
        path,
        PERSON_TABLE,
        ([r.id, r.staff_code, r.full_name, r.gender, r.birth_year, r.position, r.unit, None,
          r.left_on] for r in rows),
    )  # fmt: skip


def stays_of(conn: Connection, person_id: int) -> list[tuple[str, date | None, date | None]]:
    """(unit name, from, to) of every stay of a person, oldest first."""
    rows = conn.execute(
        select(UNITS.c.name, MEMBERSHIPS.c.from_date, MEMBERSHIPS.c.to_date)
        .join(UNITS, UNITS.c.id == MEMBERSHIPS.c.unit_id)
        .where(MEMBERSHIPS.c.person_id == person_id)
        .order_by(MEMBERSHIPS.c.id)
    )
    return [(str(r.name), r.from_date, r.to_date) for r in rows]
