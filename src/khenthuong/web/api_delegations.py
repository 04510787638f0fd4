"""/api/delegations: ủy quyền, ký thay — list, create and revoke (services.delegations).

A refused delegation is a problem response naming what is wrong (403 when the caller may
not delegate for that person or the delegator does not hold the role, 404 for an unknown
user or unit, 422 for a bad mode, title, reason or dates)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from khenthuong.dates import VNDate
from khenthuong.localtime import local_today
from khenthuong.services import delegations
from khenthuong.storage.db import reading, write_tx
from khenthuong.web.context import Caller, api_caller, ctx_of
from khenthuong.web.schemas import IdPath

router = APIRouter(prefix="/api", tags=["delegations"])
CallerDep = Annotated[Caller, Depends(api_caller)]
PROBLEMS: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not allowed (problem+json)"},
    404: {"description": "Unknown user, unit or delegation (problem+json)"},
    422: {"description": "Bad field (problem+json naming it)"},
}


class DelegationIn(BaseModel):
    delegator: str = Field(max_length=80, description="Người ủy quyền (username)")
    delegate: str = Field(max_length=80, description="Người được ủy quyền (username)")
    unit: str = Field(max_length=40, description="Mã đơn vị: phạm vi ủy quyền")
    roles: list[str] = Field(default_factory=list, description="Empty: every role over the unit")
    mode: str = Field(max_length=4, description="KT, TL or TUQ")
    delegate_title: str = Field(max_length=200, description="Printed under the head's title")
    starts_on: VNDate | None = Field(default=None, description="dd/mm/yyyy or ISO; default today")
    ends_on: VNDate
    reason: str = Field(max_length=2000)


class RevokeIn(BaseModel):
    reason: str = Field(default="", max_length=2000)


def _out(view: delegations.DelegationView, today: date) -> dict[str, Any]:
    return {
        "id": view.id,
        "delegator": view.delegator,
        "delegator_name": view.delegator_name,
        "delegate": view.delegate,
        "delegate_name": view.delegate_name,
        "unit": view.unit,
        "unit_name": view.unit_name,
        "roles": list(view.roles),
        "mode": view.mode,
        "mode_name": delegations.MODES[view.mode],
        "delegate_title": view.delegate_title,
        "starts_on": view.starts_on.isoformat(),
        "ends_on": view.ends_on.isoformat(),
        "reason": view.reason,
        "revoked_at": view.revoked_at.isoformat() if view.revoked_at else None,
        "in_force": view.in_force(today),
    }


@router.get("/delegations", responses=PROBLEMS)
def list_delegations(request: Request, caller: CallerDep) -> dict[str, Any]:
    """The delegations the caller gave or received (every one for an administrator)."""
    with reading(ctx_of(request).rt.engine) as conn:
        found = delegations.list_for(conn, caller.actor)
    today = local_today()
    return {"items": [_out(v, today) for v in found], "next_cursor": None}


@router.post("/delegations", status_code=201, responses=PROBLEMS)
def create_delegation(request: Request, caller: CallerDep, body: DelegationIn) -> dict[str, Any]:
    """Delegate roles over a unit for a dated period; audited on `delegation:<id>`."""
    engine = ctx_of(request).rt.engine
    with write_tx(engine) as conn:
        delegation_id = delegations.create(
            conn, caller.actor, delegator=body.delegator, delegate=body.delegate,
            unit=body.unit, roles=body.roles, mode=body.mode,
            delegate_title=body.delegate_title, starts_on=body.starts_on or local_today(),
            ends_on=body.ends_on, reason=body.reason,
        )  # fmt: skip
    with engine.connect() as conn:
        return _out(delegations.get(conn, delegation_id), local_today())


@router.post("/delegations/{delegation_id}/revoke", responses=PROBLEMS)
def revoke_delegation(
    request: Request, caller: CallerDep, delegation_id: IdPath, body: RevokeIn
) -> dict[str, Any]:
    """End a delegation now (the delegator, the delegate or an administrator)."""
    engine = ctx_of(request).rt.engine
    with write_tx(engine) as conn:
        delegations.revoke(conn, caller.actor, delegation_id, body.reason)
    with engine.connect() as conn:
        return _out(delegations.get(conn, delegation_id), local_today())
