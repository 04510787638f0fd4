"""A long danh sách is laid out as several tables of at most PART_ROWS rows (LibreOffice lays
out one table of thousands of rows in quadratic time), each with the repeated header row,
and the subtotal only under the last."""

from __future__ import annotations

import io

import pytest
from docx import Document

from khenthuong.documents.render import render_docx
from khenthuong.services.documents import PART_ROWS, _lists
from tests.conftest import CONFIG

HEADER = ["STT", "Họ và tên", "Chức vụ, đơn vị công tác", "Hình thức khen thưởng",
          "Số tiền (đồng)"]  # fmt: skip


@pytest.mark.parametrize("kind", ["danh-sach", "quyet-dinh", "to-trinh"])
def test_long_list_is_split_into_tables_with_one_subtotal(kind: str) -> None:
    """450 individuals and 2 collectives: three tables of 200, 200 and 50 numbered 1–450,
    each opening with the header; 'Cộng' only under the last individuals' table."""
    count = 2 * PART_ROWS + 50
    rows = [(False, {"name": f"Người số {i}", "position_unit": "Trợ lý, Cục Cơ yếu",
                     "award": "Giấy khen", "money": "1.000.000"}, 1_000_000)
            for i in range(1, count + 1)]  # fmt: skip
    rows += [(True, {"name": f"Phòng {i}", "position_unit": "Cục Cơ yếu", "award": "Giấy khen",
                     "money": "2.000.000"}, 2_000_000) for i in (1, 2)]  # fmt: skip
    context = {**_lists(rows), "number": "1/QĐ-X", "year": "2026", "legal_bases": [],
               "recipients": [], "certificates": []}  # fmt: skip
    doc = Document(io.BytesIO(render_docx(CONFIG / "templates" / f"{kind}.docx", context)))
    lists = [t for t in doc.tables if t.rows[0].cells[0].text == "STT"]
    assert len(lists) == 4
    people = lists[:3]
    assert [len(t.rows) for t in people] == [1 + PART_ROWS, 1 + PART_ROWS, 1 + 50 + 1]
    assert all([c.text for c in t.rows[0].cells] == HEADER for t in people)
    numbers = [r.cells[0].text for t in people for r in t.rows[1:]][:count]
    assert numbers == [str(i) for i in range(1, count + 1)]
    names = [r.cells[1].text for t in people for r in t.rows[1:]]
    assert names == [f"Người số {i}" for i in range(1, count + 1)] + ["Cộng"]
    assert [r.cells[1].text for r in lists[3].rows[1:]] == ["Phòng 1", "Phòng 2", "Cộng"]
    assert people[-1].rows[-1].cells[-1].text == "450.000.000"
