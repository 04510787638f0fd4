"""Blocs managed in the product: create a bloc, add or remove members with effective dates,
set or elect a year's leader (khối trưởng / cụm trưởng) and deputy; every step audited.

`config/blocs.yaml` stays a seed (`apply_blocs` creates what is missing). The organiser's
emulation office (ministry_officer) or an administrator over the organiser manages a bloc;
a year's leader is also recorded by the unit that led the year before (the bloc elects its
next leader at the year-end review it chairs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, insert, select, update

from khenthuong.audit.append import append_event
from khenthuong.errors import Forbidden, KhenthuongError, NotFound
from khenthuong.services.actors import Actor
from khenthuong.services.blocs import BlocView, ScoringIn, bloc_view, leads, unit_path
from khenthuong.storage.blocs import BLOC_LEADERS, BLOC_MEMBERS, BLOCS
from khenthuong.storage.db import inserted_id
from khenthuong.storage.models import UNITS

MANAGER_ROLES = ("ministry_officer", "admin")
LEADER_SOURCES = ("elected", "set")


@dataclass(frozen=True)
class Membership:
    """A unit's membership of a bloc over a period."""

    unit: str
    unit_name: str
    from_date: date | None
    from_year: int
    to_date: date | None
    to_year: int | None


def _bloc_row(conn: Connection, code: str) -> dict[str, object]:
    row = conn.execute(select(BLOCS).where(BLOCS.c.code == code)).mappings().first()
    if row is None:
        raise NotFound(f"Không có khối, cụm thi đua {code!r}")
    return dict(row)


def _unit(conn: Connection, code: str, what: str) -> tuple[int, str, str]:
    row = conn.execute(
        select(UNITS.c.id, UNITS.c.path, UNITS.c.name).where(UNITS.c.code == code)
    ).first()
    if row is None:
        raise NotFound(f"{what}: không có đơn vị mã {code!r}")
    return int(row.id), str(row.path), str(row.name)


def may_manage(conn: Connection, actor: Actor, organiser_id: int) -> bool:
    """The organiser's emulation office or an administrator over it."""
    path = conn.execute(select(UNITS.c.path).where(UNITS.c.id == organiser_id)).scalar_one()
    return actor.grant_for(MANAGER_ROLES, str(path)) is not None


def _require_manager(conn: Connection, actor: Actor, bloc: dict[str, object]) -> None:
    if not may_manage(conn, actor, int(str(bloc["organiser_unit_id"]))):
        raise Forbidden(
            f"{actor.display_name} không phải cán bộ Thi đua – Khen thưởng hay quản trị của đơn vị "
            f"tổ chức khối {bloc['code']}: không được sửa khối"
        )


def create_bloc(
    conn: Connection,
    *,
    code: str,
    name: str,
    kind: str,
    organiser: str,
    since: int,
    flag_quota: int | None,
    scoring: ScoringIn | None,
    actor: Actor,
) -> int:
    """A new bloc without members (add them with `add_member`)."""
    if kind not in ("khoi", "cum"):
        raise KhenthuongError("Loại phải là khoi (khối thi đua) hoặc cum (cụm thi đua)")
    code = code.strip().upper()
    if not code or len(code) > 40 or not all(c.isalnum() or c in "_.-" for c in code):
        raise KhenthuongError(f"Mã khối {code!r} không hợp lệ: chữ, số, _ . - (tối đa 40)")
    if not name.strip():
        raise KhenthuongError("Tên khối không được để trống")
    if not 1945 <= since <= 2100:
        raise KhenthuongError(f"Năm thành lập {since} không hợp lệ")
    if flag_quota is not None and flag_quota < 0:
        raise KhenthuongError("Chỉ tiêu Cờ thi đua của Chính phủ không được âm")
    organiser_id, organiser_path, _ = _unit(conn, organiser, "Đơn vị tổ chức")
    if actor.grant_for(MANAGER_ROLES, organiser_path) is None:
        raise Forbidden(
            f"{actor.display_name} không phải cán bộ Thi đua – Khen thưởng hay quản trị của "
            f"{organiser}: không được lập khối do đơn vị này tổ chức"
        )
    if conn.execute(select(BLOCS.c.id).where(BLOCS.c.code == code)).first():
        raise KhenthuongError(f"Đã có khối mã {code}")
    bloc_id = inserted_id(
        conn.execute(
            insert(BLOCS).values(
                code=code,
                name=name.strip(),
                kind=kind,
                organiser_unit_id=organiser_id,
                rotation="[]",
                rotation_start_year=since,
                flag_quota=flag_quota,
                leader_rule="recorded",
                scoring=scoring.model_dump_json() if scoring else None,
            )
        )
    )
    append_event(
        conn, f"bloc:{code}", actor=actor.username, actor_unit=actor.unit_code,
        trigger="create_bloc",
        payload={"name": name.strip(), "kind": kind, "organiser": organiser, "since": since,
                 "flag_quota": flag_quota,
                 "scoring": scoring.model_dump() if scoring else None},
    )  # fmt: skip
    return bloc_id


