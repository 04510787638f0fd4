"""`khenthuong covenants ...`: a bloc's covenant, reviews and year-end vote."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

import typer
from rich.table import Table

from khenthuong.blocs.targets import KINDS, Target
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
from khenthuong.services import bloc_reviews, covenants
from khenthuong.storage.db import write_tx

app = typer.Typer(help="Giao ước thi đua, sơ kết, tổng kết.", no_args_is_help=True)


def _pairs(items: list[str], option: str) -> dict[str, float]:
    result: dict[str, float] = {}
    for item in items:
        key, sep, value = item.partition("=")
        try:
            result[key.strip()] = float(value)
        except ValueError:
            raise typer.BadParameter(f"{item!r} không có dạng MÃ=SỐ", param_hint=option) from None
        if not sep:
            raise typer.BadParameter(f"{item!r} không có dạng MÃ=SỐ", param_hint=option)
    return result


TARGET_HELP = (
    "MÃ:LOẠI:NGƯỠNG:MÔ-TẢ; LOẠI là một trong " + ", ".join(KINDS) + "; NGƯỠNG ví dụ 80% "
    "(tỷ lệ) hoặc 3 (số lần), '-' với zero_cases và done"
)


def parse_target(item: str, points: dict[str, float], weights: dict[str, float]) -> Target:
    """One --target option as a Target."""
    parts = item.split(":", 3)
    if len(parts) != 4 or parts[1] not in KINDS:
        raise typer.BadParameter(f"{item!r} không đúng dạng {TARGET_HELP}", param_hint="--target")
    code, kind, threshold, description = parts
    unit = "percent" if threshold.endswith("%") else "count"
    try:
        value = 0.0 if threshold.strip() in ("", "-") else float(threshold.rstrip("%"))
    except ValueError:
        raise typer.BadParameter(
            f"{item!r}: NGƯỠNG phải là một số", param_hint="--target"
        ) from None
    return Target(code, description, kind, value, unit, points.get(code), weights.get(code, 1.0))


@app.command("launch")
@report_errors
def launch(
    bloc: str = typer.Option(..., "--bloc"),
    year: int = typer.Option(..., "--year"),
    theme: str = typer.Option(..., "--theme"),
    target: list[str] = typer.Option(..., "--target", help=TARGET_HELP),
    points: list[str] = typer.Option([], "--points", help="MÃ=ĐIỂM (mặc định: theo khối)."),
    weight: list[str] = typer.Option([], "--weight", help="MÃ=HỆ-SỐ (mặc định 1)."),
    on: str = typer.Option(None, "--date", help="Ngày phát động (mặc định hôm nay)."),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Phát động giao ước thi đua của năm với các chỉ tiêu; chỉ khối trưởng của năm."""
    per_points, per_weight = _pairs(points, "--points"), _pairs(weight, "--weight")
    if on is None and year != date.today().year:
        raise typer.BadParameter(
            f"ngày phát động phải trong năm {year} (YYYY-MM-DD)", param_hint="--date"
        )
    targets = [parse_target(item, per_points, per_weight) for item in target]
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        covenants.launch(
            conn,
            bloc,
            year,
            theme=theme,
            targets=targets,
            launched_on=date.fromisoformat(on) if on else date.today(),
            actor=actor,
        )
    console.print(f"Đã phát động giao ước {bloc} năm {year}: {len(targets)} chỉ tiêu")


