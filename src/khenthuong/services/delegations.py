"""Delegations (ủy quyền, ký thay): a user hands some or all of their roles over a unit to
another user for a dated period, with a reason. The delegate acts under their own name "on
behalf of" the delegator (`services.actors.delegated_grants`); every event of such a step
names both, and a decision signed under a delegation prints KT./TL./TUQ. (ND 30/2020)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, insert, select, update

from khenthuong.audit.append import append_event
from khenthuong.errors import Forbidden, KhenthuongError, NotFound
from khenthuong.localtime import local_today
from khenthuong.refusals import cannot_delegate
from khenthuong.services.actors import Actor
from khenthuong.storage.db import inserted_id
from khenthuong.storage.delegations import DELEGATIONS
from khenthuong.storage.models import UNITS, USER_ROLES, USERS

MODES = {
    "KT": "Ký thay",
    "TL": "Thừa lệnh",
    "TUQ": "Thừa ủy quyền",
}
"""How a delegate signs (ND 30/2020, Art 13; Appendix I, box 7a)."""


def stream_of(delegation_id: int) -> str:
    return f"delegation:{delegation_id}"


@dataclass(frozen=True)
class DelegationView:
    id: int
    delegator: str
    delegator_name: str
    delegate: str
    delegate_name: str
    unit: str
    unit_name: str
    roles: tuple[str, ...]
    mode: str
    delegate_title: str
    starts_on: date
    ends_on: date
    reason: str
    revoked_at: datetime | None

    def in_force(self, today: date) -> bool:
        return self.revoked_at is None and self.starts_on <= today <= self.ends_on


def _user(conn: Connection, username: str, what: str) -> tuple[int, bool, str]:
    """A user's id, whether active, and the name refusals show (the username if none)."""
    row = conn.execute(
        select(USERS.c.id, USERS.c.active, USERS.c.full_name).where(USERS.c.username == username)
    ).first()
    if row is None:
        raise NotFound(f"Không có người dùng {username!r} ({what})")
    return int(row.id), bool(row.active), str(row.full_name or username)


@dataclass(frozen=True)
class UnitChoice:
    """A unit one may delegate over: its code and name, its path, the names of the units
    above it (nearest first) and whether the delegator holds a role over exactly this unit."""

    code: str
    name: str
    path: str
    ancestors: tuple[str, ...]
    held: bool

    @property
    def depth(self) -> int:
        return self.path.strip("/").count("/")


def _held(conn: Connection, user_id: int) -> list[tuple[str, str]]:
    """(role, scope unit path) of the roles a user holds in their own right."""
    rows = conn.execute(
        select(USER_ROLES.c.role, UNITS.c.path)
        .join(UNITS, UNITS.c.id == USER_ROLES.c.scope_unit_id)
        .where(USER_ROLES.c.user_id == user_id)
    ).all()
    return [(str(r.role), str(r.path)) for r in rows]


def _overlaps(unit_path: str, grant_path: str) -> bool:
    """A delegation over a unit carries a role held over a unit inside it or around it (the
    delegate gets the narrower of the two subtrees, `services.actors.delegated_grants`)."""
    return unit_path.startswith(grant_path) or grant_path.startswith(unit_path)


def delegable(conn: Connection, delegator: str) -> tuple[list[UnitChoice], list[str]]:
    """What `create` accepts for `delegator`, from one read of their roles: the units (a role
    of theirs held over the unit, a unit inside it or a unit around it) in tree order, a unit
    then the units under it; and the roles they hold in their own right, sorted. Both empty
    for an unknown user or one without roles."""
    row = conn.execute(select(USERS.c.id).where(USERS.c.username == delegator)).first()
    held = [] if row is None else _held(conn, int(row.id))
    if not held:
        return [], []
    grants = {path for _role, path in held}
    units = conn.execute(select(UNITS.c.code, UNITS.c.name, UNITS.c.path)).all()
    names = {str(u.code): str(u.name) for u in units}
    chosen = [
        UnitChoice(
            code=str(u.code),
            name=str(u.name),
            path=str(u.path),
            ancestors=tuple(
                names.get(c, c) for c in reversed(str(u.path).strip("/").split("/")[:-1])
            ),
            held=str(u.path) in grants,
        )
        for u in units
        if any(_overlaps(str(u.path), g) for g in grants)
    ]
    units_in_order = sorted(chosen, key=lambda u: u.path.strip("/").split("/"))
    return units_in_order, sorted({role for role, _path in held})


