"""/api/councils and /api/decisions: sessions, agenda, tallies, closing, signed decisions."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from khenthuong.dates import VNDate
from khenthuong.errors import NotFound
from khenthuong.rules.catalog import Catalog, catalog_in
from khenthuong.services import councils, decisions, registers
from khenthuong.services.access import can_read, readable_paths
from khenthuong.services.decision_checks import number_taken
from khenthuong.services.guard_facts import award_code_of
from khenthuong.services.nominations import get_row
from khenthuong.services.registers import (
    council_sessions,
    decision_summaries,
)
from khenthuong.storage.councils import COUNCIL_ITEMS, COUNCIL_MEMBERS, COUNCIL_SESSIONS, RECUSALS
from khenthuong.storage.db import reading, write_tx
from khenthuong.storage.models import UNITS
from khenthuong.web.api_nominations import require_writer
from khenthuong.web.context import Caller, api_caller, ctx_of, deny
from khenthuong.web.exports import (
    XLSX_RESPONSE,
    XLSX_ROWS,
    FormatQuery,
    LangQuery,
    Names,
    councils_xlsx,
    decision_xlsx,
    decisions_xlsx,
)
from khenthuong.web.paging import CursorQuery, Page, cut, decode_cursor, limit_query
from khenthuong.web.problems import ApiProblem
from khenthuong.web.schemas import IdPath, RowId
from khenthuong.web.xlsx import xlsx_file

router = APIRouter(prefix="/api", tags=["councils and decisions"])
decision_scope = registers.decision_scope
"""Kept here for the pages that import it from this module."""
CallerDep = Annotated[Caller, Depends(api_caller)]


class MemberBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    full_name: str = Field(min_length=1, max_length=200)
    present: bool = True
    written_vote: bool = False
    person_id: RowId | None = None
    heads_unit: str | None = Field(default=None, max_length=40)
    position: str | None = Field(default=None, max_length=200)


class SessionIn(BaseModel):
    """A council session (phiên họp Hội đồng Thi đua – Khen thưởng)."""

    model_config = ConfigDict(extra="forbid")
    unit: str = Field(min_length=1, max_length=40, description="Code of the council's unit")
    title: str = Field(min_length=1, max_length=300)
    held_on: VNDate
    members: list[MemberBody] = Field(min_length=1, max_length=200)


class ItemsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nomination_ids: list[RowId] = Field(min_length=1, max_length=500)


class TallyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    nomination_id: RowId
    agree: int = Field(ge=0, le=1000)
    disagree: int = Field(ge=0, le=1000)
    abstain: int = Field(ge=0, le=1000)
    written_agree: int = Field(default=0, ge=0, le=1000)


class TalliesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tallies: list[TallyIn] = Field(min_length=1, max_length=500)


def session_view(conn: Any, session_id: int, catalog: Catalog) -> dict[str, Any]:
    """A session with its members, agenda items, tallies, results and recusals."""
    session = (
        conn.execute(select(COUNCIL_SESSIONS).where(COUNCIL_SESSIONS.c.id == session_id))
        .mappings()
        .first()
    )
    if session is None:
        raise NotFound(f"Không có phiên họp #{session_id}", en=f"No council session #{session_id}")
    unit = conn.execute(select(UNITS).where(UNITS.c.id == session["unit_id"])).mappings().one()
    members = [
        {
            "full_name": m.full_name,
            "position": m.position,
            "present": m.present,
            "written_vote": m.written_vote,
        }
        for m in conn.execute(
            select(COUNCIL_MEMBERS)
            .where(COUNCIL_MEMBERS.c.session_id == session_id)
            .order_by(COUNCIL_MEMBERS.c.id)
        )
    ]
    items = []
    for item in conn.execute(
        select(COUNCIL_ITEMS)
        .where(COUNCIL_ITEMS.c.session_id == session_id)
        .order_by(COUNCIL_ITEMS.c.id)
    ).mappings():
        nom = get_row(conn, item["nomination_id"])
        recused = conn.execute(
            select(COUNCIL_MEMBERS.c.full_name, RECUSALS.c.reason)
            .join(COUNCIL_MEMBERS, COUNCIL_MEMBERS.c.id == RECUSALS.c.member_id)
            .where(RECUSALS.c.item_id == item["id"])
        ).all()
        items.append(
            {
                "nomination_id": item["nomination_id"],
                "nominee_name": nom["nominee_name"],
                "workflow": nom["workflow"],
                "award_code": award_code_of(nom, catalog),
                "state": nom["state"],
                "agree": item["agree"],
                "disagree": item["disagree"],
                "abstain": item["abstain"],
                "written_agree": item.get("written_agree"),
                "result": item["result"],
                "explanation": item["explanation"],
                "recused": [{"full_name": r[0], "reason": r[1]} for r in recused],
            }
        )
    return {
        "id": session["id"],
        "unit": unit["code"],
        "unit_name": unit["name"],
        "unit_path": unit["path"],
        "title": session["title"],
        "held_on": session["held_on"].isoformat(),
        "status": session["status"],
        "members": members,
        "items": items,
        "minutes": session["minutes"],
    }


def catalog_of(request: Request) -> Catalog:
    """The award catalog of the running configuration (parsed once per process)."""
    return catalog_in(ctx_of(request).rt.settings.config_dir)


def _readable_session(request: Request, caller: Caller, session_id: int) -> dict[str, Any]:
    with reading(ctx_of(request).rt.engine) as conn:
        view = session_view(conn, session_id, catalog_of(request))
    if not can_read(caller.actor, view["unit_path"], caller.inspecting):
        raise deny(request, caller, f"Phiên họp #{session_id} ngoài phạm vi của bạn")
    return view


@router.post("/councils/sessions", status_code=201)
def open_session(request: Request, caller: CallerDep, body: SessionIn) -> dict[str, Any]:
    """Open a session with its members and attendance (council secretary)."""
    require_writer(request, caller)
    ctx = ctx_of(request)
    members = [councils.MemberIn(**m.model_dump()) for m in body.members]
    with write_tx(ctx.rt.engine) as conn:
        sid = councils.open_session(
            conn, body.unit, title=body.title, held_on=body.held_on, members=members,
            actor=caller.actor,
        )  # fmt: skip
        return session_view(conn, sid, catalog_of(request))


@router.get("/councils/sessions/{session_id}")
def get_session(request: Request, caller: CallerDep, session_id: IdPath) -> dict[str, Any]:
    """A session: members, agenda, tallies, results, minutes."""
    return _readable_session(request, caller, session_id)


@router.post("/councils/sessions/{session_id}/items")
def add_items(
    request: Request, caller: CallerDep, session_id: IdPath, body: ItemsIn
) -> dict[str, Any]:
    """Put nominations waiting for this council on the agenda (conflicted members recused)."""
    require_writer(request, caller)
    ctx = ctx_of(request)
    with write_tx(ctx.rt.engine) as conn:
        for nid in dict.fromkeys(body.nomination_ids):
            councils.add_item(conn, ctx.rt.registry, session_id, nid, actor=caller.actor)
        return session_view(conn, session_id, catalog_of(request))


@router.put("/councils/sessions/{session_id}/tallies")
def record_tallies(
    request: Request, caller: CallerDep, session_id: IdPath, body: TalliesIn
) -> dict[str, Any]:
    """Secret-ballot results for many items at once, in one transaction."""
    require_writer(request, caller)
    ctx = ctx_of(request)
    with write_tx(ctx.rt.engine) as conn:
        for t in body.tallies:
            councils.record_tally(
                conn, session_id, t.nomination_id, agree=t.agree, disagree=t.disagree,
                abstain=t.abstain, written_agree=t.written_agree, actor=caller.actor,
            )  # fmt: skip
        return session_view(conn, session_id, catalog_of(request))


@router.post("/councils/sessions/{session_id}/close")
def close(request: Request, caller: CallerDep, session_id: IdPath) -> dict[str, Any]:
    """Evaluate every item, move every nomination in one transaction, write the minutes."""
    require_writer(request, caller)
    ctx = ctx_of(request)
    catalog = catalog_in(ctx.rt.settings.config_dir)
    with write_tx(ctx.rt.engine) as conn:
        councils.close_session(conn, ctx.rt.registry, catalog, session_id, actor=caller.actor)
        return session_view(conn, session_id, catalog_of(request))


class DecisionIn(BaseModel):
    """A signed decision (quyết định khen thưởng)."""

    model_config = ConfigDict(extra="forbid")
    number: str = Field(
        min_length=3,
        max_length=80,
        description="<số>/QĐ-<ký hiệu of the deciding authority> as officially written, "
        "e.g. 123/QĐ-BCY, 1234/QĐ-TTg (config/issuers.yaml)",
    )
    decided_on: VNDate = Field(
        description="Not in the future, nor before the nominations' last step or council session"
    )
    signer: str = Field(min_length=1, max_length=200)
    authority: str = Field(min_length=1, max_length=40, description="Code of the deciding unit")
    award_code: str | None = Field(default=None, max_length=40)
    nomination_ids: list[RowId] = Field(min_length=1, max_length=1000)


class DecisionLineOut(BaseModel):
    nomination_id: int
    nominee_name: str
    coefficient: float
    base_salary_vnd: int
    amount_vnd: int


class DecisionOut(BaseModel):
    number: str
    decided_on: date
    signer: str
    award_code: str
    lines: list[DecisionLineOut]
    total_vnd: int


def decision_out(conn: Any, number: str, year: int | None = None) -> DecisionOut:
    head, lines = decisions.decision_lines(conn, number, year)
    return DecisionOut(
        number=str(head["number"]),
        decided_on=head["decided_on"],
        signer=str(head["signer"]),
        award_code=str(head["award_code"]),
        lines=[DecisionLineOut(**line.__dict__) for line in lines],
        total_vnd=sum(line.amount_vnd for line in lines),
    )


def decision_exists(conn: Any, number: str, decided_on: date) -> bool:
    """A decision of the same year already has this number, in any case (a second one is a
    409 conflict): serial numbers restart every 1 January (ND 30/2020)."""
    return number_taken(conn, number, decided_on.year) is not None


def duplicate_number(number: str) -> str:
    return f"Số quyết định {number} đã được dùng cho một quyết định khác"


@router.post(
    "/decisions",
    status_code=201,
    response_model=DecisionOut,
    responses={409: {"description": "A decision with this number already exists"}},
)
def sign_decision(request: Request, caller: CallerDep, body: DecisionIn) -> DecisionOut:
    """Decide every listed nomination, record award history and compute award money."""
    require_writer(request, caller)
    ctx = ctx_of(request)
    catalog = catalog_in(ctx.rt.settings.config_dir)
    with write_tx(ctx.rt.engine) as conn:
        if decision_exists(conn, body.number, body.decided_on):
            raise ApiProblem(409, duplicate_number(body.number), field="number")
        code = body.award_code
        if code is None:
            first = get_row(conn, body.nomination_ids[0])
            code = award_code_of(first, catalog)
            if code is None:
                raise NotFound(
                    f"Không xác định được hình thức khen thưởng của hồ sơ #{first['id']}; "
                    "ghi rõ award_code",
                    en="Give award_code",
                )
        decisions.create_decision(
            conn, ctx.rt.registry, catalog, number=body.number, decided_on=body.decided_on,
            signer=body.signer, authority=body.authority, award_code=code,
            nomination_ids=body.nomination_ids, actor=caller.actor,
        )  # fmt: skip
        return decision_out(conn, body.number, body.decided_on.year)


class DecisionSummaryOut(BaseModel):
    """A signed decision in a list: its heading, how many nominees, the money in total."""

    number: str
    decided_on: date
    signer: str
    authority: str
    authority_name: str
    award_code: str
    award_name: str
    nominations: int
    total_vnd: int


@router.get("/decisions", response_model=Page[DecisionSummaryOut], responses=XLSX_RESPONSE)
def list_decisions(
    request: Request,
    caller: CallerDep,
    year: int | None = Query(None, ge=1900, le=9999, description="Year of the decision date"),
    authority: str | None = Query(None, max_length=40, description="Code of the deciding unit"),
    cursor: CursorQuery = None,
    limit: int = limit_query(),
    format: FormatQuery = "json",
    lang: LangQuery = "vi",
) -> Any:
    """Decisions whose nominations all lie in the caller's units, newest first."""
    ctx = ctx_of(request)
    paths = readable_paths(caller.actor, caller.inspecting)
    before = decode_cursor(cursor, [int])[0] if cursor else None
    whole = format == "xlsx"
    with reading(ctx.rt.engine) as conn:
        rows = decision_summaries(
            conn, paths, year=year, authority=authority, before=before,
            limit=XLSX_ROWS if whole else limit + 1,
        )  # fmt: skip
        if whole:
            return xlsx_file("quyet-dinh.xlsx", decisions_xlsx(Names(ctx, conn, lang), rows))
    page, next_cursor = cut(rows, limit, lambda r: [r["id"]])
    awards = catalog_in(ctx.rt.settings.config_dir).awards
    return Page[DecisionSummaryOut](
        items=[
            DecisionSummaryOut.model_validate(
                r
                | {
                    "award_name": awards[r["award_code"]].name.vi
                    if r["award_code"] in awards
                    else r["award_code"]
                }
            )
            for r in page
        ],
        next_cursor=next_cursor,
    )


