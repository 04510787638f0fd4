"""Accounts the directory vouches for: created at first sign-in, roles kept in step with the
directory's groups at every sign-in, every change an audited event on `account:<username>`."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, delete, select, update

from khenthuong.audit.append import append_event
from khenthuong.directory.identity import DirectoryIdentity, DirectorySignInRefused
from khenthuong.directory.mapping import DirectoryMap
from khenthuong.roles import RoleDef
from khenthuong.services.org import add_user, grant_role, unit_row
from khenthuong.storage.models import UNITS, USER_ROLES, USERS

SOURCE_NAMES = {"ldap": "LDAP", "oidc": "OpenID Connect"}


def account_stream(username: str) -> str:
    return f"account:{username}"


def _current_grants(conn: Connection, user_id: int) -> tuple[tuple[str, str], ...]:
    rows = conn.execute(
        select(USER_ROLES.c.role, UNITS.c.code)
        .join(UNITS, UNITS.c.id == USER_ROLES.c.scope_unit_id)
        .where(USER_ROLES.c.user_id == user_id)
    ).all()
    return tuple(sorted((r.role, r.code) for r in rows))


def sign_in(
    conn: Connection,
    identity: DirectoryIdentity,
    mapping: DirectoryMap,
    roles: dict[str, RoleDef],
    now: datetime | None = None,
) -> str:
    """The username to open a session for. Creates the account at first sign-in, or links an
    account created without a password (e.g. by `users import`); replaces its roles with what
    the directory's groups give. Refuses (DirectorySignInRefused, in Vietnamese) when no group
    maps to a role, when a local account of that name has its own password, or when the
    account was disabled in khenthuong; the refusal's message key is in the web's catalogs."""
    now = now or datetime.now(UTC)
    source = SOURCE_NAMES.get(identity.source, identity.source)
    grants = mapping.grants_for(identity.groups)
    if grants is None:
        raise DirectorySignInRefused("directory_no_role", username=identity.username, source=source)
    row = conn.execute(
        select(
            USERS.c.id, USERS.c.active, USERS.c.password_hash, USERS.c.auth_source,
            USERS.c.directory_subject, USERS.c.full_name, USERS.c.email, USERS.c.unit_id,
        ).where(USERS.c.username == identity.username)
    ).first()  # fmt: skip
    unit_id, _ = unit_row(conn, grants.unit)
    stream = account_stream(identity.username)
    if row is None:
        add_user(
            conn, identity.username, identity.full_name, identity.email or "", grants.unit,
            list(grants.roles), roles,
        )  # fmt: skip
        conn.execute(
            update(USERS)
            .where(USERS.c.username == identity.username)
            .values(auth_source=identity.source, directory_subject=identity.subject)
        )
        append_event(
            conn, stream, actor=identity.username, trigger="directory_account_created",
            payload={
                "source": identity.source, "subject": identity.subject, "unit": grants.unit,
                "roles": [list(g) for g in grants.roles], "groups": list(grants.matched),
            },
            now=now,
        )  # fmt: skip
        return identity.username
    if not row.active:
        raise DirectorySignInRefused("directory_account_locked", username=identity.username)
    if row.auth_source == "local" and row.password_hash:
        raise DirectorySignInRefused(
            "directory_local_account", username=identity.username, source=source
        )
    if row.directory_subject and row.directory_subject != identity.subject:
        raise DirectorySignInRefused(
            "directory_other_person", username=identity.username, source=source
        )
    before = _current_grants(conn, row.id)
    changes: dict[str, object] = {}
    if before != grants.roles:
        conn.execute(delete(USER_ROLES).where(USER_ROLES.c.user_id == row.id))
        for role, scope in grants.roles:
            grant_role(conn, row.id, role, scope, roles)
        changes["roles"] = {
            "from": [list(g) for g in before],
            "to": [list(g) for g in grants.roles],
        }
    values: dict[str, object] = {}
    for column, new in (
        ("full_name", identity.full_name),
        ("email", identity.email or row.email),
        ("unit_id", unit_id),
        ("auth_source", identity.source),
        ("directory_subject", identity.subject),
    ):
        if getattr(row, column) != new:
            values[column] = new
            changes[column] = {"from": getattr(row, column), "to": new}
    if values:
        conn.execute(update(USERS).where(USERS.c.id == row.id).values(**values))
    if changes:
        append_event(
            conn, stream, actor=identity.username, trigger="directory_account_updated",
            payload={"source": identity.source, "groups": list(grants.matched), **changes},
            now=now,
        )  # fmt: skip
    return identity.username
