"""/api/blocs: a bloc managed in the product and its year — the year's leader, the covenant
and its targets, signatures, mid-year and year-end reports, deductions, the score table with
its ranking, the vote (suy tôn) and the proposals it made.

Every refusal is a problem+json response naming why (403: not the right people, e.g. an
officer of the unit that led another year; 422: a value out of range for its target's kind,
a member that is none; 404: no such bloc). The báo cáo sơ kết / tổng kết is
/api/generated/bao-cao-so-ket (or bao-cao-tong-ket)?key=BLOC:YEAR.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from khenthuong.blocs import targets as tg
from khenthuong.services import bloc_admin, bloc_reviews, covenants
from khenthuong.services.access import is_read_only
from khenthuong.services.blocs import BlocView, ScoringIn, bloc_view
from khenthuong.storage.db import reading, write_tx
from khenthuong.web.context import Caller, api_caller, ctx_of, deny

router = APIRouter(prefix="/api/blocs", tags=["blocs"])
CallerDep = Annotated[Caller, Depends(api_caller)]
Code = Annotated[str, Path(min_length=1, max_length=40, description="Bloc code, e.g. KCY4")]
Year = Annotated[int, Path(ge=1945, le=2100)]
Round = Literal["so_ket", "tong_ket"]
UnitCode = Annotated[str, Field(min_length=1, max_length=40)]


class ProblemOut(BaseModel):
    """A problem+json body (RFC 9457) with the reason in Vietnamese."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": ProblemOut.model_json_schema()}},
    }


READ: dict[int | str, dict[str, Any]] = {404: _problem("No such bloc, or no members that year")}
WRITE: dict[int | str, dict[str, Any]] = {
    403: _problem("Not the right people for this step (the reason names who is)"),
    404: _problem("No such bloc or unit"),
    422: _problem("A value that does not fit (out of range for its kind, not a member…)"),
}


def _writer(request: Request, caller: Caller) -> None:
    if is_read_only(caller.actor, ctx_of(request).rt.roles):
        raise deny(request, caller, "Tài khoản chỉ có quyền xem")


class ScoringOut(BaseModel):
    points_per_target: float
    deductions: list[dict[str, Any]]
    government_flags: int
    ministry_flags: int
    ministry_flag_name: str
    merit_share: float | None


