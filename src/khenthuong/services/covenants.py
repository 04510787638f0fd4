"""Covenants, review rounds, scoring and the bloc's year-end vote into nominations."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, func, insert, select, update

from khenthuong.audit.append import append_event
from khenthuong.errors import Forbidden, KhenthuongError
from khenthuong.services.actors import Actor
from khenthuong.services.blocs import BlocView, bloc_view, require_bloc_leader
from khenthuong.services.nominations import create_nomination_in
from khenthuong.storage.blocs import (
    BLOC_VOTES,
    COVENANT_SIGNATURES,
    COVENANT_TARGETS,
    COVENANTS,
    REVIEW_RESULTS,
)
from khenthuong.storage.db import inserted_id
from khenthuong.storage.models import UNITS
from khenthuong.workflow.loader import WorkflowRegistry

ROUNDS = {"so_ket": "sơ kết (giữa năm)", "tong_ket": "tổng kết (cuối năm)"}
FLAG_WORKFLOW = "co_thi_dua_chinh_phu"
MERIT_WORKFLOW = "bang_khen_bo"


@dataclass(frozen=True)
class TargetIn:
    """A covenant target: code, description, threshold to reach and points."""

    code: str
    description: str
    threshold: float
    points: float = 10.0


@dataclass(frozen=True)
class Standing:
    """A member's place after the year-end review and vote."""

    unit: str
    score: float
    votes: int
    rank: int
    inspection: float | None = None
    """Mean cross-inspection score the unit received that year (None if not inspected)."""


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
    targets: tuple[TargetIn, ...]
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
    targets = tuple(
        TargetIn(t.code, t.description, float(t.threshold), float(t.points))
        for t in conn.execute(
            select(COVENANT_TARGETS)
            .where(COVENANT_TARGETS.c.covenant_id == row.id)
            .order_by(COVENANT_TARGETS.c.id)
        )
    )
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


def _covenant(conn: Connection, view: BlocView, year: int) -> int:
    cid = conn.execute(
        select(COVENANTS.c.id).where(COVENANTS.c.bloc_id == view.id, COVENANTS.c.year == year)
    ).scalar()
    if cid is None:
        raise KhenthuongError(
            f"Khối {view.code} chưa phát động giao ước thi đua năm {year} "
            f"(bloc {view.code} has no covenant for {year})"
        )
    return int(cid)


MEMBER_ROLES = ("unit_officer", "unit_head")
"""Roles that act for a member unit in its covenant: its emulation officer and its head."""


def _unit_path(conn: Connection, code: str) -> str:
    return str(conn.execute(select(UNITS.c.path).where(UNITS.c.code == code)).scalar_one())


def _speaks_for(conn: Connection, actor: Actor, unit: str) -> bool:
    """The actor is the emulation officer or the head of `unit` (a grant over its subtree)."""
    return actor.grant_for(MEMBER_ROLES, _unit_path(conn, unit)) is not None


def require_member_officer(conn: Connection, view: BlocView, actor: Actor, unit: str) -> None:
    """Refuse unless the actor signs for `unit` as its emulation officer or head."""
    if not _speaks_for(conn, actor, unit):
        raise Forbidden(
            f"{actor.username} không phải cán bộ thi đua hay thủ trưởng của {unit}: không được "
            f"ký giao ước thay đơn vị ({actor.username} is no officer of {unit} in bloc "
            f"{view.code})"
        )


