"""`khenthuong blocs ...`: emulation blocs and clusters."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

import typer
from rich.table import Table

from khenthuong.cli.common import (
    FormatOption,
    OutputFormat,
    actor_for,
    console,
    emit,
    emit_one,
    report_errors,
    runtime,
)
from khenthuong.errors import NotFound
from khenthuong.services import bloc_admin
from khenthuong.services.blocs import bloc_codes, bloc_view
from khenthuong.storage.db import write_tx

NOT_CHOSEN = "chưa chọn"

app = typer.Typer(help="Khối, cụm thi đua.", no_args_is_help=True)


@app.command("list")
@report_errors
def list_(
    year: int = typer.Option(None, "--year", help="Năm (mặc định: năm nay)."),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Các khối, cụm thi đua với khối/cụm trưởng và số thành viên trong năm."""
    rt = runtime()
    year = year or date.today().year
    rows = []
    with rt.engine.connect() as conn:
        for code in bloc_codes(conn):
            try:
                view = bloc_view(conn, code, year)
            except NotFound:
                continue  # no members that year
            rows.append({
                "code": code, "name": view.name, "kind": view.kind,
                "kind_name": "Khối" if view.kind == "khoi" else "Cụm", "year": year,
                "organiser": view.organiser, "leader": view.leader,
                "leader_name": view.name_of(view.leader) if view.leader else NOT_CHOSEN,
                "members": len(view.members),
            })  # fmt: skip
    emit(
        rows,
        [("code", "Mã"), ("name", "Tên"), ("kind_name", "Loại"), ("organiser", "Tổ chức"),
         ("leader_name", "Khối/cụm trưởng"), ("members", "Số thành viên")],
        fmt, title=f"Năm {year}",
    )  # fmt: skip


@app.command("show")
@report_errors
def show(
    code: str,
    year: int = typer.Option(None, "--year", help="Năm (mặc định: năm nay)."),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Một khối: thành viên, khối/cụm trưởng, khối/cụm phó trong năm."""
    rt = runtime()
    year = year or date.today().year
    with rt.engine.connect() as conn:
        view = bloc_view(conn, code, year)
    members = [
        {"code": member, "name": name,
         "role": view.leader_title if member == view.leader
         else (view.deputy_title if member == view.deputy else "")}
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
    for member in members:
        table.add_row(member["code"], member["name"], member["role"])
    console.print(table)
    if view.leader is None:
        console.print(f"{view.leader_title} năm {year}: {NOT_CHOSEN}")
    if view.flag_quota is not None:
        console.print(f"Chỉ tiêu đề nghị Cờ thi đua của Chính phủ: {view.flag_quota}")


@app.command("create")
@report_errors
def create(
    code: str,
    name: str = typer.Option(..., "--name"),
    kind: str = typer.Option(..., "--kind", help="khoi (khối) hoặc cum (cụm)."),
    organiser: str = typer.Option(..., "--organiser", help="Mã đơn vị tổ chức."),
    since: int = typer.Option(..., "--since", help="Năm đầu tiên."),
    flag_quota: int = typer.Option(1, "--flag-quota", help="Số Cờ thi đua của Chính phủ mỗi năm."),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Tạo khối, cụm thi đua (cơ quan thi đua của đơn vị tổ chức hoặc quản trị viên); có nhật ký."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        bloc_admin.create_bloc(
            conn, code=code, name=name, kind=kind, organiser=organiser, since=since,
            flag_quota=flag_quota, scoring=None, actor=actor,
        )  # fmt: skip
    console.print(f"Đã lập khối {code.upper()}")


@app.command("add-member")
@report_errors
def add_member(
    code: str,
    unit: str = typer.Option(..., "--unit"),
    since: str = typer.Option(..., "--from", help="Ngày có hiệu lực, YYYY-MM-DD."),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Thêm thành viên từ một ngày; có nhật ký."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        bloc_admin.add_member(conn, code, unit, since=date.fromisoformat(since), actor=actor)
    console.print(f"{unit} là thành viên {code} từ {since}")


@app.command("remove-member")
@report_errors
def remove_member(
    code: str,
    unit: str = typer.Option(..., "--unit"),
    until: str = typer.Option(..., "--until", help="Ngày cuối cùng, YYYY-MM-DD."),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Kết thúc tư cách thành viên vào một ngày; có nhật ký."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        bloc_admin.remove_member(conn, code, unit, until=date.fromisoformat(until), actor=actor)
    console.print(f"{unit} rời {code} ngày {until}")


@app.command("set-leader")
@report_errors
def set_leader(
    code: str,
    year: int = typer.Option(..., "--year"),
    leader: str = typer.Option(..., "--leader", help="Mã đơn vị thành viên làm khối trưởng."),
    deputy: str = typer.Option(None, "--deputy", help="Mã đơn vị thành viên làm khối phó."),
    source: str = typer.Option(
        "elected", "--source", help="elected (khối bầu) hoặc set (đơn vị tổ chức chỉ định)."
    ),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Ghi khối trưởng, khối phó của năm (khối bầu hoặc đơn vị tổ chức chỉ định)."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        view = bloc_admin.set_leader(conn, code, year, leader, deputy, source=source, actor=actor)
    console.print(f"{view.leader_title} {code} năm {year}: {view.name_of(view.leader)}")
