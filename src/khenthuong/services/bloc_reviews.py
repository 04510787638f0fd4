"""A bloc's reviews: members report against the covenant's targets (sơ kết, tổng kết), the
leader records deductions, the score table with its ranking and how each score was computed,
the year-end vote (suy tôn) and the proposals it makes:

- Cờ thi đua của Chính phủ for the leading member (Luật TĐKT 2022, Điều 25), within the bloc's
  flag quota, where it met every target and received votes;
- the ministry's flag (Cờ thi đua cấp Bộ: of Bộ Công an, of Ban Cơ yếu…) for the next N
  members (N from the bloc's scoring rule; Điều 26; NĐ 91/2017 Điều 12: bình xét trong khối);
- Bằng khen where the bloc's rule has a merit share.

The proposals are nominations proposed by the unit leading the bloc that year (the khối
trưởng proposes for the bloc), the member as the nominee.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, delete, insert, select, update

from khenthuong.audit.append import append_event
from khenthuong.blocs import targets as tg
from khenthuong.errors import KhenthuongError
from khenthuong.services import covenants
from khenthuong.services.actors import Actor
from khenthuong.services.blocs import BlocView, bloc_view, require_bloc_leader
from khenthuong.services.covenants import (
    ROUNDS,
    _unit_ids,
    covenant_id,
    inspection_scores,
    require_reporter,
    targets_of,
)
from khenthuong.services.guard_facts import _catalog
from khenthuong.services.new_nominations import create_nomination_in
from khenthuong.storage.blocs import (
    BLOC_DEDUCTIONS,
    BLOC_VOTES,
    COVENANT_TARGETS,
    REVIEW_RESULTS,
)
from khenthuong.workflow.loader import WorkflowRegistry

WORKFLOWS = {
    tg.GOVERNMENT_FLAG: "co_thi_dua_chinh_phu",
    tg.MINISTRY_FLAG: "co_thi_dua_cap_bo",
    tg.MERIT: "bang_khen_bo",
}
"""The award path each outcome of the vote is proposed into."""
OUTCOME_OF = {v: k for k, v in WORKFLOWS.items()}
MAX_CASES = 10_000


def award_label(view: BlocView, outcome: str | None) -> str:
    """What a proposal is for, as officers name it."""
    if outcome == tg.GOVERNMENT_FLAG:
        return "Cờ thi đua của Chính phủ"
    if outcome == tg.MINISTRY_FLAG:
        return view.scoring.ministry_flag_name
    if outcome == tg.MERIT:
        return "Bằng khen"
    return ""


def _round(round_: str) -> None:
    if round_ not in ROUNDS:
        raise KhenthuongError(
            f"Đợt {round_!r} không có; dùng so_ket (sơ kết) hoặc tong_ket (tổng kết)"
        )


def _member(view: BlocView, unit: str) -> None:
    if unit not in {c for c, _ in view.members}:
        raise KhenthuongError(f"{unit} không phải thành viên {view.name} năm {view.year}")


def _cases(conn: Connection, cid: int, round_: str, unit_id: int) -> dict[str, int]:
    return {
        r.code: int(r.cases)
        for r in conn.execute(
            select(BLOC_DEDUCTIONS.c.code, BLOC_DEDUCTIONS.c.cases).where(
                BLOC_DEDUCTIONS.c.covenant_id == cid,
                BLOC_DEDUCTIONS.c.round == round_,
                BLOC_DEDUCTIONS.c.unit_id == unit_id,
            )
        )
    }


def _values(conn: Connection, cid: int, round_: str, unit_id: int) -> dict[str, float]:
    return {
        r.code: float(r.reported)
        for r in conn.execute(
            select(COVENANT_TARGETS.c.code, REVIEW_RESULTS.c.reported)
            .join(COVENANT_TARGETS, COVENANT_TARGETS.c.id == REVIEW_RESULTS.c.target_id)
            .where(
                REVIEW_RESULTS.c.covenant_id == cid,
                REVIEW_RESULTS.c.round == round_,
                REVIEW_RESULTS.c.unit_id == unit_id,
            )
        )
    }


def report(
    conn: Connection,
    code: str,
    year: int,
    round_: str,
    unit: str,
    values: Mapping[str, float],
    *,
    actor: Actor,
) -> tg.Score:
    """A member reports its values against every target for a round; each value is checked
    for its target's kind (a percentage from 0 to 100…). Returns the score and how it was
    computed. The member's officer or head reports; the year's leader may enter it too."""
    _round(round_)
    view = bloc_view(conn, code, year)
    cid = covenant_id(conn, view, year)
    _member(view, unit)
    require_reporter(conn, view, actor, unit)
    unit_id = _unit_ids(conn, [unit])[unit]
    if not covenants.has_signed(conn, cid, unit_id):
        raise KhenthuongError(f"{view.name_of(unit)} chưa ký giao ước năm {year}")
    targets = targets_of(conn, cid)
    result = tg.score(targets, values, view.scoring, _cases(conn, cid, round_, unit_id))
    ids = {
        r.code: int(r.id)
        for r in conn.execute(
            select(COVENANT_TARGETS.c.code, COVENANT_TARGETS.c.id).where(
                COVENANT_TARGETS.c.covenant_id == cid
            )
        )
    }
    for line in result.lines:
        where = (
            REVIEW_RESULTS.c.covenant_id == cid,
            REVIEW_RESULTS.c.round == round_,
            REVIEW_RESULTS.c.unit_id == unit_id,
            REVIEW_RESULTS.c.target_id == ids[line.code],
        )
        values_row = {
            "reported": line.value, "score": line.earned, "met": line.met,
            "reported_by": actor.username,
        }  # fmt: skip
        if conn.execute(update(REVIEW_RESULTS).where(*where).values(**values_row)).rowcount == 0:
            conn.execute(
                insert(REVIEW_RESULTS).values(
                    covenant_id=cid,
                    round=round_,
                    unit_id=unit_id,
                    target_id=ids[line.code],
                    **values_row,
                )
            )
    append_event(
        conn, f"bloc:{code}:{year}", actor=actor.username, actor_unit=actor.unit_code,
        trigger=f"report_{round_}",
        payload={"unit": unit, "values": dict(values), "score": result.total,
                 "met": [x.code for x in result.lines if x.met]},
    )  # fmt: skip
    return result


def record_deductions(
    conn: Connection,
    code: str,
    year: int,
    round_: str,
    unit: str,
    cases: Mapping[str, int],
    *,
    actor: Actor,
) -> None:
    """The year's leader records a member's deductions (cases per kind of the bloc's rule)."""
    _round(round_)
    view = bloc_view(conn, code, year)
    cid = covenant_id(conn, view, year)
    _member(view, unit)
    require_bloc_leader(conn, view, actor)
    for kind, n in cases.items():
        view.scoring.deduction(kind)
        if not 0 <= n <= MAX_CASES:
            raise KhenthuongError(f"Khoản trừ {kind}: số trường hợp {n} phải từ 0 đến {MAX_CASES}")
    unit_id = _unit_ids(conn, [unit])[unit]
    conn.execute(
        delete(BLOC_DEDUCTIONS).where(
            BLOC_DEDUCTIONS.c.covenant_id == cid,
            BLOC_DEDUCTIONS.c.round == round_,
            BLOC_DEDUCTIONS.c.unit_id == unit_id,
        )
    )
    for kind, n in sorted(cases.items()):
        if n:
            conn.execute(
                insert(BLOC_DEDUCTIONS).values(
                    covenant_id=cid,
                    round=round_,
                    unit_id=unit_id,
                    code=kind,
                    cases=n,
                    recorded_by=actor.username,
                )
            )
    append_event(
        conn, f"bloc:{code}:{year}", actor=actor.username, actor_unit=actor.unit_code,
        trigger=f"deduct_{round_}", payload={"unit": unit, "cases": dict(cases)},
    )  # fmt: skip


@dataclass(frozen=True)
class Row:
    """A member's line in a round's score table."""

    unit: str
    unit_name: str
    score: tg.Score | None
    """None: the member has not reported."""
    rank: int
    inspection: float | None = None

    @property
    def total(self) -> float:
        return self.score.total if self.score else 0.0

    @property
    def met_all(self) -> bool:
        return bool(self.score and self.score.met_all)


def score_table(conn: Connection, code: str, year: int, round_: str) -> list[Row]:
    """Every member's score for the round with its computation, best first (members that did
    not report score 0; ties: the cross-inspection score received, then the code)."""
    _round(round_)
    view = bloc_view(conn, code, year)
    cid = covenant_id(conn, view, year)
    targets = targets_of(conn, cid)
    ids = _unit_ids(conn, [c for c, _ in view.members])
    inspected = inspection_scores(conn, view.id, year)
    scored: dict[str, tg.Score | None] = {}
    for unit, _name in view.members:
        values = _values(conn, cid, round_, ids[unit])
        scored[unit] = (
            tg.score(targets, values, view.scoring, _cases(conn, cid, round_, ids[unit]))
            if len(values) == len(targets)
            else None
        )
    totals = {u: (s.total if s else 0.0) for u, s in scored.items()}
    votes: dict[str, int] = {}
    if round_ == "tong_ket":  # after the vote, its votes order equal scores as the vote did
        codes = {v: k for k, v in ids.items()}
        votes = {
            codes[r.unit_id]: int(r.votes)
            for r in conn.execute(
                select(BLOC_VOTES.c.unit_id, BLOC_VOTES.c.votes).where(
                    BLOC_VOTES.c.covenant_id == cid
                )
            )
            if r.unit_id in codes
        }
    met = {u: bool(s and s.met_all) for u, s in scored.items()}
    ranked = tg.rank(totals, met, votes, inspected)
    return [Row(r.unit, view.name_of(r.unit), scored[r.unit], r.rank, r.inspection) for r in ranked]


def scores(conn: Connection, code: str, year: int, round_: str) -> dict[str, float]:
    """Total score per member for a round (members that did not report score 0)."""
    return {r.unit: r.total for r in score_table(conn, code, year, round_)}


@dataclass(frozen=True)
class Proposal:
    """A member's place after the vote and what it was proposed for."""

    unit: str
    unit_name: str
    rank: int
    score: float
    met_all: bool
    votes: int
    outcome: str | None
    award: str
    workflow: str | None
    nomination_id: int | None
    inspection: float | None = None
    """Mean cross-inspection score the member received that year (None: not inspected)."""


def year_end_vote(
    conn: Connection,
    registry: WorkflowRegistry,
    code: str,
    year: int,
    votes: Mapping[str, int],
    *,
    voters: int,
    actor: Actor,
) -> list[Proposal]:
    """Record the year-end vote (suy tôn), rank the members and make the proposals.

    Ranking: year-end score, then the cross-inspection score received, then votes. Only the
    year's leader votes the bloc's outcome; a vote taken again keeps the proposals already
    made (a member is never proposed twice for a year)."""
    view = bloc_view(conn, code, year)
    require_bloc_leader(conn, view, actor)
    cid = covenant_id(conn, view, year)
    members = [c for c, _ in view.members]
    unknown = sorted(set(votes) - set(members))
    if unknown:
        raise KhenthuongError(f"Không phải thành viên {view.name}: {', '.join(unknown)}")
    if voters < 1 or voters > len(members):
        raise KhenthuongError(f"Số đơn vị bỏ phiếu {voters} không hợp lệ (từ 1 đến {len(members)})")
    for unit, count in votes.items():
        if count < 0 or count > voters:
            raise KhenthuongError(
                f"{view.name_of(unit)}: {count} phiếu, phải từ 0 đến {voters} (số đơn vị bỏ phiếu)"
            )
    table = score_table(conn, code, year, "tong_ket")
    if all(r.score is None for r in table):
        raise KhenthuongError(f"Chưa có báo cáo tổng kết năm {year}: chưa thể suy tôn")
    ranked = tg.rank(
        {r.unit: r.total for r in table},
        {r.unit: r.met_all for r in table},
        votes,
        {r.unit: r.inspection for r in table if r.inspection is not None},
    )
    outcome = tg.outcome(ranked, view.scoring, view.scoring.government_flags)
    ids = _unit_ids(conn, members)
    previous = {
        r.unit_id: r
        for r in conn.execute(select(BLOC_VOTES).where(BLOC_VOTES.c.covenant_id == cid))
    }
    names = {w.definition.name for w in registry.latest()}
    for r in ranked:
        prior = previous.get(ids[r.unit])
        proposed = prior.proposed if prior else None
        nomination_id = prior.nomination_id if prior else None
        chosen = outcome.get(r.unit)
        if proposed is None and chosen is not None:
            workflow = WORKFLOWS[chosen]
            proposed = workflow
            if workflow in names:
                nomination_id = create_nomination_in(
                    conn, registry, workflow=workflow, proposing_unit=view.leader or r.unit,
                    actor=actor, nominee_unit_code=r.unit, year=year, on_behalf_of_bloc=True,
                    award_code=_award_of(workflow, view.organiser, year),
                    comment=f"{view.name} suy tôn năm {year}: hạng {r.rank}, {r.score:g} điểm, "
                    f"{r.votes}/{voters} phiếu; đề nghị {award_label(view, chosen)}",
                )  # fmt: skip
        row = {"votes": r.votes, "rank": r.rank, "proposed": proposed,
               "nomination_id": nomination_id}  # fmt: skip
        if prior is None:
            conn.execute(insert(BLOC_VOTES).values(covenant_id=cid, unit_id=ids[r.unit], **row))
        else:
            conn.execute(update(BLOC_VOTES).where(BLOC_VOTES.c.id == prior.id).values(**row))
    append_event(
        conn, f"bloc:{code}:{year}", actor=actor.username, actor_unit=actor.unit_code,
        trigger="year_end_vote",
        payload={"voters": voters, "votes": dict(votes),
                 "ranking": [[r.unit, r.score, r.votes] for r in ranked],
                 "outcome": outcome},
    )  # fmt: skip
    return proposals(conn, code, year)


def _award_of(workflow: str, organiser: str, year: int) -> str | None:
    """The award a bloc proposes on `workflow`: the organiser's own version of the
    workflow's award where the catalog has one (Cờ thi đua của Bộ Công an for a cluster of
    the BCA), else the workflow's default (None)."""
    catalog = _catalog()
    default = catalog.award_for_workflow(workflow)
    if default is None:
        return None
    own = catalog.own_version(default, organiser, date(year, 12, 31))
    return None if own == default else own


def proposals(conn: Connection, code: str, year: int) -> list[Proposal]:
    """The vote's result, by rank (empty before the vote)."""
    view = bloc_view(conn, code, year)
    cid = covenant_id(conn, view, year)
    names = {v: k for k, v in _unit_ids(conn, [c for c, _ in view.members]).items()}
    table = {r.unit: r for r in score_table(conn, code, year, "tong_ket")}
    result = []
    for r in conn.execute(
        select(BLOC_VOTES).where(BLOC_VOTES.c.covenant_id == cid).order_by(BLOC_VOTES.c.rank)
    ):
        unit = names.get(r.unit_id)
        if unit is None:
            continue
        outcome = OUTCOME_OF.get(r.proposed) if r.proposed else None
        row = table[unit]
        result.append(
            Proposal(
                unit,
                view.name_of(unit),
                int(r.rank or 0),
                row.total,
                row.met_all,
                int(r.votes),
                outcome,
                award_label(view, outcome),
                r.proposed,
                r.nomination_id,
                row.inspection,
            )
        )
    return result