def create(
    conn: Connection,
    actor: Actor,
    *,
    delegator: str,
    delegate: str,
    unit: str,
    roles: list[str],
    mode: str,
    delegate_title: str,
    starts_on: date,
    ends_on: date,
    reason: str,
    now: datetime | None = None,
) -> int:
    """Record a delegation; the delegator themself or an administrator may do it. Refused,
    writing nothing, naming the field: unknown users or unit, the delegate being the
    delegator, a role the delegator does not hold over that unit, an unknown mode, an empty
    title or reason, an end before the start or before today."""
    now = now or datetime.now(UTC)
    if actor.username != delegator and not actor.has_role("admin"):
        raise Forbidden(
            f"{actor.display_name} không thể ủy quyền thay cho {delegator}: chỉ người ủy quyền "
            "hoặc quản trị hệ thống được lập ủy quyền"
        )
    delegator_id, delegator_active, delegator_name = _user(conn, delegator, "người ủy quyền")
    delegate_id, delegate_active, _name = _user(conn, delegate, "người được ủy quyền")
    if delegator_id == delegate_id:
        raise KhenthuongError("Người được ủy quyền phải khác người ủy quyền")
    if not delegator_active or not delegate_active:
        raise KhenthuongError("Tài khoản người ủy quyền hoặc người được ủy quyền đã bị khóa")
    scope = conn.execute(
        select(UNITS.c.id, UNITS.c.path, UNITS.c.name).where(UNITS.c.code == unit)
    ).first()
    if scope is None:
        raise NotFound(f"Không có đơn vị {unit!r} (trường đơn vị)")
    mode = mode.strip().upper().rstrip(".")
    if mode not in MODES:
        raise KhenthuongError(
            f"Hình thức ký {mode!r} không hợp lệ: chọn KT (ký thay), TL (thừa lệnh) hoặc "
            "TUQ (thừa ủy quyền)"
        )
    title = " ".join(delegate_title.split()).upper()
    if not title:
        raise KhenthuongError("Thiếu chức vụ của người được ủy quyền (in dưới dòng ký)")
    if not reason.strip():
        raise KhenthuongError("Thiếu lý do ủy quyền")
    if ends_on < starts_on:
        raise KhenthuongError(
            f"Ngày kết thúc {ends_on:%d/%m/%Y} trước ngày bắt đầu {starts_on:%d/%m/%Y}"
        )
    if ends_on < local_today():
        raise KhenthuongError(f"Ngày kết thúc {ends_on:%d/%m/%Y} đã qua")
    overlapping = {
        role for role, path in _held(conn, delegator_id) if _overlaps(str(scope.path), path)
    }
    wanted = [r.strip() for r in roles if r.strip()]
    missing = [r for r in wanted if r not in overlapping]
    if missing:
        raise cannot_delegate(delegator_name, str(scope.name), missing)
    if not overlapping:
        raise cannot_delegate(delegator_name, str(scope.name))
    delegation_id = inserted_id(
        conn.execute(
            insert(DELEGATIONS).values(
                delegator_id=delegator_id,
                delegate_id=delegate_id,
                scope_unit_id=scope.id,
                roles=",".join(wanted),
                mode=mode,
                delegate_title=title,
                starts_on=starts_on,
                ends_on=ends_on,
                reason=reason.strip(),
                created_by=actor.username,
                created_at=now,
            )
        )
    )
    append_event(
        conn, stream_of(delegation_id), actor=actor.username, actor_unit=actor.unit_code,
        trigger="delegate",
        payload={
            "delegator": delegator, "delegate": delegate, "unit": unit,
            "roles": wanted or sorted(overlapping), "mode": mode, "delegate_title": title,
            "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat(),
        },
        comment=reason.strip(), now=now,
    )  # fmt: skip
    return delegation_id


def revoke(
    conn: Connection, actor: Actor, delegation_id: int, reason: str, now: datetime | None = None
) -> None:
    """End a delegation now; the delegator, the delegate or an administrator may do it."""
    now = now or datetime.now(UTC)
    view = get(conn, delegation_id)
    if actor.username not in (view.delegator, view.delegate) and not actor.has_role("admin"):
        raise Forbidden(f"{actor.display_name} không thể thu hồi ủy quyền #{delegation_id}")
    if view.revoked_at is not None:
        raise KhenthuongError(f"Ủy quyền #{delegation_id} đã được thu hồi trước đó")
    conn.execute(
        update(DELEGATIONS)
        .where(DELEGATIONS.c.id == delegation_id)
        .values(revoked_at=now, revoked_by=actor.username)
    )
    append_event(
        conn, stream_of(delegation_id), actor=actor.username, actor_unit=actor.unit_code,
        trigger="revoke_delegation", payload={"delegator": view.delegator,
                                              "delegate": view.delegate},
        comment=reason.strip() or None, now=now,
    )  # fmt: skip


def _views(conn: Connection, *where: object) -> list[DelegationView]:
    d = DELEGATIONS
    giver = USERS.alias("giver")
    taker = USERS.alias("taker")
    rows = conn.execute(
        select(
            d, giver.c.username.label("delegator"), giver.c.full_name.label("delegator_name"),
            taker.c.username.label("delegate"), taker.c.full_name.label("delegate_name"),
            UNITS.c.code.label("unit"), UNITS.c.name.label("unit_name"),
        )
        .join(giver, giver.c.id == d.c.delegator_id)
        .join(taker, taker.c.id == d.c.delegate_id)
        .join(UNITS, UNITS.c.id == d.c.scope_unit_id)
        .where(*where)  # type: ignore[arg-type]
        .order_by(d.c.starts_on.desc(), d.c.id.desc())
    ).mappings()  # fmt: skip
    return [
        DelegationView(
            id=r["id"],
            delegator=r["delegator"],
            delegator_name=r["delegator_name"],
            delegate=r["delegate"],
            delegate_name=r["delegate_name"],
            unit=r["unit"],
            unit_name=r["unit_name"],
            roles=tuple(x for x in r["roles"].split(",") if x),
            mode=r["mode"],
            delegate_title=r["delegate_title"],
            starts_on=r["starts_on"],
            ends_on=r["ends_on"],
            reason=r["reason"],
            revoked_at=r["revoked_at"],
        )
        for r in rows
    ]


def get(conn: Connection, delegation_id: int) -> DelegationView:
    found = _views(conn, DELEGATIONS.c.id == delegation_id)
    if not found:
        raise NotFound(f"Không có ủy quyền #{delegation_id}")
    return found[0]


def list_for(conn: Connection, actor: Actor) -> list[DelegationView]:
    """The delegations the actor gave or received; every one for an administrator."""
    if actor.has_role("admin"):
        return _views(conn)
    return _views(
        conn,
        (DELEGATIONS.c.delegator_id == actor.user_id)
        | (DELEGATIONS.c.delegate_id == actor.user_id),
    )
