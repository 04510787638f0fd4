"""Reading an exported workbook as an officer's Excel shows it: the header row the panes
freeze above, the data rows under it (the autofilter spanning exactly them), the total row."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from khenthuong.web.xlsx import XLSX_TYPE

TOTALS = ("Tổng cộng", "Total")


def xlsx_sheet(response: Any) -> Worksheet:
    """The workbook of an attachment response (checked to be one)."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX_TYPE
    assert "attachment" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert isinstance(sheet, Worksheet)
    return sheet


def header_row(sheet: Worksheet) -> int:
    """The header row is the one the panes freeze above the data."""
    assert sheet.freeze_panes is not None and sheet.freeze_panes.startswith("A")
    return int(sheet.freeze_panes[1:]) - 1


def table(sheet: Worksheet) -> tuple[list[str], list[list[Any]]]:
    """Headers and data rows (cells); checks the autofilter spans the header and the data."""
    top = header_row(sheet)
    header = [c.value for c in sheet[top]]
    rows = [list(r) for r in sheet.iter_rows(min_row=top + 1)]
    data = [r for r in rows if r[0].value not in TOTALS]
    if data:
        last = top + len(data)
        assert sheet.auto_filter.ref == f"A{top}:{sheet.cell(top, len(header)).column_letter}{last}"
    return header, data


def total_row(sheet: Worksheet, label: str = "Tổng cộng") -> list[Any]:
    """The last row, which must be the total row."""
    last = next(iter(sheet.iter_rows(min_row=sheet.max_row, max_row=sheet.max_row)))
    assert last[0].value == label
    return list(last)


def cells(sheet: Worksheet) -> list[list[tuple[Any, str, str, bool]]]:
    """Every cell as (value, type, number format, bold), with the frozen pane and the filter:
    two workbooks with equal `cells` look and sort alike in Excel."""
    grid = [
        [(c.value, c.data_type, c.number_format, bool(c.font.b)) for c in row]
        for row in sheet.iter_rows()
    ]
    return [[(sheet.freeze_panes, "", str(sheet.auto_filter.ref), False)], *grid]
