"""`khenthuong campaigns ...`: emulation campaigns (phong trào thi đua) and their nominations."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import typer
from rich.table import Table

from khenthuong.cli.common import (
    FormatOption,
    OutputFormat,
    actor_for,
    console,
    emit,
    emit_one,
    report_errors,
    runtime,
)
from khenthuong.commendation import COMMENDATION_TYPES
from khenthuong.dates import BadDate, parse_date
from khenthuong.doctypes import DOC_TYPES
from khenthuong.documents.text import money
from khenthuong.services import campaigns as svc
from khenthuong.services.access import readable_paths
from khenthuong.storage.db import write_tx

app = typer.Typer(
    help="Phong trào thi đua: thường xuyên, theo đợt, chuyên đề.",
    no_args_is_help=True,
)
KINDS = "; ".join(f"{c}: {n}" for c, n in svc.CAMPAIGN_KINDS.items())


def _date(text: str | None, option: str) -> object:
    if text is None:
        return None
    try:
        return parse_date(text)
    except BadDate as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


@app.command("add")
@report_errors
def add(
    title: str = typer.Argument(..., help="Chủ đề (tên) của phong trào"),
    unit: str = typer.Option(..., "--unit", help="Mã đơn vị phát động."),
    kind: str = typer.Option(..., "--kind", help=f"Loại phong trào: {KINDS}"),
    start: str = typer.Option(..., "--from", help="Ngày bắt đầu (dd/mm/yyyy hoặc yyyy-mm-dd)."),
    end: str = typer.Option(
        None, "--to", help="Ngày kết thúc (bắt buộc, trừ phong trào thuong_xuyen)."
    ),
    target: list[str] = typer.Option([], "--target", help="Một chỉ tiêu; lặp lại được."),
    plan_number: str = typer.Option(None, "--plan-number", help="Số kế hoạch, ví dụ 12/KH-BCY."),
    plan: Path = typer.Option(
        None, "--plan", exists=True, dir_okay=False, help="Tệp kế hoạch phát động (PDF…)."
    ),
    as_user: str = typer.Option(..., "--as", help="Cán bộ của đơn vị phát động."),
) -> None:
    """Phát động phong trào thi đua; in số phong trào."""
    starts_on = _date(start, "--from")
    ends_on = _date(end, "--to")
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        campaign_id = svc.create_campaign_in(
            conn, launching_unit=unit, actor=actor, title=title, kind=kind,
            starts_on=starts_on, ends_on=ends_on, targets=target,  # type: ignore[arg-type]
            plan_number=plan_number,
        )  # fmt: skip
        if plan is not None:
            svc.attach_in(
                conn, campaign_id, doc_type="ke_hoach_phat_dong", filename=plan.name,
                content=plan.read_bytes(), actor=actor, max_bytes=rt.settings.max_attachment_bytes,
            )  # fmt: skip
    typer.echo(campaign_id)


@app.command("attach")
@report_errors
def attach(
    campaign_id: int,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    doc_type: str = typer.Option(
        "ke_hoach_phat_dong", "--type", help=f"Loại tài liệu: {', '.join(svc.CAMPAIGN_DOC_TYPES)}."
    ),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Đính kèm tài liệu (mặc định: kế hoạch phát động) vào phong trào; in SHA-256."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        stored = svc.attach_in(
            conn, campaign_id, doc_type=doc_type, filename=file.name, content=file.read_bytes(),
            actor=actor, max_bytes=rt.settings.max_attachment_bytes,
        )  # fmt: skip
    console.print(
        f"Phong trào #{campaign_id}: đã đính kèm {DOC_TYPES[stored.doc_type]} "
        f"«{stored.filename}» ({money(stored.size)} byte, SHA-256 {stored.sha256})"
    )


@app.command("link")
@report_errors
def link(
    campaign_id: int,
    nominations: list[int] = typer.Argument(..., help="Số các hồ sơ."),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Gắn hồ sơ vào phong trào (tất cả hoặc không hồ sơ nào)."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        svc.link_in(conn, campaign_id, nominations, actor=actor)
    console.print(f"Phong trào #{campaign_id}: đã gắn {len(set(nominations))} hồ sơ")


@app.command("list")
@report_errors
def list_(
    year: int = typer.Option(None, "--year", help="Chỉ các phong trào diễn ra trong năm này."),
    as_user: str = typer.Option(None, "--as", help="Chỉ những gì cán bộ này được xem."),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Các phong trào thi đua, mới nhất trước."""
    rt = runtime()
    table = Table("#", "Phong trào", "Loại", "Đơn vị phát động", "Từ ngày", "Đến ngày", "Hồ sơ")
    with rt.engine.connect() as conn:
        if as_user:
            with actor_for(rt, as_user) as actor:
                paths = readable_paths(actor)
        else:
            paths = None
        found = svc.list_campaigns(conn, paths, year=year)
    if fmt is not OutputFormat.table:
        emit(
            [dict(r) | {"kind_name": svc.CAMPAIGN_KINDS[r["kind"]]} for r in found],
            [("id", "Số"), ("title", "Phong trào"), ("kind_name", "Loại"),
             ("unit_name", "Đơn vị phát động"), ("starts_on", "Từ ngày"), ("ends_on", "Đến ngày"),
             ("nominations", "Hồ sơ", "number")],
            fmt,
        )  # fmt: skip
        return
    for r in found:
        table.add_row(
            str(r["id"]), r["title"], svc.CAMPAIGN_KINDS[r["kind"]], r["unit_name"],
            f"{r['starts_on']:%d/%m/%Y}",
            f"{r['ends_on']:%d/%m/%Y}" if r["ends_on"] else "—", str(r["nominations"]),
        )  # fmt: skip
    console.print(table)


