"""Nomination use cases: create, list allowed steps, advance one or many.

The hot path uses SQLAlchemy Core on the mapped tables: one SELECT, one guarded
UPDATE and one INSERT per step, inside one transaction. The ORM is not used here
because a step must cost little more than the raw writes (see bench/transitions.py).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, bindparam, insert, select, update

from khenthuong.audit.chain import GENESIS, canonical_json, event_hash
from khenthuong.calendar.workdays import add_working_days, default_calendar
from khenthuong.commendation import COMMENDATION_TYPES as TYPE_NAMES
from khenthuong.commendation import accepted_types
from khenthuong.errors import BatchRefused, NotFound, Refusal, StepRefused, VersionConflict
from khenthuong.localtime import LOCAL_TZ
from khenthuong.refusals import missing_role, only_role_proposes, wrong_state
from khenthuong.services.actors import Actor, Grant, delegation_fields
from khenthuong.services.nominees import resolve_nominee
from khenthuong.storage.db import inserted_id, write_tx
from khenthuong.storage.models import EVENTS, NOMINATIONS, UNITS
from khenthuong.storage.outbox import OUTBOX
from khenthuong.textsearch import fold
from khenthuong.workflow.definition import StateDef, StateKind, TransitionDef
from khenthuong.workflow.guards import BatchState, GuardContext, get_guard, get_prefetch
from khenthuong.workflow.loader import LoadedWorkflow, WorkflowRegistry
from khenthuong.workflow.machine import FlowAdapter, fire
from khenthuong.workflow.minimum import minimum_refusal

ALWAYS_OPTIONAL = frozenset({"reason", "note"})
COMMENDATION_TYPES = tuple(TYPE_NAMES)
"""Law 06/2022 Art 8: the types of commendation (khenthuong.commendation)."""


@dataclass(frozen=True)
class StepResult:
    """What one successful step did."""

    nomination_id: int
    trigger: str
    from_state: str
    to_state: str
    version: int
    event_hash: str
    due_at: datetime | None


def nfc(value: Any) -> Any:
    """Normalise every string in `value` to Unicode NFC (recursively)."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, Mapping):
        return {nfc(k): nfc(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [nfc(v) for v in value]
    return value


def due_date(state: StateDef, entered: datetime) -> datetime | None:
    """End of the last working day of the state's time limit, in UTC (None if no limit)."""
    if state.deadline is None:
        return None
    return _due_after(entered.astimezone(LOCAL_TZ).date(), state.deadline.working_days)


@lru_cache(maxsize=4096)
def _due_after(local_day: date, working_days: int) -> datetime:
    # Cached: every step of a batch (and most steps of a day) share the same answer.
    last_day = add_working_days(local_day, working_days)
    return datetime.combine(last_day, time(23, 59, 59), LOCAL_TZ).astimezone(UTC)


def stream_of(nomination_id: int) -> str:
    """The audit stream name of a nomination."""
    return f"nomination:{nomination_id}"


# --------------------------------------------------------------------------- reading


# Statements built once with bind parameters: SQLAlchemy then reuses the compiled
# SQL instead of coercing literal values and computing a cache key on every step
# (measured: about half of a single step's time, see BENCHMARKS.md).
_SELECT_ONE = select(NOMINATIONS).where(NOMINATIONS.c.id == bindparam("nid"))
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


# What a step itself reads (checks, plan, version check, chain); a guard or the decision
# service reading any other column loads the whole row once (`_StepRow`).
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
)
_SELECT_STEP = select(*(NOMINATIONS.c[k] for k in _STEP_READS)).where(
    NOMINATIONS.c.id == bindparam("nid")
)


class _StepRow(Mapping[str, Any]):
    """A nomination row read narrow for a step: the step's own columns at once, the rest
    (what a guard or a decision may look at) from one more SELECT on first use."""

    __slots__ = ("_conn", "_full", "_narrow")

    def __init__(self, conn: Connection, narrow: RowMapping) -> None:
        self._conn = conn
        self._narrow = narrow
        self._full: RowMapping | None = None

    def _whole(self) -> RowMapping:
        if self._full is None:
            self._full = get_row(self._conn, self._narrow["id"])
        return self._full

    def __getitem__(self, key: str) -> Any:
        if key in _STEP_KEYS:
            return self._narrow[key]
        return self._whole()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._whole())

    def __len__(self) -> int:
        return len(self._whole())


