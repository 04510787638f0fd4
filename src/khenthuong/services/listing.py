"""Reading nominations for lists and queues: filters, text search, keyset pagination."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import (
    ARRAY,
    BindParameter,
    Connection,
    Integer,
    Select,
    String,
    and_,
    any_,
    bindparam,
    column,
    false,
    func,
    or_,
    select,
    type_coerce,
    union_all,
)

from khenthuong.services.actors import Actor
from khenthuong.services.nominations import allowed_triggers
from khenthuong.storage.models import NOMINATIONS, UNITS
from khenthuong.storage.paths import path_filter
from khenthuong.storage.prepared import Prepared
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
    query = query.order_by(n.c.id.desc()).limit(limit + 1)
    if conn.dialect.name == "sqlite":  # one row of JSON (see `_candidates`): 50 rows cost
        # 136 thread switches and 1.8 ms of system time under four requests, now 30 and 0.65
        rows = _unpacked(conn.execute(_packed(query)).scalar_one())
        rows.sort(key=lambda r: -r["id"])  # the aggregate keeps the order; not promised
    else:
        rows = [dict(r) for r in conn.execute(query).mappings()]
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


def _queue_groups(
    registry: WorkflowRegistry, actor: Actor
) -> dict[tuple[str, ...], list[tuple[str, int, str]]]:
    """(workflow, version, state) keys of the actor's queue by the scope paths acting there."""
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
            if t.trigger not in _SIDE and set(t.roles) & set(roles)
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
    return by_paths


_SIDE = frozenset({"withdraw", "revoke"})
"""Side actions: alone they do not put an item in the queue."""

_KEY_COLUMNS = ("id", "due_at", "workflow", "workflow_version", "state", "unit_path")
"""What the first read of the queue takes: all in ix_nomination_queue (no table rows)."""

MAX_BRANCHES = 400
"""Keys per UNION ALL statement (SQLite allows 500 terms in a compound SELECT)."""

QUEUE_ROOM = 10
"""Queue keys read beyond a page's length, for items the caller's grants do not cover."""


@dataclass(frozen=True)
class _Plan:
    """What an actor's queue needs from the workflows, worked out once per actor."""

    groups: dict[tuple[str, ...], list[tuple[str, int, str]]]
    steps: dict[tuple[str, int, str, str], tuple[list[str], bool]]
    """The actor's steps by (workflow, version, state, unit path), and whether one of them
    goes forward (not a side action), filled as pages ask."""


_PLANS: WeakKeyDictionary[WorkflowRegistry, dict[tuple[int, Actor], _Plan]] = WeakKeyDictionary()
MAX_PLANS = 1024
"""Actors remembered per registry (then it starts over)."""


def _plan(registry: WorkflowRegistry, actor: Actor) -> _Plan:
    plans = _PLANS.setdefault(registry, {})
    key = (len(registry), actor)  # versions are only ever added; an actor is immutable
    found = plans.get(key)
    if found is None:
        if len(plans) >= MAX_PLANS:
            plans.clear()
        found = plans[key] = _Plan(_queue_groups(registry, actor), {})
    return found


def _like_prefix(path: str) -> str:
    """`path%` for LIKE … ESCAPE '/' (what `startswith(autoescape=True)` sends)."""
    return path.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


@lru_cache(maxsize=256)
def _candidates_statement(
    shape: tuple[int, ...], dated: bool, after: bool, limit_each: bool = False
) -> Select[Any]:
    """The UNION ALL of one SELECT per key, `shape` giving each key's number of scope paths;
    built once per shape with bind parameters (building it per call cost more than the read).

    With `limit_each` (PostgreSQL) every branch is ordered and limited too: the planner then
    merges the branches in index order (Merge Append) and reads about `limit` index entries in
    all; without it, it read every in-scope entry of every key and sorted them (9,000 entries
    and 2.9 ms for a ministry officer at 100,000 nominations, against 0.4 ms). SQLite merges
    the plain UNION ALL in index order already (and would not flatten limited branches)."""
    n = NOMINATIONS
    branches = []
    for i, paths in enumerate(shape):
        scope = [n.c.unit_path.like(bindparam(f"p{i}_{j}"), escape="/") for j in range(paths)]
        branch = select(*(n.c[c] for c in _KEY_COLUMNS)).where(
            n.c.workflow == bindparam(f"w{i}"),
            n.c.workflow_version == bindparam(f"v{i}"),
            n.c.state == bindparam(f"s{i}"),
            n.c.closed == false(),
            or_(*scope) if scope else false(),
        )
        if dated:
            branch = branch.where(n.c.due_at.is_not(None))
            if after:
                due: BindParameter[Any] = bindparam("after_due")
                last: BindParameter[Any] = bindparam("after_id")
                branch = branch.where(or_(n.c.due_at > due, and_(n.c.due_at == due, n.c.id > last)))
        else:
            branch = branch.where(n.c.due_at.is_(None))
            if after:
                branch = branch.where(n.c.id > bindparam("after_id"))
        if limit_each and len(shape) > 1:
            keys = (n.c.due_at, n.c.id) if dated else (n.c.id,)
            branch = branch.order_by(*keys).limit(bindparam("limit"))
        branches.append(branch)
    union = (branches[0] if len(branches) == 1 else union_all(*branches)).subquery()
    order = (union.c.due_at, union.c.id) if dated else (union.c.id,)
    # All the union's columns (due_at too): SQLite then flattens the outer SELECT into the
    # compound and merges the branches in index order, stopping at the limit (selecting
    # fewer columns made it read every branch whole and sort: 2-3 ms instead of 0.5).
    # due_at is read as the driver gives it (type_coerce renders no CAST): the keys only
    # order the page, and converting 202 values to aware datetimes was a tenth of the call.
    columns = [type_coerce(c, _RAW) if c.key == "due_at" else c for c in union.c]
    return select(*columns).order_by(*order).limit(bindparam("limit"))


