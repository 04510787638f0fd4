"""Reading nominations for lists and queues: filters, text search, keyset pagination."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, or_, select, tuple_

from khenthuong.services.actors import Actor
from khenthuong.services.nominations import allowed_triggers
from khenthuong.storage.models import NOMINATIONS, UNITS
from khenthuong.storage.paths import path_filter
from khenthuong.textsearch import fold
from khenthuong.workflow.loader import WorkflowRegistry

MAX_PAGE = 500

LIST_COLUMNS = (
    "id",
    "workflow",
    "workflow_version",
    "state",
    "closed",
    "version",
    "nominee_name",
    "year",
    "award_code",
    "created_by",
    "created_at",
    "state_entered_at",
    "due_at",
    "unit_path",
)


@dataclass(frozen=True)
class NominationFilter:
    """Criteria for a list; every field is optional and they combine with AND."""

    workflow: str | None = None
    state: str | None = None
    unit: str | None = None
    """Unit code: nominations proposed by this unit or any unit below it."""
    year: int | None = None
    overdue: bool | None = None
    closed: bool | None = None
    q: str | None = None
    """Text in the nominee's name; accents, case and NFC/NFD forms are ignored."""
    after: int | None = None
    """Keyset cursor: the last id of the previous page (ids descend)."""
    limit: int = 50


def _unit_path(conn: Connection, code: str) -> str | None:
    return conn.execute(select(UNITS.c.path).where(UNITS.c.code == code)).scalar()


def list_nominations(
    conn: Connection,
    f: NominationFilter,
    paths: tuple[str, ...] | None,
    now: datetime,
) -> tuple[list[dict[str, Any]], int | None]:
    """One page of nominations the caller may read, newest first, and the next cursor."""
    n = NOMINATIONS
    units = UNITS
    query = (
        select(*(n.c[c] for c in LIST_COLUMNS), units.c.code.label("unit_code"))
        .join(units, units.c.id == n.c.proposing_unit_id)
        .where(path_filter(n.c.unit_path, paths))
    )
    if f.workflow:
        query = query.where(n.c.workflow == f.workflow)
    if f.state:
        query = query.where(n.c.state == f.state)
    if f.unit:
        path = _unit_path(conn, f.unit)
        if path is None:
            return [], None
        query = query.where(n.c.unit_path.startswith(path, autoescape=True))
    if f.year is not None:
        query = query.where(n.c.year == f.year)
    if f.closed is not None:
        query = query.where(n.c.closed.is_(f.closed))
    if f.overdue is True:
        query = query.where(n.c.closed.is_(False), n.c.due_at < now)
    elif f.overdue is False:
        query = query.where(or_(n.c.due_at.is_(None), n.c.due_at >= now, n.c.closed.is_(True)))
    if f.q and f.q.strip():
        for word in fold(f.q).split():
            query = query.where(n.c.search_key.contains(word, autoescape=True))
    if f.after is not None:
        query = query.where(n.c.id < f.after)
    limit = max(1, min(f.limit, MAX_PAGE))
    rows = [
        dict(r) for r in conn.execute(query.order_by(n.c.id.desc()).limit(limit + 1)).mappings()
    ]
    next_cursor = rows[limit - 1]["id"] if len(rows) > limit else None
    return rows[:limit], next_cursor


def actionable_states(
    registry: WorkflowRegistry, actor: Actor
) -> dict[tuple[str, int, str], list[str]]:
    """(workflow, version, state) -> roles of the actor that can act there."""
    mine = {g.role for g in actor.grants}
    found: dict[tuple[str, int, str], list[str]] = {}
    for loaded in registry.all():
        wf = loaded.definition
        for t in wf.transitions:
            roles = sorted(mine & set(t.roles))
            if not roles:
                continue
            for source in t.source:
                key = (wf.name, wf.version, source)
                found[key] = sorted(set(found.get(key, [])) | set(roles))
    return found


def my_queue(
    conn: Connection,
    registry: WorkflowRegistry,
    actor: Actor,
    *,
    limit: int = 100,
    after: tuple[datetime | None, int] | None = None,
) -> list[dict[str, Any]]:
    """Open nominations waiting for one of the actor's roles in their scope, overdue first.

    Ordered by due date (no due date last) then id; `after` is the keyset cursor
    (due_at, id) of the last row shown, with due_at None once past the dated items.
    Side actions alone (withdraw, revoke) do not put an item in the queue, and where a state
    names its responsible role, it waits for holders of that role only: a council secretary
    who may still return a file awaiting the head of unit's decision does not see it as
    work of theirs.
    """
    side = {"withdraw", "revoke"}
    n = NOMINATIONS
    units = UNITS
    # (workflow, version, state) keys grouped by the scope paths that may act on them: one
    # row-value IN list per group (a single OR of a term per state made SQLite evaluate
    # every term on every row it walked: most of the page's time, bench/http.py).
    by_paths: dict[tuple[str, ...], list[tuple[str, int, str]]] = {}
    for (name, version, state), acting in actionable_states(registry, actor).items():
        wf = registry.get(name, version).definition
        responsible = wf.state(state).role
        if responsible is not None and responsible not in acting:
            continue
        roles = [responsible] if responsible is not None else acting
        forward = [
            t
            for t in wf.transitions_from(state)
            if t.trigger not in side and set(t.roles) & set(roles)
        ]
        if not forward:
            continue
        role_paths = tuple(
            dict.fromkeys(
                g.scope_path
                for g in actor.grants
                if g.role in roles and any(g.role in t.roles for t in forward)
            )
        )
        by_paths.setdefault(role_paths, []).append((name, version, state))
    if not by_paths:
        return []
    key = tuple_(n.c.workflow, n.c.workflow_version, n.c.state)
    wanted = [
        and_(key.in_(keys), path_filter(n.c.unit_path, paths)) for paths, keys in by_paths.items()
    ]
    base = (
        select(*(n.c[c] for c in LIST_COLUMNS), units.c.code.label("unit_code"))
        .join(units, units.c.id == n.c.proposing_unit_id)
        .where(n.c.closed.is_(False), or_(*wanted))
    )
    # Two ordered reads instead of one "nulls last" sort: the first walks the
    # (closed, due_at) index in due order and stops at the limit; undated items follow.
    rows: list[Any] = []
    if after is None or after[0] is not None:
        dated = base.where(n.c.due_at.is_not(None))
        if after is not None:
            dated = dated.where(
                or_(n.c.due_at > after[0], and_(n.c.due_at == after[0], n.c.id > after[1]))
            )
        rows = list(conn.execute(dated.order_by(n.c.due_at, n.c.id).limit(limit * 2)).mappings())
    if len(rows) < limit * 2:
        undated = base.where(n.c.due_at.is_(None))
        if after is not None and after[0] is None:
            undated = undated.where(n.c.id > after[1])
        rows += conn.execute(undated.order_by(n.c.id).limit(limit * 2 - len(rows))).mappings()
    out: list[dict[str, Any]] = []
    # The actor's steps depend on the workflow version, the state and the unit only.
    seen: dict[tuple[str, int, str, str], list[str]] = {}
    for row in rows:
        group = (row["workflow"], row["workflow_version"], row["state"], row["unit_path"])
        triggers = seen.get(group)
        if triggers is None:
            triggers = [t.trigger for t in allowed_triggers(registry, row, actor)]
            seen[group] = triggers
        if any(t not in side for t in triggers):
            item = dict(row)
            item["actions"] = list(triggers)
            out.append(item)
        if len(out) >= limit:
            break
    return out
