"""Checking one step and working out what it writes: the definition, the actor's roles,
the payload's fields, the four-eyes rule, the minimum stay and the guards; then the new
state, the hash-chained event and the outbox notice. Nothing here writes to the database
(`services.stepping` does)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from khenthuong.audit.chain import HASHED_FIELDS, canonical_json, event_hash
from khenthuong.calendar.workdays import default_calendar
from khenthuong.errors import Refusal
from khenthuong.refusals import missing_role, wrong_state
from khenthuong.services.actors import Actor, Grant, delegation_fields
from khenthuong.services.nominations import StepResult, due_date, role_levels, stream_of
from khenthuong.workflow.definition import StateDef, StateKind, TransitionDef
from khenthuong.workflow.guards import BatchState, GuardContext, get_guard
from khenthuong.workflow.loader import LoadedWorkflow, WorkflowRegistry
from khenthuong.workflow.machine import FlowAdapter, fire
from khenthuong.workflow.minimum import minimum_refusal

ALWAYS_OPTIONAL = frozenset({"reason", "note"})
EVENT_FIELDS = (*HASHED_FIELDS, "hash")
"""The columns a step's event row carries (the keys of `StepPlan.event`)."""
NOTICE_FIELDS = (
    "dedup_key",
    "kind",
    "payload",
    "created_at",
    "available_at",
    "status",
    "attempts",
)
"""The columns a step's outbox notice carries (the keys of `StepPlan.notice`)."""


@dataclass
class StepPlan:
    """A checked step, ready to be written."""

    row: Mapping[Any, Any]
    transition: TransitionDef
    dest: str
    values: dict[str, Any]
    event: dict[str, Any]
    payload: Mapping[Any, Any]
    notice: dict[str, Any] | None = None


@dataclass(frozen=True)
class Checked:
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


def check_step(
    loaded: LoadedWorkflow,
    state: str,
    unit_path: str,
    trigger: str,
    actor: Actor,
    payload: Mapping[Any, Any],
) -> Checked:
    """The trigger from this state, the actor's role over the unit and the payload's fields:
    what a step's checks say before the nomination's own row (four-eyes, stay, guards)."""
    wf = loaded.definition
    static = _STATIC.get((loaded.fingerprint, state, trigger))
    if static is None:
        found = wf.find(state, trigger)
        static = _Static(
            found,
            role_levels(wf.state(state)),
            frozenset(found.requires) | frozenset(found.optional) | ALWAYS_OPTIONAL
            if found is not None
            else frozenset(),
        )
        if found is not None:  # triggers come from callers: only real ones are kept
            _STATIC[(loaded.fingerprint, state, trigger)] = static
    transition = static.transition
    if transition is None:
        return Checked(None, None, (wrong_state(wf, state, trigger),))
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
    return Checked(transition, grant, tuple(refusals))


def plan_step(
    conn: Connection,
    registry: WorkflowRegistry,
    row: Mapping[Any, Any],
    trigger: str,
    actor: Actor,
    payload: Mapping[Any, Any],
    comment: str | None,
    now: datetime,
    payload_json: str | None = None,
    checked: Checked | None = None,
    batch: BatchState | None = None,
) -> StepPlan | list[Refusal]:
    """Check one step (definition, roles, fields, minimum stay, guards); write nothing.

    A batch passes `payload_json` (its one payload encoded once), `checked` (the group's
    definition/role/field checks) and `batch` (what its steps share: quota places taken
    by earlier steps, guard facts read once for all).
    """
    loaded: LoadedWorkflow = registry.get(row["workflow"], row["workflow_version"])
    wf = loaded.definition
    state = row["state"]
    if checked is None:
        checked = check_step(loaded, state, row["unit_path"], trigger, actor, payload)
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
    if transition.guards:
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

        adapter = FlowAdapter(state=state, run_guards=run_guards)
        if not fire(loaded.machine, adapter, trigger):
            return adapter.refusals or [
                Refusal("guard", "Điều kiện chuyển bước không thỏa mãn", "a guard refused the step")
            ]
        dest = adapter.state
    else:
        # No condition: the machine's answer is the definition's, fixed per workflow version
        # (`check_step` found the transition from this state), so it is not asked per step;
        # nor is a guard context or the batch's shared state built for it.
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
            if payload
            else "{}"  # what canonical_json({}) gives, without the encoder
        ),
        "prev_hash": row["head_hash"],
    }
    event["hash"] = event_hash(event)
    takes_place = bool(guard_extra.get("take_quota"))  # set by a guard only
    if takes_place and batch is not None:
        # Later steps of the same batch count this place before it is written.
        batch.quota_places.append(row["id"])
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
    plan = StepPlan(row, transition, dest, values, event, payload)
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
                f"Người lập đề nghị ({actor.display_name}) không được tự xét duyệt hồ sơ của mình",
                f"{actor.display_name} proposed this nomination and may not approve it",
            )
        ]
    if actor.username == row["entered_by"]:
        return [
            Refusal(
                "four_eyes",
                f"{actor.display_name} đã xử lý cấp trước; một người không được xét hai cấp liên tiếp",
                f"{actor.display_name} acted at the previous level and may not act at this one too",
            )
        ]
    return []


def _notice(plan: StepPlan, dest: StateDef) -> dict[str, Any] | None:
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


def step_result(plan: StepPlan) -> StepResult:
    return StepResult(
        nomination_id=plan.row["id"],
        trigger=plan.event["trigger"],
        from_state=plan.row["state"],
        to_state=plan.dest,
        version=plan.values["version"],
        event_hash=plan.event["hash"],
        due_at=plan.values["due_at"],
    )