class SessionSummaryOut(BaseModel):
    """A council session in a list."""

    id: int
    unit: str
    unit_name: str
    title: str
    held_on: date
    status: Literal["open", "closed"]
    items: int
    """Nominations on its agenda."""


@router.get("/councils", response_model=Page[SessionSummaryOut], responses=XLSX_RESPONSE)
def list_sessions(
    request: Request,
    caller: CallerDep,
    unit: str | None = Query(None, max_length=40, description="Unit code (its subtree)"),
    year: int | None = Query(None, ge=1945, le=2100, description="Year the session met"),
    status: Literal["open", "closed"] | None = None,
    cursor: CursorQuery = None,
    limit: int = limit_query(),
    format: FormatQuery = "json",
    lang: LangQuery = "vi",
) -> Any:
    """Council sessions (phiên họp Hội đồng TĐKT) of the caller's units, newest first."""
    ctx = ctx_of(request)
    paths = readable_paths(caller.actor, caller.inspecting)
    before = decode_cursor(cursor, [int])[0] if cursor else None
    whole = format == "xlsx"
    with reading(ctx.rt.engine) as conn:
        rows = council_sessions(
            conn, paths, unit=unit, year=year, status=status, before=before,
            limit=XLSX_ROWS if whole else limit + 1,
        )  # fmt: skip
        if whole:
            return xlsx_file("phien-hop.xlsx", councils_xlsx(Names(ctx, conn, lang), rows))
    page, next_cursor = cut(rows, limit, lambda r: [r["id"]])
    return Page[SessionSummaryOut](
        items=[SessionSummaryOut.model_validate(r) for r in page], next_cursor=next_cursor
    )


