"""Lists as XLSX downloads (openpyxl), with a bold header row and sized columns; text cells
are never live formulas (khenthuong.tabular)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.styles import Font

from khenthuong.tabular import append_row
from khenthuong.web.attachment import content_disposition

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A workbook with one sheet."""
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


def xlsx_response(
    filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Response:
    """An attachment response carrying the workbook."""
    return Response(
        xlsx_bytes(title, headers, rows),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": content_disposition(filename)},
    )
