"""Lists as XLSX downloads (openpyxl) through khenthuong.tabular: a bold, frozen header row
with an autofilter, typed dates and numbers, sized columns; text cells are never live
formulas. khenthuong.web.exports builds the officer-facing exports with named columns."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi.responses import Response

from khenthuong.tabular import xlsx_bytes
from khenthuong.web.attachment import content_disposition

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_file(filename: str, content: bytes) -> Response:
    """An attachment response carrying a workbook."""
    return Response(
        content,
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": content_disposition(filename)},
    )


def xlsx_response(
    filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Response:
    """An attachment response carrying the workbook."""
    return xlsx_file(filename, xlsx_bytes(title, headers, rows))
