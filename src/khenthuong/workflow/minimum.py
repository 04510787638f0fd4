"""Minimum stays in a state (e.g. a public listing of at least 10 working days): when a
held-back step becomes possible, and the refusal before then (pure; the calendar is passed in).

How the working days are counted (NĐ 98/2023/NĐ-CP, Điều 46: "công khai ít nhất 10 ngày làm
việc"): the day the state is entered is the first day of the stay when it is a working day
(the ministries count a listing published on 20/8/2025 and ending on 4/9/2025 as 10 working
days); otherwise the stay starts on the next working day. A held-back step is possible from
00:00 (local time) of the calendar day after the last of the N working days. Entered on
working day D, that is the N-th working day after D (refused on the (N-1)-th, which is the
stay's last day); entered on a day off, one working day later.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

from khenthuong.errors import Refusal
from khenthuong.localtime import LOCAL_TZ
from khenthuong.workflow.definition import Minimum, StateDef, StateKind, TransitionDef, WorkflowDef


class Calendar(Protocol):
    """What the count needs of `khenthuong.calendar.workdays.WorkingCalendar`."""

    def is_working_day(self, day: date) -> bool: ...

    def add_working_days(self, start: date, n: int) -> date: ...


def local_day(moment: datetime) -> date:
    """The local date of `moment`; a naive moment is UTC (SQLite returns stored UTC moments
    without their zone)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TZ).date()


def possible_from(calendar: Calendar, entered: date, working_days: int) -> date:
    """The first day a step held back by a minimum of `working_days` is possible, for a
    state entered on `entered` (local date)."""
    if working_days < 1:
        raise ValueError("a minimum is at least one working day")
    first = entered if calendar.is_working_day(entered) else calendar.add_working_days(entered, 1)
    return calendar.add_working_days(first, working_days - 1) + timedelta(days=1)


def waiting(
    calendar: Calendar,
    wf: WorkflowDef,
    state: str,
    transitions: Iterable[TransitionDef],
    entered_at: datetime,
    now: datetime,
) -> dict[str, date]:
    """The steps of `transitions` out of `state` that its minimum stay still holds back at
    `now`, each with the first day it is possible (for the pages that list the steps)."""
    minimum = wf.states[state].minimum
    if minimum is None:
        return {}
    first = possible_from(calendar, local_day(entered_at), minimum.working_days)
    if local_day(now) >= first:
        return {}
    return {t.trigger: first for t in transitions if wf.held_back(state, t) is not None}


def minimum_refusal(
    calendar: Calendar,
    state_name: str,
    state: StateDef,
    minimum: Minimum,
    entered_at: datetime,
    now: datetime,
) -> Refusal | None:
    """The refusal of a held-back step taken at `now`, or None when the minimum has passed."""
    entered = local_day(entered_at)
    first = possible_from(calendar, entered, minimum.working_days)
    if local_day(now) >= first:
        return None
    n, since, on = minimum.working_days, f"{entered:%d/%m/%Y}", f"{first:%d/%m/%Y}"
    if state.kind is StateKind.publicity:
        what = f"Chưa đủ thời gian công khai tối thiểu {n} ngày làm việc"
    else:
        what = f"Chưa đủ thời gian tối thiểu {n} ngày làm việc ở bước '{state.title.vi}'"
    return Refusal(
        "minimum",
        f"{what} (từ {since}); có thể chuyển bước từ ngày {on}. Căn cứ: {minimum.basis}",
        f"the minimum stay of {n} working days in {state_name} (since {entered.isoformat()}) "
        f"has not passed; the step is possible from {first.isoformat()}",
        {
            "state": state_name,
            "working_days": n,
            "entered_on": entered.isoformat(),
            "possible_from": first.isoformat(),
            "basis": minimum.basis,
        },
    )