_STEP_KEYS = frozenset(_STEP_READS)


def _step_row(conn: Connection, nomination_id: int) -> _StepRow:
    row = conn.execute(_SELECT_STEP, {"nid": nomination_id}).mappings().first()
    if row is None:
        raise NotFound(f"Không có hồ sơ #{nomination_id}", en=f"No nomination #{nomination_id}")
    return _StepRow(conn, row)


def get_row(conn: Connection, nomination_id: int) -> RowMapping:
    """The nomination row as a mapping; NotFound names the id."""
    row = conn.execute(_SELECT_ONE, {"nid": nomination_id}).mappings().first()
    if row is None:
        raise NotFound(f"Không có hồ sơ #{nomination_id}", en=f"No nomination #{nomination_id}")
    return row


def allowed_triggers(
    registry: WorkflowRegistry, nomination: Mapping[Any, Any], actor: Actor
) -> list[TransitionDef]:
    """Transitions from the current state that the actor's roles and unit scope permit.

    Guards are not evaluated here (they may need the database and the payload);
    `advance` evaluates them and explains a refusal.
    """
    loaded = registry.get(nomination["workflow"], nomination["workflow_version"])
    return [
        t
        for t in loaded.definition.transitions_from(nomination["state"])
        if actor.grant_for(
            t.roles,
            nomination["unit_path"],
            role_levels=_levels(loaded.definition.state(nomination["state"])),
        )
        is not None
    ]


def _levels(state: StateDef) -> dict[str, str]:
    """The state's responsible role must be held at the state's level."""
    if state.role is None or state.level is None:
        return {}
    return {state.role: state.level.value}


# --------------------------------------------------------------------------- creating


def create_nomination(
    engine: Engine,
    registry: WorkflowRegistry,
    *,
    workflow: str,
    proposing_unit: str,
    actor: Actor,
    nominee_name: str | None = None,
    nominee_person_id: int | None = None,
    nominee_unit_code: str | None = None,
    year: int | None = None,
    comment: str | None = None,
    now: datetime | None = None,
    award_code: str | None = None,
    commendation_type: str = "cong_trang",
    achievement_ref: str | None = None,
    nominee_kind: str | None = None,
    create_person: bool = False,
    person_unit_code: str | None = None,
    basis: str | None = None,
    attestation: str | None = None,
) -> int:
    """Create a nomination in the workflow's initial state; returns its id. `basis` and
    `attestation`: the point of the award's article it claims (khenthuong.services.grounds)."""
    with write_tx(engine) as conn:
        return create_nomination_in(
            conn,
            registry,
            workflow=workflow,
            proposing_unit=proposing_unit,
            actor=actor,
            nominee_name=nominee_name,
            nominee_person_id=nominee_person_id,
            nominee_unit_code=nominee_unit_code,
            year=year,
            comment=comment,
            now=now,
            award_code=award_code,
            commendation_type=commendation_type,
            achievement_ref=achievement_ref,
            nominee_kind=nominee_kind,
            create_person=create_person,
            person_unit_code=person_unit_code,
            basis=basis,
            attestation=attestation,
        )


_INSERT_NOMINATION = insert(NOMINATIONS)
_INSERT_EVENT = insert(EVENTS)
_SET_HEAD_HASH = (
    update(NOMINATIONS)
    .where(NOMINATIONS.c.id == bindparam("nid"))
    .values(head_hash=bindparam("new_head"))
)


