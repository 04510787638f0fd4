"""Numbers, money, percentages and dates as an officer reads them, through Babel's locale data:
Vietnamese (vi_VN: `3.510.000`, `0,3`, `90,0 %` with a no-break space, `05/12/2026`) or English
(en_GB: `3,510,000`, `0.3`, `90.0%`, `05/12/2026`). Pages use them as Jinja filters
(web.formats); services and rules format the numbers of their messages with them (a quota's
`15 %`)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from fractions import Fraction

from khenthuong.localtime import LOCAL_TZ

LOCALES = {"vi": "vi_VN", "en": "en_GB"}
PERCENT = {"vi": "#,##0.0\u00a0%", "en": "#,##0.0%"}
"""Babel patterns; in Vietnamese a no-break space (U+00A0) keeps the sign with its number,
so `90,0 %` never wraps across two lines of a page or a document."""
Number = int | float | Decimal


def _locale(lang: str) -> str:
    return LOCALES.get(lang, LOCALES["vi"])


def number(value: Number | None, lang: str = "vi") -> str:
    """A number with the language's grouping and decimal signs (`3.510.000`, `0,3`)."""
    from babel.numbers import format_decimal  # noqa: PLC0415 (kept off the CLI's start-up)

    return "" if value is None else format_decimal(value, locale=_locale(lang))


def money(value: Number | None, lang: str = "vi") -> str:
    """An amount in đồng: `3.510.000 đồng` / `3,510,000 VND`."""
    if value is None:
        return ""
    from babel.numbers import format_decimal  # noqa: PLC0415

    amount = format_decimal(value, format="#,##0", locale=_locale(lang))
    return f"{amount} VND" if lang == "en" else f"{amount} đồng"


def percent(value: Number | Fraction | None, lang: str = "vi", digits: int = 1) -> str:
    """A share (0.9) as a percentage with `digits` decimals: `90,0 %` / `90.0%` (0.15 with
    no decimals: `15 %` / `15%`); the Vietnamese space is a no-break space (U+00A0)."""
    from babel.numbers import format_percent  # noqa: PLC0415

    if value is None:
        return ""
    pattern = PERCENT.get(lang, PERCENT["vi"]).replace(".0", "." + "0" * digits if digits else "")
    share = Decimal(value.numerator) / value.denominator if isinstance(value, Fraction) else value
    return format_percent(share, format=pattern, locale=_locale(lang))


def day(value: date | datetime | str | None, lang: str = "vi") -> str:
    """A date as dd/mm/yyyy (an ISO string is read first; a datetime in Hà Nội time)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = date.fromisoformat(value[:10])
    if isinstance(value, datetime):
        value = value.astimezone(LOCAL_TZ).date() if value.tzinfo else value.date()
    # All digits in both languages: formatted directly (Babel's pattern machinery was a
    # sixth of the queue page's rendering, 100 dates a page).
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def moment(value: datetime | None, lang: str = "vi") -> str:
    """A time as dd/mm/yyyy HH:mm in Hà Nội time (a naive value is UTC)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")
