"""ND 30 wording (dates, money, NFC) and the committed templates matching their builder."""

from __future__ import annotations

import unicodedata
import zipfile
from datetime import date
from pathlib import Path

import pytest

from khenthuong.documents.builder import BUILDERS, build_all
from khenthuong.documents.text import date_line, money, money_words, nfc
from tests.conftest import CONFIG


@pytest.mark.parametrize(
    ("day", "line"),
    [
        (date(2020, 3, 5), "Hà Nội, ngày 05 tháng 3 năm 2020"),
        (date(2026, 2, 14), "Hà Nội, ngày 14 tháng 02 năm 2026"),
        (date(2026, 12, 20), "Hà Nội, ngày 20 tháng 12 năm 2026"),
    ],
)
def test_date_line_pads_days_and_the_first_two_months(day: date, line: str) -> None:
    """Days below 10 and months 1 and 2 take a leading zero (ND 30)."""
    assert date_line("Hà Nội", day) == line


def test_money_uses_vietnamese_grouping_and_text_is_nfc() -> None:
    """1490000 is written 1.490.000 đồng; decomposed input comes out composed."""
    assert money(1_490_000) == "1.490.000" and money(0) == "0" and money(-5000) == "-5.000"
    assert money_words(745_000_000) == "745.000.000 đồng"
    nfd = unicodedata.normalize("NFD", "Nguyễn Thị Ánh")
    assert nfc({"a": [nfd]}) == {"a": ["Nguyễn Thị Ánh"]}


def test_committed_templates_are_what_the_builder_makes(tmp_path: Path) -> None:
    """config/templates/*.docx hold the builder's text (rebuild with scripts/build-templates)."""
    build_all(tmp_path)
    for kind in BUILDERS:
        with (
            zipfile.ZipFile(tmp_path / f"{kind}.docx") as fresh,
            zipfile.ZipFile(CONFIG / "templates" / f"{kind}.docx") as committed,
        ):
            assert fresh.read("word/document.xml") == committed.read("word/document.xml"), kind
