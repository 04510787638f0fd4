"""One entry for the pages and the API to the three organisation files: units, persons,
users (the unit tree, the person register, officer accounts)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from pathlib import Path

from sqlalchemy import Connection

from khenthuong.roles import RoleDef
from khenthuong.services import account_files, person_files, unit_files
from khenthuong.services.actors import Actor
from khenthuong.services.org_files import ImportPlan

KINDS = ("units", "persons", "users")
"""The files, in the order a new organisation imports them."""
EXPORTS = {
    "units": unit_files.export_units,
    "persons": person_files.export_persons,
    "users": account_files.export_accounts,
}
APPLY = {
    "units": unit_files.apply_units,
    "persons": person_files.apply_persons,
    "users": account_files.apply_accounts,
}


def plan_file(
    conn: Connection,
    kind: str,
    path: Path,
    actor: Actor,
    roles: Mapping[str, RoleDef],
    *,
    effective: date,
    absent_leave: bool = False,
    display_name: str | None = None,
) -> ImportPlan:
    """The differences a file of `kind` would apply (OrgFileRefused naming bad rows)."""
    if kind == "units":
        return unit_files.plan_units(conn, path, actor, display_name=display_name)
    if kind == "persons":
        return person_files.plan_persons(
            conn, path, actor, effective=effective, absent_leave=absent_leave,
            display_name=display_name,
        )  # fmt: skip
    if kind == "users":
        return account_files.plan_accounts(conn, path, actor, roles, display_name=display_name)
    raise ValueError(f"unknown organisation file {kind!r}")


def apply_plan(conn: Connection, plan: ImportPlan, actor: Actor) -> int:
    """Apply a plan made in this transaction; returns the audit events written."""
    return APPLY[plan.what](conn, plan, actor)


def export(conn: Connection, kind: str, path: Path) -> int:
    """Write the file of `kind` to `path` (.xlsx or .csv); returns the row count."""
    return EXPORTS[kind](conn, path)
