"""`khenthuong inspections ...`: cross-inspection plans between bloc members."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path

import typer
from rich.table import Table

from khenthuong.cli.common import (
    FormatOption,
    OutputFormat,
    actor_for,
    console,
    emit,
    progress,
    report_errors,
    runtime,
)
from khenthuong.dates import BadDate, parse_date
from khenthuong.services import inspections
from khenthuong.storage.db import write_tx

app = typer.Typer(help="Kế hoạch kiểm tra chéo.", no_args_is_help=True)


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return parse_date(value)
    except BadDate as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


def _table(rows: list[inspections.VisitRow], title: str) -> Table:
    table = Table(
        "#",
        "đơn vị kiểm tra",
        "đơn vị được kiểm tra",
        "từ ngày",
        "đến ngày",
        "hạn báo cáo",
        "điểm",
        title=title,
    )
    for row in rows:
        table.add_row(
            str(row.id),
            f"{row.inspector_name} ({row.inspector})",
            f"{row.inspected_name} ({row.inspected})",
            f"{row.starts_on:%d/%m/%Y}",
            f"{row.ends_on:%d/%m/%Y}",
            f"{row.report_due_on:%d/%m/%Y}",
            "" if row.score is None else f"{row.score:g}",
        )
    return table


@app.command("plan")
@report_errors
def plan(
    bloc: str = typer.Option(..., "--bloc"),
    year: int = typer.Option(..., "--year", min=1945, max=2100),
    seed: int = typer.Option(0, "--seed", help="Cùng số gieo thì cùng kế hoạch."),
    start: str = typer.Option(
        None,
        "--from",
        help="Ngày bắt đầu thời gian kiểm tra, YYYY-MM-DD (mặc định: inspection_period của khối "
        "trong config/blocs.yaml).",
    ),
    end: str = typer.Option(
        None,
        "--to",
        help="Ngày kết thúc thời gian kiểm tra, YYYY-MM-DD (mặc định: inspection_period của khối "
        "trong config/blocs.yaml).",
    ),
    as_user: str = typer.Option(..., "--as", help="Khối trưởng hoặc quản trị viên."),
) -> None:
    """Lập (hoặc lập lại) kế hoạch kiểm tra chéo của năm và in thành bảng."""
    rt = runtime()
    with (
        progress("Lập kế hoạch", None),
        actor_for(rt, as_user) as actor,
        write_tx(rt.engine) as conn,
    ):
        inspections.plan_inspections(
            conn,
            bloc,
            year,
            actor=actor,
            seed=seed,
            period_start=_day(start, "--from"),
            period_end=_day(end, "--to"),
        )
        rows = inspections.visits(conn, bloc, year)
    console.print(_table(rows, f"Kế hoạch kiểm tra chéo {bloc} năm {year} (seed {seed})"))


@app.command("show")
@report_errors
def show(
    bloc: str = typer.Option(..., "--bloc"),
    year: int = typer.Option(..., "--year"),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """In kế hoạch kiểm tra chéo hiện hành."""
    rt = runtime()
    with rt.engine.connect() as conn:
        rows = inspections.visits(conn, bloc, year)
    if fmt is not OutputFormat.table:
        emit([asdict(r) for r in rows],
             [("id", "#"), ("inspector_name", "Đơn vị kiểm tra"),
              ("inspected_name", "Đơn vị được kiểm tra"), ("starts_on", "Từ ngày"),
              ("ends_on", "Đến ngày"), ("report_due_on", "Hạn báo cáo"), ("score", "Điểm")],
             fmt)  # fmt: skip
        return
    console.print(_table(rows, f"Kế hoạch kiểm tra chéo {bloc} năm {year}"))


@app.command("export")
@report_errors
def export(
    bloc: str = typer.Option(..., "--bloc"),
    year: int = typer.Option(..., "--year"),
    fmt: str = typer.Option("xlsx", "--format", help="Định dạng: xlsx hoặc csv."),
    output: Path = typer.Option(
        None, "--output", "-o", help="Mặc định: kiem-tra-cheo-KHỐI-NĂM.ĐỊNH-DẠNG"
    ),
) -> None:
    """Ghi kế hoạch kiểm tra chéo hiện hành ra tệp Excel hoặc CSV."""
    if fmt not in ("xlsx", "csv"):
        raise typer.BadParameter("chỉ xlsx hoặc csv", param_hint="--format")
    rt = runtime()
    with rt.engine.connect() as conn:
        rows = inspections.visits(conn, bloc, year)
    path = output or Path(f"kiem-tra-cheo-{bloc}-{year}.{fmt}")
    if path.suffix.lower() != f".{fmt}":
        path = path.with_suffix(f".{fmt}")
    inspections.export(rows, path)
    console.print(f"Đã ghi {len(rows)} lượt kiểm tra vào {path}")


@app.command("publish")
@report_errors
def publish(
    bloc: str = typer.Option(..., "--bloc"),
    year: int = typer.Option(..., "--year"),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Gửi thư điện tử cho từng thành viên với ngày kiểm tra (tiến trình nền gửi đi)."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        count = inspections.publish(conn, bloc, year, actor=actor)
    console.print(f"Đã xếp {count} thông báo kế hoạch vào hàng gửi")


@app.command("report")
@report_errors
def report(
    visit: int,
    score: float = typer.Option(..., "--score"),
    findings: str = typer.Option(..., "--findings"),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Ghi biên bản kiểm tra (nhận xét, điểm) của một lượt kiểm tra."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        inspections.record_report(conn, visit, findings=findings, score=score, actor=actor)
    console.print(f"Đã ghi báo cáo lượt kiểm tra #{visit}")
