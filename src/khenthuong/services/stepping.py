"""Taking workflow steps: one nomination (`advance`) or many in one transaction
(`advance_batch`).

The hot path writes with statements built once from the Core tables: one SELECT of the
columns a step reads, one guarded UPDATE and one INSERT of the event (and the outbox row of
a closing step), inside one transaction. A single step runs them on the driver's cursor
(`storage.prepared`), a batch with Core's executemany. The ORM is not used here because a
step must cost little more than the raw writes (bench/transitions.py, bench/peers.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, bindparam, insert, select, update

from khenthuong.audit.chain import canonical_json
from khenthuong.errors import BatchRefused, NotFound, Refusal, StepRefused, VersionConflict
from khenthuong.services.actors import Actor
from khenthuong.services.nominations import StepResult, get_row, nfc
from khenthuong.services.step_plan import (
    EVENT_FIELDS,
    NOTICE_FIELDS,
    Checked,
    StepPlan,
    check_step,
    plan_step,
    step_result,
)
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import EVENTS, NOMINATIONS
from khenthuong.storage.outbox import OUTBOX
from khenthuong.storage.prepared import Prepared
from khenthuong.workflow.definition import StateKind
from khenthuong.workflow.guards import BatchState, get_prefetch
from khenthuong.workflow.loader import WorkflowRegistry

# Statements built once with bind parameters: SQLAlchemy then reuses the compiled
# SQL instead of coercing literal values and computing a cache key on every step
# (measured: about half of a single step's time, see BENCHMARKS.md).
_STEP_COLUMNS = (
    "state",
    "closed",
    "version",
    "state_entered_at",
    "due_at",
    "head_hash",
    "entered_by",
    "quota_taken",
)
_UPDATE_STEP = (
    update(NOMINATIONS)
    .where(NOMINATIONS.c.id == bindparam("b_id"), NOMINATIONS.c.version == bindparam("b_old"))
    .values({k: bindparam(f"v_{k}") for k in _STEP_COLUMNS})
)
_INSERT_EVENT = insert(EVENTS)
_INSERT_OUTBOX = insert(OUTBOX)
# A single step runs its statements on the driver's cursor (storage.prepared): about as much
# time again as the statements themselves is saved per step; a batch's executemany keeps Core.
_RUN_UPDATE = Prepared(_UPDATE_STEP)
# `inline()`: no RETURNING of the new id on PostgreSQL (nothing reads it).
_RUN_EVENT = Prepared(_INSERT_EVENT.inline(), EVENT_FIELDS)
_RUN_OUTBOX = Prepared(_INSERT_OUTBOX.inline(), NOTICE_FIELDS)


# What a step itself reads (checks, plan, version check, chain), and the nominee and the
# achievement that `not_blocked` (the guard of most submissions) checks; a guard or the
# decision service reading any other column loads the whole row once (`_StepRow`).
_STEP_READS = (
    "id",
    "workflow",
    "workflow_version",
    "state",
    "version",
    "head_hash",
    "unit_path",
    "created_by",
    "entered_by",
    "state_entered_at",
    "quota_taken",
    "nominee_person_id",
    "nominee_unit_id",
    "achievement_ref",
)
_SELECT_STEP = Prepared(
    select(*(NOMINATIONS.c[k] for k in _STEP_READS)).where(NOMINATIONS.c.id == bindparam("nid"))
)


class _StepRow(Mapping[str, Any]):
    """A nomination row read narrow for a step: the step's own columns at once, the rest
    (what a guard or a decision may look at) from one more SELECT on first use."""

    __slots__ = ("_conn", "_full", "_narrow")

    def __init__(self, conn: Connection, narrow: Mapping[str, Any]) -> None:
        self._conn = conn
        self._narrow = narrow
        self._full: RowMapping | None = None

    def _whole(self) -> RowMapping:
        if self._full is None:
            self._full = get_row(self._conn, self._narrow["id"])
        return self._full

    def __getitem__(self, key: str) -> Any:
        try:
            return self._narrow[key]  # the step's own columns (exactly `_STEP_READS`)
        except KeyError:
            return self._whole()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._whole())

    def __len__(self) -> int:
        return len(self._whole())


def _step_row(conn: Connection, nomination_id: int) -> _StepRow:
    row = _SELECT_STEP.first(conn, {"nid": nomination_id})
    if row is None:
        raise NotFound(f"Không có hồ sơ #{nomination_id}", en=f"No nomination #{nomination_id}")
    return _StepRow(conn, dict(zip(_STEP_READS, row, strict=True)))


def _conflict(conn: Connection, nomination_id: int) -> VersionConflict:
    current = get_row(conn, nomination_id)
    return VersionConflict(nomination_id, current["state"], current["version"])


Gate = Callable[[Mapping[str, Any]], str | None]
"""A caller's own check of the nomination, run on its row inside the step's transaction: the
reason to refuse it (nothing is then written: `Gated`), or None."""


class Gated(Exception):
    """The step's gate refused the nomination (nothing was written); `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def advance_in(
    conn: Connection,
    registry: WorkflowRegistry,
    nomination_id: int,
    trigger: str,
    actor: Actor,
    payload: Mapping[Any, Any] | None = None,
    *,
    comment: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
    gate: Gate | None = None,
) -> StepResult:
    """`advance` inside the caller's transaction (the caller commits)."""
    now = now or datetime.now(UTC)
    payload = nfc(dict(payload)) if payload else {}
    comment = nfc(comment)
    row = _step_row(conn, nomination_id)
    if gate is not None and (refused := gate(row)) is not None:
        raise Gated(refused)
    if expected_version is not None and row["version"] != expected_version:
        raise VersionConflict(nomination_id, row["state"], row["version"])
    if enters_decision(registry, row, trigger):
        # Signing is never a bare state change: the decisions service checks the number,
        # the award and the signer, and writes the decision, the award record and the
        # money in this same transaction (it then takes the step via decision_step_in).
        from khenthuong.services.decisions import decide_by_step  # noqa: PLC0415

        return decide_by_step(
            conn, registry, row, trigger, actor, payload, comment=comment, now=now
        )
    return _step_in(conn, registry, row, trigger, actor, payload, comment, now)


