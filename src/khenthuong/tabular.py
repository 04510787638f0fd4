"""Cells for spreadsheets and CSV files that are never live (OWASP "CSV injection").

Text an officer typed (a nominee's name, a comment) can begin with `=`, `+`, `-`, `@`, a tab
or a carriage return; Excel and LibreOffice take such a cell as a formula when the file is
opened, so `=HYPERLINK(…)` planted in a name would run in the auditor's spreadsheet. Every
export goes through here: in XLSX such text is written as a string cell marked with a quote
prefix (shown as typed, never evaluated); in CSV it is prefixed with an apostrophe, as OWASP
recommends. Dates, times and numbers are written as typed cells, not as text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

LIVE_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet read a text cell as a formula (OWASP)."""

DATE_FORMAT = "DD/MM/YYYY"
DATETIME_FORMAT = "DD/MM/YYYY HH:MM"


def is_live(value: object) -> bool:
    """True for text a spreadsheet would evaluate."""
    return isinstance(value, str) and value.startswith(LIVE_STARTS)


def csv_cell(value: Any) -> Any:
    """A CSV value: live text gets a leading apostrophe; everything else is unchanged."""
    return "'" + value if is_live(value) else value


def write_csv(handle: IO[str], header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Standard CSV (doubled quotes) with every cell neutralised."""
    writer = csv.writer(handle)
    writer.writerow([csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([csv_cell(v) for v in row])


def _typed(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, list | dict):
        return str(value)
    return value


def append_row(ws: Worksheet, values: Sequence[Any]) -> None:
    """Append one row: live text as a quoted string cell, dates with a Vietnamese format."""
    typed = [_typed(v) for v in values]
    ws.append(["" if is_live(v) else v for v in typed])
    row = ws.max_row
    for column, value in enumerate(typed, start=1):
        cell = ws.cell(row=row, column=column)
        if is_live(value):
            cell.value = value
            cell.data_type = "s"  # openpyxl took the leading "=" for a formula
            cell.quotePrefix = True
        elif isinstance(value, datetime):
            cell.number_format = DATETIME_FORMAT
        elif isinstance(value, date):
            cell.number_format = DATE_FORMAT


def xlsx_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A workbook with one sheet: a bold header row, sized columns, every cell neutralised."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "".join("-" if ch in "[]:*?/\\" else ch for ch in title)[:31] or "Sheet"
    ws.append(list(headers))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    widths = [len(h) for h in headers]
    for values in rows:
        append_row(ws, values)
        widths = [max(w, min(60, len(str(v or "")))) for w, v in zip(widths, values, strict=False)]
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[ws.cell(row=1, column=index).column_letter].width = width + 2
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_table(
    path: Path, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]
) -> None:
    """Write a table to `path` as .xlsx or .csv (UTF-8 with a BOM, for Excel), by its suffix."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        path.write_bytes(xlsx_bytes(title, headers, rows))
    elif suffix == ".csv":
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            write_csv(handle, headers, rows)
    else:
        raise ValueError(f"{path.name}: dùng tệp .csv hoặc .xlsx")
