"""`khenthuong blocs ...`: emulation blocs and clusters."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

import typer
from rich.table import Table

from khenthuong.cli.common import (
    FormatOption,
    OutputFormat,
    console,
    emit,
    emit_one,
    report_errors,
    runtime,
)
from khenthuong.services.blocs import bloc_codes, bloc_view

app = typer.Typer(help="Khối, cụm thi đua (emulation blocs).", no_args_is_help=True)


@app.command("list")
@report_errors
def list_(
    year: int = typer.Option(None, "--year", help="Năm (mặc định: năm nay)."),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Các khối, cụm thi đua với khối trưởng và số thành viên trong năm (every bloc)."""
    rt = runtime()
    year = year or date.today().year
    rows = []
    with rt.engine.connect() as conn:
        for code in bloc_codes(conn):
            view = bloc_view(conn, code, year)
            names = dict(view.members)
            rows.append({
                "code": code, "name": view.name, "kind": view.kind,
                "kind_name": "Khối" if view.kind == "khoi" else "Cụm", "year": year,
                "organiser": view.organiser, "leader": view.leader,
                "leader_name": names.get(view.leader, view.leader), "members": len(view.members),
            })  # fmt: skip
    emit(
        rows,
        [("code", "Mã"), ("name", "Tên"), ("kind_name", "Loại"), ("leader_name", "Khối trưởng"),
         ("members", "Số thành viên")],
        fmt, title=f"Năm {year}",
    )  # fmt: skip


@app.command("show")
@report_errors
def show(
    code: str,
    year: int = typer.Option(None, "--year", help="Năm (mặc định: năm nay)."),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Một khối: thành viên, khối trưởng, khối phó trong năm (one bloc in a year)."""
    rt = runtime()
    year = year or date.today().year
    with rt.engine.connect() as conn:
        view = bloc_view(conn, code, year)
    members = [
        {"code": member, "name": name,
         "role": "Khối trưởng" if member == view.leader
         else ("Khối phó" if member == view.deputy else "")}
        for member, name in view.members
    ]  # fmt: skip
    if fmt is not OutputFormat.table:
        if fmt is OutputFormat.json:
            emit_one({**asdict(view), "members": members}, {}, fmt)
        else:
            emit(members, [("code", "Mã"), ("name", "Đơn vị"), ("role", "Vai trò")], fmt)
        return
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
