"""`khenthuong persons ...`: the person register (who can be nominated as an individual)."""

from __future__ import annotations

import typer

from khenthuong.cli import org_files_cmd
from khenthuong.cli.common import (
    ExitCode,
    FormatOption,
    OutputFormat,
    emit,
    fail,
    report_errors,
)
from khenthuong.services.nominees import matching_people
from khenthuong.services.org import add_person
from khenthuong.storage.db import get_engine, write_tx

app = typer.Typer(help="Danh sách cá nhân.", no_args_is_help=True)
GENDERS = ("nam", "nữ")
app.command("import")(org_files_cmd.persons_import)
app.command("export")(org_files_cmd.persons_export)


@app.command("add")
@report_errors
def persons_add(
    name: str = typer.Argument(..., help="Họ và tên, có đủ dấu."),
    unit: str = typer.Option(..., "--unit", help="Mã đơn vị của người này."),
    birth_year: int = typer.Option(None, "--birth-year", min=1900, max=2100),
    gender: str = typer.Option(None, "--gender", help="nam hoặc nữ."),
    position: str = typer.Option(None, "--position", help="Chức vụ."),
) -> None:
    """Thêm người vào danh sách cá nhân; in số của người đó.

    Người trùng tên được phân biệt bằng đơn vị và năm sinh."""
    if gender is not None and gender not in GENDERS:
        raise typer.BadParameter(f"{gender!r}: chỉ 'nam' hoặc 'nữ'", param_hint="--gender")
    with write_tx(get_engine()) as conn:
        namesakes = matching_people(conn, name)
        person_id = add_person(conn, name, unit, position, gender, birth_year)
    for other in namesakes:
        typer.echo(f"Lưu ý: đã có người trùng tên {other.label()}", err=True)
    typer.echo(person_id)


@app.command("find")
@report_errors
def persons_find(
    name: str = typer.Argument(..., help="Họ và tên (không phân biệt hoa thường, khoảng trắng)."),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Những người trong danh sách có tên này: số, đơn vị, năm sinh."""
    with get_engine().connect() as conn:
        found = matching_people(conn, name)
    if not found:
        typer.echo(f"Không có cá nhân tên {name!r}", err=True)
        fail(ExitCode.NOT_FOUND)
    emit(
        [{"id": p.id, "full_name": p.full_name, "unit": p.unit_code, "birth_year": p.birth_year}
         for p in found],
        [("id", "Số"), ("full_name", "Họ và tên"), ("unit", "Đơn vị"), ("birth_year", "Năm sinh")],
        fmt,
    )  # fmt: skip
