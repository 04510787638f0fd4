"""Entry point of the `khenthuong` command."""

from __future__ import annotations

import os
from typing import Any

import typer

from khenthuong.cli import database, demo, history, nominations
from khenthuong.cli.common import readable_help
from khenthuong.cli.lazy import LazyGroup, Mount

# The sub-commands in modules of their own, imported when used (`khenthuong --help` and a
# read command start without the web app, document rendering or the spreadsheet readers).
# `help` is what the root's help lists: the sub-app's own help or the command's docstring
# (tests/cli/test_lazy_cli.py checks they agree).
MOUNTS = (
    Mount("serve", "serve_main", "serve",
          "Chạy máy chủ web và API; không có KHENTHUONG_BROKER_URL thì chạy cả nhắc hạn, thông báo."
          "\n\nNhắc hạn, thông báo chạy trong một tiến trình con riêng; khi nhiều máy chủ dùng chung"
          " một cơ sở\ndữ liệu, chỉ một máy chủ chạy chúng."),
    Mount("stats", "stats_cmd", "stats",
          "Thống kê khen thưởng đã quyết định theo hình thức, cấp, đối tượng, loại, đơn vị, năm."
          "\n\nTheo sổ khen thưởng: các quyết định và lịch sử đã nhập; không tính khen thưởng đã"
          " thu hồi."),
    Mount("workflows", "workflows_cmd", "app", "Quy trình khen thưởng."),
    Mount("audit", "audit_cmd", "app", "Nhật ký kiểm tra."),
    Mount("blocs", "blocs_cmd", "app", "Khối, cụm thi đua."),
    Mount("reminders", "reminders_cmd", "app", "Nhắc hạn và thông báo."),
    Mount("decisions", "decisions_cmd", "app", "Quyết định khen thưởng."),
    Mount("covenants", "covenants_cmd", "app",
          "Giao ước thi đua, sơ kết, tổng kết."),
    Mount("persons", "persons_cmd", "app", "Danh sách cá nhân."),
    Mount("delegations", "delegations_cmd", "app", "Ủy quyền, ký thay."),
    Mount("registrations", "registrations_cmd", "app", "Đăng ký thi đua."),
    Mount("ratings", "ratings_cmd", "app", "Xếp loại cuối năm."),
    Mount("year-review", "year_review_cmd", "app",
          "Bình xét thi đua cuối năm của đơn vị."),
    Mount("councils", "decisions_cmd", "councils_app", "Phiên họp Hội đồng Thi đua - Khen thưởng."),
    Mount("users", "users_cmd", "app", "Tài khoản cán bộ."),
    Mount("units", "org_files_cmd", "units_app", "Cây đơn vị."),
    Mount("calendar", "calendar_cmd", "app", "Lịch ngày làm việc."),
    Mount("inspections", "inspections_cmd", "app", "Kế hoạch kiểm tra chéo."),
    Mount("documents", "documents_cmd", "app",
          "Văn bản: tài liệu của hồ sơ (lệnh list) và văn bản do hệ thống tạo (lệnh render, sign, verify)."),
    Mount("proposals", "proposals_cmd", "app",
          "Đợt đề nghị khen thưởng: một tờ trình, một danh sách."),
    Mount("campaigns", "campaigns_cmd", "app",
          "Phong trào thi đua: thường xuyên, theo đợt, chuyên đề."),
)  # fmt: skip


class _Root(LazyGroup):
    mounts = MOUNTS


app = typer.Typer(
    help="khenthuong: quản lý quy trình thi đua, khen thưởng.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=_Root,
)
_Root.root = app
app.add_typer(database.db_app, name="db")
# The root's own commands, in the order its help lists them (before `db` and the mounts).
# Their modules are imported with this one: they import the services inside each command,
# so that `khenthuong --help` stays light (tests/cli/test_lazy_cli.py).
app.command("init")(database.init)
app.command("backup")(database.backup)
app.command("restore")(database.restore)
app.command("nominate")(nominations.nominate)
app.command("claim-basis")(nominations.claim_basis)
app.command("advance")(nominations.advance)
app.command("advance-batch")(nominations.advance_batch)
app.command("attach")(nominations.attach)
app.command("show")(nominations.show)
app.command("history")(history.history)
app.command("record")(history.record_history)
app.command("demo")(demo.demo)


def command() -> Any:
    """The `khenthuong` command as officers use it: readable help, the usage line and usage
    errors in Vietnamese (khenthuong.cli.usage_errors)."""
    return readable_help(typer.main.get_command(app))


def main() -> None:
    """Console-script entry point: the command tree with readable help, exit codes as in
    khenthuong.cli.common."""
    os.environ.setdefault("PYTHONIOENCODING", "utf-8")
    command()(prog_name="khenthuong")
