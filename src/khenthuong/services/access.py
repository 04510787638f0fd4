"""Who may see what: unit-subtree scopes, read-only roles and inspection windows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import Connection, select

from khenthuong.roles import RoleDef
from khenthuong.services.actors import Actor
from khenthuong.storage.blocs import INSPECTION_PLANS, INSPECTION_VISITS
from khenthuong.storage.models import UNITS

READ_ALL_ROLES = frozenset({"auditor"})
"""Roles that read every unit's records whatever their scope (and change nothing)."""


def reads_everything(actor: Actor) -> bool:
    """Auditors read all records."""
    return any(g.role in READ_ALL_ROLES for g in actor.grants)


def is_read_only(actor: Actor, roles: Mapping[str, RoleDef]) -> bool:
    """True when every role the actor holds is read-only (an auditor): no change allowed."""
    return bool(actor.grants) and all(
        roles.get(g.role) is not None and roles[g.role].read_only for g in actor.grants
    )


def inspection_paths(conn: Connection, actor: Actor, today: date) -> tuple[str, ...]:
    """Unit paths the actor's unit is inspecting today (kiểm tra chéo windows)."""
    if not actor.unit_code:
        return ()
    inspector = UNITS.alias("inspector")
    inspected = UNITS.alias("inspected")
    v = INSPECTION_VISITS
    rows = conn.execute(
        select(inspected.c.path)
        .select_from(v)
        .join(inspector, inspector.c.id == v.c.inspector_unit_id)
        .join(inspected, inspected.c.id == v.c.inspected_unit_id)
        .join(INSPECTION_PLANS, INSPECTION_PLANS.c.id == v.c.plan_id)
        .where(
            INSPECTION_PLANS.c.current.is_(True),
            inspector.c.code == actor.unit_code,
            v.c.starts_on <= today,
            v.c.ends_on >= today,
        )
    ).scalars()
    return tuple(dict.fromkeys(rows))


def readable_paths(actor: Actor, inspecting: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Subtree paths the actor may read; None means everything."""
    if reads_everything(actor):
        return None
    return tuple(dict.fromkeys([g.scope_path for g in actor.grants] + list(inspecting)))


def can_read(actor: Actor, unit_path: str, inspecting: tuple[str, ...] = ()) -> bool:
    """May the actor read a record owned by the unit at `unit_path`?"""
    paths = readable_paths(actor, inspecting)
    return paths is None or any(unit_path.startswith(p) for p in paths)
