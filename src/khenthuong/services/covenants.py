"""Covenants (giao ước thi đua): launch by the year's leader, targets with their kinds, and
the members' signatures. Reviews, scores and the vote: `services.bloc_reviews`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import Connection, func, insert, select

from khenthuong.audit.append import append_event
from khenthuong.blocs.targets import Target, check_target
from khenthuong.errors import Forbidden, KhenthuongError
from khenthuong.services.actors import Actor
from khenthuong.services.blocs import BlocView, bloc_view, require_bloc_leader, speaks_for
from khenthuong.storage.blocs import COVENANT_SIGNATURES, COVENANT_TARGETS, COVENANTS
from khenthuong.storage.db import inserted_id
from khenthuong.storage.models import UNITS

ROUNDS = {"so_ket": "sơ kết (giữa năm)", "tong_ket": "tổng kết (cuối năm)"}
TargetIn = Target
"""A covenant target as launched (khenthuong.blocs.targets.Target)."""


@dataclass(frozen=True)
class Signature:
    """A member's signature of the covenant, or its absence (signed_on None)."""

    unit: str
    unit_name: str
    signed_on: date | None
    signed_by: str | None


@dataclass(frozen=True)
class CovenantView:
    """A bloc's covenant for one year: theme, targets and who has signed."""

    bloc: str
    bloc_name: str
    year: int
    theme: str
    launched_on: date
    launched_by: str
    targets: tuple[Target, ...]
    signatures: tuple[Signature, ...]
    """One per member of that year, in rotation order."""


def covenant_of(conn: Connection, code: str, year: int) -> CovenantView | None:
    """The covenant of bloc `code` for `year`, None if it was not launched."""
    view = bloc_view(conn, code, year)
    row = conn.execute(
        select(COVENANTS).where(COVENANTS.c.bloc_id == view.id, COVENANTS.c.year == year)
    ).first()
    if row is None:
        return None
    targets = targets_of(conn, int(row.id))
    signed = {
        int(r.unit_id): r
        for r in conn.execute(
            select(COVENANT_SIGNATURES).where(COVENANT_SIGNATURES.c.covenant_id == row.id)
        )
    }
    ids = _unit_ids(conn, [c for c, _ in view.members])
    signatures = tuple(
        Signature(
            unit,
            name,
            signed[ids[unit]].signed_on if ids[unit] in signed else None,
            signed[ids[unit]].signed_by if ids[unit] in signed else None,
        )
        for unit, name in view.members
    )
    return CovenantView(
        bloc=code,
        bloc_name=view.name,
        year=year,
        theme=str(row.theme),
        launched_on=row.launched_on,
        launched_by=str(row.launched_by),
        targets=targets,
        signatures=signatures,
    )


def targets_of(conn: Connection, covenant_id: int) -> tuple[Target, ...]:
    """The covenant's targets in the order they were launched."""
    return tuple(
        Target(
            code=t.code,
            description=t.description,
            kind=t.kind,
            threshold=float(t.threshold),
            unit=t.unit,
            points=float(t.points),
            weight=float(t.weight),
        )
        for t in conn.execute(
            select(COVENANT_TARGETS)
            .where(COVENANT_TARGETS.c.covenant_id == covenant_id)
            .order_by(COVENANT_TARGETS.c.id)
        )
    )


def covenant_id(conn: Connection, view: BlocView, year: int) -> int:
    """The id of the bloc's covenant for `year`; refused when it was not launched."""
    return _covenant(conn, view, year)


def _covenant(conn: Connection, view: BlocView, year: int) -> int:
    cid = conn.execute(
        select(COVENANTS.c.id).where(COVENANTS.c.bloc_id == view.id, COVENANTS.c.year == year)
    ).scalar()
    if cid is None:
        raise KhenthuongError(f"{view.name} chưa phát động giao ước thi đua năm {year}")
    return int(cid)


MEMBER_ROLES = ("unit_officer", "unit_head")
"""Roles that act for a member unit in its covenant: its emulation officer and its head."""
_speaks_for = speaks_for


def require_member_officer(conn: Connection, view: BlocView, actor: Actor, unit: str) -> None:
    """Refuse unless the actor signs for `unit` as its emulation officer or head."""
    if not _speaks_for(conn, actor, unit):
        raise Forbidden(
            f"{actor.display_name} không phải cán bộ thi đua hay thủ trưởng của {view.name_of(unit)}: "
            "không được ký giao ước thay đơn vị"
        )


def require_reporter(conn: Connection, view: BlocView, actor: Actor, unit: str) -> None:
    """Refuse unless the actor reports for `unit` (its officer or head) or scores the bloc:
    an officer or the head of the unit leading the bloc that year (or its deputy)."""
    if _speaks_for(conn, actor, unit):
        return
    try:
        require_bloc_leader(conn, view, actor)
    except Forbidden:
        raise Forbidden(
            f"{actor.display_name} không phải cán bộ thi đua hay thủ trưởng của {view.name_of(unit)}, "
            f"cũng không thuộc đơn vị {view.leader_title.lower()} năm {view.year}: không được "
            "báo cáo, chấm điểm cho đơn vị này"
        ) from None


