"""`khenthuong reminders ...`: what the reminder jobs have done and would do now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from khenthuong.cli.common import (
    FormatOption,
    OutputFormat,
    console,
    emit_one,
    report_errors,
    runtime,
)
from khenthuong.localtime import LOCAL_TZ
from khenthuong.notify.mail_settings import get_mail_settings
from khenthuong.services import jobs, mail_health, outbox, reminders
from khenthuong.services.scheduler_lock import current_holder

if TYPE_CHECKING:
    from khenthuong.runtime import Runtime

app = typer.Typer(help="Nhắc hạn và thông báo (reminders and notices).", no_args_is_help=True)


def _when(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TZ).strftime("%H:%M:%S %d/%m/%Y")


def _intervals(rt: Runtime) -> dict[str, int]:
    """Seconds between runs of each job: beat's schedule, or one in-process tick for both."""
    scan = rt.settings.scan_interval_seconds
    relay = rt.settings.relay_interval_seconds if rt.settings.broker_url else scan
    return {jobs.SCAN_JOB: scan, jobs.RELAY_JOB: relay}


@app.command("status")
@report_errors
def status(fmt: FormatOption = OutputFormat.table) -> None:
    """Pending, sent and failed reminders and notices, what is due now, last and next runs."""
    rt = runtime()
    now = datetime.now(UTC)
    with rt.engine.connect() as conn:
        ledger = reminders.status_counts(conn)
        notices = outbox.counts(conn)
        due = jobs.preview(conn, rt.registry, rt.settings, now=now)
        runs = jobs.last_runs(conn)
        failed_reminders = reminders.given_up(conn)
        failed_notices = outbox.given_up(conn)
    if fmt is not OutputFormat.table:
        emit_one(
            {"reminders": ledger, "notices": notices, "last_runs": runs,
             "failed_reminders": failed_reminders, "failed_notices": failed_notices,
             "due": due},
            {"reminders": "Nhắc hạn", "notices": "Thông báo"}, fmt,
        )  # fmt: skip
        return
    table = Table("", "chờ gửi (pending)", "đã gửi (sent)", "lỗi (failed)")
    table.add_row(
        "Nhắc hạn (reminders)",
        str(sum(ledger.get(s, 0) for s in ("claimed", "sending", reminders.RETRY))),
        str(ledger.get("sent", 0)),
        str(ledger.get("failed", 0)),
    )
    table.add_row(
        "Thông báo (notices)",
        str(sum(notices.get(s, 0) for s in ("pending", "queued", "sending"))),
        str(notices.get("sent", 0)),
        str(notices.get(outbox.FAILED, 0)),
    )
    console.print(table)
    in_flight = (
        ledger.get("claimed", 0) + ledger.get("sending", 0),
        notices.get("queued", 0) + notices.get("sending", 0),
    )
    if any(in_flight):
        console.print(
            f"Đang gửi, gửi lại sau {rt.settings.stale_claim_seconds} giây nếu bị mất (in flight, "
            f"sent again after KHENTHUONG_STALE_CLAIM_SECONDS if lost): {in_flight[0]} nhắc hạn, "
            f"{in_flight[1]} thông báo"
        )
    if ledger.get(reminders.RETRY):
        console.print(
            f"Nhắc hạn chờ gửi lại sau lỗi (waiting for a retry): {ledger[reminders.RETRY]}"
        )
    if failed_reminders or failed_notices:
        lost = Table(
            "mã (id)",
            "loại",
            "gửi tới / khóa",
            "lần (attempts)",
            "lỗi cuối (last error)",
            title="Thư đã bỏ, gửi lại bằng: khenthuong reminders retry --all | ID… (given up)",
        )
        for row in failed_reminders:
            lost.add_row(
                f"r{row['id']}",
                f"nhắc hạn {row['kind']}",
                str(row["recipient"]),
                str(row["attempts"]),
                escape(str(row["last_error"] or "")),
            )
        for row in failed_notices:
            lost.add_row(
                f"n{row['id']}",
                f"thông báo {row['kind']}",
                str(row["dedup_key"]),
                str(row["attempts"]),
                escape(str(row["last_error"] or "")),
            )
        console.print(lost)
    if notices.get(outbox.SKIPPED):
        console.print(
            f"Thông báo không có người nhận, không gửi (no recipient, not sent): "
            f"{notices[outbox.SKIPPED]}"
        )
    console.print(
        f"Đến hạn gửi ngay bây giờ (due now): {due.reminders} nhắc hạn "
        f"({len(due.new)} mới, {len(due.resends)} gửi lại; new, re-sends), "
        f"{len(due.notices)} thông báo (notices)"
    )
    if rt.settings.broker_url:
        mode = f"Celery, broker {rt.settings.broker_url}"
    else:
        holder = current_holder(rt.engine)
        mode = "embedded (in-process, no broker); " + (
            f"tiến trình đang chạy (running in) {holder}"
            if holder
            else "chưa tiến trình nào chạy (no serve process runs the jobs now)"
        )
    mail = get_mail_settings()
    target = f"SMTP {mail.host}:{mail.port}" if mail.host else f"maildir {mail.maildir}"
    console.print(f"Chế độ (mode): {mode}")
    labels = {
        jobs.SCAN_JOB: "Quét nhắc hạn (reminder scan)",
        jobs.RELAY_JOB: "Chuyển thông báo (outbox relay)",
    }
    for job, every in _intervals(rt).items():
        run = runs.get(job)
        if run is None:
            console.print(
                f"{labels[job]}, mỗi {every} giây: chưa chạy lần nào (never run); "
                "lần tới (next run): khi serve hoặc beat chạy (once serve or beat runs)"
            )
            continue
        last = run["last_run_at"]
        last = last if last.tzinfo else last.replace(tzinfo=UTC)
        upcoming = last + timedelta(seconds=every)
        late = (
            " – trễ, serve/beat có đang chạy? (late: is serve or beat running?)"
            if upcoming < now - timedelta(seconds=every)
            else ""
        )
        console.print(
            f"{labels[job]}, mỗi {every} giây: lần cuối (last run) {_when(last)} "
            f"({run['runner']}: {escape(str(run['last_result']))}); "
            f"lần tới (next run) {_when(upcoming)}{late}"
        )
    console.print(f"Thư gửi tới (mail goes to): {target}")
    since = mail_health.failing_since(rt.engine)
    if since is not None:
        console.print(
            f"[bold red]Thư không gửi được từ (mail failing since) {_when(since)}[/bold red]"
        )