_RAW = String()
"""A type with no result processing: a value comes back as the driver returns it."""


def _candidates(
    conn: Connection,
    groups: dict[tuple[str, ...], list[tuple[str, int, str]]],
    *,
    dated: bool,
    after: tuple[datetime | None, int] | None,
    limit: int,
) -> list[Any]:
    """The first `limit` queue keys in due order (dated) or id order (undated).

    One SELECT per (workflow, version, state) key, glued with UNION ALL: each walks
    ix_nomination_queue (workflow, workflow_version, state, closed, due_at, id, unit_path)
    for its key only, filtering the scope on the index entry, so the read touches the
    officer's own items and no table row, whatever else is open (a single walk of all open
    items in due order looked up every row it passed: bench/http.py).

    On SQLite the keys come back as one row, a JSON array (`_packed`): Python's sqlite3
    releases the GIL at every row it steps, and with four requests in one process each release
    was a switch of threads (265 a request, 2.9 ms of system time beside 6.9 ms of user time;
    0.6 ms once packed). SQLite's plan is unchanged: the merge of the branches' covering index
    walks runs as a co-routine under the aggregate."""
    keys = [(paths, key) for paths, group in groups.items() for key in group]
    found: list[Any] = []
    for start in range(0, len(keys), MAX_BRANCHES):
        chunk = keys[start : start + MAX_BRANCHES]
        params: dict[str, Any] = {"limit": limit}
        if after is not None:
            params.update(after_due=after[0], after_id=after[1])
        for i, (paths, (name, version, state)) in enumerate(chunk):
            params.update({f"w{i}": name, f"v{i}": version, f"s{i}": state})
            params.update({f"p{i}_{j}": _like_prefix(p) for j, p in enumerate(paths)})
        shape = tuple(len(paths) for paths, _ in chunk)
        sqlite = conn.dialect.name == "sqlite"
        read = _candidates_read(shape, dated, after is not None, sqlite)
        if sqlite:
            found += [tuple(key) for key in json.loads(_value(read, conn, params))]
        else:
            found += read.all(conn, params)
    found.sort(key=(lambda r: (r[1], r[0])) if dated else (lambda r: r[0]))
    return found[:limit]


def _packed(statement: Select[Any]) -> Select[Any]:
    """`statement`'s rows as one JSON array of arrays in one row (SQLite): the driver steps
    once, where it would let go of the GIL at every row (see `_candidates`)."""
    inner = statement.subquery()
    return select(func.json_group_array(func.json_array(*inner.c)))


@lru_cache(maxsize=256)
def _candidates_read(shape: tuple[int, ...], dated: bool, after: bool, sqlite: bool) -> Prepared:
    """What `_candidates` runs for a shape, compiled once and run on the driver's cursor
    (storage/prepared.py): on SQLite packed in one row; on PostgreSQL with its branches
    limited, in `$n` form (psycopg's own cursor rewrote the 7-18 KB of `%(name)s` text at
    every call, 0.9 ms of Python a request on a 2-core VM: it keeps that rewrite only for
    statements under 4 KB)."""
    if sqlite:
        return Prepared(_packed(_candidates_statement(shape, dated, after)))
    return Prepared(_candidates_statement(shape, dated, after, True))


def _value(read: Prepared, conn: Connection, params: dict[str, Any]) -> Any:
    """The value of a read that gives one row of one column (an aggregate's)."""
    row = read.first(conn, params)
    assert row is not None, "an aggregate gives a row"
    return row[0]


def _unpacked(packed: str) -> list[dict[str, Any]]:
    """A page's rows from SQLite's JSON (`_packed`), as `_page_row` gives them."""
    return [_page_row(values) for values in json.loads(packed)]


