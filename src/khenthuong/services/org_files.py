"""The organisation from files: what the unit tree, person register and officer account
imports share — reading a table with Vietnamese or English headers, the plan of differences a
preview shows and an import applies, the administrator's scope, audit events, exports.

An import never overwrites silently: it compares every row with the record, lists each
difference as a `Change` (the preview), and applies them in one transaction with one audit
event per change on the record's own stream (`unit:ID`, `person:ID`, `user:ID`) and one event
for the import itself on `org:import` (file name, SHA-256, counts). A file with any bad row
changes nothing; every bad row is reported as `FILE:ROW: message`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, text

from khenthuong.audit.bulk import NewEvent, append_events
from khenthuong.errors import Forbidden, KhenthuongError
from khenthuong.services.actors import Actor
from khenthuong.sheets import SheetError, SheetRow, read_rows
from khenthuong.storage.models import UNITS
from khenthuong.tabular import write_table

IMPORT_STREAM = "org:import"
"""Stream of the events that record each import as a whole."""
CHANGE_NAMES = {
    "unit_added": "thêm đơn vị",
    "unit_renamed": "đổi tên đơn vị",
    "unit_changed": "sửa đơn vị",
    "unit_moved": "chuyển đơn vị cấp trên",
    "person_added": "thêm cá nhân",
    "person_moved": "chuyển đơn vị",
    "person_changed": "sửa thông tin cá nhân",
    "person_left": "nghỉ",
    "person_returned": "trở lại",
    "account_added": "thêm tài khoản",
    "account_changed": "sửa tài khoản",
    "roles_changed": "đổi vai trò",
    "account_disabled": "khóa tài khoản",
    "account_enabled": "mở lại tài khoản",
}
"""What each kind of change is called in previews."""


class OrgFileRefused(KhenthuongError):
    """The file cannot be imported; `errors` are `FILE:ROW: message` lines (Vietnamese)."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class Change:
    """One difference between a row of the file and the record."""

    kind: str
    """unit_added, unit_renamed, unit_changed, unit_moved, person_added, person_moved, person_changed,
    person_left, person_returned, account_added, account_changed, roles_changed,
    account_disabled, account_enabled."""
    row: int | None
    """The row of the file (None: a record the file leaves out, e.g. a person who left)."""
    text: str
    """What changes, in Vietnamese, with names rather than codes."""
    stream: str | None = None
    """The record's audit stream (None until a new record has its id)."""
    payload: dict[str, Any] = field(default_factory=dict)
    """What the audit event records: before and after."""
    data: dict[str, Any] = field(default_factory=dict)
    """What applying needs (ids, values); not shown."""


@dataclass
class ImportPlan:
    """What an import of one file would change."""

    what: str
    """units, persons or users."""
    source: str
    sha256: str
    rows: int = 0
    changes: list[Change] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """Things the officer must do afterwards (e.g. set the new accounts' passwords)."""

    @property
    def unchanged(self) -> int:
        """Rows of the file that match the record."""
        return self.rows - len({c.row for c in self.changes if c.row is not None})

    def in_row_order(self) -> list[Change]:
        """The changes as the file lists them (records it leaves out last)."""
        return sorted(self.changes, key=lambda c: (c.row is None, c.row or 0))

    def summary(self) -> str:
        """'2 thêm đơn vị, 1 đổi tên đơn vị' (or 'không có thay đổi')."""
        counts = self.counts()
        if not counts:
            return "không có thay đổi"
        return ", ".join(f"{n} {CHANGE_NAMES.get(k, k)}" for k, n in counts.items())

    def counts(self) -> dict[str, int]:
        """Changes by kind."""
        out: dict[str, int] = {}
        for change in self.changes:
            out[change.kind] = out.get(change.kind, 0) + 1
        return out


@dataclass(frozen=True)
class Table:
    """The columns of one kind of file: canonical name -> accepted header names."""

    columns: Mapping[str, tuple[str, ...]]
    required: tuple[str, ...]
    title: str

    def headers(self) -> list[str]:
        """The Vietnamese header of each column, as exports write them."""
        return [names[0] for names in self.columns.values()]

    def accepted(self) -> dict[str, str]:
        """Every accepted header (lower case) -> canonical name."""
        out: dict[str, str] = {}
        for canonical, names in self.columns.items():
            out[canonical] = canonical
            for name in names:
                out[name.lower()] = canonical
        return out


