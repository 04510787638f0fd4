"""One reader for every imported table (history now; proposal lists and registrations use it
too): CSV or XLSX in, rows of text out, never silently wrong.

- XLSX cells are read as values; a formula cell whose cached value is missing (a file saved by
  a program that does not compute formulas) is an error of its row, not an empty cell; merged
  header cells are an error of the file.
- CSV is UTF-8 (a BOM is fine) in the standard dialect: comma-separated, doubled quotes inside
  quoted text (`"Sáng kiến ""Mật mã 4.0"", giai đoạn 1"`). A semicolon or tab is the separator
  only when the header line holds it and no comma (what Excel writes in locales with a decimal
  comma).
- The header names the columns: unknown names are an error naming them; names are compared
  case-insensitively, NFC.
- Every text value is NFC with surrounding spaces removed.
Pure: no database.
"""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any


class SheetError(ValueError):
    """A problem of the whole file (its header, its format); `row` is 1 for the header."""

    def __init__(self, path: Path, row: int, message: str) -> None:
        super().__init__(f"{path.name}:{row}: {message}")
        self.row = row
        self.message = message


@dataclass(frozen=True)
class SheetRow:
    """One data row: its number in the file, its values by column, or why it cannot be read."""

    number: int
    values: dict[str, str]
    error: str | None = None


def _text(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else unicodedata.normalize("NFC", str(value)).strip()


def _header(path: Path, names: list[Any], allowed: Collection[str]) -> list[str]:
    header = [unicodedata.normalize("NFC", str(h or "")).strip().lower() for h in names]
    unknown = [h for h in header if h and h not in allowed]
    if unknown:
        raise SheetError(
            path, 1, f"cột không có trong mẫu: {', '.join(unknown)}; các cột: {', '.join(allowed)}"
        )
    seen = [h for h in header if h]
    twice = sorted({h for h in seen if seen.count(h) > 1})
    if twice:
        raise SheetError(path, 1, f"cột lặp lại: {', '.join(twice)}")
    return header


def _xlsx(path: Path, allowed: Collection[str]) -> Iterator[SheetRow]:
    from openpyxl import load_workbook  # noqa: PLC0415
    from openpyxl.utils.exceptions import InvalidFileException  # noqa: PLC0415

    try:
        values_book = load_workbook(path, read_only=True, data_only=True)
        formulas_book = load_workbook(path, read_only=False, data_only=False)
    except (zipfile.BadZipFile, KeyError, InvalidFileException):
        raise SheetError(
            path, 1, "tệp .xlsx hỏng hoặc không phải bảng tính Excel; lưu lại bằng Excel"
        ) from None
    try:
        values = values_book.active
        formulas = formulas_book.active
        if values is None or formulas is None:
            raise SheetError(path, 1, "tệp không có trang tính")
        for merged in formulas.merged_cells.ranges:
            if merged.min_row == 1:
                raise SheetError(path, 1, f"tiêu đề có ô gộp ({merged.coord}); bỏ gộp ô")
        value_rows = values.iter_rows(values_only=True)
        formula_rows = formulas.iter_rows()
        header = _header(path, list(next(value_rows, ())), allowed)
        next(formula_rows, None)
        for number, (row, cells) in enumerate(zip(value_rows, formula_rows, strict=False), start=2):
            if all(v in (None, "") for v in row) and all(c.data_type != "f" for c in cells):
                continue
            blank_formulas = [
                c.coordinate
                for c, v in zip(cells, row, strict=False)
                if c.data_type == "f" and v is None
            ]
            out = {header[i]: _text(v) for i, v in enumerate(row) if i < len(header) and header[i]}
            if blank_formulas:
                yield SheetRow(
                    number,
                    out,
                    f"ô {', '.join(blank_formulas)} là công thức chưa có giá trị; mở tệp bằng "
                    "Excel, lưu lại (hoặc dán giá trị) rồi nhập lại",
                )
                continue
            yield SheetRow(number, out)
    finally:
        values_book.close()
        formulas_book.close()


def _delimiter(first_line: str) -> str:
    if "," not in first_line:
        for candidate in (";", "\t"):
            if candidate in first_line:
                return candidate
    return ","


def _csv(path: Path, allowed: Collection[str]) -> Iterator[SheetRow]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SheetError(path, 1, f"tệp CSV phải mã hóa UTF-8 ({exc.reason})") from None
    if not text.strip():
        raise SheetError(path, 1, "tệp rỗng")
    reader = csv.reader(
        io.StringIO(text, newline=""),
        delimiter=_delimiter(text.splitlines()[0]),
        quotechar='"',
        doublequote=True,
        strict=True,
    )
    try:
        header = _header(path, next(reader), allowed)
        for row in reader:
            number = reader.line_num
            if not any(v.strip() for v in row):
                continue
            if len(row) > len(header):
                yield SheetRow(number, {}, f"có {len(row)} ô, tiêu đề có {len(header)} cột")
                continue
            yield SheetRow(number, {header[i]: _text(v) for i, v in enumerate(row) if header[i]})
    except csv.Error as exc:
        raise SheetError(path, reader.line_num, f"CSV không hợp lệ: {exc}") from None


def read_rows(path: Path, allowed: Collection[str]) -> Iterator[SheetRow]:
    """The data rows of a .csv or .xlsx file whose header names columns of `allowed`."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        return _xlsx(path, allowed)
    if suffix == ".csv":
        return _csv(path, allowed)
    raise SheetError(path, 1, "dùng tệp .csv hoặc .xlsx")