def require_reporter(conn: Connection, view: BlocView, actor: Actor, unit: str) -> None:
    """Refuse unless the actor reports for `unit` (its officer or head) or scores the bloc:
    the bloc's leader (bloc_leader over the organiser, or admin) or an officer or the head
    of the member unit leading the bloc that year (khối trưởng)."""
    if _speaks_for(conn, actor, unit) or _speaks_for(conn, actor, view.leader):
        return
    try:
        require_bloc_leader(conn, view, actor)
    except Forbidden:
        raise Forbidden(
            f"{actor.username} không phải cán bộ thi đua hay thủ trưởng của {unit}, cũng không "
            f"phải khối trưởng khối {view.code} năm {view.year}: không được báo cáo, chấm điểm "
            f"cho {unit} ({actor.username} may not report or score for {unit})"
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
    targets: Sequence[TargetIn],
    launched_on: date,
    actor: Actor,
) -> int:
    """Launch the year's covenant (phát động) with its theme and targets."""
    view = bloc_view(conn, code, year)
    require_bloc_leader(conn, view, actor)
    if not targets:
        raise KhenthuongError("Giao ước cần ít nhất một chỉ tiêu (a covenant needs a target)")
    if len({t.code for t in targets}) != len(targets):
        raise KhenthuongError("Mã chỉ tiêu bị trùng (duplicate target code)")
    exists = conn.execute(
        select(COVENANTS.c.id).where(COVENANTS.c.bloc_id == view.id, COVENANTS.c.year == year)
    ).scalar()
    if exists is not None:
        raise KhenthuongError(f"Khối {code} đã phát động giao ước năm {year} (already launched)")
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
        if t.threshold <= 0 or t.points <= 0:
            raise KhenthuongError(f"Chỉ tiêu {t.code}: ngưỡng và điểm phải dương (must be > 0)")
        conn.execute(
            insert(COVENANT_TARGETS).values(
                covenant_id=cid,
                code=t.code,
                description=t.description,
                threshold=t.threshold,
                points=t.points,
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


def sign(
    conn: Connection, code: str, year: int, unit: str, *, signed_on: date, actor: Actor
) -> None:
    """Record a member's signature of the covenant (ký giao ước): only the member's own
    emulation officer or head signs for it."""
    view = bloc_view(conn, code, year)
    cid = _covenant(conn, view, year)
    if unit not in {c for c, _ in view.members}:
        raise KhenthuongError(f"{unit} không phải thành viên khối {code} năm {year}")
    require_member_officer(conn, view, actor, unit)
    unit_id = _unit_ids(conn, [unit])[unit]
    signed = conn.execute(
        select(COVENANT_SIGNATURES.c.id).where(
            COVENANT_SIGNATURES.c.covenant_id == cid, COVENANT_SIGNATURES.c.unit_id == unit_id
        )
    ).first()
    if signed is None:
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


def report(
    conn: Connection,
    code: str,
    year: int,
    round_: str,
    unit: str,
    values: Mapping[str, float],
    *,
    actor: Actor,
) -> float:
    """A member reports its results against the targets; returns its score for the round.

    The member's officer or head reports; the bloc's leader for the year may score it too
    (see `require_reporter`)."""
    if round_ not in ROUNDS:
        raise KhenthuongError(f"Đợt {round_!r} không hợp lệ; dùng so_ket hoặc tong_ket")
    view = bloc_view(conn, code, year)
    cid = _covenant(conn, view, year)
    if unit not in {c for c, _ in view.members}:
        raise KhenthuongError(f"{unit} không phải thành viên khối {code} năm {year}")
    require_reporter(conn, view, actor, unit)
    unit_id = _unit_ids(conn, [unit]).get(unit)
    signed = (
        unit_id is not None
        and conn.execute(
            select(COVENANT_SIGNATURES.c.id).where(
                COVENANT_SIGNATURES.c.covenant_id == cid, COVENANT_SIGNATURES.c.unit_id == unit_id
            )
        ).first()
    )
    if not signed:
        raise KhenthuongError(f"{unit} chưa ký giao ước năm {year} ({unit} has not signed)")
    targets = {
        r.code: r
        for r in conn.execute(select(COVENANT_TARGETS).where(COVENANT_TARGETS.c.covenant_id == cid))
    }
    unknown = sorted(set(values) - set(targets))
    missing = sorted(set(targets) - set(values))
    if unknown or missing:
        raise KhenthuongError(
            "Báo cáo không khớp chỉ tiêu: "
            + (f"không có chỉ tiêu {', '.join(unknown)}; " if unknown else "")
            + (f"thiếu {', '.join(missing)}" if missing else "")
        )
    total = 0.0
    for tcode, value in values.items():
        if value < 0:
            raise KhenthuongError(f"Chỉ tiêu {tcode}: giá trị {value} âm (negative value)")
        target = targets[tcode]
        score = round(target.points * min(1.0, value / target.threshold), 2)
        total += score
        done = conn.execute(
            update(REVIEW_RESULTS)
            .where(
                REVIEW_RESULTS.c.covenant_id == cid,
                REVIEW_RESULTS.c.round == round_,
                REVIEW_RESULTS.c.unit_id == unit_id,
                REVIEW_RESULTS.c.target_id == target.id,
            )
            .values(reported=value, score=score, reported_by=actor.username)
        )
        if done.rowcount == 0:
            conn.execute(
                insert(REVIEW_RESULTS).values(
                    covenant_id=cid,
                    round=round_,
                    unit_id=unit_id,
                    target_id=target.id,
                    reported=value,
                    score=score,
                    reported_by=actor.username,
                )
            )
    append_event(
        conn,
        f"bloc:{code}:{year}",
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger=f"report_{round_}",
        payload={"unit": unit, "values": dict(values), "score": total},
    )
    return round(total, 2)


def scores(conn: Connection, code: str, year: int, round_: str) -> dict[str, float]:
    """Total score per member for a round (members that did not report score 0)."""
    view = bloc_view(conn, code, year)
    cid = _covenant(conn, view, year)
    ids = _unit_ids(conn, [c for c, _ in view.members])
    by_id = {
        r.unit_id: float(r.total)
        for r in conn.execute(
            select(REVIEW_RESULTS.c.unit_id, func.sum(REVIEW_RESULTS.c.score).label("total"))
            .where(REVIEW_RESULTS.c.covenant_id == cid, REVIEW_RESULTS.c.round == round_)
            .group_by(REVIEW_RESULTS.c.unit_id)
        )
    }
    return {c: round(by_id.get(ids[c], 0.0), 2) for c, _ in view.members}


def year_end_vote(
    conn: Connection,
    registry: WorkflowRegistry,
    code: str,
    year: int,
    votes: Mapping[str, int],
    *,
    voters: int,
    actor: Actor,
    merit_share: float = 0.9,
) -> list[Standing]:
    """Record the year-end vote, rank members and turn the top ones into nominations.

    Ranking: year-end score, then the cross-inspection score received, then votes.
    The first `flag_quota` members go into Cờ thi đua của Chính phủ (a year-end score of
    zero never qualifies); the others scoring at least `merit_share` of the best score go
    into Bằng khen. Members already proposed for that year are not proposed twice, and
    flags already proposed
    count against the quota.
    """
    view = bloc_view(conn, code, year)
    require_bloc_leader(conn, view, actor)
    cid = _covenant(conn, view, year)
    members = [c for c, _ in view.members]
    unknown = sorted(set(votes) - set(members))
    if unknown:
        raise KhenthuongError(f"Không phải thành viên khối: {', '.join(unknown)}")
    if voters < 1 or voters > len(members):
        raise KhenthuongError(f"Số đơn vị bỏ phiếu {voters} không hợp lệ (1..{len(members)})")
    for unit, count in votes.items():
        if count < 0 or count > voters:
            raise KhenthuongError(
                f"{unit}: {count} phiếu vượt quá số đơn vị bỏ phiếu {voters} "
                f"({count} votes exceed {voters} voters)"
            )
    year_end = scores(conn, code, year, "tong_ket")
    inspected = inspection_scores(conn, view.id, year)
    order = sorted(
        members, key=lambda c: (-year_end[c], -(inspected.get(c) or 0.0), -votes.get(c, 0), c)
    )
    standings = [
        Standing(c, year_end[c], votes.get(c, 0), i + 1, inspected.get(c))
        for i, c in enumerate(order)
    ]
    ids = _unit_ids(conn, members)
    previous = {
        r.unit_id: r
        for r in conn.execute(select(BLOC_VOTES).where(BLOC_VOTES.c.covenant_id == cid))
    }
    quota = view.flag_quota or 0
    flags_taken = sum(1 for r in previous.values() if r.proposed == FLAG_WORKFLOW)
    best = max(year_end.values()) if year_end else 0.0
    for st in standings:
        prior = previous.get(ids[st.unit])
        proposed = prior.proposed if prior else None
        nomination_id = prior.nomination_id if prior else None
        if proposed is None and st.score > 0:
            workflow = None
            if flags_taken < quota and FLAG_WORKFLOW in {
                w.definition.name for w in registry.latest()
            }:
                workflow = FLAG_WORKFLOW
                flags_taken += 1
            elif st.score >= merit_share * best and MERIT_WORKFLOW in {
                w.definition.name for w in registry.latest()
            }:
                workflow = MERIT_WORKFLOW
            if workflow is not None:
                nomination_id = create_nomination_in(
                    conn,
                    registry,
                    workflow=workflow,
                    proposing_unit=st.unit,
                    actor=actor,
                    nominee_unit_code=st.unit,
                    year=year,
                    on_behalf_of_bloc=True,
                    comment=f"Khối {code} suy tôn năm {year}: hạng {st.rank}, {st.score} điểm, "
                    f"{st.votes}/{voters} phiếu",
                )
                proposed = workflow
        values = {
            "votes": st.votes,
            "rank": st.rank,
            "proposed": proposed,
            "nomination_id": nomination_id,
        }
        if prior is None:
            conn.execute(insert(BLOC_VOTES).values(covenant_id=cid, unit_id=ids[st.unit], **values))
        else:
            conn.execute(update(BLOC_VOTES).where(BLOC_VOTES.c.id == prior.id).values(**values))
    append_event(
        conn,
        f"bloc:{code}:{year}",
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger="year_end_vote",
        payload={
            "voters": voters,
            "votes": dict(votes),
            "ranking": [[s.unit, s.score, s.votes] for s in standings],
        },
    )
    return standings


def proposals(conn: Connection, code: str, year: int) -> list[tuple[str, str | None, int | None]]:
    """(member, workflow proposed into, nomination id) after the year-end vote."""
    view = bloc_view(conn, code, year)
    cid = _covenant(conn, view, year)
    names = {v: k for k, v in _unit_ids(conn, [c for c, _ in view.members]).items()}
    return [
        (names[r.unit_id], r.proposed, r.nomination_id)
        for r in conn.execute(
            select(BLOC_VOTES).where(BLOC_VOTES.c.covenant_id == cid).order_by(BLOC_VOTES.c.rank)
        )
    ]


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
