"""/api/blocs: emulation blocs and clusters, their year, cross-inspection plans and reports."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from khenthuong.errors import KhenthuongError
from khenthuong.services import inspections
from khenthuong.services.access import is_read_only
from khenthuong.services.blocs import bloc_summaries, bloc_view
from khenthuong.storage.db import reading, write_tx
from khenthuong.web.context import Caller, api_caller, ctx_of, deny, local_today
from khenthuong.web.exports import (
    XLSX_RESPONSE,
    FormatQuery,
    LangQuery,
    Names,
    blocs_xlsx,
    inspection_plan_xlsx,
    word,
)
from khenthuong.web.paging import CursorQuery, Page, limit_query, page_in_memory
from khenthuong.web.schemas import IdPath
from khenthuong.web.xlsx import xlsx_file

router = APIRouter(prefix="/api", tags=["blocs"])
CallerDep = Annotated[Caller, Depends(api_caller)]


class BlocOut(BaseModel):
    code: str
    name: str
    kind: str
    organiser: str
    year: int
    leader: str | None
    deputy: str | None
    members: list[list[str]]


class BlocSummaryOut(BaseModel):
    code: str
    name: str
    kind: str
    """khoi (bloc) or cum (cluster)."""
    organiser: str
    organiser_name: str


@router.get("/blocs", response_model=Page[BlocSummaryOut], responses=XLSX_RESPONSE)
def blocs(
    request: Request,
    caller: CallerDep,
    cursor: CursorQuery = None,
    limit: int = limit_query(),
    format: FormatQuery = "json",
    lang: LangQuery = "vi",
    year: int | None = Query(None, ge=1945, le=2100, description="xlsx: the year (default now)"),
) -> Any:
    """Every emulation bloc and cluster, by code (xlsx: each with its leader and members in
    `year`)."""
    ctx = ctx_of(request)
    with reading(ctx.rt.engine) as conn:
        found = [BlocSummaryOut(**b) for b in bloc_summaries(conn)]
        if format == "xlsx":
            views = []
            for b in found:
                try:
                    views.append(bloc_view(conn, b.code, year or local_today().year))
                except KhenthuongError:
                    continue  # no members that year
            return xlsx_file("khoi-thi-dua.xlsx", blocs_xlsx(Names(ctx, conn, lang), views))
    return page_in_memory(found, lambda b: b.code, cursor, limit)


@router.get("/blocs/{code}", response_model=BlocOut)
def bloc(
    request: Request, caller: CallerDep, code: str, year: int | None = Query(None, ge=1945, le=2100)
) -> BlocOut:
    """A bloc in one year: members in rotation order, leader and deputy."""
    year = year or local_today().year
    with reading(ctx_of(request).rt.engine) as conn:
        v = bloc_view(conn, code, year)
    return BlocOut(
        code=v.code,
        name=v.name,
        kind=v.kind,
        organiser=v.organiser,
        year=v.year,
        leader=v.leader,
        deputy=v.deputy,
        members=[list(m) for m in v.members],
    )


class VisitOut(BaseModel):
    id: int
    inspector: str
    inspector_name: str
    inspected: str
    inspected_name: str
    starts_on: str
    ends_on: str
    report_due_on: str
    score: float | None
    reported: bool


@router.get(
    "/blocs/{code}/inspections",
    response_model=Page[VisitOut],
    responses=XLSX_RESPONSE,
)
def bloc_inspections(
    request: Request,
    caller: CallerDep,
    code: str,
    year: int = Query(..., ge=1945, le=2100),
    cursor: CursorQuery = None,
    limit: int = limit_query(),
    format: FormatQuery = "json",
    lang: LangQuery = "vi",
) -> Any:
    """The current cross-inspection plan of a bloc for a year, by start date."""
    with reading(ctx_of(request).rt.engine) as conn:
        rows = inspections.visits(conn, code, year)
    if format == "xlsx":
        title = f"{word('inspection', lang)} {code} {year}"
        return xlsx_file(
            f"kiem-tra-cheo-{code}-{year}.xlsx", inspection_plan_xlsx(lang, title, rows)
        )
    found = [
        VisitOut(
            id=r.id,
            inspector=r.inspector,
            inspector_name=r.inspector_name,
            inspected=r.inspected,
            inspected_name=r.inspected_name,
            starts_on=r.starts_on.isoformat(),
            ends_on=r.ends_on.isoformat(),
            report_due_on=r.report_due_on.isoformat(),
            score=r.score,
            reported=r.reported,
        )
        for r in rows
    ]
    return page_in_memory(found, lambda v: f"{v.starts_on}|{v.id:010d}", cursor, limit)


class ReportIn(BaseModel):
    """An inspection report (biên bản kiểm tra chéo)."""

    model_config = ConfigDict(extra="forbid")
    findings: str = Field(min_length=1, max_length=20_000)
    score: float = Field(ge=0, le=100)


@router.post("/inspections/visits/{visit_id}/report")
def report_visit(
    request: Request, caller: CallerDep, visit_id: IdPath, body: ReportIn
) -> dict[str, str]:
    """The inspecting unit files its findings and score; they feed the year-end review."""
    ctx = ctx_of(request)
    if is_read_only(caller.actor, ctx.rt.roles):
        raise deny(request, caller, "Tài khoản chỉ có quyền xem")
    with write_tx(ctx.rt.engine) as conn:
        inspections.record_report(
            conn, visit_id, findings=body.findings, score=body.score, actor=caller.actor
        )
    return {"status": "recorded"}