def enters_decision(registry: WorkflowRegistry, row: Mapping[Any, Any], trigger: str) -> bool:
    """True when `trigger` from the row's state signs the award (into a closed decision state).

    A dictionary look-up per step once seen (keyed by the definition's fingerprint): the
    hot path does no extra work, in the database or otherwise.
    """
    loaded = registry.get(row["workflow"], row["workflow_version"])
    key = (loaded.fingerprint, row["state"], trigger)
    found = _DECIDING.get(key)
    if found is None:
        transition = loaded.definition.find(row["state"], trigger)
        dest = None if transition is None else loaded.definition.states.get(transition.dest)
        found = dest is not None and dest.kind is StateKind.decision and dest.closed
        _DECIDING[key] = found
    return found


_DECIDING: dict[tuple[str, str, str], bool] = {}


def decision_step_in(
    conn: Connection,
    registry: WorkflowRegistry,
    nomination_id: int,
    trigger: str,
    actor: Actor,
    payload: Mapping[Any, Any],
    *,
    comment: str | None = None,
    now: datetime,
) -> StepResult:
    """The signing step itself, for `services.decisions` only (which writes the decision)."""
    row = get_row(conn, nomination_id)
    return _step_in(conn, registry, row, trigger, actor, nfc(dict(payload)), nfc(comment), now)


def _step_in(
    conn: Connection,
    registry: WorkflowRegistry,
    row: Mapping[Any, Any],
    trigger: str,
    actor: Actor,
    payload: Mapping[Any, Any],
    comment: str | None,
    now: datetime,
) -> StepResult:
    nomination_id = row["id"]
    plan = plan_step(conn, registry, row, trigger, actor, payload, comment, now)
    if isinstance(plan, list):
        raise StepRefused(plan, nomination_id)
    if _RUN_UPDATE.run(conn, _update_params(plan)) != 1:
        raise _conflict(conn, nomination_id)
    _RUN_EVENT.run(conn, plan.event)
    if plan.notice is not None:
        _RUN_OUTBOX.run(conn, plan.notice)
    return step_result(plan)


def _update_params(plan: StepPlan) -> dict[str, Any]:
    values = plan.values
    params = {bind: values[k] for bind, k in _UPDATE_BINDS}
    params["b_id"] = plan.row["id"]
    params["b_old"] = plan.row["version"]
    return params


_UPDATE_BINDS = tuple((f"v_{k}", k) for k in _STEP_COLUMNS)


def advance(
    engine: Engine,
    registry: WorkflowRegistry,
    nomination_id: int,
    trigger: str,
    actor: Actor,
    payload: Mapping[Any, Any] | None = None,
    *,
    comment: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
    gate: Gate | None = None,
) -> StepResult:
    """Fire `trigger` on one nomination in its own transaction.

    Refusals (wrong state, role, missing field, guard) raise StepRefused; a
    concurrent change raises VersionConflict naming the current state; `gate`'s refusal
    raises Gated. Either way nothing is written.
    """
    with write_tx(engine) as conn:
        return advance_in(
            conn,
            registry,
            nomination_id,
            trigger,
            actor,
            payload,
            comment=comment,
            expected_version=expected_version,
            now=now,
            gate=gate,
        )