def _split_ids(ids: list[str]) -> tuple[list[int], list[int]]:
    """`r12` (a reminder ledger row) and `n5` (a notice) as shown by `reminders status`."""
    reminder_ids: list[int] = []
    notice_ids: list[int] = []
    for raw in ids:
        kind, number = raw[:1].lower(), raw[1:]
        if kind not in ("r", "n") or not number.isdigit():
            raise typer.BadParameter(
                f"mã {raw!r} không hợp lệ: dùng r<số> cho nhắc hạn, n<số> cho thông báo, như "
                "trong `khenthuong reminders status`",
                param_hint="ID",
            )
        (reminder_ids if kind == "r" else notice_ids).append(int(number))
    return reminder_ids, notice_ids


@app.command("retry")
@report_errors
def retry(
    ids: list[str] = typer.Argument(
        None, help="r<số> (nhắc hạn) hoặc n<số> (thông báo), như trong reminders status."
    ),
    all_failed: bool = typer.Option(False, "--all", help="Mọi thư đã bỏ (every failed row)."),
) -> None:
    """Put given-up reminders and notices back: the next scan and relay send them."""
    from khenthuong.storage.db import write_tx  # noqa: PLC0415

    if bool(ids) == all_failed:
        raise typer.BadParameter(
            "cần --all hoặc ít nhất một mã (r<số>, n<số>), không cả hai", param_hint="ID | --all"
        )
    rt = runtime()
    reminder_ids, notice_ids = (None, None) if all_failed else _split_ids(ids)
    with write_tx(rt.engine) as conn:
        back_r = reminders.retry_given_up(conn, reminder_ids) if reminder_ids != [] else []
        back_n = outbox.retry_given_up(conn, notice_ids) if notice_ids != [] else []
    missing = [f"r{i}" for i in sorted(set(reminder_ids or []) - set(back_r))] + [
        f"n{i}" for i in sorted(set(notice_ids or []) - set(back_n))
    ]
    console.print(
        f"Đã đưa lại {len(back_r)} nhắc hạn và {len(back_n)} thông báo vào hàng gửi; lần quét "
        "tới sẽ gửi."
    )
    if missing:
        console.print(f"Không có thư đã bỏ với mã: {', '.join(missing)}")
        raise typer.Exit(1)


@app.command("run")
@report_errors
def run(
    dry_run: bool = typer.Option(False, "--dry-run", help="Only list what would be sent now."),
) -> None:
    """Run the reminder scan and the outbox relay once, in this process."""
    rt = runtime()
    if dry_run:
        with rt.engine.connect() as conn:
            due = jobs.preview(conn, rt.registry, rt.settings)
        table = Table("mục (item)", "nội dung", "hạn", "loại", "gửi tới", "lần (send)")
        for item in due.new:
            table.add_row(
                f"#{item.nomination_id}" if item.subject == "nomination" else item.item_ref,
                escape(f"{item.nominee_name} – {item.state_title}"),
                f"{item.due_on:%d/%m/%Y}",
                item.kind,
                item.recipient_email,
                "mới (new)",
            )
        for row in due.resends:
            table.add_row(
                str(row["item_ref"]),
                escape(f"{row['status']}: {row['last_error'] or ''}".rstrip(": ")),
                str(row["due_on"]),
                str(row["kind"]),
                str(row["recipient"]),
                f"gửi lại (re-send {row['attempts'] + 1})",
            )
        console.print(table)
        if due.notices:
            notices = Table("thông báo (notice)", "loại", "khóa (key)", "lần (attempt)")
            for row in due.notices:
                notices.add_row(
                    f"#{row['id']}",
                    str(row["kind"]),
                    str(row["dedup_key"]),
                    str(row["attempts"] + 1),
                )
            console.print(notices)
        console.print(
            f"{due.reminders} nhắc hạn sẽ được gửi ({len(due.new)} mới, {len(due.resends)} gửi "
            f"lại) trong {due.digests} bản tổng hợp; {len(due.notices)} thông báo sẽ được gửi "
            "(would be sent now)"
        )
        return
    from khenthuong.embedded import tick  # noqa: PLC0415

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
