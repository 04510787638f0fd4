"""The statistics report as a workbook (the layout of config/statistics.yaml: a titled
form with two header rows, a sheet by unit and a sheet by year) and as plain rows for
tables. Cells are typed (numbers as numbers) and never live (khenthuong.tabular)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from khenthuong.rules.statistics import COLUMNS, Report
from khenthuong.tabular import append_row

SUBJECT = ("collective", "individual", "female")
TYPES = ("cong_trang", "chuyen_de", "dot_xuat", "other_type")
_THIN = Side(style="thin")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)


def period(report: Report) -> str:
    """'năm 2025' or 'các năm 2021–2025'."""
    if report.year_from == report.year_to:
        return f"năm {report.year_from}"
    return f"các năm {report.year_from}–{report.year_to}"


def form_rows(report: Report) -> list[list[Any]]:
    """The main table: [STT, label, level name, total, subject…, types…] per line, a row
    per section title (no numbers) and the grand total last."""
    rows: list[list[Any]] = []
    for section in report.sections:
        rows.append([None, section.title, None, *([None] * len(COLUMNS))])
        for i, line in enumerate(section.lines, start=1):
            rows.append(
                [i, line.label, report.levels.get(line.level, line.level)]
                + [line.values[c] for c in COLUMNS]
            )
    rows.append([None, "Tổng cộng", None, *[report.total[c] for c in COLUMNS]])
    return rows


def unit_rows(report: Report) -> list[list[Any]]:
    """By unit: [STT, unit name, total, collective, individual, female, each level]."""
    return [
        [i, u.name, u.values["total"], *(u.values[c] for c in SUBJECT)]
        + [u.levels.get(level, 0) for level in report.levels]
        for i, u in enumerate(report.units, start=1)
    ]


def year_rows(report: Report) -> list[list[Any]]:
    """By year: [year, each level, total]."""
    return [
        [year, *(v.get(level, 0) for level in report.levels), v["total"]]
        for year, v in sorted(report.years.items())
    ]


HEADER_ROW = 5
"""The first header row: the title, the unit and period, the basis, then a blank row."""


def _heading(ws: Worksheet, report: Report, width: int) -> None:
    ws.cell(row=1, column=1, value=report.title)
    ws.cell(row=2, column=1, value=f"{report.unit_name} — {period(report)}")
    ws.cell(row=3, column=1, value=f"Căn cứ bố cục: {report.basis}")
    for row in (1, 2, 3):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        ws.cell(row=row, column=1).alignment = Alignment(horizontal="center", wrap_text=True)
    ws.cell(row=1, column=1).font = Font(bold=True, size=13)
    ws.cell(row=2, column=1).font = Font(bold=True)
    ws.cell(row=3, column=1).font = Font(italic=True, size=9)


def _header(ws: Worksheet, groups: list[tuple[str, list[str]]]) -> None:
    """Two header rows: a group spanning its columns above them, or one header spanning
    both rows when the group has a single column of the same name."""
    top, bottom = HEADER_ROW, HEADER_ROW + 1
    column = 1
    for title, names in groups:
        if len(names) == 1 and names[0] == title:
            ws.cell(row=top, column=column, value=title)
            ws.merge_cells(start_row=top, start_column=column, end_row=bottom, end_column=column)
        else:
            ws.cell(row=top, column=column, value=title)
            if len(names) > 1:
                ws.merge_cells(
                    start_row=top, start_column=column, end_row=top,
                    end_column=column + len(names) - 1,
                )  # fmt: skip
            for offset, name in enumerate(names):
                ws.cell(row=bottom, column=column + offset, value=name)
        column += len(names)
    for row in (top, bottom):
        for c in range(1, column):
            cell = ws.cell(row=row, column=c)
            cell.font = Font(bold=True)
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            cell.border = _BOX


def _body(ws: Worksheet, rows: list[list[Any]], bold_when_no_stt: bool = False) -> None:
    for values in rows:
        append_row(ws, values)
        row = ws.max_row
        for c in range(1, len(values) + 1):
            ws.cell(row=row, column=c).border = _BOX
            if bold_when_no_stt and values[0] is None:
                ws.cell(row=row, column=c).font = Font(bold=True)


def _widths(ws: Worksheet, widths: list[int]) -> None:
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width


def workbook_bytes(report: Report) -> bytes:
    """The report as an XLSX workbook: "Biểu thống kê" (by form and level, subject and
    type), "Theo đơn vị", "Theo năm"."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Biểu thống kê"
    width = 3 + len(COLUMNS)
    _heading(ws, report, width)
    _header(
        ws,
        [
            ("STT", ["STT"]),
            (
                "Danh hiệu thi đua, hình thức khen thưởng",
                ["Danh hiệu thi đua, hình thức khen thưởng"],
            ),
            ("Cấp khen thưởng", ["Cấp khen thưởng"]),
            (COLUMNS["total"], [COLUMNS["total"]]),
            ("Chia theo đối tượng", [COLUMNS[c] for c in SUBJECT]),
            ("Chia theo loại hình khen thưởng", [COLUMNS[c] for c in TYPES]),
        ],
    )
    _body(ws, form_rows(report), bold_when_no_stt=True)
    _widths(ws, [6, 46, 30, 10, 10, 10, 10, 14, 14, 10, 12])
    ws.freeze_panes = "D7"

    units = wb.create_sheet("Theo đơn vị")
    levels = list(report.levels.values())
    _heading(units, report, 6 + len(levels))
    _header(
        units,
        [
            ("STT", ["STT"]),
            ("Đơn vị", ["Đơn vị"]),
            (COLUMNS["total"], [COLUMNS["total"]]),
            ("Chia theo đối tượng", [COLUMNS[c] for c in SUBJECT]),
            ("Chia theo cấp khen thưởng", levels),
        ],
    )
    _body(units, unit_rows(report))
    _widths(units, [6, 46, 10, 10, 10, 10, *([18] * len(levels))])

    years = wb.create_sheet("Theo năm")
    _heading(years, report, 2 + len(levels))
    _header(
        years,
        [
            ("Năm", ["Năm"]),
            ("Chia theo cấp khen thưởng", levels),
            (COLUMNS["total"], [COLUMNS["total"]]),
        ],
    )
    _body(years, year_rows(report))
    _widths(years, [8, *([18] * len(levels)), 10])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
