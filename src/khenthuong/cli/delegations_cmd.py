"""`khenthuong delegations ...`: ủy quyền, ký thay — roles handed to another officer for a
dated period."""

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
    report_errors,
    runtime,
)
from khenthuong.dates import BadDate, parse_date
from khenthuong.localtime import local_today
from khenthuong.services import delegations
from khenthuong.storage.db import write_tx

app = typer.Typer(help="Ủy quyền, ký thay.", no_args_is_help=True)


def _date(text: str, option: str) -> date:
    try:
        return parse_date(text)
    except BadDate as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


@app.command("add")
@report_errors
def delegations_add(
    delegator: str = typer.Option(..., "--from", help="Tên đăng nhập của người ủy quyền."),
    delegate: str = typer.Option(..., "--to", help="Tên đăng nhập của người được ủy quyền."),
    unit: str = typer.Option(..., "--unit", help="Mã đơn vị: ủy quyền trong phạm vi đơn vị này."),
    role: list[str] = typer.Option(
        [], "--role", help="Vai trò ủy quyền (lặp lại được); bỏ trống: mọi vai trò."
    ),
    mode: str = typer.Option(
        ..., "--mode", help="KT (ký thay), TL (thừa lệnh) hoặc TUQ (thừa ủy quyền)."
    ),
    title: str = typer.Option(
        ..., "--title", help="Chức vụ người được ủy quyền, in dưới dòng ký (vd. THỨ TRƯỞNG)."
    ),
    starts: str = typer.Option(None, "--start", help="Từ ngày (dd/mm/yyyy); mặc định hôm nay."),
    ends: str = typer.Option(..., "--end", help="Đến hết ngày (dd/mm/yyyy)."),
    reason: str = typer.Option(..., "--reason", help="Lý do ủy quyền."),
    as_user: str = typer.Option(..., "--as", help="Người lập (người ủy quyền hoặc quản trị)."),
) -> None:
    """Lập ủy quyền; in số của ủy quyền."""
    rt = runtime()
    starts_on = _date(starts, "--start") if starts else local_today()
    ends_on = _date(ends, "--end")
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        delegation_id = delegations.create(
            conn, actor, delegator=delegator, delegate=delegate, unit=unit, roles=role,
            mode=mode, delegate_title=title, starts_on=starts_on, ends_on=ends_on,
            reason=reason,
        )  # fmt: skip
    typer.echo(delegation_id)


@app.command("revoke")
@report_errors
def delegations_revoke(
    delegation_id: int = typer.Argument(..., help="Số ủy quyền."),
    reason: str = typer.Option("", "--reason", help="Lý do thu hồi."),
    as_user: str = typer.Option(..., "--as", help="Người thu hồi."),
) -> None:
    """Thu hồi ủy quyền ngay."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        delegations.revoke(conn, actor, delegation_id, reason)
    console.print(f"Đã thu hồi ủy quyền #{delegation_id}")


@app.command("list")
@report_errors
def delegations_list(
    as_user: str = typer.Option(..., "--as", help="Người xem (quản trị xem tất cả)."),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Các ủy quyền đã lập hoặc đã nhận."""
    rt = runtime()
    today = local_today()
    with actor_for(rt, as_user) as actor, rt.engine.connect() as conn:
        found = delegations.list_for(conn, actor)
    if fmt is not OutputFormat.table:
        emit(
            [asdict(d) | {"in_force": d.in_force(today)} for d in found],
            [("id", "Số"), ("delegator_name", "Người ủy quyền"), ("delegate_name",
             "Người được ủy quyền"), ("unit_name", "Đơn vị"), ("mode", "Hình thức"),
             ("starts_on", "Từ ngày"), ("ends_on", "Đến ngày")],
            fmt,
        )  # fmt: skip
        return
    table = Table("Số", "Người ủy quyền", "Người được ủy quyền", "Đơn vị", "Hình thức",
                  "Thời hạn", "Tình trạng")  # fmt: skip
    for d in found:
        status = (
            "đã thu hồi" if d.revoked_at else "đang hiệu lực" if d.in_force(today) else "hết hạn"
        )
        table.add_row(
            str(d.id), d.delegator_name, d.delegate_name, d.unit_name,
            f"{d.mode}. {delegations.MODES[d.mode]}",
            f"{d.starts_on:%d/%m/%Y} – {d.ends_on:%d/%m/%Y}", status,
        )  # fmt: skip
    console.print(table)
