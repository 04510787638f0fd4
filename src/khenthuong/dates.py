"""Dates as officers write them: dd/mm/yyyy (also d/m/yyyy, dd-mm-yyyy, dd.mm.yyyy) and ISO
yyyy-mm-dd, on every page, API field and import. Pure."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator

_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$")
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")


class BadDate(ValueError):
    """A text that is not a date; the message (Vietnamese) quotes it and the accepted forms.
    `value` and `reason` ('calendar': no such day; 'form': not written as a date) let an
    interface word it in its own language."""

    def __init__(self, message: str, value: str = "", reason: str = "form") -> None:
        super().__init__(message)
        self.value = value
        self.reason = reason


def parse_date(text: str) -> date:
    """The date `text` names, or BadDate: '31/12/2026', '2026-12-31', '1/2/2027'."""
    value = text.strip()
    dmy = _DMY.match(value)
    iso = _ISO.match(value)
    try:
        if dmy:
            return date(int(dmy[3]), int(dmy[2]), int(dmy[1]))
        if iso:
            return date(int(iso[1]), int(iso[2]), int(iso[3]))
    except ValueError:
        raise BadDate(f"Ngày {value!r} không có trên lịch", value, "calendar") from None
    raise BadDate(
        f"Ngày {value!r} không hợp lệ; viết dd/mm/yyyy (31/12/2026) hoặc yyyy-mm-dd", value
    )


def _coerce(value: Any) -> Any:
    if isinstance(value, str):
        return parse_date(value)
    return value


VNDate = Annotated[date, BeforeValidator(_coerce)]
"""A pydantic date field that also takes dd/mm/yyyy; a bad value is a 422 naming the field."""
