"""Units, people and officers: creating them and seeding the demo organisations."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, insert, select, update

from khenthuong.errors import InvalidDefinition, KhenthuongError, NotFound
from khenthuong.passwords import hash_password
from khenthuong.roles import RoleDef
from khenthuong.storage.db import inserted_id
from khenthuong.storage.models import PERSONS, UNITS, USER_ROLES, USERS
from khenthuong.textsearch import clean_name, name_key
from khenthuong.yamlsource import load_yaml, pydantic_problems

ROLES = USER_ROLES
LEVELS = ("unit", "ministry", "national")


class UnitIn(BaseModel):
    """A unit as written in a seed file."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_.-]{0,39}$")
    name: str = Field(min_length=1)
    level: str = Field(pattern="^(unit|ministry|national)$")
    parent: str | None = None
    leader_email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")


class GrantIn(BaseModel):
    """A role over a unit's subtree."""

    model_config = ConfigDict(extra="forbid")
    role: str
    scope: str


class UserIn(BaseModel):
    """An officer as written in a seed file."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{1,79}$")
    full_name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    unit: str
    roles: list[GrantIn] = Field(min_length=1)


class PersonIn(BaseModel):
    """A person as written in a seed file."""

    model_config = ConfigDict(extra="forbid")
    full_name: str = Field(min_length=1)
    unit: str
    position: str | None = None
    gender: str | None = None


class SeedFile(BaseModel):
    """A whole seed file."""

    model_config = ConfigDict(extra="forbid")
    units: list[UnitIn] = Field(default_factory=list)
    demo_password: str | None = Field(default=None, min_length=8)
    """Password given to seeded users that have none (demo data only)."""
    users: list[UserIn] = Field(default_factory=list)
    persons: list[PersonIn] = Field(default_factory=list)


def unit_row(conn: Connection, code: str) -> tuple[int, str]:
    """(id, path) of a unit; NotFound names the code."""
    row = conn.execute(select(UNITS.c.id, UNITS.c.path).where(UNITS.c.code == code)).first()
    if row is None:
        raise NotFound(f"Không có đơn vị mã {code!r}", en=f"No unit with code {code!r}")
    return int(row.id), str(row.path)


def add_unit(
    conn: Connection,
    code: str,
    name: str,
    level: str,
    parent: str | None = None,
    leader_email: str | None = None,
) -> int:
    """Create a unit under `parent` (or as a root)."""
    if level not in LEVELS:
        raise KhenthuongError(f"level must be one of {LEVELS}, not {level!r}")
    if conn.execute(select(UNITS.c.id).where(UNITS.c.code == code)).first() is not None:
        raise KhenthuongError(f"Đơn vị mã {code!r} đã tồn tại", en=f"Unit {code!r} already exists")
    parent_id, path = (None, "/")
    if parent is not None:
        parent_id, path = unit_row(conn, parent)
    result = conn.execute(
        insert(UNITS).values(
            code=code,
            name=name,
            level=level,
            parent_id=parent_id,
            path=f"{path}{code}/",
            leader_email=leader_email,
        )
    )
    return inserted_id(result)


def add_user(
    conn: Connection,
    username: str,
    full_name: str,
    email: str,
    unit: str,
    grants: list[tuple[str, str]],
    roles: dict[str, RoleDef],
) -> int:
    """Create an officer with (role, scope unit code) grants."""
    if conn.execute(select(USERS.c.id).where(USERS.c.username == username)).first():
        raise KhenthuongError(f"Người dùng {username!r} đã tồn tại", en=f"User {username!r} exists")
    unit_id, _ = unit_row(conn, unit)
    user_id = inserted_id(
        conn.execute(
            insert(USERS).values(
                username=username, full_name=full_name, email=email, unit_id=unit_id, active=True
            )
        )
    )
    for role, scope in grants:
        grant_role(conn, user_id, role, scope, roles)
    return user_id


def grant_role(
    conn: Connection, user_id: int, role: str, scope: str, roles: dict[str, RoleDef]
) -> None:
    """Grant `role` over `scope`'s subtree."""
    if role not in roles:
        raise KhenthuongError(f"unknown role {role!r}; known roles: {', '.join(sorted(roles))}")
    scope_id, _ = unit_row(conn, scope)
    conn.execute(insert(ROLES).values(user_id=user_id, role=role, scope_unit_id=scope_id))


