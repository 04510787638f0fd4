"""`khenthuong ratings …`: the year-end ratings (xếp loại) of a whole unit."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer
from rich.table import Table

from khenthuong.cli.common import (
    FormatOption,
    OutputFormat,
    actor_for,
    console,
    emit,
    report_errors,
    runtime,
)
from khenthuong.cli.registrations_cmd import print_refused
from khenthuong.errors import KhenthuongError
from khenthuong.services import ratings
from khenthuong.services.nominees import matching_people
from khenthuong.services.proposal_import import ImportRefused
from khenthuong.services.unit_sheets import unit_row
from khenthuong.storage.db import write_tx

app = typer.Typer(help="Xếp loại cuối năm.", no_args_is_help=True)


def _report(report: ratings.RatingsReport) -> None:
    console.print(
        f"Xếp loại: {report.added} mới, {report.changed} sửa, {report.unchanged} giữ nguyên"
    )


@app.command("import")
@report_errors
def import_(
    file: Path = typer.Argument(..., exists=True, dir_okay=False),
    unit: str = typer.Option(..., "--unit"),
    year: int = typer.Option(..., "--year"),
    replace: bool = typer.Option(False, "--replace", help="Sửa xếp loại đã ghi."),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Nhập xếp loại của đơn vị (XLSX/CSV: STT, Họ và tên, Đơn vị, Xếp loại, Ghi chú)."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        try:
            report = ratings.import_file(
                conn, file, unit=unit, year=year, actor=actor, replace=replace
            )
        except ImportRefused as exc:
            print_refused(exc)
    _report(report)


@app.command("set")
@report_errors
def set_(
    unit: str = typer.Option(..., "--unit"),
    year: int = typer.Option(..., "--year"),
    rating: list[str] = typer.Option(
        ...,
        "--rating",
        help="HỌ-TÊN=XẾP-LOẠI (htxs, htt, ht, kht hoặc tên tiếng Việt); lặp lại được.",
    ),
    replace: bool = typer.Option(False, "--replace"),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Nhập xếp loại cho người của đơn vị; ghi tất cả hoặc không ghi gì."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        path = unit_row(conn, unit).path
        given = []
        for item in rating:
            name, sep, value = item.rpartition("=")
            code = ratings.rating_of(value)
            if not sep or code is None:
                raise typer.BadParameter(
                    f"{item!r}: dùng HỌ-TÊN=htxs|htt|ht|kht", param_hint="--rating"
                )
            found = matching_people(conn, name, path)
            if len(found) != 1:
                raise KhenthuongError(f"{name!r}: {len(found)} cá nhân trong {unit}")
            given.append((found[0].id, code))
        try:
            report = ratings.set_ratings_in(
                conn, unit=unit, year=year, ratings=given, actor=actor, replace=replace
            )
        except ImportRefused as exc:
            print_refused(exc)
    _report(report)


@app.command("show")
@report_errors
def show(
    unit: str = typer.Option(..., "--unit"),
    year: int = typer.Option(..., "--year"),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Mọi người của đơn vị với xếp loại của năm (đánh dấu người chưa có)."""
    rt = runtime()
    with rt.engine.connect() as conn:
        found = ratings.unit_ratings(conn, unit, year)
    if fmt is not OutputFormat.table:
        emit(
            [asdict(p) | {"rating_name": ratings.RATINGS.get(p.rating or "", "")} for p in found],
            [("full_name", "Họ và tên"), ("unit_name", "Đơn vị"), ("rating_name", "Xếp loại")],
            fmt,
        )
        return
    table = Table("họ và tên", "đơn vị", "xếp loại")
    for p in found:
        table.add_row(
            p.full_name, p.unit_name, ratings.RATINGS.get(p.rating or "", "— chưa xếp loại")
        )
    console.print(table)
    missing = sum(1 for p in found if p.rating is None)
    console.print(f"{len(found)} người; chưa xếp loại: {missing}")


@app.command("template")
@report_errors
def template(
    output: Path = typer.Option(..., "-o", "--output"),
    unit: str | None = typer.Option(None, "--unit", help="Liệt kê người của đơn vị này."),
    year: int | None = typer.Option(None, "--year"),
) -> None:
    """Ghi tệp XLSX danh sách xếp loại (kèm người của đơn vị khi có --unit)."""
    people: list[ratings.PersonRating] = []
    if unit is not None:
        rt = runtime()
        with rt.engine.connect() as conn:
            people = ratings.unit_ratings(conn, unit, year or 0)
    ratings.write_template(output, people)
    typer.echo(str(output))