class TargetModel(BaseModel):
    """A covenant target. kind: at_least, more_than, at_most, equals (with a threshold and a
    unit: percent 0–100 or count), zero_cases, done. points: default the bloc's."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    description: str = Field(min_length=1, max_length=500)
    kind: Literal["at_least", "more_than", "at_most", "equals", "zero_cases", "done"]
    threshold: float = Field(default=0.0, ge=0, le=1_000_000)
    unit: Literal["percent", "count"] = "percent"
    points: float | None = Field(default=None, gt=0, le=1000)
    weight: float = Field(default=1.0, gt=0, le=100)
    condition: str | None = Field(default=None, description="How it reads (output only)")

    def target(self) -> tg.Target:
        return tg.Target(
            self.code, self.description, self.kind, self.threshold, self.unit, self.points,
            self.weight,
        )  # fmt: skip

    @classmethod
    def of(cls, t: tg.Target) -> TargetModel:
        return cls(
            code=t.code, description=t.description, kind=t.kind,
            threshold=t.threshold, unit=t.unit,
            points=t.points, weight=t.weight, condition=t.wording(),
        )  # fmt: skip


class SignatureOut(BaseModel):
    unit: str
    unit_name: str
    signed_on: date | None
    signed_by: str | None


class CovenantOut(BaseModel):
    theme: str
    launched_on: date
    launched_by: str
    targets: list[TargetModel]
    signatures: list[SignatureOut]


class YearOut(BaseModel):
    """A bloc in a year: members, the year's leader (null: not yet chosen, "chưa chọn"),
    its labels, the scoring rule and the covenant if launched."""

    code: str
    name: str
    kind: str
    organiser: str
    organiser_name: str
    year: int
    members: list[list[str]]
    leader: str | None
    leader_name: str | None
    deputy: str | None
    leader_title: str
    deputy_title: str
    leader_source: str | None
    scoring: ScoringOut
    covenant: CovenantOut | None


def _year_out(view: BlocView, covenant: covenants.CovenantView | None) -> YearOut:
    rule = view.scoring
    return YearOut(
        code=view.code, name=view.name, kind=view.kind, organiser=view.organiser,
        organiser_name=view.organiser_name, year=view.year,
        members=[list(m) for m in view.members], leader=view.leader,
        leader_name=view.name_of(view.leader) if view.leader else None, deputy=view.deputy,
        leader_title=view.leader_title, deputy_title=view.deputy_title,
        leader_source=view.leader_source,
        scoring=ScoringOut(
            points_per_target=rule.points_per_target,
            deductions=[d.__dict__ for d in rule.deductions],
            government_flags=rule.government_flags, ministry_flags=rule.ministry_flags,
            ministry_flag_name=rule.ministry_flag_name, merit_share=rule.merit_share,
        ),
        covenant=None if covenant is None else CovenantOut(
            theme=covenant.theme, launched_on=covenant.launched_on,
            launched_by=covenant.launched_by,
            targets=[TargetModel.of(t) for t in covenant.targets],
            signatures=[SignatureOut(**s.__dict__) for s in covenant.signatures],
        ),
    )  # fmt: skip


class BlocIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")
    name: str = Field(min_length=1, max_length=300)
    kind: Literal["khoi", "cum"]
    organiser: UnitCode
    since: int = Field(ge=1945, le=2100)
    flag_quota: int | None = Field(default=1, ge=0, le=40)
    scoring: ScoringIn | None = None


@router.post("", status_code=201, response_model=BlocIn, responses=WRITE)
def create_bloc(request: Request, caller: CallerDep, body: BlocIn) -> BlocIn:
    """Create a bloc (the organiser's emulation office or an administrator); audited. It has
    no members until they are added."""
    _writer(request, caller)
    with write_tx(ctx_of(request).rt.engine) as conn:
        bloc_admin.create_bloc(
            conn, code=body.code, name=body.name, kind=body.kind, organiser=body.organiser,
            since=body.since, flag_quota=body.flag_quota, scoring=body.scoring,
            actor=caller.actor,
        )  # fmt: skip
    return body.model_copy(update={"code": body.code.upper()})


class MembershipOut(BaseModel):
    unit: str
    unit_name: str
    from_date: date | None
    from_year: int
    to_date: date | None
    to_year: int | None


@router.get("/{code}/members", response_model=list[MembershipOut], responses=READ)
def members(request: Request, caller: CallerDep, code: Code) -> list[MembershipOut]:
    """Every membership of the bloc with its effective dates."""
    with reading(ctx_of(request).rt.engine) as conn:
        return [MembershipOut(**m.__dict__) for m in bloc_admin.memberships(conn, code)]


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit: UnitCode
    from_date: date


class MemberEndIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    until: date


@router.post(
    "/{code}/members", status_code=201, response_model=list[MembershipOut], responses=WRITE
)
def add_member(
    request: Request, caller: CallerDep, code: Code, body: MemberIn
) -> list[MembershipOut]:
    """Add a member from a date; audited."""
    _writer(request, caller)
    with write_tx(ctx_of(request).rt.engine) as conn:
        bloc_admin.add_member(conn, code, body.unit, since=body.from_date, actor=caller.actor)
        return [MembershipOut(**m.__dict__) for m in bloc_admin.memberships(conn, code)]


@router.post("/{code}/members/{unit}/end", response_model=list[MembershipOut], responses=WRITE)
def end_member(
    request: Request,
    caller: CallerDep,
    code: Code,
    unit: Annotated[str, Path(min_length=1, max_length=40)],
    body: MemberEndIn,
) -> list[MembershipOut]:
    """End a membership on a date (the unit still takes part in that year); audited."""
    _writer(request, caller)
    with write_tx(ctx_of(request).rt.engine) as conn:
        bloc_admin.remove_member(conn, code, unit, until=body.until, actor=caller.actor)
        return [MembershipOut(**m.__dict__) for m in bloc_admin.memberships(conn, code)]


@router.get("/{code}/years/{year}", response_model=YearOut, responses=READ)
def year_view(request: Request, caller: CallerDep, code: Code, year: Year) -> YearOut:
    """The bloc in a year: members, leader (or none chosen), scoring rule and covenant."""
    with reading(ctx_of(request).rt.engine) as conn:
        return _year_out(bloc_view(conn, code, year), covenants.covenant_of(conn, code, year))


class LeaderIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    leader: UnitCode
    deputy: UnitCode | None = None
    source: Literal["elected", "set"] = "elected"
    note: str = Field(default="", max_length=500)


@router.put("/{code}/years/{year}/leader", response_model=YearOut, responses=WRITE)
def set_leader(
    request: Request, caller: CallerDep, code: Code, year: Year, body: LeaderIn
) -> YearOut:
    """Record the year's leader and deputy (elected by the bloc at the previous year's review
    or set by the organiser); audited. They hold the bloc's rights for that year only."""
    _writer(request, caller)
    with write_tx(ctx_of(request).rt.engine) as conn:
        view = bloc_admin.set_leader(
            conn, code, year, body.leader, body.deputy, source=body.source, actor=caller.actor,
            note=body.note,
        )  # fmt: skip
        return _year_out(view, covenants.covenant_of(conn, code, year))


class CovenantIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    theme: str = Field(min_length=1, max_length=500)
    launched_on: date
    targets: list[TargetModel] = Field(min_length=1, max_length=50)


@router.post("/{code}/years/{year}/covenant", status_code=201, response_model=YearOut,
             responses={**WRITE, 409: _problem("Already launched")})  # fmt: skip
def launch(
    request: Request, caller: CallerDep, code: Code, year: Year, body: CovenantIn
) -> YearOut:
    """Launch the year's covenant (phát động): an officer or the head of the unit leading
    the bloc that year only."""
    _writer(request, caller)
    with write_tx(ctx_of(request).rt.engine) as conn:
        covenants.launch(
            conn, code, year, theme=body.theme, targets=[t.target() for t in body.targets],
            launched_on=body.launched_on, actor=caller.actor,
        )  # fmt: skip
        return _year_out(bloc_view(conn, code, year), covenants.covenant_of(conn, code, year))


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit: UnitCode
    signed_on: date


@router.post("/{code}/years/{year}/signatures", response_model=YearOut, responses=WRITE)
def sign(request: Request, caller: CallerDep, code: Code, year: Year, body: SignIn) -> YearOut:
    """A member signs the covenant (ký giao ước): its own emulation officer or head only."""
    _writer(request, caller)
    with write_tx(ctx_of(request).rt.engine) as conn:
        covenants.sign(conn, code, year, body.unit, signed_on=body.signed_on, actor=caller.actor)
        return _year_out(bloc_view(conn, code, year), covenants.covenant_of(conn, code, year))


class LineOut(BaseModel):
    code: str
    condition: str
    value: float
    met: bool
    points: float
    weight: float
    earned: float


class ScoreOut(BaseModel):
    """A member's score with how it was computed."""

    unit: str
    unit_name: str
    rank: int | None = None
    total: float
    met_all: bool
    lines: list[LineOut]
    deductions: list[dict[str, Any]]
    explanation: str


def _score_out(unit: str, name: str, score: tg.Score | None, rank: int | None) -> ScoreOut:
    return ScoreOut(
        unit=unit, unit_name=name, rank=rank, total=score.total if score else 0.0,
        met_all=bool(score and score.met_all),
        lines=[LineOut(**{k: v for k, v in x.__dict__.items() if k != "description"})
               for x in (score.lines if score else ())],
        deductions=[d.__dict__ for d in (score.deductions if score else ())],
        explanation=score.explain() if score else "chưa báo cáo",
    )  # fmt: skip


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit: UnitCode
    values: dict[str, Annotated[float, Field(ge=-1_000_000, le=1_000_000)]] = Field(
        description="Target code → value: a percentage 0–100, a count, or 1/0 for done"
    )


