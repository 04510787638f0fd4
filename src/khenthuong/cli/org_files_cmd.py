"""`khenthuong units|persons|users import|export`: the organisation from files and back.

An import checks every row first and prints every bad row as `FILE:ROW: message`; with
`--dry-run` it prints the differences it would apply and writes nothing; otherwise it applies
them in one transaction, each as an audit event under the `--as` administrator's name.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import typer
from sqlalchemy import Connection

from khenthuong.cli.common import console, report_errors
from khenthuong.dates import BadDate, parse_date
from khenthuong.localtime import LOCAL_TZ
from khenthuong.roles import roles_in
from khenthuong.services.account_files import apply_accounts, export_accounts, plan_accounts
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.org_files import ImportPlan, OrgFileRefused
from khenthuong.services.person_files import apply_persons, export_persons, plan_persons
from khenthuong.services.unit_files import apply_units, export_units, plan_units
from khenthuong.settings import get_settings
from khenthuong.storage.db import get_engine, write_tx

units_app = typer.Typer(help="Cây đơn vị (the unit tree).", no_args_is_help=True)

FILE = typer.Argument(..., help="A .xlsx or .csv file.")
AS_ADMIN = typer.Option(..., "--as", help="Username of the administrator importing.")
DRY_RUN = typer.Option(False, "--dry-run", help="Show the differences; write nothing.")

Planner = Callable[[Connection, Actor], ImportPlan]
Applier = Callable[[Connection, ImportPlan, Actor], int]


def show_plan(plan: ImportPlan, applied: bool) -> None:
    """Print each difference with its row, the counts and what is left to do."""
    for change in plan.in_row_order():
        where = f"{plan.source}:{change.row}" if change.row else plan.source
        console.print(f"{where}: {change.text}")
    verb = "Đã áp dụng" if applied else "Chạy thử, chưa ghi gì; sẽ áp dụng"
    console.print(f"{verb}: {plan.summary()}; {plan.unchanged}/{plan.rows} dòng không đổi.")
    for note in plan.notes:
        console.print(f"Lưu ý: {note}")


def run_import(as_user: str, dry_run: bool, planner: Planner, applier: Applier) -> None:
    """Plan (and unless `dry_run`, apply) an import; every bad row printed, exit 1."""
    try:
        with write_tx(get_engine()) as conn:
            actor = load_actor(conn, as_user)
            plan = planner(conn, actor)
            if not dry_run:
                applier(conn, plan, actor)
    except OrgFileRefused as exc:
        for line in exc.errors:
            typer.echo(line, err=True)
        typer.echo(f"Không nhập gì: {len(exc.errors)} dòng lỗi.", err=True)
        raise typer.Exit(1) from None
    show_plan(plan, applied=not dry_run)


def run_export(path: Path, exporter: Callable[[Connection, Path], int]) -> None:
    if path.suffix.lower() not in (".xlsx", ".csv"):
        raise typer.BadParameter(f"{path.name}: dùng tệp .csv hoặc .xlsx", param_hint="FILE")
    with get_engine().connect() as conn:
        count = exporter(conn, path)
    console.print(f"Đã ghi {count} dòng vào {path}")


def effective_date(text: str | None) -> date:
    """The --effective option, today (Vietnam time) when not given."""
    if not text:
        return datetime.now(LOCAL_TZ).date()
    try:
        return parse_date(text)
    except BadDate as exc:
        raise typer.BadParameter(str(exc), param_hint="--effective") from None


@units_app.command("import")
@report_errors
def units_import(file: Path = FILE, as_user: str = AS_ADMIN, dry_run: bool = DRY_RUN) -> None:
    """Import the unit tree (Mã đơn vị, Tên đơn vị, Mã đơn vị cấp trên, Cấp, Loại đơn vị):
    new units are added, changed names, levels and kinds applied, all audited."""
    run_import(as_user, dry_run, lambda conn, actor: plan_units(conn, file, actor), apply_units)


@units_app.command("export")
@report_errors
def units_export(file: Path = FILE) -> None:
    """Write the unit tree, parents first, in the import's columns."""
    run_export(file, export_units)


@report_errors
def persons_import(
    file: Path = FILE,
    as_user: str = AS_ADMIN,
    effective: str = typer.Option(
        None, "--effective", help="Date moves and departures take effect (default today)."
    ),
    absent_leave: bool = typer.Option(
        False,
        "--absent-leave",
        help="People of the units the file names whom it leaves out have left.",
    ),
    dry_run: bool = DRY_RUN,
) -> None:
    """Import the person register (Mã cán bộ or ID, Họ và tên, Giới tính, Năm sinh, Chức vụ,
    Mã đơn vị, Ngày hiệu lực, Ngày nghỉ): new people, moves, departures, edits, all audited."""
    on = effective_date(effective)
    run_import(
        as_user, dry_run,
        lambda conn, actor: plan_persons(conn, file, actor, effective=on, absent_leave=absent_leave),
        apply_persons,
    )  # fmt: skip


@report_errors
def persons_export(file: Path = FILE) -> None:
    """Write the register (with ID, for a later import) in the import's columns."""
    run_export(file, export_persons)


@report_errors
def users_import(file: Path = FILE, as_user: str = AS_ADMIN, dry_run: bool = DRY_RUN) -> None:
    """Import officer accounts (Tên đăng nhập, Họ và tên, Thư điện tử, Mã đơn vị, Vai trò,
    Hoạt động). Never passwords: set each new account's with `users set-password`."""
    roles = roles_in(get_settings().config_dir)
    run_import(
        as_user, dry_run,
        lambda conn, actor: plan_accounts(conn, file, actor, roles), apply_accounts,
    )  # fmt: skip


@report_errors
def users_export(file: Path = FILE) -> None:
    """Write every account with its roles (never a password) in the import's columns."""
    run_export(file, export_accounts)
