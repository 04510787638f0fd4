"""How documents write money, dates and Vietnamese text (ND 30/2020 conventions)."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import date
from typing import Any


def money(amount: int) -> str:
    """1490000 -> '1.490.000' (Vietnamese digit grouping with dots)."""
    sign = "-" if amount < 0 else ""
    return sign + f"{abs(int(amount)):,}".replace(",", ".")


def number(value: float, digits: int = 0) -> str:
    """A number as Vietnamese writes it: dots between thousands, a comma before the decimals
    (`number(1234.5, 1) == "1.234,5"`; whole numbers as `money`)."""
    if not digits:
        return money(round(value))
    whole, _, decimals = f"{abs(value):,.{digits}f}".partition(".")
    return ("-" if value < 0 else "") + whole.replace(",", ".") + "," + decimals


def money_words(amount: int) -> str:
    """1490000 -> '1.490.000 đồng'."""
    return f"{money(amount)} đồng"


def day_month(value: date) -> tuple[str, str]:
    """Day and month as ND 30 writes them: days below 10 and months 1 and 2 take a leading 0."""
    day = f"{value.day:02d}"
    month = f"{value.month:02d}" if value.month <= 2 else str(value.month)
    return day, month


def date_line(place: str, value: date | None) -> str:
    """'Hà Nội, ngày 05 tháng 3 năm 2020'; without a date the blanks the văn thư fills in."""
    if value is None:
        return f"{place}, ngày      tháng      năm"
    day, month = day_month(value)
    return f"{place}, ngày {day} tháng {month} năm {value.year}"


def long_date(value: date) -> str:
    """'ngày 05 tháng 3 năm 2020' (inside a sentence)."""
    day, month = day_month(value)
    return f"ngày {day} tháng {month} năm {value.year}"


def short_date(value: date) -> str:
    """'05/03/2020' (in tables)."""
    return f"{value:%d/%m/%Y}"


def number_suffix(number: str) -> tuple[str, str]:
    """'45/QĐ-BCY' -> ('45', 'QĐ-BCY'); the parts ND 30 writes around the slash."""
    head, sep, tail = number.partition("/")
    return (head, tail) if sep else ("", number)


def decision_wording(name: str, recognised: bool, counts_text: str, year: str) -> dict[str, str]:
    """The trích yếu, Điều 1 and the list's title of a decision on award `name`: a title is
    recognised ("Về việc công nhận danh hiệu Lao động tiên tiến năm 2026"; "Công nhận danh
    hiệu … cho …"), a form or a flag granted ("Về việc tặng Bằng khen …"; "Tặng … cho …")."""
    if recognised:
        return {
            "award_phrase": f"danh hiệu {name}",
            "summary": f"Về việc công nhận danh hiệu {name} năm {year}",
            "article_1": f"Công nhận danh hiệu {name} năm {year} cho {counts_text} "
            "(có danh sách kèm theo).",
            "list_title": f"ĐƯỢC CÔNG NHẬN DANH HIỆU {name.upper()} NĂM {year}",
        }
    return {
        "award_phrase": name,
        "summary": f"Về việc tặng {name}",
        "article_1": f"Tặng {name} cho {counts_text} (có danh sách kèm theo), đã có thành tích "
        f"xuất sắc trong công tác năm {year}.",
        "list_title": name.upper(),
    }


def nfc(value: Any) -> Any:
    """Every string in `value` (nested dicts, lists, tuples) in Unicode NFC."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, Mapping):
        return {k: nfc(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [nfc(v) for v in value]
    return value
