"""Minimum stays: when a held-back step becomes possible (working days, holidays, time zone)
and which steps wait."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from khenthuong.calendar.workdays import WorkingCalendar
from khenthuong.workflow.minimum import minimum_refusal, possible_from
from tests.workflow.test_shipped import REGISTRY

CAL = WorkingCalendar()


@pytest.mark.parametrize(
    ("entered", "expected"),
    [
        # ND 152 Art 44(2) practice: listed 20/8–4/9/2025 = 10 working days (1–2/9 off).
        (date(2025, 8, 20), date(2025, 9, 5)),
        # Across 30/4 (Fri), 1/5 (Sat) and its make-up day off 3/5 (Mon) in 2027: the 10th
        # listing day is Mon 10/5.
        (date(2027, 4, 23), date(2027, 5, 11)),
        # Across Tết Đinh Mùi (4/2–10/2/2027 off): Tue 2/2 to Tue 23/2, listing ends 22/2.
        (date(2027, 2, 2), date(2027, 2, 23)),
        # Entered on a Saturday: the stay starts on Monday 26/4/2027.
        (date(2027, 4, 24), date(2027, 5, 12)),
        # The last listing day is a Friday (7/5/2027): possible from the Saturday.
        (date(2027, 4, 22), date(2027, 5, 8)),
    ],
)
def test_ten_working_days_counted_from_the_day_of_entry(entered: date, expected: date) -> None:
    assert possible_from(CAL, entered, 10) == expected


def test_exactly_the_minimum_lies_between_entry_and_the_first_possible_day() -> None:
    """For every entry day of January to March 2027 (Tết included), the days from the entry
    day to the day before the first possible one hold exactly 10 working days, the last of
    them that day before."""
    entered = date(2027, 1, 1)
    while entered < date(2027, 4, 1):
        first = possible_from(CAL, entered, 10)
        days = [entered + timedelta(days=k) for k in range((first - entered).days)]
        assert sum(CAL.is_working_day(d) for d in days) == 10, entered
        assert CAL.is_working_day(days[-1]), entered
        entered += timedelta(days=1)


def test_a_minimum_is_at_least_one_day() -> None:
    with pytest.raises(ValueError, match="at least one"):
        possible_from(CAL, date(2027, 4, 23), 0)


def test_held_back_steps_are_the_forward_ones() -> None:
    """In the Labour Order's listing, only ending it waits: a return, a rejection or a
    withdrawal never waits for the listing to end."""
    wf = REGISTRY.get("huan_chuong_lao_dong").definition
    held = {t.trigger: wf.held_back("publicity", t) for t in wf.transitions_from("publicity")}
    assert {name for name, m in held.items() if m is not None} == {"end_publicity"}
    assert set(held) == {"end_publicity", "return_for_supplement", "reject", "withdraw"}
    minimum = held["end_publicity"]
    assert minimum is not None and minimum.working_days == 10


def test_refusal_uses_the_local_date_and_names_the_first_possible_day() -> None:
    wf = REGISTRY.get("huan_chuong_lao_dong").definition
    state = wf.state("publicity")
    assert state.minimum is not None
    entered = datetime(2027, 4, 23, 2, 0, tzinfo=UTC)  # 09:00 in Hà Nội
    # 23:30 on 10/05 in Hà Nội: still the 10th listing day.
    refusal = minimum_refusal(
        CAL, "publicity", state, state.minimum, entered, datetime(2027, 5, 10, 16, 30, tzinfo=UTC)
    )
    assert refusal is not None and refusal.code == "minimum"
    assert refusal.message_vi.startswith(
        "Chưa đủ thời gian công khai tối thiểu 10 ngày làm việc (từ 23/04/2027); "
        "có thể chuyển bước từ ngày 11/05/2027."
    )
    assert refusal.details["possible_from"] == "2027-05-11"
    # 00:30 on 11/05 in Hà Nội is still 10/05 in UTC: allowed; a naive moment is UTC.
    assert (
        minimum_refusal(
            CAL, "publicity", state, state.minimum, entered, datetime(2027, 5, 10, 17, 30)
        )
        is None
    )