def memberships(conn: Connection, code: str) -> list[Membership]:
    """Every membership of the bloc, oldest first."""
    bloc = _bloc_row(conn, code)
    return [
        Membership(r.code, r.name, r.from_date, r.from_year, r.to_date, r.to_year)
        for r in conn.execute(
            select(
                UNITS.c.code,
                UNITS.c.name,
                BLOC_MEMBERS.c.from_date,
                BLOC_MEMBERS.c.from_year,
                BLOC_MEMBERS.c.to_date,
                BLOC_MEMBERS.c.to_year,
            )
            .join(UNITS, UNITS.c.id == BLOC_MEMBERS.c.unit_id)
            .where(BLOC_MEMBERS.c.bloc_id == bloc["id"])
            .order_by(BLOC_MEMBERS.c.from_year, BLOC_MEMBERS.c.id)
        )
    ]


def add_member(conn: Connection, code: str, unit: str, *, since: date, actor: Actor) -> None:
    """The unit joins the bloc from `since` (it leads in the rotation after the others)."""
    bloc = _bloc_row(conn, code)
    _require_manager(conn, actor, bloc)
    unit_id, _, unit_name = _unit(conn, unit, "Thành viên")
    open_row = conn.execute(
        select(BLOC_MEMBERS.c.id).where(
            BLOC_MEMBERS.c.bloc_id == bloc["id"],
            BLOC_MEMBERS.c.unit_id == unit_id,
            BLOC_MEMBERS.c.to_year.is_(None) | (BLOC_MEMBERS.c.to_year >= since.year),
        )
    ).first()
    if open_row is not None:
        raise KhenthuongError(f"{unit_name} đã là thành viên khối {code} năm {since.year}")
    conn.execute(
        insert(BLOC_MEMBERS).values(
            bloc_id=bloc["id"], unit_id=unit_id, from_year=since.year, from_date=since
        )
    )
    rotation = json.loads(str(bloc["rotation"]))
    if unit not in rotation:
        rotation.append(unit)
        conn.execute(
            update(BLOCS).where(BLOCS.c.id == bloc["id"]).values(rotation=json.dumps(rotation))
        )
    append_event(
        conn, f"bloc:{code}", actor=actor.username, actor_unit=actor.unit_code,
        trigger="add_member", payload={"unit": unit, "from": since.isoformat()},
    )  # fmt: skip