def read_table(path: Path, table: Table, display_name: str | None = None) -> list[SheetRow]:
    """Every data row with canonical column names; a bad header or format is OrgFileRefused.
    Row errors (formulas without values, too many cells) stay on their rows."""
    name = display_name or path.name
    accepted = table.accepted()
    try:
        raw = list(read_rows(path, accepted))
    except SheetError as exc:
        raise OrgFileRefused([f"{name}:{exc.row}: {exc.message}"]) from None
    except OSError as exc:
        raise OrgFileRefused([f"{name}:1: không đọc được tệp ({exc.strerror or exc})"]) from None
    rows = [SheetRow(r.number, {accepted[k]: v for k, v in r.values.items()}, r.error) for r in raw]
    present = set().union(*(r.values for r in rows)) if rows else set()
    missing = [table.columns[c][0] for c in table.required if rows and c not in present]
    if missing:
        raise OrgFileRefused([f"{name}:1: thiếu cột {', '.join(missing)}"])
    return rows


def file_digest(path: Path) -> str:
    """SHA-256 of the file, recorded with the import."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


class RowErrors:
    """The `FILE:ROW: message` lines of one file, raised together."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lines: list[tuple[int, str]] = []

    def add(self, row: int, message: str) -> None:
        self.lines.append((row, message))

    def raise_any(self) -> None:
        if self.lines:
            ordered = sorted(self.lines, key=lambda item: item[0])
            raise OrgFileRefused([f"{self.name}:{row}: {message}" for row, message in ordered])


_IMPORT_LOCK = 0x6B74_6F72_6700
"""PostgreSQL advisory lock key that serialises organisation imports ('ktorg')."""


def hold_import_lock(conn: Connection) -> None:
    """Make imports of the organisation wait for each other until the transaction ends, so
    two never plan from the same record (SQLite: write transactions already are serial)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _IMPORT_LOCK})


def admin_paths(actor: Actor) -> tuple[str, ...]:
    """Subtrees the actor administers; Forbidden unless they hold `admin` somewhere."""
    paths = tuple(g.scope_path for g in actor.grants if g.role == "admin")
    if not paths:
        raise Forbidden("Chỉ quản trị hệ thống được nhập đơn vị, cá nhân và tài khoản từ tệp")
    return paths


def units_by_code(conn: Connection) -> dict[str, Any]:
    """Every unit (id, code, name, path) by its code."""
    query = select(UNITS.c.id, UNITS.c.code, UNITS.c.name, UNITS.c.path)
    return {r.code: r for r in conn.execute(query)}


def within(path: str, paths: Sequence[str]) -> bool:
    """Is the unit at `path` in one of the subtrees `paths`?"""
    return any(path.startswith(p) for p in paths)


def record(
    conn: Connection,
    plan: ImportPlan,
    actor: Actor,
    events: Iterable[NewEvent],
    now: datetime | None = None,
) -> int:
    """Append the changes' events and the import's own event; returns how many were written."""
    moment = now or datetime.now(UTC)
    listed = list(events)
    listed.append(
        NewEvent(
            IMPORT_STREAM,
            f"import_{plan.what}",
            {
                "file": plan.source,
                "sha256": plan.sha256,
                "rows": plan.rows,
                "changes": plan.counts(),
            },
        )
    )
    return append_events(
        conn, listed, actor=actor.username, actor_unit=actor.unit_code, actor_role="admin",
        now=moment,
    )  # fmt: skip


def export_file(path: Path, table: Table, rows: Iterable[Sequence[Any]]) -> int:
    """Write `rows` under the table's Vietnamese headers as .xlsx or .csv (by suffix)."""
    listed = list(rows)
    write_table(path, table.title, table.headers(), listed)
    return len(listed)


def yes_no(text: str) -> bool | None:
    """'có'/'x'/'1'/'yes'/'true' -> True, 'không'/'0'/'no'/'false' -> False, else None."""
    value = text.strip().casefold()
    if value in ("có", "co", "x", "1", "yes", "true", "c"):
        return True
    if value in ("không", "khong", "0", "no", "false", "k"):
        return False
    return None