def create_nomination_in(
    conn: Connection,
    registry: WorkflowRegistry,
    *,
    workflow: str,
    proposing_unit: str,
    actor: Actor,
    nominee_name: str | None = None,
    nominee_person_id: int | None = None,
    nominee_unit_code: str | None = None,
    year: int | None = None,
    comment: str | None = None,
    now: datetime | None = None,
    award_code: str | None = None,
    commendation_type: str = "cong_trang",
    achievement_ref: str | None = None,
    nominee_kind: str | None = None,
    create_person: bool = False,
    person_unit_code: str | None = None,
    on_behalf_of_bloc: bool = False,
    basis: str | None = None,
    attestation: str | None = None,
) -> int:
    """`create_nomination` inside the caller's transaction.

    `on_behalf_of_bloc` is for a bloc's year-end proposals: the caller has already
    checked that the actor leads the bloc, so the initial role is not required.
    The nominee is resolved by `services.nominees.resolve_nominee`: an individual is always a
    person of the register (a typed name is looked up; `create_person` adds it, in
    `person_unit_code` or the proposing unit); `nominee_kind` is stored and decides the money.
    """
    if commendation_type not in COMMENDATION_TYPES:
        raise StepRefused(
            [
                Refusal(
                    "field:commendation_type",
                    f"Loại hình khen thưởng {commendation_type!r} không hợp lệ; dùng một "
                    f"trong: {accepted_types()}",
                    f"commendation_type must be one of {', '.join(COMMENDATION_TYPES)}",
                )
            ]
        )
    now = now or datetime.now(UTC)
    loaded = registry.get(workflow)
    wf = loaded.definition
    units = UNITS
    unit = conn.execute(
        select(units.c.id, units.c.path, units.c.name).where(units.c.code == proposing_unit)
    ).first()
    if unit is None:
        raise NotFound(
            f"Không có đơn vị mã {proposing_unit!r}", en=f"No unit with code {proposing_unit!r}"
        )
    initial = wf.state(wf.initial)
    if (
        not on_behalf_of_bloc
        and actor.grant_for([initial.role or ""], unit.path, role_levels=_levels(initial)) is None
    ):
        raise StepRefused([only_role_proposes(initial.role or "", unit.name)])
    nominee = resolve_nominee(
        conn,
        wf,
        unit.path,
        kind=nominee_kind,
        name=nfc(nominee_name),
        person_id=nominee_person_id,
        unit_code=nominee_unit_code,
        create_person=create_person,
        person_unit_code=person_unit_code,
    )
    nominee_name = nominee.name
    # Parameters beside one statement built once (not `.values(...)`, which builds and
    # cache-keys a new statement per row: most of a 5,000-row import's time).
    result = conn.execute(
        _INSERT_NOMINATION,
        {
            "workflow": wf.name,
            "workflow_version": wf.version,
            "state": wf.initial,
            "closed": False,
            "version": 1,
            "nominee_name": nominee_name,
            "search_key": fold(nominee_name)[:300],
            "nominee_kind": nominee.kind,
            "nominee_person_id": nominee.person_id,
            "nominee_unit_id": nominee.unit_id,
            "proposing_unit_id": unit.id,
            "unit_path": unit.path,
            "year": year or now.astimezone(LOCAL_TZ).year,
            "created_by": actor.username,
            "created_at": now,
            "state_entered_at": now,
            "due_at": due_date(initial, now),
            "head_hash": GENESIS,
            "entered_by": actor.username,
            "award_code": award_code,
            "commendation_type": commendation_type,
            "achievement_ref": achievement_ref,
        },
    )
    nomination_id = inserted_id(result)
    grant = actor.grant_for([initial.role or ""], unit.path, role_levels=_levels(initial))
    fields = {
        "stream": stream_of(nomination_id),
        "seq": 1,
        "nomination_id": nomination_id,
        "workflow": wf.name,
        "occurred_at": now,
        "actor": actor.username,
        "actor_role": grant.role if grant else ("bloc_leader" if on_behalf_of_bloc else None),
        "actor_unit": actor.unit_code,
        "trigger": "create",
        "from_state": None,
        "to_state": wf.initial,
        "comment": nfc(comment),
        "payload": canonical_json(
            {
                "nominee": nominee_name,
                "nominee_kind": nominee.kind,
                "person_id": nominee.person_id,
                "person_created": nominee.person_created,
                "unit_id": nominee.unit_id,
                "workflow_version": wf.version,
                "year": year,
                **delegation_fields(grant),
            }
        ),
        "prev_hash": GENESIS,
    }
    fields["hash"] = event_hash(fields)
    conn.execute(_INSERT_EVENT, fields)
    conn.execute(_SET_HEAD_HASH, {"nid": nomination_id, "new_head": fields["hash"]})
    if basis:
        from khenthuong.services.grounds import claim_basis_in  # noqa: PLC0415 (import circle)

        claim_basis_in(
            conn, nomination_id, basis=basis, statement=attestation, actor=actor, now=now
        )
    return nomination_id