def advance_batch_in(
    conn: Connection,
    registry: WorkflowRegistry,
    nomination_ids: Sequence[int],
    trigger: str,
    actor: Actor,
    payload: Mapping[Any, Any] | None = None,
    *,
    comment: str | None = None,
    now: datetime | None = None,
    partial: bool = False,
) -> tuple[list[StepResult], dict[int, list[Refusal]]]:
    """`advance_batch` inside the caller's transaction."""
    now = now or datetime.now(UTC)
    payload = nfc(dict(payload or {}))
    comment = nfc(comment)
    ids = list(dict.fromkeys(nomination_ids))
    rows: dict[int, RowMapping] = {}
    query = select(NOMINATIONS).where(NOMINATIONS.c.id.in_(ids))
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    for row in conn.execute(query.order_by(NOMINATIONS.c.id)).mappings():
        rows[row["id"]] = row
    failures: dict[int, list[Refusal]] = {}
    plans: list[StepPlan] = []
    payload_json = canonical_json(payload)
    # The definition, role and field checks are the same for every nomination of one
    # (workflow version, state, unit): worked out once per group, not once per row.
    checks: dict[tuple[str, int, str, str], Checked] = {}
    checked_of: dict[int, Checked] = {}
    for nid, row in rows.items():
        key = (row["workflow"], row["workflow_version"], row["state"], row["unit_path"])
        got = checks.get(key)
        if got is None:
            loaded = registry.get(row["workflow"], row["workflow_version"])
            got = checks[key] = check_step(
                loaded, row["state"], row["unit_path"], trigger, actor, payload
            )
        checked_of[nid] = got
    batch = _prefetch_guards(conn, rows, checked_of, now)
    for nid in ids:
        found = rows.get(nid)
        if found is None:
            failures[nid] = [
                Refusal("not_found", f"Không có hồ sơ #{nid}", f"no nomination #{nid}")
            ]
            continue
        if enters_decision(registry, found, trigger):
            failures[nid] = [_DECISION_IN_BATCH]
            continue
        plan = plan_step(
            conn,
            registry,
            found,
            trigger,
            actor,
            payload,
            comment,
            now,
            payload_json,
            checked_of[nid],
            batch,
        )
        if isinstance(plan, list):
            failures[nid] = plan
        else:
            plans.append(plan)
    if failures and not partial:
        raise BatchRefused(failures)
    if plans:
        params = [_update_params(p) for p in plans]
        updated = conn.execute(_UPDATE_STEP, params)
        if conn.dialect.name != "postgresql" and updated.rowcount != len(plans):
            raise _conflict_in_batch(conn, plans)
        conn.execute(_INSERT_EVENT, [p.event for p in plans])
        notices = [p.notice for p in plans if p.notice is not None]
        if notices:
            conn.execute(_INSERT_OUTBOX, notices)
    return [step_result(p) for p in plans], failures


def _prefetch_guards(
    conn: Connection,
    rows: Mapping[int, Mapping[Any, Any]],
    checked_of: Mapping[int, Checked],
    now: datetime,
) -> BatchState:
    """One read per guard for the whole batch (for guards that offer a prefetch), instead
    of the guard's queries once per nomination."""
    needing: dict[str, list[Mapping[Any, Any]]] = {}
    for nid, checked in checked_of.items():
        if checked.transition is None or checked.refusals:
            continue
        for name in checked.transition.guards:
            needing.setdefault(name, []).append(rows[nid])
    batch = BatchState()
    for name, guarded in needing.items():
        prefetch = get_prefetch(name)
        if prefetch is not None:
            batch.prefetched[name] = prefetch(conn, guarded, now)
    return batch


_DECISION_IN_BATCH = Refusal(  # each interface says where decisions are signed (`sign_apart`)
    "decision",
    "Ký quyết định không thực hiện theo lô: một quyết định cho nhiều hồ sơ được ký riêng, "
    "có số, ngày, người ký và cơ quan",
    "Signing is not a batch step: one decision for many nominations is signed on its own, "
    "with its number, date, signer and authority",
    {"sign_apart": "POST /api/decisions"},
)


def _conflict_in_batch(conn: Connection, plans: list[StepPlan]) -> VersionConflict:
    for plan in plans:
        current = get_row(conn, plan.row["id"])
        if current["version"] != plan.values["version"]:
            return VersionConflict(plan.row["id"], current["state"], current["version"])
    return VersionConflict(plans[0].row["id"], plans[0].dest, plans[0].values["version"])


def advance_batch(
    engine: Engine,
    registry: WorkflowRegistry,
    nomination_ids: Sequence[int],
    trigger: str,
    actor: Actor,
    payload: Mapping[Any, Any] | None = None,
    *,
    comment: str | None = None,
    now: datetime | None = None,
    partial: bool = False,
) -> tuple[list[StepResult], dict[int, list[Refusal]]]:
    """Fire one trigger on many nominations in one transaction.

    By default the batch is all-or-nothing: any refusal raises BatchRefused listing
    every refused id and nothing is written. With `partial=True` the permitted
    steps are written and the refusals returned.
    """
    with write_tx(engine) as conn:
        return advance_batch_in(
            conn,
            registry,
            nomination_ids,
            trigger,
            actor,
            payload,
            comment=comment,
            now=now,
            partial=partial,
        )