@router.get("/decisions/{number:path}", response_model=DecisionOut, responses=XLSX_RESPONSE)
def show_decision(
    request: Request,
    caller: CallerDep,
    number: str,
    year: int | None = Query(
        default=None, ge=1900, le=9999, description="The year, when the number recurs"
    ),
    format: Annotated[
        Literal["json", "xlsx"],
        Query(description="xlsx: the decision's heading and list as an Excel workbook"),
    ] = "json",
    lang: LangQuery = "vi",
) -> Any:
    """A decision with its nominees and money; the number in any case."""
    ctx = ctx_of(request)
    with reading(ctx.rt.engine) as conn:
        out = decision_out(conn, number, year)
        paths = [get_row(conn, line.nomination_id)["unit_path"] for line in out.lines]
        if not all(can_read(caller.actor, p, caller.inspecting) for p in paths):
            raise deny(request, caller, f"Quyết định {number} ngoài phạm vi của bạn")
        if format == "json":
            return out
        content = decision_workbook(Names(ctx, conn, lang), number, year)
    return xlsx_file("quyet-dinh-" + out.number.replace("/", "-") + ".xlsx", content)


def decision_workbook(names: Names, number: str, year: int | None) -> bytes:
    """A decision as Excel: its heading and each awardee with the proposing unit's name."""
    conn = names.conn
    head, lines = decisions.decision_lines(conn, number, year)
    code_of = dict(conn.execute(select(UNITS.c.id, UNITS.c.code)).all())
    rows = [
        line.__dict__
        | {"unit_code": code_of.get(get_row(conn, line.nomination_id)["proposing_unit_id"])}
        for line in lines
    ]
    return decision_xlsx(names, head, str(code_of.get(head["authority_unit_id"], "")), rows)
