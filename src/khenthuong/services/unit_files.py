"""The unit tree from a file and back: code, name, parent, level, kind.

A unit is known by its code. A new code adds a unit (its parent may come later in the file);
a known code with another name renames it, with another level or kind changes it, under
another parent moves it with its whole subtree (an audited `unit_moved`: the subtree's paths,
and the paths of its nominations, proposal batches, registrations and campaigns, follow it, so
that its officers keep their records and the new parent's officers see them; award records
keep the placement they had when recorded, the statistics of past years stay as they were).
A unit cannot move under itself or one of its own subunits. Units the file leaves out are
kept as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, insert, literal, select, update

from khenthuong.audit.bulk import NewEvent
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
    within,
)
from khenthuong.storage.batches import BATCHES
from khenthuong.storage.campaigns import CAMPAIGNS
from khenthuong.storage.db import inserted_id
from khenthuong.storage.models import NOMINATIONS, UNITS
from khenthuong.storage.registrations import REGISTRATIONS

UNIT_TABLE = Table(
    columns={
        "code": ("Mã đơn vị", "mã"),
        "name": ("Tên đơn vị", "tên"),
        "parent": ("Mã đơn vị cấp trên", "cấp trên", "đơn vị cấp trên"),
        "level": ("Cấp", "cấp đơn vị"),
        "kind": ("Loại đơn vị", "loại"),
    },
    required=("code", "name", "parent"),
    title="Đơn vị",
)
_FIELD_VI = {"level": "cấp", "kind": "loại đơn vị"}
CODE = re.compile(r"^[A-Z0-9][A-Z0-9_.-]{0,39}$")
LEVEL_NAMES = {
    "unit": "unit",
    "ministry": "ministry",
    "national": "national",
    "cơ sở": "unit",
    "đơn vị cơ sở": "unit",
    "đơn vị": "unit",
    "bộ": "ministry",
    "bộ, ngành": "ministry",
    "bộ ngành": "ministry",
    "cấp bộ": "ministry",
    "tỉnh": "ministry",
    "trung ương": "national",
    "nhà nước": "national",
}


@dataclass(frozen=True)
class _Row:
    number: int
    code: str
    name: str
    parent: str | None
    level: str | None
    kind: str | None
    has_kind: bool


def _read(rows: list[Any], errors: RowErrors) -> list[_Row]:
    out: list[_Row] = []
    seen: dict[str, int] = {}
    for sheet_row in rows:
        number, v = sheet_row.number, sheet_row.values
        if sheet_row.error:
            errors.add(number, sheet_row.error)
            continue
        code = v.get("code", "").upper()
        name = " ".join(v.get("name", "").split())
        problems = []
        if not CODE.match(code):
            problems.append(
                f"mã đơn vị {code!r} không hợp lệ (chữ in hoa, số, dấu - _ . ; tối đa 40 ký tự)"
                if code
                else "thiếu mã đơn vị"
            )
        elif code in seen:
            problems.append(f"mã đơn vị {code} trùng với dòng {seen[code]}")
        if not name:
            problems.append("thiếu tên đơn vị")
        elif len(name) > 300:
            problems.append("tên đơn vị dài quá 300 ký tự")
        level_text = v.get("level", "").casefold()
        level = LEVEL_NAMES.get(level_text) if level_text else None
        if level_text and level is None:
            problems.append(
                f"cấp {v['level']!r} không hợp lệ; dùng unit (cơ sở), ministry (bộ, ngành) "
                "hoặc national (trung ương)"
            )
        kind = v.get("kind") or None
        if kind and len(kind) > 60:
            problems.append("loại đơn vị dài quá 60 ký tự")
        if problems:
            errors.add(number, "; ".join(problems))
            continue
        seen[code] = number
        parent = v.get("parent", "").upper() or None
        out.append(_Row(number, code, name, parent, level, kind, "kind" in v))
    return out


def _cycle(start: _Row, new: dict[str, _Row]) -> list[str] | None:
    """The codes of a parent loop among new units that `start` leads into, if any."""
    chain = [start.code]
    parent = start.parent
    while parent is not None and parent in new:
        if parent in chain:
            return [*chain[chain.index(parent) :], parent]
        chain.append(parent)
        parent = new[parent].parent
    return None


def plan_units(
    conn: Connection, path: Path, actor: Actor, *, display_name: str | None = None
) -> ImportPlan:
    """Every difference between the file and the unit tree, or OrgFileRefused naming each
    bad row. Writes nothing."""
    hold_import_lock(conn)
    name = display_name or path.name
    mine = admin_paths(actor)
    sheet = read_table(path, UNIT_TABLE, name)
    errors = RowErrors(name)
    rows = _read(sheet, errors)
    units = {r.code: r for r in conn.execute(select(UNITS))}
    codes_by_id = {r.id: r.code for r in units.values()}
    new = {r.code: r for r in rows if r.code not in units}
    plan = ImportPlan("units", name, file_digest(path), rows=len(sheet))
    moves = _moves(rows, units, codes_by_id)
    names = {code: str(u.name) for code, u in units.items()} | {c: r.name for c, r in new.items()}
    for row in rows:
        problem = _problem(row, units, codes_by_id, new, mine)
        loop = None if problem or row not in moves else _move_cycle(row, units, codes_by_id, rows)
        if loop:
            problem = (
                f"không thể chuyển đơn vị {row.name} vào "
                f"{names[str(row.parent)]}: một đơn vị không thể thuộc chính "
                f"nó hay đơn vị cấp dưới của nó ({' → '.join(names.get(c, c) for c in loop)})"
            )
        if problem:
            errors.add(row.number, problem)
    errors.raise_any()
    paths = {code: str(u.path) for code, u in units.items()}
    for row in _parents_first(list(new.values()), paths):
        paths[row.code] = (paths[row.parent] if row.parent else "/") + f"{row.code}/"
        under = f" thuộc {names[row.parent]}" if row.parent else " (đơn vị gốc)"
        plan.changes.append(
            Change(
                "unit_added",
                row.number,
                f"Thêm đơn vị {row.name}{under}",
                payload={
                    "code": row.code,
                    "name": row.name,
                    "parent": row.parent,
                    "level": row.level,
                    "kind": row.kind,
                },
                data={"row": row},
            )
        )
    for row in rows:
        if row.code in units:
            plan.changes.extend(_differences(row, units[row.code]))
    for row in moves:
        unit = units[row.code]
        before = codes_by_id.get(unit.parent_id) if unit.parent_id else None
        was = names[before] if before else "gốc (không có cấp trên)"
        goes = names[row.parent] if row.parent else "gốc (không có cấp trên)"
        plan.changes.append(
            Change(
                "unit_moved",
                row.number,
                f"Chuyển đơn vị {row.name} cùng các đơn vị trực thuộc: từ {was} sang {goes}",
                f"unit:{unit.id}",
                {"code": row.code, "parent": [before, row.parent]},
                {"id": unit.id, "code": row.code, "parent": row.parent},
            )
        )
    return plan


def _moves(rows: list[_Row], units: dict[str, Any], codes_by_id: dict[int, str]) -> list[_Row]:
    """Rows of known units the file puts under another parent."""
    out = []
    for row in rows:
        unit = units.get(row.code)
        if unit is not None:
            before = codes_by_id.get(unit.parent_id) if unit.parent_id else None
            if row.parent != before:
                out.append(row)
    return out


def _move_cycle(
    row: _Row, units: dict[str, Any], codes_by_id: dict[int, str], rows: list[_Row]
) -> list[str] | None:
    """The chain from `row`'s new parent up to `row` itself, when the tree the file leads to
    would put the unit under itself (every move and new unit of the file applied)."""
    parents: dict[str, str | None] = {
        code: codes_by_id.get(u.parent_id) if u.parent_id else None for code, u in units.items()
    }
    parents.update({r.code: r.parent for r in rows})
    chain = [row.code]
    at = row.parent
    while at is not None and at not in chain[1:]:
        chain.append(at)
        if at == row.code:
            return chain
        at = parents.get(at)
    return None


def _problem(
    row: _Row,
    units: dict[str, Any],
    codes_by_id: dict[int, str],
    new: dict[str, _Row],
    mine: tuple[str, ...],
) -> str | None:
    if row.code in units:
        unit = units[row.code]
        if not within(str(unit.path), mine):
            return f"đơn vị {unit.name} ngoài phạm vi quản trị của bạn"
        before = codes_by_id.get(unit.parent_id) if unit.parent_id else None
        if row.parent == before:
            return None
        if row.parent is None:
            if not any(p.count("/") == 2 for p in mine):
                return f"chỉ quản trị đơn vị gốc được chuyển đơn vị {unit.name} lên gốc"
            return None
        if row.parent not in units and row.parent not in new:
            return (
                f"không có đơn vị cấp trên mã {row.parent} (không có trong tệp, cũng không có "
                "trong hệ thống)"
            )
        if row.parent in units and not within(str(units[row.parent].path), mine):
            return f"đơn vị cấp trên mới {units[row.parent].name} ngoài phạm vi quản trị của bạn"
        return None
    if row.level is None:
        return f"thiếu cấp của đơn vị mới {row.code} (unit, ministry hoặc national)"
    if row.parent is None:
        if not any(p.count("/") == 2 for p in mine):
            return f"chỉ quản trị đơn vị gốc được thêm đơn vị gốc {row.code}"
        return None
    if row.parent not in units and row.parent not in new:
        return (
            f"không có đơn vị cấp trên mã {row.parent} (không có trong tệp, cũng không có "
            "trong hệ thống)"
        )
    loop = _cycle(row, new)
    if loop:
        return f"đơn vị cấp trên tạo vòng lặp: {' → '.join(new[code].name for code in loop)}"
    top = row
    while top.parent in new:
        top = new[top.parent]
    if top.parent is None:
        if not any(p.count("/") == 2 for p in mine):
            return f"chỉ quản trị đơn vị gốc được thêm đơn vị gốc {top.code}"
    elif not within(str(units[top.parent].path), mine):
        return f"đơn vị cấp trên {units[top.parent].name} ngoài phạm vi quản trị của bạn"
    return None


def _parents_first(new: list[_Row], known: dict[str, str]) -> list[_Row]:
    placed = set(known)
    out: list[_Row] = []
    waiting = list(new)
    while waiting:
        ready = [r for r in waiting if r.parent is None or r.parent in placed]
        for r in ready:
            placed.add(r.code)
        out.extend(ready)
        waiting = [r for r in waiting if r.code not in placed]
    return out


def _differences(row: _Row, unit: Any) -> list[Change]:
    stream = f"unit:{unit.id}"
    out: list[Change] = []
    if row.name != unit.name:
        out.append(
            Change(
                "unit_renamed",
                row.number,
                f"Đổi tên đơn vị {unit.name} thành {row.name}",
                stream,
                {"code": row.code, "name": [unit.name, row.name]},
                {"id": unit.id, "values": {"name": row.name}},
            )
        )
    values: dict[str, Any] = {}
    if row.level is not None and row.level != unit.level:
        values["level"] = row.level
    if row.has_kind and row.kind != unit.kind:
        values["kind"] = row.kind
    if values:
        said = ", ".join(
            f"{_FIELD_VI[k]}: {getattr(unit, k) or '—'} → {v or '—'}" for k, v in values.items()
        )
        out.append(
            Change(
                "unit_changed",
                row.number,
                f"Đổi thông tin đơn vị {row.name}: {said}",
                stream,
                {"code": row.code, **{k: [getattr(unit, k), v] for k, v in values.items()}},
                {"id": unit.id, "values": values},
            )
        )
    return out


def apply_units(conn: Connection, plan: ImportPlan, actor: Actor) -> int:
    """Write the plan's changes and their audit events; returns the events written."""
    events: list[NewEvent] = []
    ids = {
        r.code: (r.id, r.path) for r in conn.execute(select(UNITS.c.code, UNITS.c.id, UNITS.c.path))
    }
    for change in plan.changes:
        if change.kind == "unit_added":
            row: _Row = change.data["row"]
            parent_id, parent_path = ids[row.parent] if row.parent else (None, "/")
            path = f"{parent_path}{row.code}/"
            unit_id = inserted_id(
                conn.execute(
                    insert(UNITS).values(
                        code=row.code, name=row.name, level=row.level, kind=row.kind,
                        parent_id=parent_id, path=path,
                    )
                )
            )  # fmt: skip
            ids[row.code] = (unit_id, path)
            events.append(NewEvent(f"unit:{unit_id}", change.kind, change.payload))
        elif change.kind == "unit_moved":
            moved = _move(conn, change.data["id"], change.data["parent"])
            assert change.stream is not None
            events.append(NewEvent(change.stream, change.kind, {**change.payload, **moved}))
        else:
            conn.execute(
                update(UNITS).where(UNITS.c.id == change.data["id"]).values(change.data["values"])
            )
            assert change.stream is not None
            events.append(NewEvent(change.stream, change.kind, change.payload))
    return record(conn, plan, actor, events)


