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
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any, Literal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from khenthuong.localtime import LOCAL_TZ

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
        local = value.astimezone(LOCAL_TZ) if value.tzinfo is not None else value
        return local.replace(tzinfo=None)
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


def vn_integer_format(value: Any = 0) -> str:
    """A number format showing whole numbers with dots between thousands (3.510.000) whatever
    the reader's locale: the dots are literal, chosen by magnitude (a format holds at most two
    conditions, so the widest three groups of digits around `value` are covered)."""
    groups = max(3, (len(str(abs(int(value or 0)))) + 2) // 3)

    def digits(n: int) -> str:
        return "#" + "\\.###" * (n - 2) + "\\.##0" if n > 1 else "0"

    top, mid, low = groups, groups - 1, groups - 2
    return (
        f"[>={10 ** (3 * (top - 1))}]{digits(top)};"
        f"[>={10 ** (3 * (mid - 1))}]{digits(mid)};{digits(low) if low > 1 else '0'}"
    )


@dataclass(frozen=True)
class Column:
    """One column of an export: its header and what its cells hold."""

    header: str
    kind: Kind = "text"
    total: bool = False
    """Sum the column in the total row (money, counts)."""


def _cell_format(kind: Kind, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float | date):
        return None
    if kind in ("count", "money") and isinstance(value, int | float):
        return vn_integer_format(value)
    if kind == "decimal" and isinstance(value, int | float):
        return DECIMAL_FORMAT
    return None


def write_sheet(
    ws: Worksheet,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    heading: Sequence[str] = (),
    total_label: str = "Tổng cộng",
    count_rows: bool = False,
) -> None:
    """Fill `ws`: the heading lines (bold first line), the header row (bold, frozen, with an
    autofilter), typed cells (dates as dd/mm/yyyy, whole numbers with dots between thousands)
    and, when a column adds up, a total row under the data (with `count_rows`, the number of
    rows in its second cell). Text cells are never live."""
    for index, line in enumerate(heading, start=1):
        ws.cell(row=index, column=1, value=line).font = Font(
            bold=index == 1, size=13 if index == 1 else 11
        )
    top = len(heading) + (2 if heading else 1)
    header_fill = PatternFill("solid", fgColor="DDE4EE")
    for index, column in enumerate(columns, start=1):
        cell = ws.cell(row=top, column=index, value=column.header)
        cell.font = Font(bold=True)
        cell.fill = header_fill
        cell.alignment = Alignment(wrap_text=True, vertical="center")
    widths = [max(8, len(c.header)) for c in columns]
    sums: list[Any] = [0] * len(columns)
    last = top
    for values in rows:
        last += 1
        for index, (column, value) in enumerate(zip(columns, values, strict=True), start=1):
            _write_cell(ws, last, index, column, value)
            if column.total and isinstance(value, int | float) and not isinstance(value, bool):
                sums[index - 1] += value
            widths[index - 1] = max(widths[index - 1], min(60, len(_shown(value))))
    if last > top:
        ws.auto_filter.ref = f"A{top}:{get_column_letter(len(columns))}{last}"
    if any(c.total for c in columns) or count_rows:
        total_row = last + 1
        ws.cell(row=total_row, column=1, value=total_label).font = Font(bold=True)
        if count_rows and len(columns) > 1:
            cell = ws.cell(row=total_row, column=2, value=last - top)
            cell.font = Font(bold=True)
            cell.number_format = vn_integer_format(last - top)
        for index, column in enumerate(columns, start=1):
            if column.total:
                cell = ws.cell(row=total_row, column=index, value=sums[index - 1])
                cell.font = Font(bold=True)
                cell.number_format = _cell_format(column.kind, sums[index - 1]) or "General"
    ws.freeze_panes = f"A{top + 1}"
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width + 2


def _shown(value: Any) -> str:
    if isinstance(value, datetime):
        return "00/00/0000 00:00"
    if isinstance(value, date):
        return "00/00/0000"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value)


def _write_cell(ws: Worksheet, row: int, column: int, spec: Column, value: Any) -> None:
    typed = _typed(value)
    cell = ws.cell(row=row, column=column)
    cell.value = typed
    if is_live(typed):
        cell.data_type = "s"  # openpyxl took the leading "=" for a formula
        cell.quotePrefix = True
    elif isinstance(typed, datetime):
        cell.number_format = DATETIME_FORMAT
    elif isinstance(typed, date):
        cell.number_format = DATE_FORMAT
    else:
        fmt = _cell_format(spec.kind, typed)
        if fmt:
            cell.number_format = fmt


def sheet_title(title: str) -> str:
    """A worksheet name Excel accepts (31 characters, none of []:*?/\\)."""
    return "".join("-" if ch in "[]:*?/\\" else ch for ch in title)[:31] or "Sheet"


def workbook_bytes(
    title: str,
    columns: Sequence[Column],
    rows: Iterable[Sequence[Any]],
    *,
    heading: Sequence[str] = (),
    total_label: str = "Tổng cộng",
    count_rows: bool = False,
) -> bytes:
    """A one-sheet XLSX workbook (`write_sheet`) as bytes."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = sheet_title(title)
    write_sheet(ws, columns, rows, heading=heading, total_label=total_label, count_rows=count_rows)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xlsx_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A workbook with one sheet of text-headed columns (typed cells, neutralised text)."""
    return workbook_bytes(title, [Column(h) for h in headers], rows)


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


Kind = Literal["text", "count", "money", "decimal", "date", "datetime"]
DECIMAL_FORMAT = "[$-42A]0.0##"
"""Coefficients and scores: decimals with the Vietnamese locale tag (LibreOffice shows 0,3;
Excel shows the reader's own decimal separator, a format cannot fix it)."""
