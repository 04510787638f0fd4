"""Who is acting: a user with roles scoped to unit subtrees."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, select

from khenthuong.errors import NotFound
from khenthuong.storage.models import UNITS, USER_ROLES, USERS


@dataclass(frozen=True)
class Grant:
    """A role held over the subtree whose path starts with `scope_path`."""

    role: str
    scope_path: str
    scope_code: str
    scope_level: str = "unit"


@dataclass(frozen=True)
class Actor:
    """An authenticated user with the roles they hold."""

    username: str
    user_id: int
    unit_code: str
    grants: tuple[Grant, ...]
    email: str = ""

    def grant_for(
        self,
        roles: list[str] | tuple[str, ...],
        unit_path: str,
        *,
        role_levels: Mapping[str, str] | None = None,
    ) -> Grant | None:
        """The first grant among `roles` whose scope covers `unit_path`.

        `role_levels` pins a role to a level: the responsible role of a state must be
        held at the state's level (the ministry council's secretary, not a unit's).
        """
        for grant in self.grants:
            if grant.role not in roles or not unit_path.startswith(grant.scope_path):
                continue
            if (
                role_levels
                and grant.role in role_levels
                and grant.scope_level != role_levels[grant.role]
            ):
                continue
            return grant
        return None

    def has_role(self, role: str) -> bool:
        """True if the user holds `role` anywhere."""
        return any(g.role == role for g in self.grants)


SYSTEM = Actor(username="system", user_id=0, unit_code="", grants=())
"""The engine itself, for automatic steps (migrations, scheduled jobs)."""


def load_actor(conn: Connection, username: str) -> Actor:
    """Read a user and their grants; NotFound names the username."""
    users = USERS
    units = UNITS
    user = conn.execute(
        select(users.c.id, users.c.username, users.c.email, users.c.active, units.c.code)
        .join(units, units.c.id == users.c.unit_id)
        .where(users.c.username == username)
    ).first()
    if user is None:
        raise NotFound(f"Không có người dùng {username!r} (no user named {username!r})")
    if not user.active:
        raise NotFound(f"Người dùng {username!r} đã bị khóa (user {username!r} is disabled)")
    roles = USER_ROLES
    grants = conn.execute(
        select(roles.c.role, units.c.path, units.c.code, units.c.level)
        .join(units, units.c.id == roles.c.scope_unit_id)
        .where(roles.c.user_id == user.id)
        .order_by(roles.c.id)
    ).all()
    return Actor(
        username=user.username,
        user_id=user.id,
        unit_code=user.code,
        grants=tuple(Grant(r.role, r.path, r.code, r.level) for r in grants),
        email=user.email,
    )
