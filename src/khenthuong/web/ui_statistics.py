"""The **Thống kê** page: the statistics of decided titles and awards of a unit's subtree
for a year or a range of years (services.statistics), on the page and as an XLSX workbook
in the layout of config/statistics.yaml."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from khenthuong.errors import KhenthuongError
from khenthuong.rules.statistics import COLUMNS
from khenthuong.services import statistics as svc
from khenthuong.services.statistics_export import (
    form_rows,
    period,
    unit_rows,
    workbook_bytes,
    year_rows,
)
from khenthuong.web.attachment import content_disposition
from khenthuong.web.context import ctx_of, local_today
from khenthuong.web.i18n import STRINGS
from khenthuong.web.ui_common import _error_text, render, ui_caller, worded
from khenthuong.web.xlsx import XLSX_TYPE

router = APIRouter(include_in_schema=False)

STATISTICS_STRINGS: dict[str, tuple[str, str]] = {
    "statistics": ("Thống kê", "Statistics"),
    "stats_from": ("Từ năm", "From year"),
    "stats_to": ("Đến năm", "To year"),
    "stats_show": ("Xem thống kê", "Show"),
    "stats_xlsx": ("Tải biểu thống kê (XLSX)", "Download the workbook (XLSX)"),
    "stats_by_form": ("Theo danh hiệu, hình thức khen thưởng", "By title and award"),
    "stats_by_unit": ("Theo đơn vị", "By unit"),
    "stats_by_year": ("Theo năm", "By year"),
    "stats_line": ("Danh hiệu thi đua, hình thức khen thưởng", "Title or award"),
    "stats_level": ("Cấp khen thưởng", "Level"),
}
STRINGS.update(STATISTICS_STRINGS)


def _query(request: Request) -> tuple[int, int | None, str | None]:
    q = request.query_params
    year_text, to_text = q.get("year", "").strip(), q.get("to", "").strip()
    if year_text and not year_text.isdigit():
        raise worded("bad_year", labels={"field": "stats_from"}, value=repr(year_text))
    if to_text and not to_text.isdigit():
        raise worded("bad_year", labels={"field": "stats_to"}, value=repr(to_text))
    year = int(year_text) if year_text else local_today().year - 1
    return year, int(to_text) if to_text else None, q.get("unit") or None


def _default_unit(units: list[tuple[str, str]]) -> str | None:
    """The caller's widest unit: the first readable one in tree order."""
    return units[0][0] if units else None


@router.get("/statistics")
def statistics_page(request: Request) -> Response:
    caller = ui_caller(request)
    ctx = ctx_of(request)
    with ctx.rt.engine.connect() as conn:
        units = list(svc.units_readable(conn, caller.actor))
        try:
            year, to, unit = _query(request)
            unit = unit or _default_unit(units)
            report = svc.statistics_report(
                conn, ctx.rt.settings.config_dir, year_from=year, year_to=to, unit_code=unit,
                actor=caller.actor,
            )  # fmt: skip
        except KhenthuongError as exc:
            message, status = _error_text(request, caller, exc)
            return render(
                request, "statistics.html", caller, status, report=None, units=units,
                error=message, query=dict(request.query_params),
            )  # fmt: skip
    return render(
        request, "statistics.html", caller, report=report, units=units, error=None,
        query={"year": str(year), "to": str(to or ""), "unit": unit or ""},
        columns=COLUMNS, form_rows=form_rows(report), unit_rows=unit_rows(report),
        year_rows=year_rows(report), period=period(report),
    )  # fmt: skip


@router.get("/statistics.xlsx")
def statistics_xlsx(request: Request) -> Response:
    caller = ui_caller(request)
    ctx = ctx_of(request)
    with ctx.rt.engine.connect() as conn:
        try:
            year, to, unit = _query(request)
            report = svc.statistics_report(
                conn, ctx.rt.settings.config_dir, year_from=year, year_to=to, unit_code=unit,
                actor=caller.actor,
            )  # fmt: skip
        except KhenthuongError as exc:
            message, status = _error_text(request, caller, exc)
            units = list(svc.units_readable(conn, caller.actor))
            return render(
                request, "statistics.html", caller, status, report=None, units=units,
                error=message, query=dict(request.query_params),
            )  # fmt: skip
    name = f"thong-ke-{report.unit_code or 'toan-quoc'}-{year}{f'-{to}' if to else ''}.xlsx"
    return Response(
        workbook_bytes(report),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": content_disposition(name)},
    )
