"""`khenthuong blocs ...`: emulation blocs and clusters."""

from __future__ import annotations

from datetime import date

import typer
from rich.table import Table

from khenthuong.cli.common import console, report_errors, runtime
from khenthuong.services.blocs import bloc_codes, bloc_view

app = typer.Typer(help="Khối, cụm thi đua (emulation blocs).", no_args_is_help=True)


@app.command("list")
@report_errors
def list_(year: int = typer.Option(None, "--year", help="Default: this year.")) -> None:
    """Every bloc with its leader and member count for a year."""
    rt = runtime()
    year = year or date.today().year
    table = Table("mã", "tên", "loại", "tổ chức", "khối trưởng", "thành viên", title=f"Năm {year}")
    with rt.engine.connect() as conn:
        for code in bloc_codes(conn):
            view = bloc_view(conn, code, year)
            kind = "Khối" if view.kind == "khoi" else "Cụm"
            table.add_row(
                code, view.name, kind, view.organiser, view.leader, str(len(view.members))
            )
    console.print(table)


@app.command("show")
@report_errors
def show(code: str, year: int = typer.Option(None, "--year", help="Default: this year.")) -> None:
    """One bloc: members, leader (khối trưởng) and deputy (khối phó) for a year."""
    rt = runtime()
    year = year or date.today().year
    with rt.engine.connect() as conn:
        view = bloc_view(conn, code, year)
    console.print(
        f"[bold]{view.name}[/] ({view.code}) — năm {year}, đơn vị tổ chức {view.organiser}"
    )
    table = Table("mã", "đơn vị", "vai trò")
    for member, name in view.members:
        role = (
            "Khối trưởng"
            if member == view.leader
            else ("Khối phó" if member == view.deputy else "")
        )
        table.add_row(member, name, role)
    console.print(table)
    if view.flag_quota is not None:
        console.print(f"Chỉ tiêu đề nghị Cờ thi đua của Chính phủ: {view.flag_quota}")
