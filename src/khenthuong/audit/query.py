"""Filter the audit trail: who did what, when and why."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Select, and_, or_, select

from khenthuong.storage.models import EVENTS, NOMINATIONS, UNITS
from khenthuong.storage.paths import path_filter

COLUMNS = (
    "id",
    "stream",
    "seq",
    "nomination_id",
    "workflow",
    "occurred_at",
    "actor",
    "actor_role",
    "actor_unit",
    "trigger",
    "from_state",
    "to_state",
    "comment",
    "payload",
    "hash",
)


@dataclass(frozen=True)
class AuditFilter:
    """Criteria for `query_events`; every field is optional and they combine with AND."""

    actor: str | None = None
    unit: str | None = None
    """Unit code: events by actors of this unit or any unit below it."""
    workflow: str | None = None
    trigger: str | None = None
    state: str | None = None
    """Matches either the state left or the state entered."""
    nomination_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 1000
    within: tuple[str, ...] | None = None
    """Unit paths the reader may see: events of nominations under them, or by their
    officers. None: every event (auditors)."""
    after: tuple[datetime, int] | None = None
    """Keyset cursor: (occurred_at, id) of the last event of the previous page."""


def _statement(conn: Connection, f: AuditFilter) -> Select[Any]:
    query = select(*(EVENTS.c[name] for name in COLUMNS))
    if f.actor:
        query = query.where(EVENTS.c.actor == f.actor)
    if f.unit:
        units = UNITS
        path = conn.execute(select(units.c.path).where(units.c.code == f.unit)).scalar()
        codes = (
            list(conn.execute(select(units.c.code).where(units.c.path.startswith(path))).scalars())
            if path
            else [f.unit]
        )
        query = query.where(EVENTS.c.actor_unit.in_(codes))
    if f.workflow:
        query = query.where(EVENTS.c.workflow == f.workflow)
    if f.trigger:
        query = query.where(EVENTS.c.trigger == f.trigger)
    if f.state:
        query = query.where((EVENTS.c.to_state == f.state) | (EVENTS.c.from_state == f.state))
    if f.nomination_id is not None:
        query = query.where(EVENTS.c.nomination_id == f.nomination_id)
    if f.since:
        query = query.where(EVENTS.c.occurred_at >= f.since)
    if f.until:
        query = query.where(EVENTS.c.occurred_at < f.until)
    if f.within is not None:
        noms = NOMINATIONS.c
        units = UNITS
        query = query.where(
            EVENTS.c.nomination_id.in_(select(noms.id).where(path_filter(noms.unit_path, f.within)))
            | (
                EVENTS.c.nomination_id.is_(None)
                & EVENTS.c.actor_unit.in_(
                    select(units.c.code).where(path_filter(units.c.path, f.within))
                )
            )
        )
    if f.after is not None:
        at, last = f.after
        query = query.where(
            or_(EVENTS.c.occurred_at > at, and_(EVENTS.c.occurred_at == at, EVENTS.c.id > last))
        )
    return query.order_by(EVENTS.c.occurred_at, EVENTS.c.id).limit(f.limit)


def query_events(conn: Connection, f: AuditFilter) -> Iterator[dict[str, Any]]:
    """Events matching `f`, oldest first, with the payload decoded."""
    for row in conn.execute(_statement(conn, f)).mappings():
        item = dict(row)
        item["payload"] = json.loads(item["payload"]) if item["payload"] else {}
        yield item


HISTORY_LIMIT = 100_000


def history_statement(nomination_id: int) -> Select[Any]:
    """The query of `history`: the nomination's events by `ix_event_nomination`, oldest first."""
    return _statement_plain(AuditFilter(nomination_id=nomination_id, limit=HISTORY_LIMIT))