def add_person(
    conn: Connection,
    full_name: str,
    unit: str,
    position: str | None = None,
    gender: str | None = None,
    birth_year: int | None = None,
) -> int:
    """Create a person who can be nominated (the name stored NFC, single-spaced)."""
    name = clean_name(full_name)
    if not name:
        raise KhenthuongError("Thiếu họ tên cá nhân")
    unit_id, _ = unit_row(conn, unit)
    return inserted_id(
        conn.execute(
            insert(PERSONS).values(
                full_name=name,
                name_key=name_key(name),
                unit_id=unit_id,
                position=position,
                gender=gender,
                birth_year=birth_year,
            )
        )
    )


def load_seed(path: Path, roles: dict[str, RoleDef]) -> SeedFile:
    """Read and validate a seed file, naming FILE:LINE for every problem."""
    doc = load_yaml(path)
    try:
        seed = SeedFile.model_validate(doc.data)
    except ValidationError as exc:
        raise InvalidDefinition(pydantic_problems(doc, exc)) from exc
    problems = []
    codes: set[str] = set()
    for i, unit in enumerate(seed.units):
        if unit.parent is not None and unit.parent not in codes:
            problems.append(
                doc.problem(("units", i, "parent"), f"parent {unit.parent!r} is not declared above")
            )
        if unit.code in codes:
            problems.append(doc.problem(("units", i, "code"), f"unit {unit.code!r} declared twice"))
        codes.add(unit.code)
    for i, user in enumerate(seed.users):
        if user.unit not in codes:
            problems.append(doc.problem(("users", i, "unit"), f"unknown unit {user.unit!r}"))
        for j, grant in enumerate(user.roles):
            if grant.role not in roles:
                problems.append(
                    doc.problem(("users", i, "roles", j, "role"), f"unknown role {grant.role!r}")
                )
            if grant.scope not in codes:
                problems.append(
                    doc.problem(("users", i, "roles", j, "scope"), f"unknown unit {grant.scope!r}")
                )
    for i, person in enumerate(seed.persons):
        if person.unit not in codes:
            problems.append(doc.problem(("persons", i, "unit"), f"unknown unit {person.unit!r}"))
    if problems:
        raise InvalidDefinition(problems)
    return seed


def apply_seed(conn: Connection, seed: SeedFile, roles: dict[str, RoleDef]) -> dict[str, int]:
    """Insert a validated seed; existing units, users and people are left as they are,
    except that a unit without a leader address gets the seed's (a database seeded before
    the address was added to the seed then receives its notices too)."""
    counts = {"units": 0, "users": 0, "persons": 0}
    # One hash for every demo account: argon2 is slow on purpose.
    demo_hash = hash_password(seed.demo_password) if seed.demo_password else None
    for unit in seed.units:
        if conn.execute(select(UNITS.c.id).where(UNITS.c.code == unit.code)).first() is None:
            add_unit(conn, unit.code, unit.name, unit.level, unit.parent, unit.leader_email)
            counts["units"] += 1
        elif unit.leader_email:
            conn.execute(
                update(UNITS)
                .where(UNITS.c.code == unit.code, UNITS.c.leader_email.is_(None))
                .values(leader_email=unit.leader_email)
            )
    for user in seed.users:
        if (
            conn.execute(select(USERS.c.id).where(USERS.c.username == user.username)).first()
            is None
        ):
            add_user(
                conn,
                user.username,
                user.full_name,
                user.email,
                user.unit,
                [(g.role, g.scope) for g in user.roles],
                roles,
            )
            counts["users"] += 1
        if demo_hash:
            conn.execute(
                update(USERS)
                .where(USERS.c.username == user.username, USERS.c.password_hash.is_(None))
                .values(password_hash=demo_hash)
            )
    for person in seed.persons:
        unit_id, _ = unit_row(conn, person.unit)
        exists = conn.execute(
            select(PERSONS.c.id).where(
                PERSONS.c.full_name == person.full_name, PERSONS.c.unit_id == unit_id
            )
        ).first()
        if exists is None:
            add_person(conn, person.full_name, person.unit, person.position, person.gender)
            counts["persons"] += 1
    return counts
