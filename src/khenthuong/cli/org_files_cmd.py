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
from khenthuong.services.account_files import (
    apply_accounts,
    export_accounts,
    new_accounts,
    plan_accounts,
)
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.org_files import ImportPlan, OrgFileRefused, admin_paths
from khenthuong.services.password_links import LINK_HOURS, IssuedLink, issue_links
from khenthuong.services.person_files import apply_persons, export_persons, plan_persons
from khenthuong.services.unit_files import apply_units, export_units, plan_units
from khenthuong.settings import get_settings
from khenthuong.storage.db import get_engine, write_tx
from khenthuong.tabular import write_table

units_app = typer.Typer(help="Cây đơn vị.", no_args_is_help=True)

FILE = typer.Argument(..., help="Tệp .xlsx hoặc .csv.")
AS_ADMIN = typer.Option(..., "--as", help="Tên đăng nhập của quản trị viên.")
DRY_RUN = typer.Option(False, "--dry-run", help="Xem các thay đổi; không ghi gì.")

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
    if new_accounts(plan):
        console.print(
            "(đặt mật khẩu: khenthuong users set-password TÊN_ĐĂNG_NHẬP; liên kết dùng một "
            "lần: khenthuong users password-link TÊN_ĐĂNG_NHẬP, hoặc nhập với --links TỆP)"
        )


def run_import(
    as_user: str,
    dry_run: bool,
    planner: Planner,
    applier: Applier,
    after: Callable[[Connection, ImportPlan, Actor], None] | None = None,
) -> None:
    """Plan (and unless `dry_run`, apply) an import; every bad row printed, exit 1. `after`
    runs in the same transaction once the plan is applied."""
    try:
        with write_tx(get_engine()) as conn:
            actor = load_actor(conn, as_user)
            plan = planner(conn, actor)
            if not dry_run:
                applier(conn, plan, actor)
                if after is not None:
                    after(conn, plan, actor)
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
    """Nhập cây đơn vị từ tệp; kiểm tra mọi dòng trước.

    Các cột: Mã đơn vị, Tên đơn vị, Mã đơn vị cấp trên, Cấp, Loại đơn vị. Đơn vị mới được thêm; tên,
    cấp và loại thay đổi được áp dụng; tất cả có nhật ký."""
    run_import(as_user, dry_run, lambda conn, actor: plan_units(conn, file, actor), apply_units)


@units_app.command("export")
@report_errors
def units_export(file: Path = FILE) -> None:
    """Ghi cây đơn vị (đơn vị cấp trên trước) theo các cột của tệp nhập."""
    run_export(file, export_units)


@report_errors
def persons_import(
    file: Path = FILE,
    as_user: str = AS_ADMIN,
    effective: str = typer.Option(
        None, "--effective", help="Ngày điều chuyển, nghỉ việc có hiệu lực (mặc định hôm nay)."
    ),
    absent_leave: bool = typer.Option(
        False,
        "--absent-leave",
        help="Người của các đơn vị có trong tệp mà tệp không liệt kê được coi là đã nghỉ.",
    ),
    dry_run: bool = DRY_RUN,
) -> None:
    """Nhập danh sách cá nhân từ tệp; kiểm tra mọi dòng trước, ghi tất cả hoặc không ghi gì.

    Các cột: Mã cán bộ hoặc ID, Họ và tên, Giới tính, Năm sinh, Chức vụ, Mã đơn vị, Ngày hiệu lực,
    Ngày nghỉ. Người mới, điều chuyển, nghỉ việc, sửa thông tin đều có nhật ký."""
    on = effective_date(effective)
    run_import(
        as_user, dry_run,
        lambda conn, actor: plan_persons(conn, file, actor, effective=on, absent_leave=absent_leave),
        apply_persons,
    )  # fmt: skip


@report_errors
def persons_export(file: Path = FILE) -> None:
    """Ghi danh sách cá nhân (có số, để nhập lại) theo các cột của tệp nhập."""
    run_export(file, export_persons)


def _base_url() -> str:
    base = get_settings().base_url
    if not base:
        raise typer.BadParameter(
            "cần địa chỉ trang web trong liên kết: đặt KHENTHUONG_BASE_URL "
            "(ví dụ https://khenthuong.bo.gov.vn)"
        )
    return base


def _write_links(path: Path, links: list[IssuedLink]) -> None:
    write_table(
        path, "Liên kết đặt mật khẩu", ["Tên đăng nhập", "Thư điện tử", "Liên kết", "Hết hạn"],
        [[x.username, x.email, x.url, x.expires_at.astimezone(LOCAL_TZ).replace(tzinfo=None)]
         for x in links],
    )  # fmt: skip


@report_errors
def users_import(
    file: Path = FILE,
    as_user: str = AS_ADMIN,
    dry_run: bool = DRY_RUN,
    links: Path = typer.Option(
        None,
        "--links",
        help="Ghi đường dẫn đặt mật khẩu dùng một lần của mỗi tài khoản mới ra tệp .csv/.xlsx này.",
    ),
) -> None:
    """Nhập tài khoản cán bộ từ tệp; kiểm tra mọi dòng trước.

    Các cột: Tên đăng nhập, Họ và tên, Thư điện tử, Mã đơn vị, Vai trò, Hoạt động. Không bao giờ có
    mật khẩu: tài khoản mới đặt mật khẩu bằng `users set-password` hoặc qua đường dẫn dùng một lần
    (--links, hoặc `users password-link`)."""
    roles = roles_in(get_settings().config_dir)
    base = _base_url() if links is not None else ""
    issued: list[IssuedLink] = []

    def after(conn: Connection, plan: ImportPlan, actor: Actor) -> None:
        if links is not None:
            issued.extend(issue_links(conn, new_accounts(plan), base_url=base,
                                      actor=actor.username))  # fmt: skip

    run_import(
        as_user, dry_run,
        lambda conn, actor: plan_accounts(conn, file, actor, roles), apply_accounts, after,
    )  # fmt: skip
    if links is not None and not dry_run:
        _write_links(links, issued)
        console.print(f"Đã ghi {len(issued)} liên kết đặt mật khẩu (dùng một lần, hết hạn sau "
                      f"{LINK_HOURS} giờ) vào {links}; gửi riêng cho từng người.")  # fmt: skip


@report_errors
def users_password_link(
    usernames: list[str] = typer.Argument(..., help="Các tên đăng nhập."),
    as_user: str = AS_ADMIN,
    hours: int = typer.Option(LINK_HOURS, "--hours", min=1, max=24 * 30),
) -> None:
    """In đường dẫn dùng một lần để từng người tự đặt mật khẩu.

    Các đường dẫn cũ của người đó hết hiệu lực."""
    base = _base_url()
    with write_tx(get_engine()) as conn:
        actor = load_actor(conn, as_user)
        admin_paths(actor)
        issued = issue_links(conn, usernames, base_url=base, actor=actor.username, hours=hours)
    for link in issued:
        print(f"{link.username}\t{link.url}")


@report_errors
def users_export(file: Path = FILE) -> None:
    """Ghi mọi tài khoản với vai trò (không bao giờ có mật khẩu) theo các cột của tệp nhập."""
    run_export(file, export_accounts)
