"""`khenthuong audit ...`: verify the hash chains and the signed checkpoints, query the trail."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import func, select

from khenthuong.audit.query import COLUMNS, AuditFilter, query_events
from khenthuong.audit.seal_verify import SealReport, verify_seal
from khenthuong.audit.verify import VerifyReport, verify_all
from khenthuong.cli.common import (
    FormatOption,
    OutputFormat,
    as_local,
    console,
    emit,
    emit_one,
    report_errors,
    runtime,
    stdout_is_tty,
)
from khenthuong.errors import KhenthuongError
from khenthuong.services import checkpoints
from khenthuong.settings import Settings
from khenthuong.storage.models import EVENTS
from khenthuong.tabular import write_csv

app = typer.Typer(help="Nhật ký kiểm tra.", no_args_is_help=True)


def _when(value: str | None, option: str) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} không phải ngày hoặc thời điểm ISO (YYYY-MM-DD, YYYY-MM-DDTHH:MM)",
            param_hint=option,
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command("verify")
@report_errors
def verify(
    checkpoint_file: Path = typer.Option(
        None,
        "--checkpoint",
        help="Tệp điểm kiểm tra (mỗi dòng một JSON); dòng cuối được kiểm tra. Mặc định: điểm kiểm "
        "tra mới nhất đã lưu.",
    ),
    public_key_file: Path = typer.Option(
        None,
        "--public-key",
        help="Khóa công khai Ed25519 (PEM). Mặc định: nửa công khai của tệp khóa ký.",
    ),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Kiểm tra toàn vẹn mọi chuỗi băm và đối chiếu nhật ký với điểm kiểm tra đã ký.

    Mã thoát 1 khi có sự kiện, luồng bị sửa, xóa, đảo thứ tự, gỡ bỏ hoặc quay lui, kèm tên của
    chúng. Với `--format json`: kết quả là một đối tượng; với `csv`: mỗi phát hiện một dòng."""
    rt = runtime()
    public_key = (
        checkpoints.load_public_key(public_key_file)
        if public_key_file
        else _own_public_key(rt.settings)
    )
    given = checkpoints.read_checkpoint_file(checkpoint_file) if checkpoint_file else None
    if given is not None and public_key is None:
        raise typer.BadParameter(
            "cần --public-key để kiểm tra điểm niêm phong (không có khóa ký tại "
            f"{checkpoints.key_path(rt.settings)})",
            param_hint="--public-key",
        )
    with rt.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(EVENTS)).scalar_one()
        if stdout_is_tty():
            with Progress(
                TextColumn("Kiểm tra chuỗi băm"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                task = progress.add_task("verify", total=total)
                report = verify_all(conn, progress=lambda n: progress.advance(task, n))
        else:
            report = verify_all(conn)
        sealed = verify_seal(conn, public_key, given) if public_key is not None else None
    if fmt is not OutputFormat.table:
        _emit_verify(report, sealed, fmt)
        return
    if sealed is not None and sealed.rejected is not None and sealed.checkpoint is not None:
        typer.echo(f"HỎNG: {sealed.rejected}", err=True)
        raise typer.Exit(1)
    if report.ok and (sealed is None or sealed.ok or sealed.checkpoint is None):
        console.print(
            f"OK: {report.events} sự kiện trong {report.streams} chuỗi, không có thay đổi"
        )
        _print_seal(sealed)
        return
    if not report.ok:
        first = report.findings[0]
        typer.echo(f"HỎNG: {len(report.findings)} chuỗi bị hỏng. Đầu tiên: {first}", err=True)
        for finding in report.findings[1:20]:
            typer.echo(f"  {finding}", err=True)
    if sealed is not None and sealed.findings:
        typer.echo(
            f"HỎNG: {len(sealed.findings)} vi phạm so với điểm niêm phong "
            f"{sealed.checkpoint.size if sealed.checkpoint else 0} lá:",
            err=True,
        )
        for seal_finding in sealed.findings[:50]:
            typer.echo(f"  {seal_finding}", err=True)
    _print_seal(sealed)
    raise typer.Exit(1)


def _emit_verify(report: VerifyReport, sealed: SealReport | None, fmt: OutputFormat) -> None:
    """The outcome for a program (JSON: totals, each finding, the seal) or for Excel (CSV: a
    row per finding of the chains and of the seal); exit 1 when anything is broken."""
    findings = [
        {"source": "chain", "stream": f.stream, "event_id": f.event_id, "seq": f.seq,
         "kind": f.kind, "message": f.message, "message_en": f.message_en}
        for f in report.findings
    ] + [
        {"source": "seal", "stream": g.stream, "event_id": g.event_id, "seq": g.seq,
         "kind": g.kind, "message": g.message, "message_en": ""}
        for g in (sealed.findings if sealed is not None else [])
    ]  # fmt: skip
    broken = not report.ok or (sealed is not None and sealed.checkpoint is not None
                               and not sealed.ok)  # fmt: skip
    if fmt is OutputFormat.json:
        seal = None
        if sealed is not None:
            cp = sealed.checkpoint
            seal = {
                "ok": sealed.ok, "rejected": sealed.rejected, "checkpoint_size": cp.size if cp else None,
                "checkpoint_time": cp.time if cp else None, "unsealed": sealed.unsealed,
                "checkpoints": sealed.checkpoints,
            }  # fmt: skip
        emit_one(
            {"ok": not broken, "events": report.events, "streams": report.streams,
             "findings": findings, "seal": seal},
            {}, fmt,
        )  # fmt: skip
    else:
        emit(findings, [("source", "Nguồn"), ("stream", "Chuỗi"), ("event_id", "Sự kiện"),
                        ("seq", "Thứ tự"), ("kind", "Loại"), ("message", "Mô tả")], fmt)  # fmt: skip
    if broken:
        raise typer.Exit(1)


def _own_public_key(settings: Settings) -> Ed25519PublicKey | None:
    key = checkpoints.load_private_key(settings)
    return key.public_key() if key is not None else None


def _print_seal(sealed: SealReport | None) -> None:
    if sealed is None:
        console.print(
            "Chưa kiểm tra niêm phong: không có khóa ký (chạy khenthuong init) và không có "
            "--public-key"
        )
        return
    if sealed.checkpoint is None:
        console.print(f"Chưa kiểm tra niêm phong: {sealed.rejected}")
        return
    cp = sealed.checkpoint
    if sealed.ok:
        console.print(
            f"Niêm phong: {cp.size} sự kiện khớp điểm niêm phong ký lúc {cp.time} "
            f"({cp.streams} chuỗi; {sealed.checkpoints} điểm niêm phong lưu trữ nhất quán)"
        )
    console.print(f"Chưa niêm phong: {sealed.unsealed} sự kiện sau điểm niêm phong cuối")


@app.command("checkpoint")
@report_errors
def checkpoint(
    force: bool = typer.Option(False, "--force", help="Ký cả khi không có sự kiện mới."),
) -> None:
    """Niêm phong các sự kiện ghi từ điểm kiểm tra trước và ký điểm kiểm tra mới."""
    rt = runtime()
    made = checkpoints.write_checkpoint(rt.engine, rt.settings, force=force)
    if made is None:
        raise KhenthuongError(
            f"Không có khóa ký nhật ký tại {checkpoints.key_path(rt.settings)}: "
            "chạy khenthuong init để tạo"
        )
    console.print(
        f"Điểm niêm phong: {made.size} sự kiện, gốc {made.root}, {made.streams} chuỗi, "
        f"lúc {made.time} (ghi vào {checkpoints.checkpoint_path(rt.settings)})"
    )


@app.command("public-key")
@report_errors
def public_key(
    output: Path = typer.Option(None, "--output", "-o", help="Ghi khóa (PEM) ra tệp này."),
) -> None:
    """In (hoặc ghi ra tệp) khóa công khai để kiểm toán viên kiểm tra các điểm kiểm tra."""
    settings = runtime().settings
    key = checkpoints.load_private_key(settings)
    if key is None:
        raise KhenthuongError(
            f"Không có khóa ký nhật ký tại {checkpoints.key_path(settings)}: "
            "chạy khenthuong init để tạo"
        )
    pem = checkpoints.public_key_pem(key)
    if output is None:
        typer.echo(pem.decode("ascii"), nl=False)
        return
    output.write_bytes(pem)
    console.print(f"Đã ghi khóa công khai vào {output}")


@app.command("query")
@report_errors
def query(
    actor: str = typer.Option(None, "--actor"),
    unit: str = typer.Option(None, "--unit", help="Mã đơn vị; gồm cả các đơn vị trực thuộc."),
    workflow: str = typer.Option(None, "--workflow"),
    trigger: str = typer.Option(None, "--trigger"),
    state: str = typer.Option(None, "--state"),
    nomination: int = typer.Option(None, "--nomination"),
    since: str = typer.Option(
        None, "--since", help="Từ thời điểm (ISO; UTC nếu không ghi múi giờ)."
    ),
    until: str = typer.Option(None, "--until"),
    limit: int = typer.Option(1000, "--limit", min=1, max=1_000_000),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Tìm sự kiện nhật ký theo người, đơn vị, quy trình, bước, trạng thái, thời gian."""
    rt = runtime()
    criteria = AuditFilter(
        actor=actor,
        unit=unit,
        workflow=workflow,
        trigger=trigger,
        state=state,
        nomination_id=nomination,
        since=_when(since, "--since"),
        until=_when(until, "--until"),
        limit=limit,
    )
    with rt.engine.connect() as conn:
        rows = list(query_events(conn, criteria))
    if fmt is OutputFormat.json:
        typer.echo(json.dumps(rows, default=str, ensure_ascii=False, indent=2))
        return
    if fmt is OutputFormat.csv:
        fields = list(COLUMNS)
        write_csv(
            sys.stdout,
            fields,
            (
                [
                    json.dumps(r["payload"], ensure_ascii=False) if k == "payload" else r[k]
                    for k in fields
                ]
                for r in rows
            ),
        )
        return
    table = Table(
        "thời điểm (giờ VN)", "luồng", "thứ tự", "người thực hiện", "vai trò", "đơn vị", "bước",
        "từ", "đến", "ghi chú",
    )  # fmt: skip
    for row in rows:
        table.add_row(
            f"{as_local(row['occurred_at']):%d/%m/%Y %H:%M:%S}",
            row["stream"],
            str(row["seq"]),
            row["actor"],
            row["actor_role"] or "",
            row["actor_unit"] or "",
            row["trigger"],
            row["from_state"] or "",
            row["to_state"] or "",
            row["comment"] or "",
        )
    console.print(table)
    console.print(f"{len(rows)} sự kiện")
