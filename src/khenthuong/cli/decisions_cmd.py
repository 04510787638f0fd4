"""`khenthuong decisions ...` and `khenthuong councils ...`: council sessions and decisions."""

from __future__ import annotations

from datetime import UTC, date, datetime

import typer
from rich.table import Table
from sqlalchemy import Connection

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
from khenthuong.dates import BadDate, parse_date
from khenthuong.documents.text import money
from khenthuong.errors import KhenthuongError, NotFound
from khenthuong.localtime import local_date
from khenthuong.rules.catalog import catalog_in
from khenthuong.services import batches, councils, decisions
from khenthuong.services.nominations import get_row
from khenthuong.services.registers import council_sessions, decision_summaries
from khenthuong.storage.db import write_tx
from khenthuong.workflow.loader import WorkflowRegistry

app = typer.Typer(help="Quyết định khen thưởng.", no_args_is_help=True)
councils_app = typer.Typer(help="Phiên họp Hội đồng Thi đua - Khen thưởng.", no_args_is_help=True)


def _day(value: str, option: str) -> date:
    try:
        return parse_date(value)
    except BadDate as exc:
        raise typer.BadParameter(str(exc), param_hint=option) from None


@app.command("create")
@report_errors
def create(
    number: str = typer.Option(
        ...,
        "--number",
        help="<số>/QĐ-<ký hiệu của cơ quan> đúng như văn bản, ví dụ 123/QĐ-BCY, 1234/QĐ-TTg "
        "(config/issuers.yaml).",
    ),
    on: str | None = typer.Option(
        None,
        "--date",
        help="Ngày quyết định, YYYY-MM-DD (mặc định: hôm nay theo giờ Việt Nam): không sau hôm "
        "nay, không trước bước cuối hay phiên họp Hội đồng của các hồ sơ; hệ số và mức lương cơ "
        "sở tính theo ngày này.",
    ),
    signer: str = typer.Option(..., "--signer"),
    authority: str = typer.Option(..., "--authority", help="Mã đơn vị có thẩm quyền quyết định."),
    award: str = typer.Option(
        ..., "--award", help="Mã hình thức khen thưởng (config/awards.yaml)."
    ),
    nomination: list[int] = typer.Option([], "--nomination", help="Số hồ sơ; lặp lại được."),
    batch: int | None = typer.Option(
        None, "--batch", help="Mọi hồ sơ của đợt đề nghị này đang chờ quyết định."
    ),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Ký quyết định khen thưởng cho một hay nhiều hồ sơ; in tiền thưởng từng người."""
    rt = runtime()
    catalog = catalog_in(rt.settings.config_dir)
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        nomination = _with_batch(conn, rt.registry, list(nomination), batch, "decision")
        lines = decisions.create_decision(
            conn,
            rt.registry,
            catalog,
            number=number,
            decided_on=_day(on, "--date") if on else local_date(datetime.now(UTC)),
            signer=signer,
            authority=authority,
            award_code=award,
            nomination_ids=nomination,
            actor=actor,
        )
    console.print(
        f"Quyết định {number}: {len(lines)} hồ sơ, tổng {money(sum(x.amount_vnd for x in lines))} đồng"
    )


def _with_batch(
    conn: Connection, registry: WorkflowRegistry, ids: list[int], batch: int | None, kind: str
) -> list[int]:
    """`ids` plus the batch's open members whose state is of `kind` (decision, council)."""
    if batch is not None:
        view = batches.view_batch(conn, registry, batch)
        for member in view.members:
            row = get_row(conn, member.nomination_id)
            state = registry.get(row["workflow"], row["workflow_version"]).definition.state(
                row["state"]
            )
            if not member.closed and state.kind.value == kind:
                ids.append(member.nomination_id)
        if not ids:
            raise KhenthuongError(f"Đợt đề nghị #{batch} không có hồ sơ nào ở bước này")
    if not ids:
        raise typer.BadParameter(
            "cần --nomination SỐ-HỒ-SƠ hoặc --batch SỐ-ĐỢT", param_hint="--nomination"
        )
    return list(dict.fromkeys(ids))


@app.command("show")
@report_errors
def show(
    number: str,
    year: int | None = typer.Option(
        None, "--year", help="Năm của quyết định, khi số trùng giữa các năm."
    ),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Một quyết định với cá nhân, tập thể được khen và tiền thưởng.

    Số quyết định viết hoa hay viết thường đều được."""
    rt = runtime()
    with rt.engine.connect() as conn:
        header, lines = decisions.decision_lines(conn, number, year)
    catalog = catalog_in(rt.settings.config_dir)
    award = catalog.award(str(header["award_code"]))
    rows = [line.__dict__ for line in lines]
    if fmt is OutputFormat.json:
        emit_one(
            {"number": header["number"], "decided_on": header["decided_on"],
             "signer": header["signer"], "award_code": header["award_code"],
             "award_name": award.name.vi, "lines": rows,
             "total_vnd": sum(x.amount_vnd for x in lines)},
            {}, fmt,
        )  # fmt: skip
        return
    if fmt is OutputFormat.csv:
        emit(rows, LINE_COLUMNS, fmt)
        return
    console.print(
        f"[bold]Quyết định số {header['number']}[/] ngày {header['decided_on']:%d/%m/%Y} — "
        f"{award.name.vi}; người ký: {header['signer']}"
    )
    table = Table("hồ sơ", award.awardees_vi, "hệ số", "lương cơ sở", "tiền thưởng (đồng)")
    for line in lines:
        table.add_row(
            f"#{line.nomination_id}",
            line.nominee_name,
            f"{line.coefficient:g}",
            f"{money(line.base_salary_vnd)}",
            f"{money(line.amount_vnd)}",
        )
    console.print(table)
    console.print(f"Tổng cộng: {money(sum(x.amount_vnd for x in lines))} đồng")


LINE_COLUMNS = [
    ("nomination_id", "Số hồ sơ"), ("nominee_name", "Cá nhân, tập thể"), ("coefficient", "Hệ số"),
    ("base_salary_vnd", "Lương cơ sở (đồng)", "number"),
    ("amount_vnd", "Tiền thưởng (đồng)", "number"),
]  # fmt: skip


@app.command("list")
@report_errors
def list_(
    year: int | None = typer.Option(None, "--year", help="Năm ký quyết định."),
    authority: str | None = typer.Option(None, "--authority", help="Mã cơ quan quyết định"),
    limit: int = typer.Option(100, "--limit", min=1, max=100_000, help="Số quyết định tối đa"),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Các quyết định đã ký, mới nhất trước: số, ngày, người ký, hình thức, số được khen, tổng tiền."""
    rt = runtime()
    awards = catalog_in(rt.settings.config_dir).awards
    with rt.engine.connect() as conn:
        rows = decision_summaries(conn, None, year=year, authority=authority, limit=limit)
    for r in rows:
        r["award_name"] = awards[r["award_code"]].name.vi if r["award_code"] in awards else ""
    emit(
        rows,
        [("number", "Số quyết định"), ("decided_on", "Ngày ký"), ("signer", "Người ký"),
         ("authority_name", "Cơ quan"), ("award_name", "Hình thức"), ("nominations", "Số người"),
         ("total_vnd", "Tổng tiền (đồng)", "number")],
        fmt,
    )  # fmt: skip


@councils_app.command("list")
@report_errors
def councils_list(
    unit: str | None = typer.Option(None, "--unit", help="Mã đơn vị (cả các đơn vị trực thuộc)"),
    year: int | None = typer.Option(None, "--year", help="Năm họp."),
    status: str | None = typer.Option(
        None, "--status", help="open (đang họp) hoặc closed (đã kết thúc)."
    ),
    limit: int = typer.Option(100, "--limit", min=1, max=100_000, help="Số phiên tối đa"),
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Các phiên họp Hội đồng, mới nhất trước."""
    if status not in (None, "open", "closed"):
        raise typer.BadParameter(f"{status!r}: open hoặc closed", param_hint="--status")
    with runtime().engine.connect() as conn:
        rows = council_sessions(conn, None, unit=unit, year=year, status=status, limit=limit)
    for r in rows:
        r["status_name"] = "Đang họp" if r["status"] == "open" else "Đã kết thúc"
    emit(
        rows,
        [("id", "Phiên"), ("unit_name", "Hội đồng của đơn vị"), ("title", "Tên"),
         ("held_on", "Ngày họp"), ("status_name", "Trạng thái"), ("items", "Số hồ sơ")],
        fmt,
    )  # fmt: skip


@councils_app.command("open")
@report_errors
def open_(
    unit: str = typer.Option(..., "--unit"),
    title: str = typer.Option(..., "--title"),
    held_on: str | None = typer.Option(
        None, "--date", help="Ngày họp, YYYY-MM-DD (mặc định: hôm nay theo giờ Việt Nam)."
    ),
    member: list[str] = typer.Option(
        ...,
        "--member",
        help="HỌ-TÊN hoặc HỌ-TÊN,CHỨC-VỤ (chức vụ trong Hội đồng: Chủ tịch Hội đồng, Thư ký…);"
        " thêm :absent nếu vắng, :written nếu vắng và gửi ý kiến bằng văn bản.",
    ),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Mở phiên họp Hội đồng với thành viên và điểm danh; in số phiên."""
    members = [_member(item) for item in member]
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        sid = councils.open_session(
            conn,
            unit,
            title=title,
            held_on=_day(held_on, "--date") if held_on else local_date(datetime.now(UTC)),
            members=members,
            actor=actor,
        )
    typer.echo(sid)


def _member(item: str) -> councils.MemberIn:
    """`HỌ-TÊN[,CHỨC-VỤ][:absent|:written]` as a council member."""
    body, mark = item, ""
    for word in ("absent", "written"):
        if item.endswith(f":{word}"):
            body, mark = item.removesuffix(f":{word}"), word
    name, _, position = body.partition(",")
    name = " ".join(name.split())
    if not name or ":" in body:
        raise typer.BadParameter(
            f"{item!r}: ghi HỌ-TÊN hoặc HỌ-TÊN,CHỨC-VỤ, có thể thêm :absent hoặc :written",
            param_hint="--member",
        )
    return councils.MemberIn(
        name,
        present=mark == "",
        written_vote=mark == "written",
        position=" ".join(position.split()) or None,
    )


@councils_app.command("tally")
@report_errors
def tally(
    session: int,
    nomination: int | None = typer.Argument(None, help="Số hồ sơ (hoặc dùng --batch)."),
    batch: int | None = typer.Option(
        None, "--batch", help="Mọi hồ sơ của đợt đề nghị này đang chờ Hội đồng."
    ),
    agree: int = typer.Option(..., "--agree"),
    disagree: int = typer.Option(0, "--disagree"),
    abstain: int = typer.Option(0, "--abstain"),
    written: int = typer.Option(0, "--written-agree"),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Đưa hồ sơ vào chương trình (nếu cần) và ghi kết quả bỏ phiếu kín.

    Một hồ sơ, hoặc với --batch mọi hồ sơ của đợt đề nghị đang chờ Hội đồng."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        given = [nomination] if nomination is not None else []
        ids = _with_batch(conn, rt.registry, given, batch, "council")
        for nid in ids:
            try:
                councils.record_tally(
                    conn, session, nid, agree=agree, disagree=disagree, abstain=abstain,
                    written_agree=written, actor=actor,
                )  # fmt: skip
            except NotFound:
                councils.add_item(conn, rt.registry, session, nid, actor=actor)
                councils.record_tally(
                    conn, session, nid, agree=agree, disagree=disagree, abstain=abstain,
                    written_agree=written, actor=actor,
                )  # fmt: skip
    console.print("Đã ghi kết quả bỏ phiếu cho hồ sơ " + ", ".join(f"#{n}" for n in ids))


@councils_app.command("close")
@report_errors
def close(session: int, as_user: str = typer.Option(..., "--as")) -> None:
    """Kết thúc phiên họp: xét từng hồ sơ, chuyển bước mọi hồ sơ, in biên bản."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        minutes = councils.close_session(
            conn, rt.registry, catalog_in(rt.settings.config_dir), session, actor=actor
        )
    typer.echo(minutes)
