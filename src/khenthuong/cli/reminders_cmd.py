"""`khenthuong reminders ...`: what the reminder jobs have done and would do now."""

from __future__ import annotations

import getpass
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
from khenthuong.services import (
    job_runs,
    mail_health,
    mail_status,
    outbox,
    reminder_claims,
    reminders,
)
from khenthuong.services.scheduler_lock import current_holder

if TYPE_CHECKING:
    pass

app = typer.Typer(help="Nhắc hạn và thông báo.", no_args_is_help=True)


def _when(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(LOCAL_TZ).strftime("%H:%M:%S %d/%m/%Y")


RUNNERS = {"embedded": "trong tiến trình serve", "celery": "Celery"}
"""Who ran a job (job_runs.runner), as `reminders status` says it."""


def _run_words(job: str, runner: str, counts: dict[str, int]) -> str:
    """What a run did (its counts, `job_runs.record_run`) in Vietnamese: who ran it, then
    "đã gửi 6 bản tổng hợp, 0 lỗi" and the like."""
    what = "bản tổng hợp" if job == job_runs.SCAN_JOB else "thông báo"
    said = []
    if "queued" in counts:
        said.append(f"đã đưa {counts['queued']} {what} vào hàng đợi")
    if "sent" in counts:
        said.append(f"đã gửi {counts['sent']} {what}")
    if "failed" in counts:
        said.append(f"{counts['failed']} lỗi")
    if "no_recipient" in counts:
        said.append(f"{counts['no_recipient']} không có người nhận")
    who = RUNNERS.get(runner, runner)
    return f"{who}: {', '.join(said)}" if said else who


@app.command("status")
@report_errors
def status(fmt: FormatOption = OutputFormat.table) -> None:
    """Nhắc hạn, thông báo đang chờ, đã gửi, bị lỗi; việc đến hạn bây giờ; lần chạy trước và sau."""
    rt = runtime()
    now = datetime.now(UTC)
    with rt.engine.connect() as conn:
        ledger = reminders.status_counts(conn)
        notices = outbox.counts(conn)
        due = reminder_claims.preview(conn, rt.registry, rt.settings, now=now)
        runs = job_runs.last_runs(conn)
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
    table = Table("", "chờ gửi", "đã gửi", "lỗi")
    table.add_row(
        "Nhắc hạn",
        str(sum(ledger.get(s, 0) for s in ("claimed", "sending", reminders.RETRY))),
        str(ledger.get("sent", 0)),
        str(ledger.get("failed", 0)),
    )
    table.add_row(
        "Thông báo",
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
            f"Đang gửi: {in_flight[0]} nhắc hạn, {in_flight[1]} thông báo; gửi lại sau "
            f"{rt.settings.stale_claim_seconds} giây nếu bị mất (KHENTHUONG_STALE_CLAIM_SECONDS)"
        )
    if ledger.get(reminders.RETRY):
        console.print(f"Nhắc hạn chờ gửi lại sau lỗi: {ledger[reminders.RETRY]}")
    if failed_reminders or failed_notices:
        lost = Table(
            "mã",
            "loại",
            "gửi tới / khóa",
            "số lần thử",
            "lỗi cuối",
            title="Thư đã bỏ cuộc; gửi lại bằng: khenthuong reminders retry --all | MÃ…",
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
        console.print(f"Thông báo không có người nhận, không gửi: {notices[outbox.SKIPPED]}")
    console.print(
        f"Đến hạn gửi ngay bây giờ: {due.reminders} nhắc hạn "
        f"({len(due.new)} mới, {len(due.resends)} gửi lại), {len(due.notices)} thông báo"
    )
    if rt.settings.broker_url:
        mode = f"Celery, hàng đợi {rt.settings.broker_url}"
    else:
        holder = current_holder(rt.engine)
        mode = "chạy trong tiến trình serve, không có hàng đợi; " + (
            f"tiến trình đang chạy: {holder}"
            if holder
            else "chưa tiến trình serve nào chạy các việc này"
        )
    mail = get_mail_settings()
    target = f"SMTP {mail.host}:{mail.port}" if mail.host else f"maildir {mail.maildir}"
    console.print(f"Chế độ: {mode}")
    labels = {
        job_runs.SCAN_JOB: "Quét nhắc hạn",
        job_runs.RELAY_JOB: "Chuyển thông báo",
    }
    for job, every in mail_status.intervals(rt.settings).items():
        run = runs.get(job)
        if run is None:
            console.print(
                f"{labels[job]}, mỗi {every} giây: chưa chạy lần nào; "
                "lần tới: khi serve hoặc beat chạy"
            )
            continue
        last = run["last_run_at"]
        last = last if last.tzinfo else last.replace(tzinfo=UTC)
        upcoming = last + timedelta(seconds=every)
        late = (
            " – trễ: serve hoặc beat có đang chạy không?"
            if upcoming < now - timedelta(seconds=every)
            else ""
        )
        console.print(
            f"{labels[job]}, mỗi {every} giây: lần cuối {_when(last)} "
            f"({_run_words(job, str(run['runner']), run['last_result'])}); "
            f"lần tới {_when(upcoming)}{late}"
        )
    console.print(f"Thư gửi tới: {target}")
    since = mail_health.failing_since(rt.engine)
    if since is not None:
        console.print(f"[bold red]Thư không gửi được từ {_when(since)}[/bold red]")


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


def _os_user() -> str:
    """Who runs the command, for the log line of a retry."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "?"


@app.command("retry")
@report_errors
def retry(
    ids: list[str] = typer.Argument(
        None, help="r<số> (nhắc hạn) hoặc n<số> (thông báo), như trong reminders status."
    ),
    all_failed: bool = typer.Option(False, "--all", help="Mọi thư đã bỏ cuộc."),
) -> None:
    """Gửi lại các nhắc hạn, thông báo đã bỏ cuộc: lần quét và chuyển thư sau sẽ gửi chúng."""
    from khenthuong.storage.db import write_tx  # noqa: PLC0415

    if bool(ids) == all_failed:
        raise typer.BadParameter(
            "cần --all hoặc ít nhất một mã (r<số>, n<số>), không cả hai", param_hint="ID | --all"
        )
    rt = runtime()
    reminder_ids, notice_ids = (None, None) if all_failed else _split_ids(ids)
    with write_tx(rt.engine) as conn:
        back_r, back_n = mail_status.retry(
            conn, reminder_ids, notice_ids, actor=f"command line ({_os_user()})"
        )
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
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Chỉ liệt kê những gì sẽ được gửi bây giờ."
    ),
) -> None:
    """Chạy một lần quét nhắc hạn và chuyển thư đi, ngay trong tiến trình này."""
    rt = runtime()
    if dry_run:
        with rt.engine.connect() as conn:
            due = reminder_claims.preview(conn, rt.registry, rt.settings)
        table = Table("mục", "nội dung", "hạn", "loại", "gửi tới", "lần gửi")
        for item in due.new:
            table.add_row(
                f"#{item.nomination_id}" if item.subject == "nomination" else item.item_ref,
                escape(f"{item.nominee_name} – {item.state_title}"),
                f"{item.due_on:%d/%m/%Y}",
                item.kind,
                item.recipient_email,
                "mới",
            )
        for row in due.resends:
            table.add_row(
                str(row["item_ref"]),
                escape(f"{row['status']}: {row['last_error'] or ''}".rstrip(": ")),
                str(row["due_on"]),
                str(row["kind"]),
                str(row["recipient"]),
                f"gửi lại lần {row['attempts'] + 1}",
            )
        console.print(table)
        if due.notices:
            notices = Table("thông báo", "loại", "khóa", "lần gửi")
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
            f"lại) trong {due.digests} bản tổng hợp; {len(due.notices)} thông báo sẽ được gửi"
        )
        return
    from khenthuong.embedded import tick  # noqa: PLC0415

    result = tick(rt)
    failed = result.digests_failed + result.notices_failed
    console.print(
        f"Đã gửi {result.digests_sent} bản tổng hợp nhắc hạn, {result.notices_sent} thông báo"
        + (
            f"; {result.notices_no_recipient} thông báo không có người nhận"
            if result.notices_no_recipient
            else ""
        )
        + (f"; {failed} lỗi, sẽ thử lại" if failed else "")
    )