@app.command("show")
@report_errors
def show(
    campaign_id: int,
    as_user: str = typer.Option(None, "--as"),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Một phong trào: chủ đề, loại, thời gian, chỉ tiêu, tài liệu và hồ sơ đã gắn."""
    rt = runtime()
    with rt.engine.connect() as conn:
        if as_user:
            with actor_for(rt, as_user) as actor:
                view = svc.view_campaign(conn, campaign_id, actor, rt.registry)
        else:
            view = svc.view_campaign(conn, campaign_id, registry=rt.registry)
    if fmt is OutputFormat.json:
        emit_one(asdict(view), {}, fmt)
        return
    if fmt is OutputFormat.csv:
        emit([asdict(n) for n in view.nominations], [("nomination_id", "Hồ sơ"),
             ("nominee_name", "Người / tập thể được đề nghị"), ("unit_code", "Đơn vị"),
             ("workflow_title", "Quy trình"), ("state_title", "Trạng thái")], fmt)  # fmt: skip
        return
    end = f"{view.ends_on:%d/%m/%Y}" if view.ends_on else "không xác định"
    console.print(f"[bold]Phong trào #{view.id}: {view.title}[/bold]")
    console.print(f"{view.kind_name} — {view.unit_name} phát động")
    console.print(f"Thời gian: {view.starts_on:%d/%m/%Y} – {end}")
    if view.plan_number:
        console.print(f"Kế hoạch số {view.plan_number}")
    for i, target in enumerate(view.targets, start=1):
        console.print(f"  Chỉ tiêu {i}: {target}")
    for d in view.documents:
        console.print(f"  Tài liệu #{d.id}: {DOC_TYPES[d.doc_type]} «{d.filename}» {d.sha256}")
    table = Table(
        "Hồ sơ", "Người / tập thể được đề nghị", "Đơn vị", "Loại hình", "Quy trình", "Trạng thái"
    )
    for n in view.nominations:
        table.add_row(
            f"#{n.nomination_id}", n.nominee_name, n.unit_code,
            COMMENDATION_TYPES.get(n.commendation_type, n.commendation_type), n.workflow_title,
            n.state_title,
        )  # fmt: skip
    console.print(table)
