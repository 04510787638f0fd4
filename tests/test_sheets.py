"""The one table reader of every import (khenthuong.sheets): never silently wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from khenthuong.sheets import SheetError, read_rows

COLUMNS = ("record", "person", "unit", "title")


def xlsx(path: Path, rows: list[list[object]], merge: str | None = None) -> Path:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    for row in rows:
        ws.append(row)
    if merge:
        ws.merge_cells(merge)
    wb.save(path)  # openpyxl stores formulas without a cached value, as such programs do
    return path


def test_a_formula_without_a_cached_value_is_an_error_of_its_row(tmp_path: Path) -> None:
    """The person cell of row 3 is a formula nobody computed: the row is refused, not read as
    an empty person (which made it a collective award of the unit)."""
    path = xlsx(tmp_path / "ls.xlsx", [
        ["record", "person", "unit", "title"],
        ["award", "Nguyễn Văn An", "CCYQD", ""],
        ["award", '=CONCAT("Trần ","Thị Bích")', "CCYQD", ""],
    ])  # fmt: skip
    rows = list(read_rows(path, COLUMNS))
    assert [(r.number, r.error) for r in rows] == [
        (2, None),
        (3, "ô B3 là công thức chưa có giá trị; mở tệp bằng Excel, lưu lại (hoặc dán giá trị) "
            "rồi nhập lại"),
    ]  # fmt: skip
    assert rows[0].values == {"record": "award", "person": "Nguyễn Văn An", "unit": "CCYQD",
                              "title": ""}  # fmt: skip


def test_merged_header_cells_are_refused(tmp_path: Path) -> None:
    path = xlsx(tmp_path / "m.xlsx", [["record", "person", "", "title"]], merge="B1:C1")
    with pytest.raises(SheetError, match=r"m.xlsx:1: tiêu đề có ô gộp \(B1:C1\)"):
        list(read_rows(path, COLUMNS))


def test_doubled_quotes_are_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "q.csv"
    path.write_text(
        "record,person,unit,title\ninitiative,Nguyễn Văn An,CCYQD,"
        '"Sáng kiến ""Mật mã 4.0"", giai đoạn 1"\n',
        encoding="utf-8",
    )
    (row,) = read_rows(path, COLUMNS)
    assert row.values["title"] == 'Sáng kiến "Mật mã 4.0", giai đoạn 1'


def test_a_semicolon_file_from_excel(tmp_path: Path) -> None:
    path = tmp_path / "s.csv"
    path.write_text("\ufeffrecord;person;unit;title\naward;Trần Thị Bích;CCYQD;a, b\n", "utf-8")
    (row,) = read_rows(path, COLUMNS)
    assert row.values == {"record": "award", "person": "Trần Thị Bích", "unit": "CCYQD",
                          "title": "a, b"}  # fmt: skip


def test_unknown_and_repeated_columns_are_named(tmp_path: Path) -> None:
    path = tmp_path / "u.csv"
    path.write_text("record,person,don_vi,ghi_chu\n", encoding="utf-8")
    with pytest.raises(SheetError, match=r"u\.csv:1: cột không có trong mẫu: don_vi, ghi_chu"):
        list(read_rows(path, COLUMNS))
    path.write_text("record,person,Person\n", encoding="utf-8")
    with pytest.raises(SheetError, match="cột lặp lại: person"):
        list(read_rows(path, COLUMNS))


def test_text_is_nfc_and_trimmed_and_long_rows_are_errors(tmp_path: Path) -> None:
    path = tmp_path / "n.csv"
    path.write_text(
        "record,person\naward,  Tra\u0302\u0300n Thi\u0323 Bi\u0301ch \naward,a,b,c\n",
        encoding="utf-8",
    )
    first, second = read_rows(path, ("record", "person"))
    assert first.values["person"] == "Trần Thị Bích"
    assert second.error == "có 4 ô, tiêu đề có 2 cột"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("e.csv", b"", "e.csv:1: tệp rỗng"),
        ("l.csv", b"record\nTr\xe2\xcc n", "l.csv:1: tệp CSV phải mã hóa UTF-8"),
        ("x.txt", b"record\n", "x.txt:1: dùng tệp .csv hoặc .xlsx"),
    ],
)
def test_bad_files_name_the_file(tmp_path: Path, name: str, content: bytes, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SheetError) as refused:
        list(read_rows(path, COLUMNS))
    assert str(refused.value).startswith(message)
