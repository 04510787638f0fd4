"""Lists as XLSX downloads (openpyxl), with a bold header row and sized columns; text cells
are never live formulas (khenthuong.tabular)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from fastapi.responses import Response

from khenthuong.tabular import xlsx_bytes
from khenthuong.web.attachment import content_disposition

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_response(
    filename: str, title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]
) -> Response:
    """An attachment response carrying the workbook."""
    return Response(
        xlsx_bytes(title, headers, rows),
        media_type=XLSX_TYPE,
        headers={"Content-Disposition": content_disposition(filename)},
    )
