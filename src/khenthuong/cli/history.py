"""The root's history commands: a nomination's events (`history SỐ`), importing past
awards, ratings, initiatives and discipline (`history import TỆP`) and recording one
(`record`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from khenthuong.cli.common import (
    ExitCode,
    FormatOption,
    OutputFormat,
    console,
    emit,
    fail,
    print_capped,
    progress,
    report_errors,
    runtime,
)
from khenthuong.localtime import LOCAL_TZ

if TYPE_CHECKING:
    from khenthuong.rules.catalog import Catalog


@report_errors
def history(
    target: str = typer.Argument(..., help="Số hồ sơ, hoặc chữ `import`."),
    file: Path = typer.Argument(None, help="Với `import`: tệp .csv hoặc .xlsx."),
    fmt: FormatOption = OutputFormat.table,
    skip_bad: bool = typer.Option(
        False, "--skip-bad", help="Khi nhập: nhập các dòng đúng, bỏ qua các dòng lỗi."
    ),
) -> None:
    """Diễn biến của một hồ sơ (`history SỐ`), hoặc nhập lịch sử đã có (`history import TỆP`).

    Nhập từ tệp .csv hoặc .xlsx các khen thưởng, xếp loại, sáng kiến đã có."""
    from khenthuong.audit.query import history as event_history  # noqa: PLC0415
    from khenthuong.services import nominations as svc  # noqa: PLC0415

    if target == "import":
        _history_import(file, skip_bad)
        return
    if not target.isdigit():
        raise typer.BadParameter(
            f"{target!r} không phải số hồ sơ hay 'import'", param_hint="target"
        )
    nomination_id = int(target)
    rt = runtime()
    with rt.engine.connect() as conn:
        svc.get_row(conn, nomination_id)
        events = event_history(conn, nomination_id)
    if fmt is not OutputFormat.table:
        emit(events, [("seq", "#"), ("occurred_at", "Thời điểm"), ("actor", "Người thực hiện"),
                      ("actor_role", "Vai trò"), ("trigger", "Bước"), ("from_state", "Từ"),
                      ("to_state", "Đến"), ("comment", "Ghi chú")], fmt)  # fmt: skip
        return
    table = Table(
        "#",
        "thời gian (giờ VN)",
        "người thực hiện",
        "vai trò",
        "bước",
        "từ",
        "đến",
        "ghi chú / lý do",
    )
    for ev in events:
        note = ev["comment"] or ""
        if "reason" in ev["payload"]:
            note = (note + " " if note else "") + f"Lý do: {ev['payload']['reason']}"
        table.add_row(
            str(ev["seq"]),
            f"{ev['occurred_at'].astimezone(LOCAL_TZ):%d/%m/%Y %H:%M}",
            ev["actor"],
            ev["actor_role"] or "",
            ev["trigger"],
            ev["from_state"] or "",
            ev["to_state"] or "",
            note,
        )
    console.print(table)


@report_errors
def record_history(
    record: str = typer.Argument(
        ...,
        help="award (khen thưởng), rating (xếp loại), initiative (sáng kiến) hoặc blocker (kỷ luật).",
    ),
    person: str = typer.Option("", "--person", help="Họ và tên (thêm mới nếu đơn vị chưa có)."),
    unit: str = typer.Option(..., "--unit", help="Mã đơn vị của cá nhân (hoặc của tập thể)."),
    year: str = typer.Option("", "--year"),
    code: str = typer.Option(
        ...,
        "--code",
        help="award: mã hình thức khen thưởng; rating: htxs|htt|ht|kht; initiative: phạm vi "
        "grassroots|ministry|national; blocker: discipline|investigation|complaint.",
    ),
    decision_number: str = typer.Option("", "--decision-number"),
    decision_date: str = typer.Option(
        "",
        "--date",
        "--from",
        help="Ngày quyết định, ngày công nhận, hoặc ngày bắt đầu kỷ luật (YYYY-MM-DD).",
    ),
    ends_on: str = typer.Option(
        "", "--to", help="Ngày kết thúc kỷ luật (YYYY-MM-DD); để trống nếu còn hiệu lực."
    ),
    title: str = typer.Option("", "--title", "--note", help="Tên sáng kiến hoặc ghi chú kỷ luật."),
    commendation_type: str = typer.Option(
        "", "--type", help="Loại khen thưởng: cong_trang, dot_xuat, chuyen_de…"
    ),
    level: str = typer.Option(
        "",
        "--level",
        help="Hình thức kỷ luật: khien_trach, canh_cao, … hoặc tên tiếng Việt như 'Cảnh cáo'.",
    ),
) -> None:
    """Ghi một mục lịch sử: khen thưởng, xếp loại năm, sáng kiến hoặc kỷ luật."""
    from khenthuong.services.history_import import record_one  # noqa: PLC0415
    from khenthuong.settings import get_settings  # noqa: PLC0415
    from khenthuong.storage.db import get_engine, write_tx  # noqa: PLC0415

    row = {
        "record": record, "person": person, "unit": unit, "year": year, "code": code,
        "decision_number": decision_number, "decision_date": decision_date, "ends_on": ends_on,
        "title": title, "commendation_type": commendation_type, "level": level,
    }  # fmt: skip
    with write_tx(get_engine()) as conn:
        record_one(conn, row, catalog=_award_catalog(get_settings().config_dir))
    console.print(f"Đã ghi {record} cho {person or unit}")


def _history_import(file: Path | None, skip_bad: bool) -> None:
    from khenthuong.services.history_import import import_history  # noqa: PLC0415
    from khenthuong.storage.db import write_tx  # noqa: PLC0415

    if file is None:
        raise typer.BadParameter(
            "cần tệp để nhập: khenthuong history import TỆP", param_hint="file"
        )
    if not file.is_file():
        raise typer.BadParameter(f"không có tệp {str(file)!r}", param_hint="file")
    rt = runtime()
    catalog = _award_catalog(rt.settings.config_dir)
    with progress("Nhập lịch sử", None) as advance, write_tx(rt.engine) as conn:
        # import_history writes nothing when a row is bad and skip_bad is off.
        report = import_history(conn, file, catalog=catalog, skip_bad=skip_bad, progress=advance)
    print_capped([f"{file}:{line}: {message}" for line, message in report.errors])
    if report.errors and not skip_bad:
        typer.echo(
            f"Không nhập dòng nào: {len(report.errors)} dòng lỗi trên {report.rows} dòng; "
            "sửa các dòng trên hoặc dùng --skip-bad",
            err=True,
        )
        fail(ExitCode.REFUSED)
    console.print(
        f"Đã nhập {report.imported}/{report.rows} dòng, tạo {report.persons_created} cá nhân mới"
        + (f", bỏ qua {len(report.errors)} dòng lỗi" if report.errors else "")
    )


def _award_catalog(config_dir: Path) -> Catalog | None:
    """The award catalog (config/awards.yaml), when one is installed: history records are
    checked against its codes and the rules of their decision date."""
    from khenthuong.rules.catalog import load_catalog  # noqa: PLC0415

    path = config_dir / "awards.yaml"
    if not path.exists():
        return None
    return load_catalog(path)
