"""`khenthuong stats`: the statistics of decided titles and awards for the level above."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.table import Table

from khenthuong.cli.common import actor_for, console, report_errors, runtime
from khenthuong.documents.text import money
from khenthuong.rules.statistics import COLUMNS
from khenthuong.services import statistics as svc
from khenthuong.services.statistics_export import (
    form_rows,
    period,
    unit_rows,
    workbook_bytes,
    year_rows,
)

FORMATS = ("table", "xlsx", "json")


@report_errors
def stats(
    year: int = typer.Option(..., "--year", min=1945, max=2100, help="Năm (năm đầu của khoảng)."),
    to: int = typer.Option(None, "--to", min=1945, max=2100, help="Năm cuối của khoảng."),
    unit: str = typer.Option(
        None, "--unit", help="Mã đơn vị (cả các đơn vị trực thuộc); bỏ trống: cả nước."
    ),
    fmt: str = typer.Option("table", "--format", help="Định dạng: table (bảng), xlsx hoặc json."),
    output: Path = typer.Option(None, "-o", "--output", help="Tệp ghi ra, cho xlsx (và json)."),
    as_user: str = typer.Option(None, "--as", help="Chỉ những gì cán bộ này được xem."),
) -> None:
    """Thống kê khen thưởng đã quyết định theo hình thức, cấp, đối tượng, loại, đơn vị, năm.

    Theo sổ khen thưởng: các quyết định và lịch sử đã nhập; không tính khen thưởng đã thu hồi."""
    if fmt not in FORMATS:
        raise typer.BadParameter(f"{fmt!r}: dùng table, xlsx hoặc json", param_hint="--format")
    if fmt == "xlsx" and output is None:
        raise typer.BadParameter("--format xlsx cần -o TỆP.xlsx", param_hint="--output")
    rt = runtime()
    with rt.engine.connect() as conn:
        if as_user:
            with actor_for(rt, as_user) as actor:
                report = svc.statistics_report(
                    conn, rt.settings.config_dir, year_from=year, year_to=to, unit_code=unit,
                    actor=actor,
                )  # fmt: skip
        else:
            report = svc.statistics_report(
                conn, rt.settings.config_dir, year_from=year, year_to=to, unit_code=unit
            )
    if fmt == "xlsx":
        output.write_bytes(workbook_bytes(report))
        console.print(f"Đã ghi {output} ({money(report.total['total'])} lượt khen thưởng)")
        return
    if fmt == "json":
        text = json.dumps(svc.report_json(report), ensure_ascii=False, indent=2)
        if output is not None:
            output.write_text(text + "\n", encoding="utf-8")
        else:
            typer.echo(text)
        return
    console.print(f"[bold]{report.title}[/bold] — {report.unit_name}, {period(report)}")
    table = Table("STT", "Danh hiệu, hình thức", "Cấp", *COLUMNS.values())
    for row in form_rows(report):
        table.add_row(*["" if v is None else str(v) for v in row])
    console.print(table)
    units = Table("STT", "Đơn vị", "Tổng số", "Tập thể", "Cá nhân", "Nữ", *report.levels.values())
    for row in unit_rows(report):
        units.add_row(*[str(v) for v in row])
    console.print(units)
    if report.year_from != report.year_to:
        years = Table("Năm", *report.levels.values(), "Tổng số")
        for row in year_rows(report):
            years.add_row(*[str(v) for v in row])
        console.print(years)
    console.print(f"[dim]{report.basis}[/dim]")
