"""`khenthuong users ...`: officers, their passwords and API tokens; the officer files
(import, export, password links) are in khenthuong.cli.org_files_cmd."""

from __future__ import annotations

import typer

from khenthuong.cli import org_files_cmd
from khenthuong.cli.common import console, report_errors
from khenthuong.cli.prompts import ask
from khenthuong.roles import roles_in
from khenthuong.services.org import add_user
from khenthuong.settings import get_settings
from khenthuong.storage.db import get_engine, write_tx

app = typer.Typer(help="Tài khoản cán bộ.", no_args_is_help=True)
app.command("import")(org_files_cmd.users_import)
app.command("export")(org_files_cmd.users_export)
app.command("password-link")(org_files_cmd.users_password_link)


@app.command("add")
@report_errors
def users_add(
    username: str,
    unit: str = typer.Option(..., "--unit", help="Mã đơn vị của cán bộ."),
    role: list[str] = typer.Option(
        ..., "--role", help="VAI-TRÒ hoặc VAI-TRÒ@MÃ-ĐƠN-VỊ; lặp lại được."
    ),
    email: str = typer.Option(..., "--email"),
    name: str = typer.Option(None, "--name", help="Họ và tên (mặc định: tên đăng nhập)."),
) -> None:
    """Tạo cán bộ với vai trò trên các đơn vị.

    Phạm vi mặc định của vai trò: đơn vị của cán bộ và các đơn vị trực thuộc."""
    if "@" not in email:
        raise typer.BadParameter(f"{email!r} không phải địa chỉ thư điện tử", param_hint="--email")
    engine = get_engine()
    roles = roles_in(get_settings().config_dir)
    grants = []
    for item in role:
        code, _, scope = item.partition("@")
        grants.append((code, scope or unit))
    with write_tx(engine) as conn:
        user_id = add_user(conn, username, name or username, email, unit, grants, roles)
    console.print(
        f"User {username} (#{user_id}) created with " + ", ".join(f"{r}@{s}" for r, s in grants)
    )


@app.command("set-password")
@report_errors
def users_set_password(
    username: str,
    password_stdin: bool = typer.Option(
        False, "--password-stdin", help="Đọc mật khẩu từ đầu vào chuẩn."
    ),
) -> None:
    """Đặt mật khẩu (argon2id); hỏi mật khẩu trừ khi có --password-stdin."""
    import sys  # noqa: PLC0415

    from khenthuong.services.accounts import set_password  # noqa: PLC0415

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = ask("Mật khẩu mới", secret=True, twice=True)
    from khenthuong.services.golive import demo_password_of, is_production  # noqa: PLC0415

    settings = get_settings()
    if is_production(settings) and password == demo_password_of(settings.config_dir)[0]:
        raise typer.BadParameter(
            "mật khẩu của dữ liệu mẫu đã được công bố; không dùng trong môi trường production"
        )
    with write_tx(get_engine()) as conn:
        set_password(conn, username, password)
    console.print(f"Đã đặt mật khẩu cho {username}")


@app.command("token")
@report_errors
def users_token(
    username: str,
    name: str = typer.Option("api", "--name", help="Mã truy cập dùng để làm gì."),
) -> None:
    """Tạo mã truy cập API cho chương trình khác; chỉ in một lần, chỉ lưu bản băm."""
    from khenthuong.services.accounts import create_token  # noqa: PLC0415

    with write_tx(get_engine()) as conn:
        token_id, token = create_token(conn, username, name)
    console.print(f"Mã #{token_id} cho {username} (Authorization: Bearer ...):", highlight=False)
    print(token)


@app.command("revoke-token")
@report_errors
def users_revoke_token(token_id: int) -> None:
    """Thu hồi mã truy cập API theo số."""
    from khenthuong.services.accounts import revoke_token  # noqa: PLC0415

    with write_tx(get_engine()) as conn:
        revoke_token(conn, token_id)
    console.print(f"Đã thu hồi mã #{token_id}")
