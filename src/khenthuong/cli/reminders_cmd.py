"""`khenthuong reminders ...`: what the reminder jobs have done and would do now."""

from __future__ import annotations

import typer
from rich.table import Table

from khenthuong.cli.common import console, report_errors, runtime
from khenthuong.notify.mail_settings import get_mail_settings
from khenthuong.services import outbox, reminders
from khenthuong.services.embedded import tick

app = typer.Typer(help="Nhắc hạn và thông báo (reminders and notices).", no_args_is_help=True)


@app.command("status")
@report_errors
def status() -> None:
    """Pending, sent and failed reminders and notices, and when the jobs run."""
    rt = runtime()
    with rt.engine.connect() as conn:
        ledger = reminders.status_counts(conn)
        notices = outbox.counts(conn)
        due = reminders.scan_due(conn, rt.registry, before_days=rt.settings.reminder_days_before)
    table = Table("", "claimed/pending", "sent", "failed")
    table.add_row(
        "Nhắc hạn (reminders)",
        str(ledger.get("claimed", 0)),
        str(ledger.get("sent", 0)),
        str(ledger.get("failed", 0)),
    )
    table.add_row(
        "Thông báo (notices)",
        str(notices.get("pending", 0) + notices.get("queued", 0)),
        str(notices.get("sent", 0)),
        str(notices.get("failed", 0)),
    )
    console.print(table)
    if notices.get(outbox.SKIPPED):
        console.print(
            f"Thông báo không có người nhận, không gửi (no recipient, not sent): "
            f"{notices[outbox.SKIPPED]}"
        )
    console.print(f"Nhắc hạn đến hạn gửi ngay bây giờ (due now): {len(due)}")
    mode = (
        f"Celery, broker {rt.settings.broker_url}"
        if rt.settings.broker_url
        else "embedded (in-process, no broker)"
    )
    mail = get_mail_settings()
    target = f"SMTP {mail.host}:{mail.port}" if mail.host else f"maildir {mail.maildir}"
    console.print(f"Chế độ (mode): {mode}; chạy mỗi {rt.settings.scan_interval_seconds} giây")
    console.print(f"Thư gửi tới (mail goes to): {target}")


@app.command("run")
@report_errors
def run(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would be sent."),
) -> None:
    """Run the reminder scan and the outbox relay once, in this process."""
    rt = runtime()
    if dry_run:
        with rt.engine.connect() as conn:
            items = reminders.scan_due(
                conn, rt.registry, before_days=rt.settings.reminder_days_before
            )
        table = Table("hồ sơ", "người được đề nghị", "trạng thái", "hạn", "loại", "gửi tới")
        for item in items:
            table.add_row(
                f"#{item.nomination_id}",
                item.nominee_name,
                item.state_title,
                f"{item.due_on:%d/%m/%Y}",
                item.kind,
                item.recipient_email,
            )
        console.print(table)
        console.print(
            f"{len(items)} nhắc hạn sẽ được gửi (would be sent; ledger decides duplicates)"
        )
        return
    result = tick(rt)
    failed = result.digests_failed + result.notices_failed
    console.print(
        f"Đã gửi {result.digests_sent} bản tổng hợp nhắc hạn, {result.notices_sent} thông báo"
        + (
            f"; {result.notices_no_recipient} thông báo không có người nhận (no recipient)"
            if result.notices_no_recipient
            else ""
        )
        + (f"; {failed} lỗi, sẽ thử lại" if failed else "")
    )