@router.post("/{code}/years/{year}/reports/{round_}", response_model=ScoreOut, responses=WRITE)
def report(
    request: Request, caller: CallerDep, code: Code, year: Year, round_: Round, body: ReportIn
) -> ScoreOut:
    """A member's mid-year (so_ket) or year-end (tong_ket) report: its officer or head, or
    the year's leader. Each value is checked for its target's kind."""
    _writer(request, caller)
    with write_tx(ctx_of(request).rt.engine) as conn:
        score = bloc_reviews.report(
            conn, code, year, round_, body.unit, body.values, actor=caller.actor
        )
        name = bloc_view(conn, code, year).name_of(body.unit)
    return _score_out(body.unit, name, score, None)


class DeductionsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unit: UnitCode
    cases: dict[str, Annotated[int, Field(ge=0, le=10_000)]] = Field(
        description="Deduction code (the bloc's rule) → cases"
    )


@router.put("/{code}/years/{year}/deductions/{round_}", response_model=list[ScoreOut],
            responses=WRITE)  # fmt: skip
def deductions(
    request: Request, caller: CallerDep, code: Code, year: Year, round_: Round, body: DeductionsIn
) -> list[ScoreOut]:
    """The year's leader records a member's deductions; returns the round's table."""
    _writer(request, caller)
    with write_tx(ctx_of(request).rt.engine) as conn:
        bloc_reviews.record_deductions(
            conn, code, year, round_, body.unit, body.cases, actor=caller.actor
        )
        rows = bloc_reviews.score_table(conn, code, year, round_)
    return [_score_out(r.unit, r.unit_name, r.score, r.rank) for r in rows]


@router.get("/{code}/years/{year}/scores/{round_}", response_model=list[ScoreOut],
            responses={**READ, 422: _problem("No covenant that year")})  # fmt: skip
def score_table(
    request: Request, caller: CallerDep, code: Code, year: Year, round_: Round
) -> list[ScoreOut]:
    """The round's score table, best first, each score with how it was computed."""
    with reading(ctx_of(request).rt.engine) as conn:
        rows = bloc_reviews.score_table(conn, code, year, round_)
    return [_score_out(r.unit, r.unit_name, r.score, r.rank) for r in rows]


class VoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    voters: int = Field(ge=1, le=40, description="Member units that voted")
    votes: dict[str, Annotated[int, Field(ge=0, le=40)]] = Field(
        description="Member code → votes received"
    )


class ProposalOut(BaseModel):
    unit: str
    unit_name: str
    rank: int
    score: float
    met_all: bool
    votes: int
    outcome: str | None = Field(description="government_flag, ministry_flag, merit or null")
    award: str
    workflow: str | None
    nomination_id: int | None


@router.post("/{code}/years/{year}/vote", response_model=list[ProposalOut], responses=WRITE)
def vote(
    request: Request, caller: CallerDep, code: Code, year: Year, body: VoteIn
) -> list[ProposalOut]:
    """The year-end vote (suy tôn), by the year's leader: ranks the members and proposes the
    Government flag, the ministry's flag for the next N and Bằng khen where configured."""
    ctx = ctx_of(request)
    _writer(request, caller)
    with write_tx(ctx.rt.engine) as conn:
        made = bloc_reviews.year_end_vote(
            conn, ctx.rt.registry, code, year, body.votes, voters=body.voters, actor=caller.actor
        )
    return [_proposal_out(p) for p in made]


def _proposal_out(p: bloc_reviews.Proposal) -> ProposalOut:
    return ProposalOut(**{k: v for k, v in p.__dict__.items() if k != "inspection"})


@router.get("/{code}/years/{year}/proposals", response_model=list[ProposalOut],
            responses={**READ, 422: _problem("No covenant that year")})  # fmt: skip
def proposals(request: Request, caller: CallerDep, code: Code, year: Year) -> list[ProposalOut]:
    """The vote's result by rank (empty before the vote)."""
    with reading(ctx_of(request).rt.engine) as conn:
        return [_proposal_out(p) for p in bloc_reviews.proposals(conn, code, year)]
