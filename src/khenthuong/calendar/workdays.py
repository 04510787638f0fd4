"""Working-day arithmetic on the Vietnamese public-holiday calendar (pure)."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=256)
def _vn_year(year: int) -> tuple[frozenset[date], frozenset[date]]:
    vn = holidays.country_holidays("VN", years=year)
    return frozenset(vn.keys()), frozenset(getattr(vn, "weekend_workdays", ()))


def is_working_day(day: date) -> bool:
    """True for Monday–Friday that is not a public holiday, and for make-up Saturdays."""
    days_off, make_up = _vn_year(day.year)
    if day in make_up:
        return True
    return day.weekday() < 5 and day not in days_off


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start` (the start day itself never counts)."""
    if n < 0:
        raise ValueError("n must be zero or more")
    day = start
    while n > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day