# --------------------------------------------------------------------------- advancing


@dataclass
class _Plan:
    """A checked step, ready to be written."""

    row: Mapping[Any, Any]
    transition: TransitionDef
    dest: str
    values: dict[str, Any]
    event: dict[str, Any]
    payload: Mapping[Any, Any]
    notice: dict[str, Any] | None = None


@dataclass(frozen=True)
class _Checked:
    """What a step's definition, the actor's roles and the payload's fields say, for one
    (workflow version, state, unit): the same for every nomination of a batch that shares
    them, so a batch works it out once per group."""

    transition: TransitionDef | None
    grant: Grant | None
    refusals: tuple[Refusal, ...]
    """A wrong state alone, or the role refusal (first) then the field refusals."""


@dataclass(frozen=True)
class _Static:
    """What a (workflow version, state, trigger) says whatever the nomination: worked out
    once, not on every step."""

    transition: TransitionDef | None
    levels: dict[str, str]
    allowed: frozenset[str]
    """Payload fields the step accepts."""


_STATIC: dict[tuple[str, str, str], _Static] = {}


def _check_step(
    loaded: LoadedWorkflow,
    state: str,
    unit_path: str,
    trigger: str,
    actor: Actor,
    payload: Mapping[Any, Any],
) -> _Checked:
    wf = loaded.definition
    static = _STATIC.get((loaded.fingerprint, state, trigger))
    if static is None:
        found = wf.find(state, trigger)
        static = _Static(
            found,
            _levels(wf.state(state)),
            frozenset(found.requires) | frozenset(found.optional) | ALWAYS_OPTIONAL
            if found is not None
            else frozenset(),
        )
        if found is not None:  # triggers come from callers: only real ones are kept
            _STATIC[(loaded.fingerprint, state, trigger)] = static
    transition = static.transition
    if transition is None:
        return _Checked(None, None, (wrong_state(wf, state, trigger),))
    refusals: list[Refusal] = []
    grant = actor.grant_for(transition.roles, unit_path, role_levels=static.levels)
    if grant is None:
        refusals.append(missing_role(actor.display_name, transition.roles))
    allowed = static.allowed
    for key in payload:
        if key not in allowed:
            refusals.append(
                Refusal(
                    f"field:{key}",
                    f"Trường {key!r} không dùng cho bước '{transition.title.vi}'",
                    f"Field {key!r} is not used by '{transition.title.en}'",
                    {"accepted": sorted(allowed)},
                )
            )
    for key in transition.requires:
        value = payload.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            refusals.append(
                Refusal(
                    f"field:{key}",
                    f"Bước '{transition.title.vi}' cần trường {key!r}",
                    f"'{transition.title.en}' requires the field {key!r}",
                )
            )
    return _Checked(transition, grant, tuple(refusals))


