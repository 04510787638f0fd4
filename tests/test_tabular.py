"""Spreadsheet and CSV cells are never live (khenthuong.tabular)."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook

from khenthuong.tabular import append_row, csv_cell, write_csv


@pytest.mark.parametrize("text", ["=1+1", "+84 912", "-5 điểm", "@SUM(A1)", "\tx", "\rx"])
def test_live_text_is_neutralised_in_csv(text: str) -> None:
    assert csv_cell(text) == "'" + text
    buf = io.StringIO()
    write_csv(buf, ["Tên"], [[text]])
    assert list(csv.reader(io.StringIO(buf.getvalue())))[1] == ["'" + text]


def test_plain_values_are_unchanged_and_quotes_are_doubled() -> None:
    assert csv_cell("Trần Thị Bích") == "Trần Thị Bích" and csv_cell(-5) == -5
    buf = io.StringIO()
    write_csv(buf, ["Tên đề tài"], [['Sáng kiến "Mật mã 4.0", giai đoạn 1']])
    assert '"Sáng kiến ""Mật mã 4.0"", giai đoạn 1"' in buf.getvalue()
    assert list(csv.reader(io.StringIO(buf.getvalue())))[1] == [
        'Sáng kiến "Mật mã 4.0", giai đoạn 1'
    ]


def test_xlsx_cells_are_typed_and_never_formulas() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    append_row(ws, ["=HYPERLINK(\"http://x\")", "-1", 3, 2.5, date(2026, 1, 2),
                    datetime(2026, 1, 2, 8, 30), None, "Bình thường"])  # fmt: skip
    buf = io.BytesIO()
    wb.save(buf)
    row = next(load_workbook(buf).active.iter_rows())  # type: ignore[union-attr]
    assert [c.data_type for c in row[:2]] == ["s", "s"]
    assert row[0].value == '=HYPERLINK("http://x")' and row[0].quotePrefix
    assert row[1].value == "-1" and row[1].quotePrefix
    assert (row[2].value, row[3].value) == (3, 2.5) and row[2].data_type == "n"
    assert row[4].value == datetime(2026, 1, 2) and row[4].number_format == "DD/MM/YYYY"
    assert row[5].number_format == "DD/MM/YYYY HH:MM"
    assert row[6].value is None and row[7].value == "Bình thường" and not row[7].quotePrefix