def _statement_plain(f: AuditFilter) -> Select[Any]:
    query = select(*(EVENTS.c[name] for name in COLUMNS)).where(
        EVENTS.c.nomination_id == f.nomination_id
    )
    return query.order_by(EVENTS.c.occurred_at, EVENTS.c.id).limit(f.limit)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_HISTORY_PG = (
    "SELECT "
    + ", ".join(
        "occurred_at - timestamptz '1970-01-01 00:00:00+00'"
        if name == "occurred_at"
        else f'"{name}"'
        for name in COLUMNS
    )
    + " FROM event WHERE nomination_id = %s ORDER BY {order} LIMIT %s"
)
"""`history_statement` for the driver's own cursor (binary rows): `occurred_at` comes as the
interval since 1970-01-01 UTC, a `timedelta` that `history` adds to `_EPOCH` — the same UTC
datetime, for a twentieth of the cost of the driver's time-zone-aware loader (which converts
to the session's `ZoneInfo`) or of `datetime.replace(tzinfo=UTC)` per row."""
HISTORY_SQL_PG = _HISTORY_PG.format(order="seq")
"""What `history` runs on PostgreSQL (nomination id, limit + 1): in `ix_event_nomination`'s
order, no sort in PostgreSQL (sorted by time in Python)."""
_BY_TIME = _HISTORY_PG.format(order="occurred_at, id")
_TIME_ORDER = itemgetter(COLUMNS.index("occurred_at"), COLUMNS.index("id"))
_AS_UTC: Callable[[Any], datetime] = partial(datetime.replace, tzinfo=UTC)


def _history_rows_pg(conn: Connection, nomination_id: int) -> list[Any]:
    """The rows of `history_statement` (`occurred_at` as a `timedelta` since `_EPOCH`),
    fetched in index order and sorted by time here (the sort in PostgreSQL cost more than the
    fetch's Python part); a timeline longer than the limit is fetched by time instead, so that
    the limit keeps the same events."""
    raw = conn.connection.dbapi_connection
    with raw.cursor(binary=True) as cursor:  # type: ignore[union-attr]
        rows: list[Any] = cursor.execute(
            HISTORY_SQL_PG, (nomination_id, HISTORY_LIMIT + 1)
        ).fetchall()
        if len(rows) > HISTORY_LIMIT:
            return list(cursor.execute(_BY_TIME, (nomination_id, HISTORY_LIMIT)).fetchall())
    rows.sort(key=_TIME_ORDER)  # already in time order for one stream: linear
    return rows


def history(conn: Connection, nomination_id: int) -> list[dict[str, Any]]:
    """The full timeline of one nomination, as `query_events` gives it.

    Made for a timeline of a thousand events (bench/audit.py --history): on PostgreSQL the
    rows come through the driver's cursor (no SQLAlchemy row processing, `_history_rows_pg`);
    every payload is decoded by one `json.loads` over the array of them; each item is one
    dict display (a `dict(zip(COLUMNS, row))` per row cost three times as much)."""
    rows: Sequence[Sequence[Any]]
    to_utc: Callable[[Any], datetime]
    if conn.dialect.name == "postgresql":
        rows = _history_rows_pg(conn, nomination_id)
        to_utc = _EPOCH.__add__  # the interval since 1970 UTC
    else:
        rows = conn.execute(history_statement(nomination_id)).all()
        to_utc = _AS_UTC  # UTC already on SQLite
    at = COLUMNS.index("payload")
    payloads = json.loads("[" + ",".join(row[at] or "{}" for row in rows) + "]")
    # The names unpacked are COLUMNS, in order.
    return [
        {
            "id": id_,
            "stream": stream,
            "seq": seq,
            "nomination_id": nomination,
            "workflow": workflow,
            "occurred_at": to_utc(occurred),
            "actor": actor,
            "actor_role": role,
            "actor_unit": unit,
            "trigger": trigger,
            "from_state": from_state,
            "to_state": to_state,
            "comment": comment,
            "payload": payload,
            "hash": hash_,
        }
        for (
            id_,
            stream,
            seq,
            nomination,
            workflow,
            occurred,
            actor,
            role,
            unit,
            trigger,
            from_state,
            to_state,
            comment,
            _,
            hash_,
        ), payload in zip(rows, payloads, strict=True)
    ]
