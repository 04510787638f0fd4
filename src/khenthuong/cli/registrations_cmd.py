"""`khenthuong registrations …`: emulation registration (đăng ký thi đua) of a unit's year."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from khenthuong.cli.common import (
    FormatOption,
    OutputFormat,
    actor_for,
    command_hints,
    console,
    emit,
    emit_one,
    report_errors,
    runtime,
)
from khenthuong.dates import BadDate, parse_date
from khenthuong.errors import KhenthuongError
from khenthuong.rules.catalog import catalog_in
from khenthuong.services import registrations
from khenthuong.services.nominees import matching_people
from khenthuong.services.proposal_import import ImportRefused
from khenthuong.services.unit_sheets import award_of, unit_row
from khenthuong.storage.db import write_tx

app = typer.Typer(help="Đăng ký thi đua.", no_args_is_help=True)


def day(value: str | None, option: str) -> date | None:
    """A date option (YYYY-MM-DD or dd/mm/yyyy), None when not given."""
    if value is None:
        return None
    try:
        return parse_date(value)
    except BadDate as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def print_refused(exc: ImportRefused) -> None:
    """Every FILE:ROW line, then exit 1."""
    typer.echo("Không nhập được:", err=True)
    for line in exc.errors:
        typer.echo(f"  {line}", err=True)
    for hint in command_hints(exc.details):
        typer.echo(hint, err=True)
    raise typer.Exit(1)


@app.command("register")
@report_errors
def register(
    unit: str = typer.Option(..., "--unit"),
    year: int = typer.Option(..., "--year"),
    target: list[str] = typer.Option([], "--target", help="Một chỉ tiêu tập thể; lặp lại được."),
    on: str | None = typer.Option(None, "--date", help="Ngày đăng ký (mặc định: hôm nay)."),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Đăng ký thi đua năm của đơn vị với các chỉ tiêu tập thể (thay chỉ tiêu đã có)."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        reg_id = registrations.register_in(
            conn, unit=unit, year=year, actor=actor, registered_on=day(on, "--date"),
            targets=target or None,
        )  # fmt: skip
    typer.echo(reg_id)


@app.command("add")
@report_errors
def add(
    unit: str = typer.Option(..., "--unit", help="Đơn vị đăng ký."),
    year: int = typer.Option(..., "--year"),
    title: list[str] = typer.Option(..., "--title", help="Mã hoặc tên danh hiệu; lặp lại được."),
    person: str | None = typer.Option(None, "--person", help="Một người của đơn vị, theo họ tên."),
    person_id: int | None = typer.Option(None, "--person-id"),
    collective: str | None = typer.Option(None, "--collective", help="Mã đơn vị (tập thể)."),
    note: str | None = typer.Option(None, "--note"),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Đăng ký danh hiệu cho một cá nhân hoặc một tập thể của đơn vị."""
    rt = runtime()
    catalog = catalog_in(rt.settings.config_dir)
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        if person is not None:
            found = matching_people(conn, person, unit_row(conn, unit).path)
            if len(found) != 1:
                listed = "; ".join(p.label() for p in found) or "không có ai"
                raise KhenthuongError(f"{person!r} trong {unit}: {listed} (dùng --person-id)")
            person_id = found[0].id
        if (person_id is None) == (collective is None):
            raise typer.BadParameter(
                "cần một trong --person (hoặc --person-id), --collective", param_hint="--person"
            )
        codes = []
        for text in title:
            code = award_of(catalog, text)
            if code is None:
                raise KhenthuongError(f"Không có danh hiệu {text!r} trong danh mục")
            codes.append(code)
        try:
            registrations.add_entries_in(
                conn, catalog, unit=unit, year=year, actor=actor,
                entries=[registrations.EntryIn(c, person_id, collective, note) for c in codes],
            )  # fmt: skip
        except ImportRefused as exc:
            print_refused(exc)
    console.print(f"Đã đăng ký: {', '.join(codes)}")


@app.command("import")
@report_errors
def import_(
    file: Path = typer.Argument(..., exists=True, dir_okay=False),
    unit: str = typer.Option(..., "--unit"),
    year: int = typer.Option(..., "--year"),
    on: str | None = typer.Option(None, "--date", help="Ngày đăng ký (mặc định: hôm nay)."),
    create_persons: bool = typer.Option(False, "--create-persons"),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Nhập danh sách đăng ký thi đua (XLSX/CSV): kiểm tra mọi dòng trước, lỗi theo TỆP:DÒNG."""
    rt = runtime()
    catalog = catalog_in(rt.settings.config_dir)
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        try:
            ids = registrations.import_file(
                conn, catalog, file, unit=unit, year=year, actor=actor,
                registered_on=day(on, "--date"), create_persons=create_persons,
            )  # fmt: skip
        except ImportRefused as exc:
            print_refused(exc)
    console.print(f"Đã đăng ký {len(ids)} danh hiệu")


@app.command("template")
def template(output: Path = typer.Option(..., "-o", "--output")) -> None:
    """Ghi mẫu XLSX của danh sách đăng ký thi đua."""
    registrations.write_template(output)
    typer.echo(str(output))


@app.command("show")
@report_errors
def show(
    unit: str = typer.Option(..., "--unit"),
    year: int = typer.Option(..., "--year"),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Đăng ký thi đua của đơn vị: chỉ tiêu và danh hiệu đã đăng ký."""
    rt = runtime()
    with rt.engine.connect() as conn:
        found = registrations.view(conn, catalog_in(rt.settings.config_dir), unit, year)
    if found is None:
        raise KhenthuongError(f"{unit} chưa đăng ký thi đua năm {year}")
    if fmt is OutputFormat.json:
        emit_one(asdict(found), {}, fmt)
        return
    if fmt is OutputFormat.csv:
        emit([asdict(e) for e in found.entries], [("kind", "Đối tượng"), ("name", "Họ và tên / tập thể"),
             ("unit_name", "Đơn vị"), ("award_name", "Danh hiệu"), ("note", "Ghi chú")], fmt)  # fmt: skip
        return
    console.print(
        f"[bold]Đăng ký thi đua năm {year} — {found.unit_name}[/] "
        f"(ngày {found.registered_on:%d/%m/%Y})"
    )
    for line in found.targets:
        console.print(f"  • {line}")
    table = Table("đối tượng", "họ và tên / tập thể", "đơn vị", "danh hiệu", "ghi chú")
    for e in found.entries:
        kind = "cá nhân" if e.kind == "individual" else "tập thể"
        table.add_row(kind, e.name, e.unit_name, e.award_name, e.note or "")
    console.print(table)