def _page_row(values: Sequence[Any]) -> dict[str, Any]:
    """A page row's values (`LIST_COLUMNS` and the unit's code, as the driver gives them) with
    the types the columns give: `closed` a bool, the timestamps aware UTC datetimes."""
    row = dict(zip(_PAGE_NAMES, values, strict=True))
    row["closed"] = bool(row["closed"])
    for name in _TIMES:
        row[name] = utc_time(row[name])
    return row


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

    Two reads: the keys of the page from the index alone (`_candidates`), then the rows of
    the items kept, by id (on SQLite each read is one row of JSON: see `_candidates`).
    """
    plan = _plan(registry, actor)
    groups = plan.groups
    if not groups:
        return []
    seen = plan.steps

    def steps(group: tuple[Any, ...]) -> tuple[list[str], bool]:
        """The actor's steps for a (workflow, version, state, unit path)."""
        found = seen.get(group)
        if found is None:
            keys = dict(
                zip(("workflow", "workflow_version", "state", "unit_path"), group, strict=True)
            )
            triggers = [t.trigger for t in allowed_triggers(registry, keys, actor)]
            found = seen[group] = (triggers, any(t not in _SIDE for t in triggers))
        return found

    kept: list[int] = []
    dated = after is None or after[0] is not None
    # A little room for items the actor's grants turn out not to cover; the next keys are
    # read from where the last read stopped while the page is short (asking for twice the
    # page at once read twice the index entries every time: 1.3 against 0.8 ms a call).
    want = limit + QUEUE_ROOM
    while len(kept) < limit:
        keys = _candidates(conn, groups, dated=dated, after=after, limit=want)
        for key in keys:  # (id, due_at, workflow, workflow_version, state, unit_path)
            if steps(key[2:])[1]:
                kept.append(key[0])
                if len(kept) == limit:
                    break
        if len(keys) == want:
            last = keys[-1]
            after = (utc_time(last[1]), last[0]) if dated else (None, last[0])
            want *= 2
        elif dated:
            dated, after = False, None  # the dated items are done: the undated ones next
        else:
            break
    if not kept:
        return []
    if conn.dialect.name == "sqlite":
        packed = _value(_PAGE_ROWS_PACKED, conn, {"ids": json.dumps(kept)})
        rows = {r["id"]: r for r in _unpacked(packed)}
    else:
        rows = {r[0]: _page_row(r) for r in _PAGE_ROWS_PG.all(conn, {"ids": kept})}
    out: list[dict[str, Any]] = []
    for nid in kept:
        item = rows.get(nid)
        if item is None or item["closed"]:
            continue  # gone or closed between the two reads
        triggers, forward = steps(
            (item["workflow"], item["workflow_version"], item["state"], item["unit_path"])
        )
        if forward:
            item["actions"] = list(triggers)
            out.append(item)
    return out


_PAGE_NAMES = (*LIST_COLUMNS, "unit_code")
_TIMES = ("created_at", "state_entered_at", "due_at")
"""The page rows' timestamps: read as the driver gives them, made aware UTC by `utc_time`."""


def utc_time(value: Any) -> datetime | None:
    """A timestamp as the driver returned it (SQLite: the text SQLAlchemy stored; PostgreSQL:
    an aware datetime) as the aware UTC datetime the column's type would give: what
    `UTCDateTime` does after `DateTime`'s own conversion, without their two layers per value
    (300 values a queue page)."""
    if value is None:
        return None
    if isinstance(value, str):
        try:  # SQLite's naive UTC text, read aware: 0.23 µs against 1.2 for the parse and
            # `replace(tzinfo=UTC)`, whose keyword parsing alone costs 1 µs (300 a page)
            return datetime.fromisoformat(value + "+00:00")
        except ValueError:  # text that carries its own offset
            value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    if value.tzinfo is UTC:  # PostgreSQL's (storage/db.py sets the session's zone to UTC)
        return value
    if value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


_PAGE_ROWS = (
    select(
        *(
            type_coerce(NOMINATIONS.c[c], _RAW).label(c) if c in _TIMES else NOMINATIONS.c[c]
            for c in LIST_COLUMNS
        ),
        UNITS.c.code.label("unit_code"),
    )
    .join(UNITS, UNITS.c.id == NOMINATIONS.c.proposing_unit_id)
    # = ANY(array): one parameter and one SQL text whatever the page's length, which psycopg
    # parses once (an IN of 101 parameters was expanded by SQLAlchemy and parsed again by
    # psycopg at every call: past 50 parameters it caches nothing, a fifth of the request).
    .where(NOMINATIONS.c.id == any_(bindparam("ids", type_=ARRAY(Integer))))
)

_PAGE_ROWS_PG = Prepared(_PAGE_ROWS)
"""`_PAGE_ROWS` on the driver's cursor (its times read raw, as `_page_row` converts them)."""

_PAGE_ROWS_PACKED = Prepared(
    select(
        func.json_group_array(
            func.json_array(*(NOMINATIONS.c[c] for c in LIST_COLUMNS), UNITS.c.code)
        )
    )
    .join_from(NOMINATIONS, UNITS, UNITS.c.id == NOMINATIONS.c.proposing_unit_id)
    .where(
        NOMINATIONS.c.id.in_(
            select(column("value")).select_from(func.json_each(bindparam("ids", type_=String)))
        )
    )
)
