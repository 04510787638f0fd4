"""Who is acting: a user with roles scoped to unit subtrees."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, bindparam, select

from khenthuong.errors import NotFound
from khenthuong.localtime import local_today
from khenthuong.storage.delegations import DELEGATIONS
from khenthuong.storage.models import UNITS, USER_ROLES, USERS


@dataclass(frozen=True)
class Grant:
    """A role held over the subtree whose path starts with `scope_path`."""

    role: str
    scope_path: str
    scope_code: str
    scope_level: str = "unit"
    on_behalf_of: str = ""
    """Set when the role is held through a delegation: the delegator's username."""
    delegation_id: int = 0
    delegation_mode: str = ""
    """KT, TL or TUQ (how the delegate signs, ND 30/2020)."""


@dataclass(frozen=True)
class Actor:
    """An authenticated user with the roles they hold."""

    username: str
    user_id: int
    unit_code: str
    grants: tuple[Grant, ...]
    email: str = ""
    full_name: str = ""

    @property
    def display_name(self) -> str:
        """The name refusals and pages show: the full name, the username when it has none."""
        return self.full_name.strip() or self.username

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


# Statements built once with bind parameters (every request loads its caller: building
# them per call was a tenth of GET /api/queue, bench/http.py).
_USER = (
    select(
        USERS.c.id,
        USERS.c.username,
        USERS.c.email,
        USERS.c.full_name,
        USERS.c.active,
        UNITS.c.code,
    )
    .join(UNITS, UNITS.c.id == USERS.c.unit_id)
    .where(USERS.c.username == bindparam("username"))
)
_GRANTS = (
    select(USER_ROLES.c.role, UNITS.c.path, UNITS.c.code, UNITS.c.level)
    .join(UNITS, UNITS.c.id == USER_ROLES.c.scope_unit_id)
    .where(USER_ROLES.c.user_id == bindparam("user_id"))
    .order_by(USER_ROLES.c.id)
)
_SCOPE = UNITS.alias("scope")
_DELEGATOR = USERS.alias("delegator")
_DELEGATIONS = (
    select(
        DELEGATIONS.c.id, DELEGATIONS.c.roles, DELEGATIONS.c.mode, DELEGATIONS.c.delegator_id,
        _DELEGATOR.c.username, _SCOPE.c.path, _SCOPE.c.code, _SCOPE.c.level,
    )
    .join(_SCOPE, _SCOPE.c.id == DELEGATIONS.c.scope_unit_id)
    .join(_DELEGATOR, _DELEGATOR.c.id == DELEGATIONS.c.delegator_id)
    .where(
        DELEGATIONS.c.delegate_id == bindparam("user_id"),
        DELEGATIONS.c.revoked_at.is_(None),
        DELEGATIONS.c.starts_on <= bindparam("today"),
        DELEGATIONS.c.ends_on >= bindparam("today"),
        _DELEGATOR.c.active.is_(True),
    )
    .order_by(DELEGATIONS.c.id)
)  # fmt: skip


def load_actor(conn: Connection, username: str, today: date | None = None) -> Actor:
    """Read a user and their grants; NotFound names the username.

    The grants are the user's own, then those delegated to them for `today` (Việt Nam's
    date when not given): each delegator's roles over the delegation's unit subtree, marked
    with the delegator's name so that the step records on whose behalf it was taken."""
    user = conn.execute(_USER, {"username": username}).first()
    if user is None:
        raise NotFound(f"Không có người dùng {username!r}", en=f"No user named {username!r}")
    if not user.active:
        raise NotFound(f"Người dùng {username!r} đã bị khóa", en=f"User {username!r} is disabled")
    grants = conn.execute(_GRANTS, {"user_id": user.id}).all()
    own = tuple(Grant(r.role, r.path, r.code, r.level) for r in grants)
    return Actor(
        username=user.username,
        user_id=user.id,
        unit_code=user.code,
        grants=own + delegated_grants(conn, user.id, today or local_today()),
        email=user.email,
        full_name=user.full_name or "",
    )


def delegated_grants(conn: Connection, user_id: int, today: date) -> tuple[Grant, ...]:
    """The grants delegated to the user and in force on `today`: each delegator's grants
    narrowed to the delegation's unit subtree and, when it names roles, to those roles."""
    rows = conn.execute(_DELEGATIONS, {"user_id": user_id, "today": today}).all()
    found: list[Grant] = []
    for row in rows:
        wanted = {r for r in row.roles.split(",") if r}
        held = conn.execute(_GRANTS, {"user_id": row.delegator_id}).all()
        for grant in held:
            if wanted and grant.role not in wanted:
                continue
            if str(row.path).startswith(grant.path):  # the delegation's unit is inside
                path, code, level = row.path, row.code, row.level
            elif str(grant.path).startswith(row.path):  # the grant is inside the delegation's
                path, code, level = grant.path, grant.code, grant.level
            else:
                continue
            found.append(
                Grant(
                    grant.role, path, code, level, on_behalf_of=row.username,
                    delegation_id=row.id, delegation_mode=row.mode,
                )
            )  # fmt: skip
    return tuple(found)


def delegation_fields(grant: Grant | None) -> dict[str, object]:
    """What an audit event's payload records when a step is taken under a delegation: on
    whose behalf, which delegation and how the delegate signs; nothing otherwise."""
    if grant is None or not grant.on_behalf_of:
        return {}
    return {
        "on_behalf_of": grant.on_behalf_of,
        "delegation_id": grant.delegation_id,
        "delegation_mode": grant.delegation_mode,
    }
