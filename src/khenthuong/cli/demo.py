"""The root's `demo` command: the walkthroughs with the demo officers."""

from __future__ import annotations

import typer

from khenthuong.cli.common import console, progress, report_errors, runtime


@report_errors
def demo(
    again: bool = typer.Option(
        False, "--again", help="Chạy lại các hồ sơ mẫu (hồ sơ và quyết định mới) dù đã chạy trước."
    ),
) -> None:
    """Chạy thử quy trình với cán bộ mẫu; chạy lại không tạo trùng, không gửi thư lần nữa.

    Hồ sơ đến quyết định, Hội đồng, giao ước, kế hoạch kiểm tra chéo 2019, năm thi đua của Cục Cơ
    yếu Quân đội."""
    from khenthuong.cli.unit_year_demo import run_unit_year  # noqa: PLC0415
    from khenthuong.cli.walkthrough import (  # noqa: PLC0415
        demo_ran,
        leave_work_in_progress,
        run_council_walkthrough,
        run_covenant_walkthrough,
        run_inspection_walkthrough,
        run_walkthrough,
    )
    from khenthuong.embedded import tick  # noqa: PLC0415

    rt = runtime()
    if demo_ran(rt) and not again:
        console.print(
            "Dữ liệu mẫu đã có từ lần chạy trước: không tạo thêm, không gửi lại thư. "
            "Xem: khenthuong decisions list, khenthuong blocs list; chạy lại các hồ sơ mẫu: "
            "khenthuong demo --again"
        )
        return
    stages = (run_walkthrough, run_council_walkthrough, run_covenant_walkthrough,
              run_inspection_walkthrough, run_unit_year, leave_work_in_progress)  # fmt: skip
    with progress("Chạy thử", len(stages), on=console) as advance:
        for stage in stages:
            stage(rt, console)
            advance(1)
    if not rt.settings.broker_url:
        sent = tick(rt)
        console.print(
            f"Đã gửi {sent.notices_sent} thông báo, {sent.digests_sent} bản nhắc hạn "
            "(không có SMTP: thư nằm trong var/maildir/new)"
        )
        if sent.notices_no_recipient:
            console.print(
                f"[yellow]{sent.notices_no_recipient} thông báo không gửi được: không có địa chỉ "
                "người nhận (xem: khenthuong reminders status)[/]"
            )
