"""Working-day arithmetic over Tết and the other Vietnamese holidays, with overrides."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from khenthuong.calendar.workdays import WorkingCalendar, load_calendar
from khenthuong.cli.app import app
from khenthuong.errors import InvalidDefinition

CAL = WorkingCalendar()


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        (date(2026, 2, 13), 1, date(2026, 2, 23)),  # Tết 2026: 16–20/02 off
        (date(2026, 2, 12), 3, date(2026, 2, 24)),
        (date(2026, 2, 16), 1, date(2026, 2, 23)),  # the start day never counts
        (date(2027, 2, 3), 1, date(2027, 2, 11)),  # Tết 2027: 04–10/02 off
        (date(2027, 2, 1), 10, date(2027, 2, 22)),
        (date(2026, 4, 24), 1, date(2026, 4, 28)),  # Giỗ Tổ 26/04 observed Mon 27/04
        (date(2026, 4, 29), 1, date(2026, 5, 4)),  # 30/4 and 1/5
        (date(2026, 8, 28), 1, date(2026, 9, 3)),  # nghỉ bù 31/08 plus 1–2/09
        (date(2026, 8, 21), 1, date(2026, 8, 22)),  # Saturday 22/08/2026 is a make-up day
        (date(2026, 11, 23), 1, date(2026, 11, 25)),  # Ngày Văn hóa Việt Nam 24/11
        (date(2025, 4, 24), 2, date(2025, 4, 26)),  # working Saturday 26/04/2025
        (date(2026, 3, 2), 0, date(2026, 3, 2)),
    ],
)
def test_add_working_days(start: date, n: int, expected: date) -> None:
    """N working days after a date skip weekends and holidays and count make-up Saturdays."""
    assert CAL.add_working_days(start, n) == expected


def test_tet_days_off_match_the_official_dates() -> None:
    """Tết 2026 is 16–20/02 and Tết 2027 is 04–10/02 in the calendar."""
    off_2026 = {d for d, _ in CAL.holidays_in(2026)}
    off_2027 = {d for d, _ in CAL.holidays_in(2027)}
    assert {date(2026, 2, d) for d in range(16, 21)} <= off_2026
    assert {date(2027, 2, d) for d in range(4, 11)} <= off_2027
    assert not CAL.is_working_day(date(2027, 2, 8))
    assert CAL.working_days_between(date(2027, 2, 3), date(2027, 2, 12)) == 2


def test_overrides_add_days_off_and_working_days(tmp_path: Path) -> None:
    """A configured day off and make-up day change the arithmetic."""
    path = tmp_path / "calendar.yaml"
    path.write_text(
        "days_off:\n  - {date: 2027-03-01, name: Nghỉ bù, basis: TB 1/TB-BNV}\n"
        "working_days:\n  - {date: 2027-03-06, name: Làm bù, basis: TB 1/TB-BNV}\n",
        encoding="utf-8",
    )
    cal = load_calendar(path)
    assert cal.add_working_days(date(2027, 2, 26), 1) == date(2027, 3, 2)
    assert cal.is_working_day(date(2027, 3, 6))
    assert (date(2027, 3, 1), "Nghỉ bù") in cal.holidays_in(2027)


def test_bad_override_file_names_file_and_line(tmp_path: Path) -> None:
    """An unknown key or a bad date is reported at its line."""
    path = tmp_path / "calendar.yaml"
    path.write_text("days_off:\n  - {date: 2027-13-01, name: X, basis: Y}\n", encoding="utf-8")
    with pytest.raises(InvalidDefinition) as info:
        load_calendar(path)
    assert [p.line for p in info.value.problems] == [2]
    assert "2027-13-01" in str(info.value)
    path.write_text("days_off: []\nworking_days: []\nextra: 1\n", encoding="utf-8")
    with pytest.raises(InvalidDefinition) as info:
        load_calendar(path)
    assert [str(p) for p in info.value.problems] == [f"{path}:3: unknown key 'extra'"]


def test_calendar_cli() -> None:
    """`calendar add-working-days` prints the day and weekday; bad input exits 2."""
    runner = CliRunner()
    result = runner.invoke(app, ["calendar", "add-working-days", "2026-02-13", "1"])
    assert result.exit_code == 0
    assert result.output.strip() == "2026-02-23 (Thứ Hai)"
    result = runner.invoke(app, ["calendar", "add-working-days", "13/02/2026", "1"])
    assert result.exit_code == 2
    assert runner.invoke(app, ["calendar", "holidays", "2200"]).exit_code == 2


def _rows(output: str) -> list[tuple[str, ...]]:
    return [
        tuple(cell.strip() for cell in line.strip("│ ").split("│"))
        for line in output.splitlines()
        if line.startswith("│")
    ]


def test_calendar_holidays_lists_exactly_the_days_of_2026() -> None:
    """`calendar holidays 2026`: the days off of 2026 and its one make-up Saturday, and no
    make-up day of another year (the package also lists 27/12/2014 and 05/01/2019).

    Tết Dương lịch 01/01; Tết Nguyên Đán 16–20/02 (Mùng 1 = 17/02/2026); Giỗ Tổ Hùng Vương
    10/3 âm lịch = Sunday 26/04, off on Monday 27/04; 30/04 and 01/05; Quốc khánh 02/09
    with the day before, 01/09; 31/08 off in exchange for Saturday 22/08; Ngày Văn hóa Việt
    Nam 24/11 (a day off from 2026). All from the `holidays` package; no override."""
    result = CliRunner().invoke(app, ["calendar", "holidays", "2026"])
    assert result.exit_code == 0, result.output
    assert _rows(result.output) == [
        ("01/01/2026", "Thứ Năm", "Tết Dương lịch"),
        ("16/02/2026", "Thứ Hai", "Giao thừa Tết Nguyên Đán"),
        ("17/02/2026", "Thứ Ba", "Tết Nguyên Đán"),
        ("18/02/2026", "Thứ Tư", "Mùng hai Tết Nguyên Đán"),
        ("19/02/2026", "Thứ Năm", "Mùng ba Tết Nguyên Đán"),
        ("20/02/2026", "Thứ Sáu", "Mùng bốn Tết Nguyên Đán"),
        ("26/04/2026", "Chủ nhật", "Ngày Giỗ Tổ Hùng Vương"),
        ("27/04/2026", "Thứ Hai", "Ngày Giỗ Tổ Hùng Vương (nghỉ bù)"),
        ("30/04/2026", "Thứ Năm", "Ngày Chiến thắng"),
        ("01/05/2026", "Thứ Sáu", "Ngày Quốc tế Lao động"),
        ("31/08/2026", "Thứ Hai", "Ngày nghỉ (thay cho ngày 22/08/2026)"),
        ("01/09/2026", "Thứ Ba", "Quốc khánh"),
        ("02/09/2026", "Thứ Tư", "Quốc khánh"),
        ("24/11/2026", "Thứ Ba", "Ngày Văn hóa Việt Nam"),
        ("22/08/2026", "Thứ Bảy", "Ngày làm bù (làm việc)"),
    ]


def test_make_up_days_belong_to_their_year() -> None:
    """No year lists another year's make-up Saturdays; they still count as working days."""
    for year in (2014, 2019, 2025, 2026, 2027):
        assert all(d.year == year for d, _ in CAL.make_up_days(year))
        assert all(d.year == year for d, _ in CAL.holidays_in(year))
    assert CAL.make_up_days(2027) == []
    assert CAL.make_up_days(2025) == [(date(2025, 4, 26), "Ngày làm bù")]
    assert CAL.is_working_day(date(2014, 12, 27)) and CAL.is_working_day(date(2019, 1, 5))
