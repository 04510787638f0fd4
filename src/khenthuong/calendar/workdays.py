"""Working days on the Vietnamese public-holiday calendar, with dated overrides (pure).

Holidays come from the `holidays` package (Tết Nguyên Đán and Giỗ Tổ Hùng Vương follow the
lunar calendar; the Government's yearly day swaps it knows are included, make-up Saturdays
count as working days). `config/calendar.yaml` adds what the package does not know yet:
extra days off (nghỉ bù, ngày nghỉ theo quyết định) and extra working days (làm bù).

Convention: "N working days after D" is the N-th working day strictly after D; D itself
never counts, whether or not it is a working day. N = 0 gives D unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from khenthuong.errors import InvalidDefinition
from khenthuong.yamlsource import load_yaml, pydantic_problems

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")
FIRST_YEAR, LAST_YEAR = 1901, 2100


class DayOverride(BaseModel):
    """One dated change to the calendar, with the decision it comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    date: date
    name: str = Field(min_length=1)
    basis: str = Field(min_length=1)


class CalendarFile(BaseModel):
    """config/calendar.yaml."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    days_off: list[DayOverride] = Field(default_factory=list)
    working_days: list[DayOverride] = Field(default_factory=list)


BETWEEN_CACHE = 4096
"""Pairs of days remembered by a calendar (cleared when full: a day's pages need few)."""


@dataclass(frozen=True)
class WorkingCalendar:
    """The public holidays of Việt Nam plus overrides."""

    extra_days_off: dict[date, str] = field(default_factory=dict)
    extra_working_days: dict[date, str] = field(default_factory=dict)
    _between: dict[tuple[date, date], int] = field(default_factory=dict, compare=False, repr=False)
    """Answers of `working_days_between`: a queue page asks the same (today, due day) for
    many rows, and walking the days is most of a row's time."""

    def _year(self, year: int) -> tuple[dict[date, str], frozenset[date]]:
        return _package_year(year)

    def is_working_day(self, day: date) -> bool:
        """Monday–Friday that is not a day off, or a make-up working day."""
        if day in self.extra_working_days:
            return True
        if day in self.extra_days_off:
            return False
        days_off, make_up = self._year(day.year)
        if day in make_up:
            return True
        return day.weekday() < 5 and day not in days_off

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day strictly after `start`."""
        if n < 0:
            raise ValueError("n must be zero or more")
        day = start
        while n > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                n -= 1
        return day

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after `day`."""
        return self.add_working_days(day, 1)

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in (start, end]; 0 when end <= start."""
        found = self._between.get((start, end))
        if found is not None:
            return found
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        if len(self._between) >= BETWEEN_CACHE:
            self._between.clear()
        self._between[(start, end)] = count
        return count

    def holidays_in(self, year: int) -> list[tuple[date, str]]:
        """Days off of `year` (holidays, substitutes, overrides), sorted, names in Vietnamese."""
        if not FIRST_YEAR <= year <= LAST_YEAR:
            raise ValueError(f"year must be between {FIRST_YEAR} and {LAST_YEAR}")
        days = dict(self._year(year)[0])
        days.update({d: n for d, n in self.extra_days_off.items() if d.year == year})
        for d in self.extra_working_days:
            days.pop(d, None)
        return sorted(days.items())

    def make_up_days(self, year: int) -> list[tuple[date, str]]:
        """Weekend days that are working days in `year` (làm bù)."""
        days = dict.fromkeys(self._year(year)[1], "Ngày làm bù")
        days.update({d: n for d, n in self.extra_working_days.items() if d.year == year})
        return sorted(days.items())


@lru_cache(maxsize=256)
def _package_year(year: int) -> tuple[dict[date, str], frozenset[date]]:
    import holidays  # noqa: PLC0415 - imported by the first date computed, not every command

    vn = holidays.country_holidays("VN", years=year, language="vi")
    # The package lists some make-up Saturdays of other years under every year (27/12/2014
    # and 05/01/2019 appear under 2026): keep this year's only.
    make_up = frozenset(d for d in getattr(vn, "weekend_workdays", ()) if d.year == year)
    return {d: n for d, n in vn.items() if d.year == year}, make_up


def load_calendar(path: Path) -> WorkingCalendar:
    """A calendar with the overrides in `path`; errors name FILE:LINE."""
    doc = load_yaml(path)
    try:
        parsed = CalendarFile.model_validate(doc.data or {})
    except ValidationError as exc:
        raise InvalidDefinition(pydantic_problems(doc, exc)) from exc
    both = {o.date for o in parsed.days_off} & {o.date for o in parsed.working_days}
    if both:
        index = next(i for i, o in enumerate(parsed.working_days) if o.date in both)
        raise InvalidDefinition(
            [doc.problem(("working_days", index, "date"), f"{sorted(both)[0]} is also a day off")]
        )
    return WorkingCalendar(
        {o.date: o.name for o in parsed.days_off}, {o.date: o.name for o in parsed.working_days}
    )


@lru_cache(maxsize=4)
def _calendar_for(config_dir: Path) -> WorkingCalendar:
    path = config_dir / "calendar.yaml"
    return load_calendar(path) if path.exists() else WorkingCalendar()


def default_calendar() -> WorkingCalendar:
    """The calendar of the configured config folder."""
    from khenthuong.settings import get_settings  # noqa: PLC0415

    return _calendar_for(get_settings().config_dir)


def is_working_day(day: date) -> bool:
    """`WorkingCalendar.is_working_day` on the default calendar."""
    return default_calendar().is_working_day(day)


def add_working_days(start: date, n: int) -> date:
    """`WorkingCalendar.add_working_days` on the default calendar."""
    return default_calendar().add_working_days(start, n)
