"""The reminder scan's set work, in the database: due nominations, their recipients and
their ledger keys in one statement.

For every open nomination due before the reminder horizon whose state names a responsible
role: the holders of that role over the nomination's unit (those at the state's level when
there are any, else every holder covering the unit) and, when overdue, the leader of the
responsible unit (the nearest unit at the state's level above the proposing one, else the
top unit). `reminders.scan_due` used to work this out in Python for each nomination (10–20 s
for a full scan at 100,000 due nominations, BENCHMARKS.md); here the database joins the due
rows with what is small — the responsible role of each workflow state (a VALUES list, one
row per state, not per nomination), the role holders of each (unit, role, level) met, the
leaders — and, with `unclaimed_only`, leaves out the reminders the ledger already holds, so
a full scan over an unchanged backlog returns nothing and builds nothing in Python.

The kind of a reminder needs no working-day arithmetic per row: every row read is due
before the horizon (`today` + N working days, worked out once), so it is overdue before
today, due today, and a `before` reminder otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Integer,
    String,
    Text,
    TextClause,
    bindparam,
    cast,
    column,
    func,
    literal,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite

from khenthuong.localtime import LOCAL_TZ
from khenthuong.storage.models import NOMINATIONS
from khenthuong.storage.outbox import REMINDER_LEDGER
from khenthuong.workflow.loader import WorkflowRegistry

_SQL = """
WITH st(workflow, version, state, role, lvl) AS (VALUES {states}),
due AS (
  SELECT n.id, n.workflow, n.workflow_version, n.state, n.nominee_name, n.unit_path,
         n.due_at, {local_day} AS due_on, st.role, st.lvl
  FROM {source}
  JOIN st ON st.workflow = n.workflow AND st.version = n.workflow_version
         AND st.state = n.state
  WHERE n.closed = {false} AND n.due_at IS NOT NULL AND n.due_at < :horizon {only}
),
combos AS (SELECT DISTINCT unit_path, role, lvl FROM due),
anc AS (
  SELECT p.unit_path, a.id AS anc_id, a.path AS anc_path, a.level AS anc_level,
         length(a.path) AS depth
  FROM (SELECT DISTINCT unit_path FROM combos) p
  JOIN unit a ON substr(p.unit_path, 1, length(a.path)) = a.path
),
holders AS (
  SELECT c.unit_path, c.role, c.lvl, a.anc_level, u.email, u.full_name
  FROM combos c
  JOIN anc a ON a.unit_path = c.unit_path
  JOIN user_role r ON r.scope_unit_id = a.anc_id AND r.role = c.role
  JOIN user_account u ON u.id = r.user_id AND u.active = {true}
),
officers AS (
  SELECT h.unit_path, h.role, h.lvl, h.email, h.full_name AS name
  FROM holders h
  WHERE h.lvl = '' OR h.anc_level = h.lvl OR NOT EXISTS (
    SELECT 1 FROM holders k
    WHERE k.unit_path = h.unit_path AND k.role = h.role AND k.anc_level = h.lvl
  )
),
leaders AS (
  SELECT c.unit_path, c.lvl, lu.leader_email AS email, lu.name
  FROM (SELECT DISTINCT unit_path, lvl FROM combos) c
  JOIN unit lu ON lu.path = COALESCE(
    (SELECT a.anc_path FROM anc a
     WHERE a.unit_path = c.unit_path
       AND (a.anc_level = c.lvl OR (c.lvl = '' AND a.anc_path = c.unit_path))
     ORDER BY a.depth DESC LIMIT 1),
    (SELECT a.anc_path FROM anc a WHERE a.unit_path = c.unit_path ORDER BY a.depth LIMIT 1)
  )
  WHERE lu.leader_email IS NOT NULL AND lu.leader_email <> ''
),
kinds AS (
  SELECT d.*, CASE WHEN d.due_on < :today THEN 'overdue'
                   WHEN d.due_on = :today THEN 'due' ELSE 'before' END AS kind
  FROM due d
),
found AS (
  SELECT k.id, k.workflow, k.workflow_version, k.state, k.nominee_name, k.due_at, k.due_on,
         k.kind, o.email, o.name, 0 AS leader
  FROM kinds k
  JOIN officers o ON o.unit_path = k.unit_path AND o.role = k.role AND o.lvl = k.lvl
  UNION ALL
  SELECT k.id, k.workflow, k.workflow_version, k.state, k.nominee_name, k.due_at, k.due_on,
         k.kind, l.email, l.name, 1 AS leader
  FROM kinds k
  JOIN leaders l ON l.unit_path = k.unit_path AND l.lvl = k.lvl
  WHERE k.kind = 'overdue'
)
{tail}
"""

_ROWS = """SELECT f.* FROM found f {unclaimed}
ORDER BY f.due_at, f.id, f.email, f.leader"""

_PROBE = "SELECT 1 FROM found f {unclaimed} LIMIT 1"
"""Whether the scan finds a row at all: no order, so the database stops at the first."""

_FIRST = """(
    SELECT w.id FROM nomination w
    WHERE w.closed = {false} AND w.due_at IS NOT NULL AND w.due_at < :horizon
    ORDER BY w.due_at LIMIT :first
  ) w {join} nomination n ON n.id = w.id"""
"""The probe's window: the first due nominations only, read in due order from the index on
(closed, due_at) and cut there, then looked up by id (in a subquery joined first, so that
no planner misestimate of the join with the workflow states can turn it into a sort, or a
walk, of every due row): over a large backlog the probe reads a window, not every due row."""

IdRange = tuple[int | None, int | None]
"""A chunk of a full scan: the nominations with after < id <= upto (None: no bound)."""

PROBE_WINDOW = 256
"""How many due nominations `any_unclaimed` looks at before it looks at all of them."""

_UNCLAIMED = """WHERE NOT EXISTS (
  SELECT 1 FROM reminder_ledger g
  WHERE g.key = 'nomination:' || CAST(f.id AS TEXT) || ':' || f.due_on || ':' || f.kind
                || ':' || f.email
)"""


def _one_core(conn: Connection) -> None:
    """On PostgreSQL, no parallel workers for the rest of this transaction: a full scan reads
    every due row, and a parallel plan (a Gather of two workers, chosen at 100,000 due) took
    three backends, every core of a 2-core server, away from the page requests for as long
    as it ran, for about the same wall time as one backend (bench/http.py, BENCHMARKS.md #12).
    The scheduler process runs at a lower CPU priority (KHENTHUONG_SCHEDULER_NICE), but its
    PostgreSQL backend does not: the only way to leave cores to the pages is to ask for fewer."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))


def _states(registry: WorkflowRegistry) -> tuple[str, dict[str, Any]]:
    """VALUES rows (workflow, version, state, responsible role, level or '') and their
    parameters: one row per workflow state that names a responsible role."""
    rows: list[str] = []
    params: dict[str, Any] = {}
    for loaded in registry.all():
        wf = loaded.definition
        for name, state in wf.states.items():
            if state.role is None or state.closed:
                continue
            i = len(rows)
            rows.append(f"(:w{i}, :v{i}, :s{i}, :r{i}, :l{i})")
            params.update(
                {
                    f"w{i}": wf.name,
                    f"v{i}": wf.version,
                    f"s{i}": name,
                    f"r{i}": state.role,
                    f"l{i}": state.level.value if state.level is not None else "",
                }
            )
    return ", ".join(rows), params


def _statement(
    conn: Connection,
    registry: WorkflowRegistry,
    *,
    today: date,
    horizon: datetime,
    only_ids: Sequence[int] | None,
    unclaimed_only: bool,
    probe: bool = False,
    first: int | None = None,
    id_range: IdRange | None = None,
) -> TextClause | None:
    """The due-scan statement with its parameters bound; None when it can find nothing (no
    workflow state names a responsible role, or `only_ids` is empty). With `probe`, a
    statement that returns one row when the scan finds any (`_PROBE`); with `first`, over
    the first `first` due nominations only (`_FIRST`); with `id_range` (after, upto), over
    the nominations with `after` < id <= `upto` only (None: no bound), a chunk of a full
    scan (`reminder_claims`)."""
    states, params = _states(registry)
    if not states or (only_ids is not None and not only_ids):
        return None
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        local_day = "to_char(n.due_at AT TIME ZONE :tz, 'YYYY-MM-DD')"
        params["tz"] = LOCAL_TZ.key
    else:  # stored as UTC text; Việt Nam keeps one offset all year
        offset = LOCAL_TZ.utcoffset(horizon.replace(tzinfo=None))
        assert offset is not None
        local_day = "date(n.due_at, :offset)"
        params["offset"] = f"{int(offset.total_seconds()) // 60:+d} minutes"
    sql = _SQL.format(
        states=states,
        local_day=local_day,
        false="false" if postgres else "0",
        true="true" if postgres else "1",
        only=("AND n.id IN :only" if only_ids is not None else "")
        + (" AND n.id > :after" if id_range is not None and id_range[0] is not None else "")
        + (" AND n.id <= :upto" if id_range is not None and id_range[1] is not None else ""),
        # SQLite: CROSS JOIN keeps the window as the outer loop (its planner would walk the
        # due index of `n` and test every id against the window).
        source=_FIRST.format(
            false="false" if postgres else "0", join="JOIN" if postgres else "CROSS JOIN"
        )
        if first is not None
        else "nomination n",
        tail=(_PROBE if probe else _ROWS).format(unclaimed=_UNCLAIMED if unclaimed_only else ""),
    )
    binds = [bindparam("horizon", horizon, type_=NOMINATIONS.c.due_at.type)]
    if only_ids is not None:
        binds.append(bindparam("only", list(only_ids), expanding=True))
    if id_range is not None:
        for name, bound in zip(("after", "upto"), id_range, strict=True):
            if bound is not None:
                params[name] = bound
    params["today"] = today.isoformat()
    if first is not None:
        params["first"] = first
    return text(sql).bindparams(*binds, **params)


def due_rows(
    conn: Connection,
    registry: WorkflowRegistry,
    *,
    today: date,
    horizon: datetime,
    only_ids: Sequence[int] | None = None,
    unclaimed_only: bool = False,
) -> list[Any]:
    """One row per (due nomination, recipient): id, workflow, workflow_version, state,
    nominee_name, due_at, due_on (ISO text, Việt Nam's date), kind, email, name, leader
    (1 for the escalation to the responsible unit's leader), in due order then e-mail.

    `horizon`: nominations due before it (the end of the horizon day); `only_ids`: those
    nominations only (an incremental scan); `unclaimed_only`: leave out reminders whose
    ledger row exists (claimed or sent before)."""
    statement = _statement(
        conn,
        registry,
        today=today,
        horizon=horizon,
        only_ids=only_ids,
        unclaimed_only=unclaimed_only,
    )
    if statement is None:
        return []
    _one_core(conn)
    return list(conn.execute(statement))


def any_unclaimed(
    conn: Connection,
    registry: WorkflowRegistry,
    *,
    today: date,
    horizon: datetime,
    only_ids: Sequence[int] | None = None,
    id_range: IdRange | None = None,
) -> bool:
    """Whether the due scan finds a reminder the ledger does not hold yet: what decides if a
    claim (a write) is needed, read without the write lock.

    Cheap where `due_rows(..., unclaimed_only=True)` is not: no order and `LIMIT 1`, so the
    database stops at the first new reminder, and (in a full scan) first over the
    `PROBE_WINDOW` earliest due nominations: a first scan over a backlog finds one there,
    having read a window of it, not the whole backlog. Only when the window has nothing new
    is the whole scan asked, to its first row (a scan with nothing new reads every due row
    once, as it must). A chunk (`id_range`) is asked whole, to its first row: it is small."""
    # An incremental scan (`only_ids`) reads only the nominations touched since the last.
    whole = only_ids is None and id_range is None
    windows: list[int | None] = [PROBE_WINDOW, None] if whole else [None]
    for first in windows:
        statement = _statement(
            conn,
            registry,
            today=today,
            horizon=horizon,
            only_ids=only_ids,
            unclaimed_only=True,
            probe=True,
            first=first,
            id_range=id_range,
        )
        if statement is None:
            return False
        _one_core(conn)
        if conn.execute(statement).first() is not None:
            return True
    return False


def claim_due(
    conn: Connection,
    registry: WorkflowRegistry,
    *,
    today: date,
    horizon: datetime,
    claimed_at: datetime,
    only_ids: Sequence[int] | None = None,
    id_range: IdRange | None = None,
) -> list[int]:
    """Claim every due reminder the ledger does not hold yet, in one statement: `INSERT INTO
    reminder_ledger (...) SELECT ... FROM (the due scan) ... ON CONFLICT (key) DO NOTHING
    RETURNING id`. Returns the ids of the rows it created.

    The rows are those `reminders.claim` makes of `due_rows(..., unclaimed_only=True)` (same
    key, recipient, kind, item ref and due date; status `claimed`, no attempt, claimed at
    `claimed_at`), but no row passes through Python: the old claim built a parameter per
    reminder column and ran an INSERT per 500 (55–65 s at 100,000 due, BENCHMARKS.md). A
    leader who also holds the role is one reminder (DISTINCT); a key claimed meanwhile by
    another worker is skipped by the unique key."""
    statement = _statement(
        conn,
        registry,
        today=today,
        horizon=horizon,
        only_ids=only_ids,
        unclaimed_only=True,
        id_range=id_range,
    )
    if statement is None:
        return []
    _one_core(conn)
    found = statement.columns(
        column("id", Integer),
        column("due_on", String),
        column("kind", String),
        column("email", String),
    ).subquery("f")
    due = select(found.c.id, found.c.due_on, found.c.kind, found.c.email).distinct().subquery("d")
    led = REMINDER_LEDGER.c
    key = (
        literal("nomination:")
        + cast(due.c.id, Text)
        + ":"
        + due.c.due_on
        + ":"
        + due.c.kind
        + ":"
        + due.c.email
    )
    rows = select(
        key,
        due.c.email,
        due.c.kind,
        literal("nomination:") + cast(due.c.id, Text),
        due.c.due_on,
        literal("claimed", led.status.type),
        literal(0, led.attempts.type),
        literal(claimed_at, led.claimed_at.type),
    ).where(true())  # SQLite: an INSERT ... SELECT with ON CONFLICT needs a WHERE clause
    insert_fn: Any = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    claim = (
        insert_fn(REMINDER_LEDGER)
        .from_select(
            [
                led.key,
                led.recipient,
                led.kind,
                led.item_ref,
                led.due_on,
                led.status,
                led.attempts,
                led.claimed_at,
            ],
            rows,
            include_defaults=False,
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(led.id)
    )
    return [int(i) for i in conn.execute(claim).scalars()]


def chunk_bounds(conn: Connection, *, horizon: datetime, size: int) -> list[int]:
    """The upper bounds of the chunks of a full scan: every `size`-th id of the open
    nominations due before `horizon`, in id order (the chunks are (0, b1], (b1, b2], ...,
    and after the last bound, open-ended). One read of the due index; read when the scan
    begins (a bound per chunk read anew would re-read and sort the due rows each time)."""
    n = NOMINATIONS.c
    ranked = (
        select(n.id, func.row_number().over(order_by=n.id).label("rn"))
        .where(n.closed.is_(False), n.due_at.is_not(None), n.due_at < horizon)
        .subquery()
    )
    query = select(ranked.c.id).where(ranked.c.rn % size == 0).order_by(ranked.c.id)
    return [int(i) for i in conn.execute(query).scalars()]