def _plan_step(
    conn: Connection,
    registry: WorkflowRegistry,
    row: Mapping[Any, Any],
    trigger: str,
    actor: Actor,
    payload: Mapping[Any, Any],
    comment: str | None,
    now: datetime,
    payload_json: str | None = None,
    checked: _Checked | None = None,
    batch: BatchState | None = None,
) -> _Plan | list[Refusal]:
    """Check one step (definition, roles, fields, minimum stay, guards); write nothing.

    A batch passes `payload_json` (its one payload encoded once), `checked` (the group's
    definition/role/field checks) and `batch` (what its steps share: quota places taken
    by earlier steps, guard facts read once for all).
    """
    loaded: LoadedWorkflow = registry.get(row["workflow"], row["workflow_version"])
    wf = loaded.definition
    state = row["state"]
    if checked is None:
        checked = _check_step(loaded, state, row["unit_path"], trigger, actor, payload)
    transition, grant = checked.transition, checked.grant
    if transition is None:
        return list(checked.refusals)
    refusals = list(checked.refusals)
    four_eyes = _four_eyes(wf.state(state), wf.state(transition.dest), transition, row, actor)
    if four_eyes:
        # The role refusal (if any) first, as a single step reports them.
        at = 1 if grant is None else 0
        refusals[at:at] = four_eyes
    minimum = wf.held_back(state, transition)
    if minimum is not None:
        held = minimum_refusal(
            default_calendar(), state, wf.state(state), minimum, row["state_entered_at"], now
        )
        if held is not None:
            refusals.append(held)
    if refusals:
        return refusals

    guard_extra: dict[str, Any] = {}
    shared = batch if batch is not None else BatchState()

    def run_guards() -> list[Refusal]:
        ctx = GuardContext(
            nomination=row,
            trigger=trigger,
            source=state,
            dest=transition.dest,
            actor=actor,
            payload=payload,
            now=now,
            connection=conn,
            extra=guard_extra,
            batch=shared,
        )
        found = []
        for name in transition.guards:
            refusal = get_guard(name)(ctx)
            if refusal is not None:
                found.append(refusal)
        return found

    if transition.guards:
        adapter = FlowAdapter(state=state, run_guards=run_guards)
        if not fire(loaded.machine, adapter, trigger):
            return adapter.refusals or [
                Refusal("guard", "Điều kiện chuyển bước không thỏa mãn", "a guard refused the step")
            ]
        dest = adapter.state
    else:
        # No condition: the machine's answer is the definition's, fixed per workflow version
        # (`_check_step` found the transition from this state), so it is not asked per step.
        dest = transition.dest
    dest_def = wf.state(dest)
    new_version = row["version"] + 1
    due = due_date(dest_def, now)
    event = {
        "stream": stream_of(row["id"]),
        "seq": new_version,
        "nomination_id": row["id"],
        "workflow": wf.name,
        "occurred_at": now,
        "actor": actor.username,
        "actor_role": grant.role if grant else None,
        "actor_unit": actor.unit_code,
        "trigger": trigger,
        "from_state": state,
        "to_state": dest,
        "comment": comment,
        "payload": (
            canonical_json({**dict(payload), **delegation_fields(grant)})
            if grant is not None and grant.on_behalf_of
            else payload_json
            if payload_json is not None
            else canonical_json(dict(payload))
        ),
        "prev_hash": row["head_hash"],
    }
    event["hash"] = event_hash(event)
    takes_place = bool(guard_extra.get("take_quota"))
    if takes_place:
        # Later steps of the same batch count this place before it is written.
        shared.quota_places.append(row["id"])
    values = {
        "state": dest,
        "closed": dest_def.closed or dest_def.kind is StateKind.terminal,
        "version": new_version,
        "state_entered_at": now,
        "due_at": due,
        "head_hash": event["hash"],
        "entered_by": actor.username,
        "quota_taken": bool(row.get("quota_taken")) or takes_place,
    }
    plan = _Plan(row, transition, dest, values, event, payload)
    plan.notice = _notice(plan, dest_def)
    return plan


def _four_eyes(
    source: StateDef,
    dest: StateDef,
    transition: TransitionDef,
    row: Mapping[Any, Any],
    actor: Actor,
) -> list[Refusal]:
    """The four-eyes rule on approval steps (forward from a review level).

    The proposer may not approve their own nomination, and the person who moved it
    into this review level may not also pass it on. A transition relaxes this only
    with `allow_same_actor: true`.
    """
    approval = source.kind is not StateKind.proposal and dest.kind not in (
        StateKind.proposal,
        StateKind.terminal,
    )
    if not approval or transition.allow_same_actor:
        return []
    if actor.username == row["created_by"]:
        return [
            Refusal(
                "four_eyes",
                f"Người lập đề nghị ({actor.username}) không được tự xét duyệt hồ sơ của mình",
                f"{actor.username} proposed this nomination and may not approve it",
            )
        ]
    if actor.username == row["entered_by"]:
        return [
            Refusal(
                "four_eyes",
                f"{actor.username} đã xử lý cấp trước; một người không được xét hai cấp liên tiếp",
                f"{actor.username} acted at the previous level and may not act at this one too",
            )
        ]
    return []


