"""Dates in dd/mm/yyyy and ISO (khenthuong.dates)."""

from __future__ import annotations

import re
from datetime import date

import pytest
from pydantic import BaseModel, ValidationError

from khenthuong.dates import BadDate, VNDate, parse_date


@pytest.mark.parametrize(
    "text", ["31/12/2026", "31-12-2026", "31.12.2026", "2026-12-31", " 31/12/2026 "]
)
def test_both_forms(text: str) -> None:
    assert parse_date(text) == date(2026, 12, 31)


def test_short_day_and_month() -> None:
    assert parse_date("1/2/2027") == date(2027, 2, 1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("31/02/2026", "Ngày '31/02/2026' không có trên lịch"),
        ("12/31/2026", "Ngày '12/31/2026' không có trên lịch"),
        ("2026/12/31", "Ngày '2026/12/31' không hợp lệ; viết dd/mm/yyyy (31/12/2026) hoặc yyyy-mm-dd"),
        ("hôm nay", "không hợp lệ"),
        ("", "không hợp lệ"),
    ],
)  # fmt: skip
def test_bad_dates_name_themselves(text: str, message: str) -> None:
    with pytest.raises(BadDate, match=re.escape(message)):
        parse_date(text)


def test_a_pydantic_field_takes_both_and_names_itself_when_wrong() -> None:
    class Form(BaseModel):
        held_on: VNDate

    assert Form(held_on="05/03/2027").held_on == date(2027, 3, 5)  # type: ignore[arg-type]
    assert Form(held_on=date(2027, 3, 5)).held_on == date(2027, 3, 5)
    with pytest.raises(ValidationError) as refused:
        Form(held_on="32/01/2027")  # type: ignore[arg-type]
    error = refused.value.errors()[0]
    assert error["loc"] == ("held_on",) and "không có trên lịch" in error["msg"]
