"""Who may see what: unit-subtree scopes, read-only roles and inspection windows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from sqlalchemy import Connection, bindparam, select

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
    rows = conn.execute(_INSPECTING, {"unit": actor.unit_code, "today": today}).scalars()
    return tuple(dict.fromkeys(rows))


_INSPECTOR = UNITS.alias("inspector")
_INSPECTED = UNITS.alias("inspected")
_INSPECTING = (
    select(_INSPECTED.c.path)
    .select_from(INSPECTION_VISITS)
    .join(_INSPECTOR, _INSPECTOR.c.id == INSPECTION_VISITS.c.inspector_unit_id)
    .join(_INSPECTED, _INSPECTED.c.id == INSPECTION_VISITS.c.inspected_unit_id)
    .join(INSPECTION_PLANS, INSPECTION_PLANS.c.id == INSPECTION_VISITS.c.plan_id)
    .where(
        INSPECTION_PLANS.c.current.is_(True),
        _INSPECTOR.c.code == bindparam("unit"),
        INSPECTION_VISITS.c.starts_on <= bindparam("today"),
        INSPECTION_VISITS.c.ends_on >= bindparam("today"),
    )
)
"""Built once with bind parameters: every request of an officer asks it."""


def readable_paths(actor: Actor, inspecting: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """Subtree paths the actor may read; None means everything."""
    if reads_everything(actor):
        return None
    return tuple(dict.fromkeys([g.scope_path for g in actor.grants] + list(inspecting)))


def can_read(actor: Actor, unit_path: str, inspecting: tuple[str, ...] = ()) -> bool:
    """May the actor read a record owned by the unit at `unit_path`?"""
    paths = readable_paths(actor, inspecting)
    return paths is None or any(unit_path.startswith(p) for p in paths)
