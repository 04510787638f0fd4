"""/api/statistics: counts of decided titles and awards of a unit's subtree for a year or a
range of years (services.statistics), as JSON or as the XLSX workbook."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from khenthuong.services import statistics as svc
from khenthuong.services.statistics_export import workbook_bytes
from khenthuong.web.attachment import content_disposition
from khenthuong.web.context import Caller, api_caller, ctx_of
from khenthuong.web.xlsx import XLSX_TYPE

router = APIRouter(prefix="/api", tags=["statistics"])
CallerDep = Annotated[Caller, Depends(api_caller)]


@router.get(
    "/statistics",
    response_model=None,
    responses={200: {"content": {XLSX_TYPE: {}}, "description": "JSON, or XLSX with format=xlsx"}},
)
def statistics(
    request: Request,
    caller: CallerDep,
    year: Annotated[int, Query(ge=1945, le=2100, description="The (first) year")],
    to: Annotated[int | None, Query(ge=1945, le=2100, description="Last year")] = None,
    unit: Annotated[str | None, Query(max_length=40, description="Unit code; none: all")] = None,
    format: Annotated[Literal["json", "xlsx"], Query()] = "json",
) -> dict[str, Any] | Response:
    """By title and award (level, subject, women, commendation type), by unit directly under
    `unit`, and by year; decided awards only (revoked ones left out). The caller must read
    `unit` (the whole country: an auditor)."""
    ctx = ctx_of(request)
    with ctx.rt.engine.connect() as conn:
        report = svc.statistics_report(
            conn, ctx.rt.settings.config_dir, year_from=year, year_to=to, unit_code=unit,
            actor=caller.actor,
        )  # fmt: skip
    if format == "xlsx":
        name = f"thong-ke-{report.unit_code or 'toan-quoc'}-{year}{f'-{to}' if to else ''}.xlsx"
        return Response(
            workbook_bytes(report),
            media_type=XLSX_TYPE,
            headers={"Content-Disposition": content_disposition(name)},
        )
    return svc.report_json(report)
