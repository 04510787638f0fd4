"""The root's commands that set up and keep the database: `init` (schema, workflows, first
administrator or demo data), `db upgrade`, `backup` and `restore`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from khenthuong.cli.common import console, progress, report_errors, runtime
from khenthuong.cli.prompts import ask
from khenthuong.errors import InvalidDefinition

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from khenthuong.runtime import Runtime

db_app = typer.Typer(help="Lược đồ cơ sở dữ liệu.", no_args_is_help=True)


@db_app.command("upgrade")
@report_errors
def db_upgrade() -> None:
    """Cập nhật lược đồ cơ sở dữ liệu (chạy các bản chuyển đổi Alembic)."""
    from khenthuong.storage.db import get_engine  # noqa: PLC0415
    from khenthuong.storage.migrate import upgrade  # noqa: PLC0415

    with progress("Cập nhật lược đồ", None):
        upgrade(get_engine())
    console.print("Lược đồ cơ sở dữ liệu đã cập nhật.")


@report_errors
def init(
    demo: bool = typer.Option(False, "--demo", help="Thêm cả các tổ chức mẫu."),
    org: str = typer.Option(None, "--org", help="Mã đơn vị cao nhất của tổ chức (ví dụ BCY)."),
    org_name: str = typer.Option(
        None, "--org-name", help="Tên đơn vị đó (ví dụ Ban Cơ yếu Chính phủ)."
    ),
    org_level: str = typer.Option(
        "ministry",
        "--org-level",
        help="Cấp: unit (đơn vị), ministry (bộ) hoặc national (trung ương).",
    ),
    admin: str = typer.Option(None, "--admin", help="Tên đăng nhập của quản trị viên đầu tiên."),
    admin_name: str = typer.Option(None, "--admin-name", help="Họ và tên của quản trị viên."),
    admin_email: str = typer.Option(
        None, "--admin-email", help="Địa chỉ thư điện tử của quản trị viên."
    ),
    admin_password_stdin: bool = typer.Option(
        False, "--admin-password-stdin", help="Đọc mật khẩu quản trị viên từ đầu vào chuẩn."
    ),
) -> None:
    """Tạo hoặc nâng cấp cơ sở dữ liệu, đăng ký các quy trình; --demo thêm dữ liệu mẫu.

    Không có --demo thì hệ thống trống: quản trị viên đầu tiên và đơn vị cao nhất của tổ chức được
    tạo từ các tùy chọn --org, --admin, được hỏi trên màn hình dòng lệnh, hoặc để lại cho lần chạy
    sau."""
    from sqlalchemy import select  # noqa: PLC0415

    from khenthuong.rules.issuers import issuers_in  # noqa: PLC0415
    from khenthuong.services import checkpoints  # noqa: PLC0415
    from khenthuong.services.blocs import apply_blocs, load_blocs  # noqa: PLC0415
    from khenthuong.services.org import apply_seed, load_seed  # noqa: PLC0415
    from khenthuong.settings import get_settings  # noqa: PLC0415
    from khenthuong.storage.db import get_engine, write_tx  # noqa: PLC0415
    from khenthuong.storage.migrate import upgrade  # noqa: PLC0415
    from khenthuong.storage.models import UNITS  # noqa: PLC0415

    settings = get_settings()
    engine = get_engine()
    upgrade(engine)
    rt = runtime()
    issuers_in(settings.config_dir)  # a malformed config/issuers.yaml fails here, not at signing
    console.print(f"Cơ sở dữ liệu: {engine.url.render_as_string()}")
    console.print(f"Quy trình: {len(rt.registry.all())} phiên bản đã đăng ký")
    key_file, created = checkpoints.create_key(settings)
    console.print(f"Khóa ký nhật ký: {key_file}" + (" (mới tạo)" if created else ""))
    if demo:
        seed = load_seed(settings.config_dir / "demo.yaml", rt.roles)
        with write_tx(engine) as conn:
            counts = apply_seed(conn, seed, rt.roles)
        with write_tx(engine) as conn:
            known = {u.code for u in seed.units} | set(conn.execute(select(UNITS.c.code)).scalars())
            blocs = apply_blocs(conn, load_blocs(settings.config_dir / "blocs.yaml", known))
        console.print(
            f"Dữ liệu mẫu: {counts['units']} đơn vị, {counts['users']} người dùng, "
            f"{counts['persons']} cá nhân, {blocs} khối thi đua mới"
        )
    else:
        _first_admin(rt, org, org_name, org_level, admin, admin_name, admin_email,
                     admin_password_stdin)  # fmt: skip
    _warn_unknown_organisations(settings.config_dir / "awards.yaml", engine)


def _first_admin(
    rt: Runtime,
    org: str | None,
    org_name: str | None,
    org_level: str,
    admin: str | None,
    admin_name: str | None,
    admin_email: str | None,
    password_stdin: bool,
) -> None:
    """The first administrator of an empty system, from options, a terminal or not at all."""
    import sys  # noqa: PLC0415

    from khenthuong.services import golive  # noqa: PLC0415
    from khenthuong.storage.db import write_tx  # noqa: PLC0415

    with rt.engine.connect() as conn:
        if golive.has_admin(conn):
            return
    asking = sys.stdin.isatty() and not password_stdin
    if admin is None and not asking:
        console.print(
            'Chưa có quản trị viên. Tạo bằng: khenthuong init --org MÃ --org-name "TÊN" '
            "--admin TÊN_ĐĂNG_NHẬP --admin-email EMAIL --admin-password-stdin < tệp-mật-khẩu"
        )
        return
    org = org or ask("Mã đơn vị gốc (ví dụ BCY)")
    org_name = org_name or ask("Tên đơn vị gốc")
    admin = admin or ask("Tên đăng nhập của quản trị viên")
    admin_name = admin_name or (ask("Họ và tên") if asking else admin)
    admin_email = admin_email or ask("Thư điện tử")
    if "@" not in admin_email:
        raise typer.BadParameter(
            f"{admin_email!r} không phải địa chỉ thư", param_hint="--admin-email"
        )
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = ask("Mật khẩu", secret=True, twice=True)
    demo_password, _ = golive.demo_password_of(rt.settings.config_dir)
    with write_tx(rt.engine) as conn:
        user_id = golive.create_first_admin(
            conn, rt.roles, org_code=org, org_name=org_name, org_level=org_level,
            username=admin, full_name=admin_name, email=admin_email, password=password,
            demo_password=demo_password,
        )  # fmt: skip
    console.print(f"Quản trị viên {admin} (#{user_id}) của {org} đã được tạo; đăng nhập tại /login")


@report_errors
def backup(file: Path = typer.Argument(..., help="Tệp sao lưu cần ghi (.tar.gz).")) -> None:
    """Sao lưu hồ sơ: cơ sở dữ liệu (kể cả tài liệu) và các tệp điểm kiểm tra nhật ký."""
    from khenthuong.services.backup import backup as write_backup  # noqa: PLC0415
    from khenthuong.settings import get_settings  # noqa: PLC0415
    from khenthuong.storage.db import get_engine  # noqa: PLC0415

    report = write_backup(get_engine(), Path(get_settings().state_dir), file)
    rows = sum(report.tables.values())
    console.print(
        f"Đã sao lưu {report.dialect} (phiên bản lược đồ {report.revision}): "
        f"{len(report.tables)} bảng, {rows:_} dòng, ".replace("_", ".")
        + f"{len(report.state_files)} tệp trạng thái -> {report.path}"
    )


@report_errors
def restore(
    file: Path = typer.Argument(..., help="Tệp sao lưu do `khenthuong backup` ghi."),
) -> None:
    """Khôi phục bản sao lưu vào cơ sở dữ liệu trống.

    Cơ sở dữ liệu đã cấu hình phải trống; khôi phục xong thì chạy `khenthuong audit verify`."""
    from khenthuong.services.backup import restore as read_backup  # noqa: PLC0415
    from khenthuong.settings import get_settings  # noqa: PLC0415
    from khenthuong.storage.db import get_engine  # noqa: PLC0415

    if not file.is_file():
        raise typer.BadParameter(f"không có tệp {file}", param_hint="file")
    report = read_backup(file, get_engine(), Path(get_settings().state_dir))
    rows = sum(report.tables.values())
    console.print(
        f"Đã khôi phục {len(report.tables)} bảng, {rows:_} dòng".replace("_", ".")
        + f" từ {file}; kiểm tra bằng 'khenthuong audit verify'"
    )


def _warn_unknown_organisations(path: Path, engine: Engine) -> None:
    """Say which per-organisation overrides of the award catalog name no unit in the database.

    A warning, not an error: a deployment keeps the shipped overrides of organisations it
    does not hold (they simply never apply); a misspelt code is what this catches.
    """
    from sqlalchemy import select  # noqa: PLC0415

    from khenthuong.rules.catalog import load_catalog  # noqa: PLC0415
    from khenthuong.storage.models import UNITS  # noqa: PLC0415

    if not path.exists():
        return
    with engine.connect() as conn:
        units = set(conn.execute(select(UNITS.c.code)).scalars())
    if not units:
        return
    try:
        load_catalog(path, units)
    except InvalidDefinition as exc:
        for problem in exc.problems:
            typer.echo(
                f"Cảnh báo: {problem} — ghi đè này không áp dụng cho đơn vị nào",
                err=True,
            )