SCOPED = (NOMINATIONS, BATCHES, REGISTRATIONS, CAMPAIGNS)
"""Tables whose rows carry the path of the unit they belong to (read scope): a move rewrites
them with the unit's subtree. award_record keeps its recorded placement (statistics)."""


def _move(conn: Connection, unit_id: int, parent: str | None) -> dict[str, Any]:
    """Put unit `unit_id` under `parent` (None: a root unit) with its subtree: its parent, and
    every path under its old path (units and SCOPED records) rewritten. What moved, for the
    audit event."""
    old = str(conn.execute(select(UNITS.c.path).where(UNITS.c.id == unit_id)).scalar_one())
    code = old.rstrip("/").rsplit("/", 1)[-1]
    if parent is None:
        parent_id, base = None, "/"
    else:
        found = conn.execute(select(UNITS.c.id, UNITS.c.path).where(UNITS.c.code == parent)).one()
        parent_id, base = found.id, str(found.path)
    new = f"{base}{code}/"
    conn.execute(update(UNITS).where(UNITS.c.id == unit_id).values(parent_id=parent_id))
    counts: dict[str, int] = {}
    for table, column in ((UNITS, UNITS.c.path), *((t, t.c.unit_path) for t in SCOPED)):
        done = conn.execute(
            update(table)
            .where(column.startswith(old, autoescape=True))
            .values({column.key: literal(new).concat(func.substr(column, len(old) + 1))})
        )
        counts[table.name] = done.rowcount
    return {
        "path": [old, new],
        "subunits": counts.pop(UNITS.name) - 1,
        "records": {k: v for k, v in counts.items() if v},
    }


def export_units(conn: Connection, path: Path) -> int:
    """The whole tree, parents before children, as .xlsx or .csv; returns the row count."""
    parent = UNITS.alias("parent")
    rows = conn.execute(
        select(UNITS.c.code, UNITS.c.name, parent.c.code.label("p"), UNITS.c.level, UNITS.c.kind)
        .outerjoin(parent, parent.c.id == UNITS.c.parent_id)
        .order_by(UNITS.c.path)
    )
    return export_file(path, UNIT_TABLE, ([r.code, r.name, r.p, r.level, r.kind] for r in rows))