@app.command("sign")
@report_errors
def sign(
    bloc: str = typer.Option(..., "--bloc"),
    year: int = typer.Option(..., "--year"),
    unit: list[str] = typer.Option(..., "--unit", help="Mã đơn vị thành viên; lặp lại được."),
    on: str = typer.Option(None, "--date", help="Ngày ký (mặc định hôm nay)."),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Ghi chữ ký giao ước của các thành viên (cán bộ hoặc thủ trưởng của chính thành viên đó)."""
    rt = runtime()
    signed_on = date.fromisoformat(on) if on else date.today()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        for code in unit:
            covenants.sign(conn, bloc, year, code, signed_on=signed_on, actor=actor)
    console.print(f"Đã ghi {len(unit)} chữ ký giao ước")


@app.command("report")
@report_errors
def report(
    bloc: str = typer.Option(..., "--bloc"),
    year: int = typer.Option(..., "--year"),
    round_: str = typer.Option(
        ..., "--round", help="Đợt: so_ket (sơ kết) hoặc tong_ket (tổng kết)."
    ),
    unit: str = typer.Option(..., "--unit"),
    value: list[str] = typer.Option(..., "--value", help="CHỈ-TIÊU=SỐ; lặp lại được."),
    as_user: str = typer.Option(..., "--as"),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Báo cáo kết quả của thành viên theo chỉ tiêu; in điểm và cách tính.

    Với `--format json`: điểm kèm từng dòng chỉ tiêu và từng khoản trừ, giữ nguyên mã."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        score = bloc_reviews.report(
            conn, bloc, year, round_, unit, _pairs(value, "--value"), actor=actor
        )
    if fmt is OutputFormat.table:
        console.print(f"{unit}: {score.total:g} điểm ({round_}) — {score.explain()}")
        return
    lines = [asdict(x) for x in score.lines]
    if fmt is OutputFormat.json:
        emit_one(
            {"bloc": bloc, "year": year, "round": round_, "unit": unit, "total": score.total,
             "met_all": score.met_all, "lines": lines,
             "deductions": [asdict(d) for d in score.deductions]},
            {}, fmt,
        )  # fmt: skip
        return
    emit(lines, [("code", "Mã"), ("description", "Chỉ tiêu"), ("value", "Kết quả"),
                 ("met", "Đạt"), ("earned", "Điểm")], fmt)  # fmt: skip


@app.command("deduct")
@report_errors
def deduct(
    bloc: str = typer.Option(..., "--bloc"),
    year: int = typer.Option(..., "--year"),
    round_: str = typer.Option(
        ..., "--round", help="Đợt: so_ket (sơ kết) hoặc tong_ket (tổng kết)."
    ),
    unit: str = typer.Option(..., "--unit"),
    cases: list[str] = typer.Option(..., "--cases", help="KHOẢN-TRỪ=SỐ-LẦN; lặp lại được."),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Khối trưởng của năm ghi các khoản trừ điểm của thành viên.

    Số lần vi phạm theo từng khoản trừ trong quy định của khối."""
    rt = runtime()
    counts = {k: int(v) for k, v in _pairs(cases, "--cases").items()}
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        bloc_reviews.record_deductions(conn, bloc, year, round_, unit, counts, actor=actor)
    console.print(f"Đã ghi khoản trừ của {unit}")


@app.command("scores")
@report_errors
def scores(
    bloc: str = typer.Option(..., "--bloc"),
    year: int = typer.Option(..., "--year"),
    round_: str = typer.Option(
        "tong_ket", "--round", help="Đợt: so_ket (sơ kết) hoặc tong_ket (tổng kết)."
    ),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Bảng điểm của đợt: thứ hạng, thành viên, điểm và cách tính."""
    rt = runtime()
    with rt.engine.connect() as conn:
        rows = bloc_reviews.score_table(conn, bloc, year, round_)
    if fmt is not OutputFormat.table:
        emit(
            [{"rank": r.rank, "unit": r.unit, "unit_name": r.unit_name, "total": r.total,
              "reported": r.score is not None, "inspection": r.inspection,
              "how": r.score.explain() if r.score else "chưa báo cáo",
              "lines": [asdict(x) for x in r.score.lines] if r.score else []}
             for r in rows],
            [("rank", "Hạng"), ("unit_name", "Đơn vị"), ("total", "Điểm"), ("how", "Cách tính")],
            fmt,
        )  # fmt: skip
        return
    table = Table("hạng", "đơn vị", "điểm", "cách tính", title=f"{bloc} {year} — {round_}")
    for r in rows:
        how = r.score.explain() if r.score else "chưa báo cáo"
        table.add_row(str(r.rank), r.unit_name, f"{r.total:g}", how)
    console.print(table)


@app.command("vote")
@report_errors
def vote(
    bloc: str = typer.Option(..., "--bloc"),
    year: int = typer.Option(..., "--year"),
    votes: list[str] = typer.Option(..., "--votes", help="ĐƠN-VỊ=SỐ-PHIẾU; lặp lại được."),
    voters: int = typer.Option(..., "--voters"),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Ghi kết quả suy tôn cuối năm; xếp hạng thành viên và đề nghị tặng cờ."""
    rt = runtime()
    tally = {k: int(v) for k, v in _pairs(votes, "--votes").items()}
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        proposed = bloc_reviews.year_end_vote(
            conn, rt.registry, bloc, year, tally, voters=voters, actor=actor
        )
    table = Table(
        "hạng", "đơn vị", "điểm", "phiếu", "đề nghị", "hồ sơ", title=f"Suy tôn {bloc} năm {year}"
    )
    for p in proposed:
        table.add_row(
            str(p.rank), p.unit_name, f"{p.score:g}", str(p.votes), p.award or "—",
            f"#{p.nomination_id}" if p.nomination_id else "",
        )  # fmt: skip
    console.print(table)
