"""`khenthuong calendar ...`: the Vietnamese working-day calendar."""

from __future__ import annotations

from datetime import date

import typer
from rich.table import Table

from khenthuong.calendar.workdays import FIRST_YEAR, LAST_YEAR, WEEKDAYS_VI, default_calendar
from khenthuong.cli.common import FormatOption, OutputFormat, console, emit, report_errors

app = typer.Typer(help="Lịch ngày làm việc.", no_args_is_help=True)


@app.command("add-working-days")
@report_errors
def add_working_days(
    start: str = typer.Argument(..., help="Ngày bắt đầu, YYYY-MM-DD."),
    n: int = typer.Argument(..., help="Số ngày làm việc cần cộng (không tính ngày bắt đầu)."),
) -> None:
    """Ngày làm việc thứ N sau NGÀY (bỏ qua Tết và các ngày lễ)."""
    try:
        day = date.fromisoformat(start)
    except ValueError:
        raise typer.BadParameter(
            f"{start!r} không phải ngày (YYYY-MM-DD)", param_hint="start"
        ) from None
    if n < 0:
        raise typer.BadParameter("số ngày phải từ 0 trở lên", param_hint="n")
    result = default_calendar().add_working_days(day, n)
    typer.echo(f"{result.isoformat()} ({WEEKDAYS_VI[result.weekday()]})")


@app.command("holidays")
@report_errors
def holidays(
    year: int = typer.Argument(..., help=f"Năm, từ {FIRST_YEAR} đến {LAST_YEAR}."),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Ngày nghỉ và ngày làm bù của một năm."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise typer.BadParameter(f"năm phải từ {FIRST_YEAR} đến {LAST_YEAR}", param_hint="year")
    calendar = default_calendar()
    if fmt is not OutputFormat.table:
        rows = [
            {"date": day, "weekday": WEEKDAYS_VI[day.weekday()], "name": name, "working": working}
            for days, working in ((calendar.holidays_in(year), False),
                                  (calendar.make_up_days(year), True))
            for day, name in days
        ]  # fmt: skip
        emit(rows, [("date", "Ngày"), ("weekday", "Thứ"), ("name", "Tên"),
                    ("working", "Ngày làm việc")], fmt)  # fmt: skip
        return
    table = Table("ngày", "thứ", "tên", title=f"Ngày nghỉ năm {year}")
    for day, name in calendar.holidays_in(year):
        table.add_row(day.strftime("%d/%m/%Y"), WEEKDAYS_VI[day.weekday()], name)
    for day, name in calendar.make_up_days(year):
        table.add_row(day.strftime("%d/%m/%Y"), WEEKDAYS_VI[day.weekday()], f"{name} (làm việc)")
    console.print(table)