def remove_member(conn: Connection, code: str, unit: str, *, until: date, actor: Actor) -> None:
    """The unit leaves the bloc on `until` (still a member in that year's review)."""
    bloc = _bloc_row(conn, code)
    _require_manager(conn, actor, bloc)
    unit_id, _, unit_name = _unit(conn, unit, "Thành viên")
    row = conn.execute(
        select(BLOC_MEMBERS.c.id, BLOC_MEMBERS.c.from_year, BLOC_MEMBERS.c.from_date).where(
            BLOC_MEMBERS.c.bloc_id == bloc["id"],
            BLOC_MEMBERS.c.unit_id == unit_id,
            BLOC_MEMBERS.c.to_year.is_(None),
        )
    ).first()
    if row is None:
        raise KhenthuongError(f"{unit_name} không còn là thành viên khối {code}")
    if until.year < row.from_year or (row.from_date is not None and until < row.from_date):
        raise KhenthuongError(f"Ngày rời khối {until:%d/%m/%Y} trước ngày gia nhập của {unit_name}")
    conn.execute(
        update(BLOC_MEMBERS)
        .where(BLOC_MEMBERS.c.id == row.id)
        .values(to_year=until.year, to_date=until)
    )
    append_event(
        conn, f"bloc:{code}", actor=actor.username, actor_unit=actor.unit_code,
        trigger="remove_member", payload={"unit": unit, "until": until.isoformat()},
    )  # fmt: skip


def may_set_leader(conn: Connection, view: BlocView, actor: Actor, bloc: dict[str, object]) -> bool:
    """The organiser's office or admin, or the unit that led the bloc the year before."""
    if may_manage(conn, actor, int(str(bloc["organiser_unit_id"]))):
        return True
    try:
        before = bloc_view(conn, view.code, view.year - 1)
    except NotFound:
        return False
    return before.leader is not None and leads(conn, before, actor)


def set_leader(
    conn: Connection,
    code: str,
    year: int,
    leader: str,
    deputy: str | None,
    *,
    source: str,
    actor: Actor,
    note: str = "",
) -> BlocView:
    """Record the year's leader and deputy, elected at a review or set by the organiser."""
    if source not in LEADER_SOURCES:
        raise KhenthuongError("Nguồn phải là elected (khối bầu) hoặc set (đơn vị tổ chức chỉ định)")
    view = bloc_view(conn, code, year)
    bloc = _bloc_row(conn, code)
    if not may_set_leader(conn, view, actor, bloc):
        raise Forbidden(
            f"{actor.display_name} không được chọn {view.leader_title.lower()} năm {year}: chỉ đơn "
            f"vị tổ chức khối hoặc {view.leader_title.lower()} năm {year - 1}"
        )
    members = {c for c, _ in view.members}
    for role, who in ((view.leader_title, leader), (view.deputy_title, deputy)):
        if who is not None and who not in members:
            raise KhenthuongError(
                f"{view.kind_label}: {role} {who!r} không phải thành viên {view.name} năm {year}"
            )
    if deputy == leader:
        raise KhenthuongError(f"{view.deputy_title} phải là đơn vị khác {view.leader_title}")
    ids = {
        r.code: int(r.id)
        for r in conn.execute(select(UNITS.c.code, UNITS.c.id).where(UNITS.c.code.in_(members)))
    }
    values = {
        "leader_unit_id": ids[leader],
        "deputy_unit_id": ids[deputy] if deputy else None,
        "source": source,
        "set_by": actor.username,
    }
    done = conn.execute(
        update(BLOC_LEADERS)
        .where(BLOC_LEADERS.c.bloc_id == view.id, BLOC_LEADERS.c.year == year)
        .values(**values)
    )
    if done.rowcount == 0:
        conn.execute(insert(BLOC_LEADERS).values(bloc_id=view.id, year=year, **values))
    append_event(
        conn, f"bloc:{code}:{year}", actor=actor.username, actor_unit=actor.unit_code,
        trigger="set_leader",
        payload={"leader": leader, "deputy": deputy, "source": source, "before": view.leader,
                 "note": note},
    )  # fmt: skip
    return bloc_view(conn, code, year)


def organiser_path(conn: Connection, view: BlocView) -> str:
    """The organiser's unit path (what the bloc's records are filed under)."""
    return unit_path(conn, view.organiser)
