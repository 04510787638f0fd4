"""Reading the registers of council sessions and signed decisions a reader may see, one
keyset page at a time (newest first), for the API, the pages and the CLI."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, exists, func, not_, select, true

from khenthuong.storage.councils import COUNCIL_ITEMS, COUNCIL_SESSIONS
from khenthuong.storage.decisions import DECISION_ITEMS, DECISIONS
from khenthuong.storage.models import NOMINATIONS, UNITS
from khenthuong.storage.paths import path_filter


def decision_scope(paths: tuple[str, ...] | None) -> ColumnElement[bool]:
    """Decisions whose every nomination lies in `paths` (None: every decision)."""
    if paths is None:
        return true()
    item, nom = DECISION_ITEMS.alias("scope_item"), NOMINATIONS.alias("scope_nomination")
    outside = (
        select(item.c.id)
        .join(nom, nom.c.id == item.c.nomination_id)
        .where(
            item.c.decision_id == DECISIONS.c.id,
            not_(path_filter(nom.c.unit_path, paths)),
        )
        .correlate(DECISIONS)
    )
    return not_(exists(outside))


def _subtree(conn: Connection, code: str) -> str | None:
    return conn.execute(select(UNITS.c.path).where(UNITS.c.code == code)).scalar()


def council_sessions(
    conn: Connection,
    paths: tuple[str, ...] | None,
    *,
    unit: str | None = None,
    year: int | None = None,
    status: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Sessions of councils in `paths` (and under `unit`), held in `year`, open or closed,
    newest first, with ids below `before`; at most `limit`, each with its agenda size."""
    s = COUNCIL_SESSIONS
    items = (
        select(func.count(COUNCIL_ITEMS.c.id))
        .where(COUNCIL_ITEMS.c.session_id == s.c.id)
        .correlate(s)
        .scalar_subquery()
    )
    query = (
        select(
            s.c.id, s.c.title, s.c.held_on, s.c.status, s.c.closed_at,
            UNITS.c.code.label("unit"), UNITS.c.name.label("unit_name"),
            items.label("items"),
        )
        .join(UNITS, UNITS.c.id == s.c.unit_id)
        .where(path_filter(UNITS.c.path, paths))
    )  # fmt: skip
    if unit:
        path = _subtree(conn, unit)
        if path is None:
            return []
        query = query.where(UNITS.c.path.startswith(path, autoescape=True))
    if year is not None:
        query = query.where(s.c.held_on >= date(year, 1, 1), s.c.held_on <= date(year, 12, 31))
    if status:
        query = query.where(s.c.status == status)
    if before is not None:
        query = query.where(s.c.id < before)
    return [dict(r) for r in conn.execute(query.order_by(s.c.id.desc()).limit(limit)).mappings()]


def decision_summaries(
    conn: Connection,
    paths: tuple[str, ...] | None,
    *,
    year: int | None = None,
    authority: str | None = None,
    before: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Signed decisions wholly within `paths`, newest first, with ids below `before`: number,
    date, signer, authority (code and name), award, how many nominees and the money."""
    d = DECISIONS
    query = (
        select(
            d.c.id, d.c.number, d.c.decided_on, d.c.signer, d.c.award_code,
            UNITS.c.code.label("authority"), UNITS.c.name.label("authority_name"),
            func.count(DECISION_ITEMS.c.id).label("nominations"),
            func.coalesce(func.sum(DECISION_ITEMS.c.amount_vnd), 0).label("total_vnd"),
        )
        .join(UNITS, UNITS.c.id == d.c.authority_unit_id)
        .join(DECISION_ITEMS, DECISION_ITEMS.c.decision_id == d.c.id)
        .where(decision_scope(paths))
        .group_by(d.c.id, UNITS.c.code, UNITS.c.name)
    )  # fmt: skip
    if year is not None:
        query = query.where(d.c.number_year == year)
    if authority:
        query = query.where(UNITS.c.code == authority)
    if before is not None:
        query = query.where(d.c.id < before)
    return [dict(r) for r in conn.execute(query.order_by(d.c.id.desc()).limit(limit)).mappings()]