def _notice(plan: _Plan, dest: StateDef) -> dict[str, Any] | None:
    """The outbox row telling the proposer about a return, rejection or decision."""
    if dest.kind not in (StateKind.proposal, StateKind.terminal) and not dest.closed:
        return None
    event = plan.event
    return {
        "dedup_key": f"step:{event['nomination_id']}:{event['seq']}",
        "kind": "step_notice",
        "payload": canonical_json(
            {
                "nomination_id": event["nomination_id"],
                "seq": event["seq"],
                "trigger": event["trigger"],
                "from_state": event["from_state"],
                "to_state": event["to_state"],
                "actor": event["actor"],
                "comment": event["comment"],
                "payload": dict(plan.payload),
                "recipient_user": plan.row["created_by"],
                "at": event["occurred_at"].isoformat(),
            }
        ),
        "created_at": event["occurred_at"],
        "available_at": event["occurred_at"],
        "status": "pending",
        "attempts": 0,
    }


def _result(plan: _Plan) -> StepResult:
    return StepResult(
        nomination_id=plan.row["id"],
        trigger=plan.event["trigger"],
        from_state=plan.row["state"],
        to_state=plan.dest,
        version=plan.values["version"],
        event_hash=plan.event["hash"],
        due_at=plan.values["due_at"],
    )


def _conflict(conn: Connection, nomination_id: int) -> VersionConflict:
    current = get_row(conn, nomination_id)
    return VersionConflict(nomination_id, current["state"], current["version"])


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
) -> StepResult:
    """`advance` inside the caller's transaction (the caller commits)."""
    now = now or datetime.now(UTC)
    payload = nfc(dict(payload or {}))
    comment = nfc(comment)
    row = _step_row(conn, nomination_id)
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
    plan = _plan_step(conn, registry, row, trigger, actor, payload, comment, now)
    if isinstance(plan, list):
        raise StepRefused(plan, nomination_id)
    updated = conn.execute(_UPDATE_STEP, _update_params(plan))
    if updated.rowcount != 1:
        raise _conflict(conn, nomination_id)
    conn.execute(_INSERT_EVENT, plan.event)
    if plan.notice is not None:
        conn.execute(_INSERT_OUTBOX, plan.notice)
    return _result(plan)


def _update_params(plan: _Plan) -> dict[str, Any]:
    return {
        "b_id": plan.row["id"],
        "b_old": plan.row["version"],
        **{f"v_{k}": plan.values[k] for k in _STEP_COLUMNS},
    }


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
) -> StepResult:
    """Fire `trigger` on one nomination in its own transaction.

    Refusals (wrong state, role, missing field, guard) raise StepRefused; a
    concurrent change raises VersionConflict naming the current state. Either
    way nothing is written.
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
    plans: list[_Plan] = []
    payload_json = canonical_json(payload)
    # The definition, role and field checks are the same for every nomination of one
    # (workflow version, state, unit): worked out once per group, not once per row.
    checks: dict[tuple[str, int, str, str], _Checked] = {}
    checked_of: dict[int, _Checked] = {}
    for nid, row in rows.items():
        key = (row["workflow"], row["workflow_version"], row["state"], row["unit_path"])
        got = checks.get(key)
        if got is None:
            loaded = registry.get(row["workflow"], row["workflow_version"])
            got = checks[key] = _check_step(
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
        plan = _plan_step(
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
    return [_result(p) for p in plans], failures


def _prefetch_guards(
    conn: Connection,
    rows: Mapping[int, Mapping[Any, Any]],
    checked_of: Mapping[int, _Checked],
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


def _conflict_in_batch(conn: Connection, plans: list[_Plan]) -> VersionConflict:
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
