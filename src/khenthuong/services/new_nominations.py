"""Creating a nomination: the row in the workflow's initial state and its first event."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, Engine, bindparam, insert, select, update

from khenthuong.audit.chain import GENESIS, canonical_json, event_hash
from khenthuong.commendation import accepted_types
from khenthuong.errors import NotFound, Refusal, StepRefused
from khenthuong.localtime import LOCAL_TZ
from khenthuong.refusals import only_role_proposes
from khenthuong.services.actors import Actor, delegation_fields
from khenthuong.services.nominations import (
    COMMENDATION_TYPES,
    due_date,
    nfc,
    role_levels,
    stream_of,
)
from khenthuong.services.nominees import resolve_nominee
from khenthuong.storage.db import inserted_id, write_tx
from khenthuong.storage.models import EVENTS, NOMINATIONS, UNITS
from khenthuong.textsearch import fold
from khenthuong.workflow.loader import WorkflowRegistry


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
        and actor.grant_for([initial.role or ""], unit.path, role_levels=role_levels(initial))
        is None
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
    grant = actor.grant_for([initial.role or ""], unit.path, role_levels=role_levels(initial))
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
