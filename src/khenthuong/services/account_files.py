"""Officer accounts from a file and back: username, name, e-mail, home unit, roles with
their scope, active.

A row is one account, found by its username. `Vai trò` lists every role the account holds,
as `role@SCOPE` (or `role` over the home unit; the role's code or its Vietnamese title),
separated by `;`: roles the cell no longer lists are revoked. `Hoạt động` = không disables an
account (its sessions end); accounts the file leaves out are kept as they are. A file never
carries passwords: a new account has none and cannot sign in until an administrator sets one
(`khenthuong users set-password USERNAME`). An import that would leave no active
administrator, or disable or demote the importing administrator, is refused.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from khenthuong.audit.bulk import NewEvent
from khenthuong.roles import RoleDef
from khenthuong.services.actors import Actor
from khenthuong.services.org_files import (
    Change,
    ImportPlan,
    OrgFileRefused,
    RowErrors,
    Table,
    admin_paths,
    export_file,
    file_digest,
    hold_import_lock,
    read_table,
    record,
    units_by_code,
    within,
    yes_no,
)
from khenthuong.sheets import SheetRow
from khenthuong.storage.models import UNITS, USER_ROLES, USERS
from khenthuong.textsearch import clean_name

ACCOUNT_TABLE = Table(
    columns={
        "username": ("Tên đăng nhập",),
        "full_name": ("Họ và tên", "họ tên"),
        "email": ("Thư điện tử", "email", "e-mail"),
        "unit": ("Mã đơn vị", "đơn vị"),
        "roles": ("Vai trò",),
        "active": ("Hoạt động",),
    },
    required=("username", "email", "unit", "roles"),
    title="Tài khoản",
)
USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,79}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
ADMIN = "admin"


@dataclass(frozen=True)
class _Row:
    number: int
    username: str
    full_name: str | None
    email: str
    unit_id: int
    grants: frozenset[tuple[str, int]]
    active: bool | None


def _role_names(roles: Mapping[str, RoleDef]) -> dict[str, str]:
    names = {code.casefold(): code for code in roles}
    names.update({r.title.vi.casefold(): code for code, r in roles.items()})
    return names


def _grants(
    text: str, home: Any, units: dict[str, Any], roles: Mapping[str, RoleDef], problems: list[str]
) -> set[tuple[str, int]]:
    names = _role_names(roles)
    out: set[tuple[str, int]] = set()
    for item in filter(None, (part.strip() for part in re.split(r"[;\n]", text))):
        role_text, _, scope_text = item.partition("@")
        role = names.get(role_text.strip().casefold())
        scope = units.get(scope_text.strip().upper()) if scope_text.strip() else home
        if role is None:
            problems.append(
                f"vai trò {role_text.strip()!r} không có; các vai trò: {', '.join(sorted(roles))}"
            )
        if scope is None and scope_text.strip():
            problems.append(f"không có đơn vị phạm vi {scope_text.strip()!r} (vai trò {item})")
        if role is not None and scope is not None:  # an unknown home unit is said once
            out.add((role, int(scope.id)))
    if not out and not problems:
        problems.append("cần ít nhất một vai trò (vai_trò@MÃ_ĐƠN_VỊ)")
    return out


def _check(
    sheet_row: SheetRow,
    units: dict[str, Any],
    unit_by_id: dict[int, Any],
    roles: Mapping[str, RoleDef],
    mine: tuple[str, ...],
) -> _Row:
    v = sheet_row.values
    problems: list[str] = []
    username = v.get("username", "").lower()
    if not USERNAME.match(username):
        problems.append(
            f"tên đăng nhập {username!r} không hợp lệ (chữ thường, số, dấu . _ -; 2–80 ký tự)"
            if username
            else "thiếu tên đăng nhập"
        )
    email = v.get("email", "")
    if not EMAIL.match(email) or len(email) > 320:
        problems.append(f"thư điện tử {email!r} không hợp lệ" if email else "thiếu thư điện tử")
    full_name = clean_name(v["full_name"])[:200] or None if "full_name" in v else None
    home = units.get(v.get("unit", "").upper())
    if home is None:
        problems.append(
            f"không có đơn vị mã {v.get('unit')!r}" if v.get("unit") else "thiếu mã đơn vị"
        )
    grants = _grants(v.get("roles", ""), home, units, roles, problems)
    for _, scope_id in grants:
        scope = unit_by_id[scope_id]
        if not within(str(scope.path), mine):
            problems.append(f"phạm vi {scope.name} ngoài phạm vi quản trị của bạn")
    if home is not None and not within(str(home.path), mine):
        problems.append(f"đơn vị {home.name} ngoài phạm vi quản trị của bạn")
    active = None
    if v.get("active"):
        active = yes_no(v["active"])
        if active is None:
            problems.append(f"hoạt động {v['active']!r} không hợp lệ; ghi 'có' hoặc 'không'")
    if problems:
        raise ValueError("; ".join(dict.fromkeys(problems)))
    assert home is not None
    return _Row(
        sheet_row.number, username, full_name, email, int(home.id), frozenset(grants), active
    )


def plan_accounts(
    conn: Connection,
    path: Path,
    actor: Actor,
    roles: Mapping[str, RoleDef],
    *,
    display_name: str | None = None,
) -> ImportPlan:
    """Every difference between the file and the accounts, or OrgFileRefused naming each bad
    row. Writes nothing; never reads or writes a password."""
    hold_import_lock(conn)
    name = display_name or path.name
    mine = admin_paths(actor)
    sheet = read_table(path, ACCOUNT_TABLE, name)
    units = units_by_code(conn)
    unit_by_id = {u.id: u for u in units.values()}
    users = {r.username: r for r in conn.execute(
        select(USERS.c.id, USERS.c.username, USERS.c.full_name, USERS.c.email, USERS.c.unit_id,
               USERS.c.active)
    )}  # fmt: skip
    held: dict[int, set[tuple[str, int]]] = {}
    for g in conn.execute(select(USER_ROLES.c.user_id, USER_ROLES.c.role,
                                 USER_ROLES.c.scope_unit_id)):  # fmt: skip
        held.setdefault(g.user_id, set()).add((g.role, g.scope_unit_id))
    errors = RowErrors(name)
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    for sheet_row in sheet:
        if sheet_row.error:
            errors.add(sheet_row.number, sheet_row.error)
            continue
        try:
            row = _check(sheet_row, units, unit_by_id, roles, mine)
        except ValueError as exc:
            errors.add(sheet_row.number, str(exc))
            continue
        if row.username in seen:
            errors.add(
                row.number, f"tên đăng nhập {row.username} trùng với dòng {seen[row.username]}"
            )
            continue
        seen[row.username] = row.number
        rows.append(row)
    errors.raise_any()
    plan = ImportPlan("users", name, file_digest(path), rows=len(sheet))
    label = {r: roles[r].title.vi for r in roles}

    def said(grants: set[tuple[str, int]] | frozenset[tuple[str, int]]) -> list[str]:
        return sorted(f"{r}@{unit_by_id[s].code}" for r, s in grants)

    def named(grants: set[tuple[str, int]] | frozenset[tuple[str, int]]) -> str:
        return ", ".join(f"{label[r]} – {unit_by_id[s].name}" for r, s in sorted(grants))

    for row in rows:
        user = users.get(row.username)
        unit = unit_by_id[row.unit_id]
        if user is None:
            plan.changes.append(
                Change(
                    "account_added",
                    row.number,
                    f"Thêm tài khoản {row.username} ({row.full_name or row.username}, "
                    f"{unit.name}): "
                    + ", ".join(
                        f"{label[r]} – {unit_by_id[s].name}" for r, s in sorted(row.grants)
                    ),
                    None,
                    {
                        "username": row.username,
                        "full_name": row.full_name or row.username,
                        "email": row.email,
                        "unit": unit.code,
                        "roles": said(row.grants),
                        "active": row.active is not False,
                    },
                    {"row": row},
                )
            )
            continue
        plan.changes.extend(
            _differences(row, user, held.get(user.id, set()), unit_by_id, said, named)
        )
    _keep_an_admin(plan, actor, users, held, rows, name)
    added = new_accounts(plan)
    if added:
        plan.notes.append(
            # Shown by the pages and the API too: the CLI adds its commands (show_plan).
            f"{len(added)} tài khoản mới chưa có mật khẩu và chưa đăng nhập được cho đến khi "
            "được đặt mật khẩu hoặc nhận liên kết đặt mật khẩu dùng một lần ("
            + ", ".join(added[:20])
            + (", …" if len(added) > 20 else "")
            + ")"
        )
    return plan


def _differences(
    row: _Row,
    user: Any,
    held: set[tuple[str, int]],
    unit_by_id: dict[int, Any],
    said: Any,
    named: Any,
) -> list[Change]:
    stream = f"user:{user.id}"
    out: list[Change] = []
    values: dict[str, Any] = {}
    if row.full_name is not None and row.full_name != user.full_name:
        values["full_name"] = row.full_name
    if row.email != user.email:
        values["email"] = row.email
    if row.unit_id != user.unit_id:
        values["unit_id"] = row.unit_id
    if values:
        shown = {"unit_id": lambda i: unit_by_id[i].name}
        label = {"full_name": "họ tên", "email": "thư điện tử", "unit_id": "đơn vị"}
        text = "; ".join(
            f"{label[k]}: {shown.get(k, str)(getattr(user, k))} → {shown.get(k, str)(v)}"
            for k, v in values.items()
        )
        payload = {k: [getattr(user, k), v] for k, v in values.items() if k != "unit_id"}
        if "unit_id" in values:
            payload["unit"] = [unit_by_id[user.unit_id].code, unit_by_id[row.unit_id].code]
        out.append(
            Change("account_changed", row.number, f"Sửa tài khoản {row.username}: {text}",
                   stream, payload, {"id": user.id, "values": values})
        )  # fmt: skip
    granted, revoked = set(row.grants) - held, held - set(row.grants)
    if granted or revoked:
        parts = ([f"thêm {named(granted)}"] if granted else []) + (
            [f"bỏ {named(revoked)}"] if revoked else []
        )
        out.append(
            Change(
                "roles_changed",
                row.number,
                f"Đổi vai trò của {row.username}: {'; '.join(parts)}",
                stream,
                {"granted": said(granted), "revoked": said(revoked)},
                {"id": user.id, "granted": sorted(granted), "revoked": sorted(revoked)},
            )
        )
    if row.active is not None and row.active != bool(user.active):
        kind = "account_enabled" if row.active else "account_disabled"
        verb = "Mở lại" if row.active else "Khóa"
        out.append(
            Change(kind, row.number, f"{verb} tài khoản {row.username}", stream, {},
                   {"id": user.id, "active": row.active})
        )  # fmt: skip
    return out


def _keep_an_admin(
    plan: ImportPlan,
    actor: Actor,
    users: dict[str, Any],
    held: dict[int, set[tuple[str, int]]],
    rows: list[_Row],
    name: str,
) -> None:
    """Refuse a plan that leaves no active administrator or locks out the importer."""
    by_name = {r.username: r for r in rows}
    admins = []
    for user in users.values():
        row = by_name.get(user.username)
        grants = row.grants if row else held.get(user.id, set())
        active = bool(user.active) if row is None or row.active is None else row.active
        if active and any(role == ADMIN for role, _ in grants):
            admins.append(user.username)
    admins += [r.username for r in rows if r.username not in users and r.active is not False
               and any(role == ADMIN for role, _ in r.grants)]  # fmt: skip
    mine = by_name.get(actor.username)
    if mine is not None and actor.username not in admins:
        raise OrgFileRefused(
            [f"{name}:{mine.number}: tệp khóa hoặc bỏ vai trò quản trị của chính bạn "
             f"({actor.display_name}); một quản trị viên khác phải làm việc này"]
        )  # fmt: skip
    if not admins:
        raise OrgFileRefused([f"{name}:1: sau khi nhập sẽ không còn quản trị viên nào hoạt động"])


def apply_accounts(conn: Connection, plan: ImportPlan, actor: Actor) -> int:
    """Write the plan's changes and their audit events (no password is set); returns the
    events written."""
    events: list[NewEvent] = []
    for change in plan.changes:
        data = change.data
        if change.kind == "account_added":
            row: _Row = data["row"]
            user_id = conn.execute(
                insert(USERS).returning(USERS.c.id).values(
                    username=row.username, full_name=row.full_name or row.username,
                    email=row.email, unit_id=row.unit_id, active=row.active is not False,
                )
            ).scalar_one()  # fmt: skip
            conn.execute(
                insert(USER_ROLES),
                [
                    {"user_id": user_id, "role": r, "scope_unit_id": s}
                    for r, s in sorted(row.grants)
                ],
            )
            events.append(NewEvent(f"user:{user_id}", change.kind, change.payload))
            continue
        if change.kind == "account_changed":
            conn.execute(update(USERS).where(USERS.c.id == data["id"]).values(data["values"]))
        elif change.kind == "roles_changed":
            for role, scope in data["revoked"]:
                conn.execute(
                    delete(USER_ROLES).where(
                        USER_ROLES.c.user_id == data["id"],
                        USER_ROLES.c.role == role,
                        USER_ROLES.c.scope_unit_id == scope,
                    )
                )
            if data["granted"]:
                conn.execute(
                    insert(USER_ROLES),
                    [{"user_id": data["id"], "role": r, "scope_unit_id": s}
                     for r, s in data["granted"]],
                )  # fmt: skip
        else:
            values: dict[str, Any] = {"active": data["active"]}
            if not data["active"]:
                values["session_epoch"] = USERS.c.session_epoch + 1
            conn.execute(update(USERS).where(USERS.c.id == data["id"]).values(values))
        assert change.stream is not None
        events.append(NewEvent(change.stream, change.kind, change.payload))
    return record(conn, plan, actor, events)


def export_accounts(conn: Connection, path: Path) -> int:
    """Every account with its roles (never a password) as .xlsx or .csv; row count."""
    scope = UNITS.alias("scope")
    roles: dict[int, list[str]] = {}
    for g in conn.execute(
        select(USER_ROLES.c.user_id, USER_ROLES.c.role, scope.c.code)
        .join(scope, scope.c.id == USER_ROLES.c.scope_unit_id)
        .order_by(USER_ROLES.c.id)
    ):
        roles.setdefault(g.user_id, []).append(f"{g.role}@{g.code}")
    rows = conn.execute(
        select(USERS.c.id, USERS.c.username, USERS.c.full_name, USERS.c.email, USERS.c.active,
               UNITS.c.code)
        .join(UNITS, UNITS.c.id == USERS.c.unit_id)
        .order_by(USERS.c.username)
    )  # fmt: skip
    return export_file(
        path,
        ACCOUNT_TABLE,
        ([u.username, u.full_name, u.email, u.code, "; ".join(roles.get(u.id, [])),
          "có" if u.active else "không"] for u in rows),
    )  # fmt: skip


def new_accounts(plan: ImportPlan) -> list[str]:
    """Usernames of the active accounts the plan adds (they have no password yet)."""
    return [c.payload["username"] for c in plan.changes
            if c.kind == "account_added" and c.payload["active"]]  # fmt: skip
