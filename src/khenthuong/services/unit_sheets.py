"""What the unit-year imports (registrations, ratings) share: header aliases compared without
case or diacritics, unit and award look-ups, who may write a unit's records."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from khenthuong.errors import Forbidden, NotFound
from khenthuong.rules.catalog import Catalog
from khenthuong.services.access import READ_ALL_ROLES
from khenthuong.services.actors import Actor
from khenthuong.services.proposal_import import ImportRefused
from khenthuong.sheets import SheetError, SheetRow, read_rows
from khenthuong.storage.models import UNITS
from khenthuong.textsearch import fold


def header_key(header: str) -> str:
    """A header or a name compared without case, diacritics or spacing."""
    return " ".join(fold(header).replace("/", " / ").split())


class Headers(Collection[str]):
    """Accepted header texts for `sheets.read_rows`, from {key: (spellings…)}: membership
    ignores case and diacritics; iterating gives the template's spellings."""

    def __init__(self, columns: Mapping[str, tuple[str, ...]]) -> None:
        self.alias = {header_key(h): k for k, names in columns.items() for h in names}
        self.template = [names[0] for names in columns.values()]

    def key(self, header: str) -> str:
        """The internal key of a header text."""
        return self.alias[header_key(header)]

    def __contains__(self, header: object) -> bool:
        return isinstance(header, str) and header_key(header) in self.alias

    def __iter__(self) -> Iterator[str]:
        return iter(self.template)

    def __len__(self) -> int:
        return len(self.template)


def unit_row(conn: Connection, code: str) -> Any:
    """The unit of `code` (id, code, name, path); NotFound naming it otherwise."""
    row = conn.execute(
        select(UNITS.c.id, UNITS.c.code, UNITS.c.name, UNITS.c.path).where(UNITS.c.code == code)
    ).first()
    if row is None:
        raise NotFound(f"Không có đơn vị mã {code!r}")
    return row


def units_under(conn: Connection, path: str) -> list[Any]:
    """The units of a subtree (the unit itself first)."""
    return list(
        conn.execute(
            select(UNITS.c.id, UNITS.c.code, UNITS.c.name, UNITS.c.path)
            .where(UNITS.c.path.startswith(path, autoescape=True))
            .order_by(UNITS.c.path)
        )
    )


def find_unit(units: list[Any], text: str) -> list[Any]:
    """Units whose code is `text` (any case) or whose name equals it without case or
    diacritics."""
    key = header_key(text)
    return [u for u in units if u.code.lower() == text.lower() or header_key(u.name) == key]


def award_of(catalog: Catalog, text: str) -> str | None:
    """The catalog code written as a code (any case) or as its Vietnamese name."""
    text = text.strip()
    if text.upper() in catalog.awards:
        return text.upper()
    key = header_key(text)
    return next((c for c in catalog.codes() if header_key(catalog.award(c).name.vi) == key), None)


def check_writer(actor: Actor, unit_path: str, what: str) -> None:
    """Forbidden unless the actor holds a role that writes (not an auditor's) over the unit."""
    writable = [g.role for g in actor.grants if g.role not in READ_ALL_ROLES]
    if not writable or actor.grant_for(writable, unit_path) is None:
        raise Forbidden(f"{actor.display_name} không có quyền ghi {what}")


def sheet_rows(path: Path, headers: Headers, label: str) -> list[SheetRow]:
    """The data rows of an imported file; ImportRefused (`FILE:ROW`) for a bad or empty file."""
    try:
        rows = list(read_rows(path, headers))
    except SheetError as exc:
        raise ImportRefused([f"{label}:{exc.row}: {exc.message}"]) from None
    if not rows:
        raise ImportRefused([f"{label}:2: danh sách không có dòng nào (chỉ có tiêu đề)"])
    return rows