def _unit_ids(conn: Connection, codes: Sequence[str]) -> dict[str, int]:
    return {
        r.code: int(r.id)
        for r in conn.execute(select(UNITS.c.code, UNITS.c.id).where(UNITS.c.code.in_(list(codes))))
    }


def launch(
    conn: Connection,
    code: str,
    year: int,
    *,
    theme: str,
    targets: Sequence[Target],
    launched_on: date,
    actor: Actor,
) -> int:
    """Launch the year's covenant (phát động) with its theme and targets: only an officer or
    the head of the unit leading the bloc that year. A target without points earns the
    bloc's points per target met."""
    view = bloc_view(conn, code, year)
    require_bloc_leader(conn, view, actor)
    if not theme.strip():
        raise KhenthuongError("Giao ước cần chủ đề")
    if not targets:
        raise KhenthuongError("Giao ước cần ít nhất một chỉ tiêu")
    if len({t.code for t in targets}) != len(targets):
        raise KhenthuongError("Mã chỉ tiêu bị trùng")
    if launched_on.year != year:
        raise KhenthuongError(f"Ngày phát động {launched_on:%d/%m/%Y} không thuộc năm {year}")
    targets = [
        replace(t, points=t.points if t.points is not None else view.scoring.points_per_target)
        for t in targets
    ]
    for t in targets:
        check_target(t)
    exists = conn.execute(
        select(COVENANTS.c.id).where(COVENANTS.c.bloc_id == view.id, COVENANTS.c.year == year)
    ).scalar()
    if exists is not None:
        raise KhenthuongError(f"{view.name} đã phát động giao ước năm {year}")
    cid = inserted_id(
        conn.execute(
            insert(COVENANTS).values(
                bloc_id=view.id,
                year=year,
                theme=theme,
                launched_on=launched_on,
                launched_by=actor.username,
            )
        )
    )
    for t in targets:
        conn.execute(
            insert(COVENANT_TARGETS).values(
                covenant_id=cid,
                code=t.code,
                description=t.description,
                threshold=t.threshold,
                points=t.points,
                kind=t.kind,
                unit=t.unit,
                weight=t.weight,
            )
        )
    append_event(
        conn,
        f"bloc:{code}:{year}",
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger="launch_covenant",
        payload={
            "theme": theme,
            "targets": [t.__dict__ for t in targets],
            "launched_on": launched_on.isoformat(),
        },
    )
    return cid


def has_signed(conn: Connection, covenant_id: int, unit_id: int) -> bool:
    """Whether the member unit signed the covenant."""
    return (
        conn.execute(
            select(COVENANT_SIGNATURES.c.id).where(
                COVENANT_SIGNATURES.c.covenant_id == covenant_id,
                COVENANT_SIGNATURES.c.unit_id == unit_id,
            )
        ).first()
        is not None
    )


def sign(
    conn: Connection, code: str, year: int, unit: str, *, signed_on: date, actor: Actor
) -> None:
    """Record a member's signature of the covenant (ký giao ước): only the member's own
    emulation officer or head signs for it."""
    view = bloc_view(conn, code, year)
    cid = _covenant(conn, view, year)
    if unit not in {c for c, _ in view.members}:
        raise KhenthuongError(f"{unit} không phải thành viên {view.name} năm {year}")
    require_member_officer(conn, view, actor, unit)
    unit_id = _unit_ids(conn, [unit])[unit]
    if not has_signed(conn, cid, unit_id):
        conn.execute(
            insert(COVENANT_SIGNATURES).values(
                covenant_id=cid, unit_id=unit_id, signed_on=signed_on, signed_by=actor.username
            )
        )
        append_event(
            conn,
            f"bloc:{code}:{year}",
            actor=actor.username,
            actor_unit=actor.unit_code,
            trigger="sign_covenant",
            payload={"unit": unit, "signed_on": signed_on.isoformat()},
        )


def inspection_scores(conn: Connection, bloc_id: int, year: int) -> dict[str, float]:
    """Mean score each member received in the year's current cross-inspection plan."""
    from khenthuong.storage.blocs import INSPECTION_PLANS, INSPECTION_VISITS  # noqa: PLC0415

    rows = conn.execute(
        select(UNITS.c.code, func.avg(INSPECTION_VISITS.c.score).label("score"))
        .join(INSPECTION_VISITS, INSPECTION_VISITS.c.inspected_unit_id == UNITS.c.id)
        .join(INSPECTION_PLANS, INSPECTION_PLANS.c.id == INSPECTION_VISITS.c.plan_id)
        .where(
            INSPECTION_PLANS.c.bloc_id == bloc_id,
            INSPECTION_PLANS.c.year == year,
            INSPECTION_PLANS.c.current.is_(True),
            INSPECTION_VISITS.c.score.is_not(None),
        )
        .group_by(UNITS.c.code)
    ).all()
    return {r.code: round(float(r.score), 2) for r in rows}
