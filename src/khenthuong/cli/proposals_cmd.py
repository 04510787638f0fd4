"""`khenthuong proposals ...`: proposal batches (đợt đề nghị) imported from a danh sách."""

from __future__ import annotations

from dataclasses import asdict
from functools import partial
from pathlib import Path

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from khenthuong.cli.common import (
    FormatOption,
    OutputFormat,
    actor_for,
    console,
    emit,
    emit_one,
    parse_fields,
    refusal_line,
    report_errors,
    runtime,
    stdout_is_tty,
)
from khenthuong.commendation import accepted_types, commendation_type_of
from khenthuong.doctypes import DOC_TYPES
from khenthuong.localtime import LOCAL_TZ
from khenthuong.rules.catalog import catalog_in
from khenthuong.services import batches
from khenthuong.services import proposal_import as imp
from khenthuong.services.documents import DocumentRequest, render_document
from khenthuong.storage.db import write_tx

app = typer.Typer(
    help="Đợt đề nghị khen thưởng: một tờ trình, một danh sách.",
    no_args_is_help=True,
)


@app.command("template")
@report_errors
def template(out: Path = typer.Option(..., "-o", "--output", help="Tệp .xlsx cần ghi.")) -> None:
    """Ghi mẫu danh sách đề nghị (tiêu đề tiếng Việt, dòng ví dụ)."""
    imp.write_template(out)
    console.print(f"Đã ghi mẫu danh sách {out}: {', '.join(imp.TEMPLATE_HEADERS)}")


def _type(kind: str) -> str:
    found = commendation_type_of(kind)
    if found is None:
        raise typer.BadParameter(
            f"loại hình khen thưởng {kind!r} không hợp lệ; dùng một trong: {accepted_types()}",
            param_hint="--type",
        )
    return found


@app.command("import")
@report_errors
def import_(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    unit: str = typer.Option(..., "--unit", help="Mã đơn vị đề nghị."),
    as_user: str = typer.Option(..., "--as", help="Cán bộ của đơn vị đề nghị."),
    workflow: str = typer.Option(
        None,
        "--workflow",
        help="Hình thức khen thưởng cho các dòng để trống cột Hình thức khen thưởng.",
    ),
    kind: str = typer.Option("thuong_xuyen", "--type", help=f"Loại hình: {accepted_types()}"),
    title: str = typer.Option(None, "--title", help="Trích yếu của tờ trình."),
    year: int = typer.Option(None, "--year", min=1945, max=2100),
    receiving: str = typer.Option(None, "--to", help="Mã đơn vị nhận tờ trình."),
    create_persons: bool = typer.Option(
        False,
        "--create-persons",
        help="Thêm cá nhân chưa có vào danh sách cá nhân (theo đơn vị của họ).",
    ),
    attach: list[str] = typer.Option(
        [], "--attach", help="LOẠI=TỆP: tài liệu chung của đợt (to_trinh, bien_ban_binh_xet…)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Kiểm tra và xem trước; không ghi gì."),
    campaign: int = typer.Option(
        None, "--campaign", help="Gắn mọi hồ sơ của đợt vào phong trào thi đua này."
    ),
) -> None:
    """Kiểm tra mọi dòng, xem trước điều kiện từng dòng, rồi tạo một đợt đề nghị.

    Có dòng lỗi thì không tạo gì."""
    commendation = _type(kind)
    documents = []
    for doc_type, path in parse_fields(attach).items():
        if doc_type not in DOC_TYPES:
            raise typer.BadParameter(
                f"loại tài liệu {doc_type!r} không có; dùng một trong: {', '.join(DOC_TYPES)}",
                param_hint="--attach",
            )
        if not Path(path).is_file():
            raise typer.BadParameter(f"không thấy tệp {path!r}", param_hint="--attach")
        documents.append((doc_type, Path(path)))
    rt = runtime()
    catalog = catalog_in(rt.settings.config_dir)
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        planned = imp.check_file(
            conn, catalog, file, proposing_unit=unit, workflow=workflow,
            create_persons=create_persons,
        )  # fmt: skip
        imp.preview(conn, planned, year or _this_year())
        table = Table("Dòng", "STT", "Đối tượng", "Họ và tên / Tên tập thể", "Đơn vị",
                      "Hình thức", "Nhận xét")  # fmt: skip
        for p in planned:
            verdict = "; ".join([p.verdict, *p.refusals]) if p.refusals else p.verdict
            table.add_row(str(p.number), p.stt, "tập thể" if p.kind == "collective" else "cá nhân",
                          p.name, p.unit_code, p.award_code, verdict)  # fmt: skip
        console.print(table)
        if dry_run:
            console.print(f"{len(planned)} dòng hợp lệ; chạy thử, chưa ghi gì")
            conn.rollback()
            return
        create = partial(
            imp.create_from, conn, rt.registry, planned, source=file, proposing_unit=unit,
            actor=actor, title=title or f"Đề nghị khen thưởng ({file.stem})", year=year,
            commendation_type=commendation, receiving_unit=receiving,
            max_bytes=rt.settings.max_attachment_bytes, campaign_id=campaign,
        )  # fmt: skip
        if stdout_is_tty():
            with Progress(
                TextColumn("Tạo hồ sơ"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(), console=console,
            ) as bar:  # fmt: skip
                task = bar.add_task("import", total=len(planned))
                made = create(progress=lambda n: bar.advance(task, n))
        else:
            made = create()
        for doc_type, path in documents:
            batches.attach_in(
                conn, made.batch_id, doc_type=doc_type, filename=path.name,
                content=path.read_bytes(), actor=actor,
                max_bytes=rt.settings.max_attachment_bytes,
            )  # fmt: skip
    console.print(
        f"Đợt đề nghị #{made.batch_id}: {len(made.nomination_ids)} hồ sơ"
        + (f", {made.persons_created} cá nhân mới" if made.persons_created else "")
    )
    typer.echo(made.batch_id)


def _this_year() -> int:
    from datetime import datetime  # noqa: PLC0415

    return datetime.now(LOCAL_TZ).year


@app.command("show")
@report_errors
def show(
    batch_id: int, as_user: str = typer.Option(None, "--as"), fmt: FormatOption = OutputFormat.table
) -> None:
    """Một đợt đề nghị: các hồ sơ và trạng thái, tài liệu, trạng thái chung.

    Với `--format json`: cả đợt, có mã; với `csv`: các hồ sơ của đợt."""
    rt = runtime()
    with rt.engine.connect() as conn:
        actor = None
        if as_user:
            from khenthuong.services.actors import load_actor  # noqa: PLC0415

            actor = load_actor(conn, as_user)
        view = batches.view_batch(conn, rt.registry, batch_id, actor)
    if fmt is OutputFormat.json:
        emit_one(asdict(view) | {"summary": view.summary}, {}, fmt)
        return
    if fmt is OutputFormat.csv:
        emit([asdict(m) for m in view.members], [("row_number", "STT"), ("nomination_id", "Hồ sơ"),
             ("nominee_name", "Được đề nghị"), ("state_title", "Bước")], fmt)  # fmt: skip
        return
    console.print(
        f"[bold]Đợt đề nghị #{view.id}[/] {view.title} — {view.unit_name} ({view.unit_code}), "
        f"năm {view.year}"
    )
    console.print(f"Trạng thái: {view.summary}")
    table = Table("STT", "Hồ sơ", "Được đề nghị", "Bước")
    for m in view.members:
        table.add_row(str(m.row_number or ""), f"#{m.nomination_id}", m.nominee_name, m.state_title)
    console.print(table)
    for doc in view.documents:
        console.print(
            f"Tài liệu chung: {DOC_TYPES.get(doc.doc_type, doc.doc_type)} «{doc.filename}»"
        )


@app.command("advance")
@report_errors
def advance(
    batch_id: int,
    trigger: str,
    as_user: str = typer.Option(..., "--as"),
    comment: str = typer.Option(None, "--comment"),
    field: list[str] = typer.Option(
        [], "--field", help="Trường KHÓA=GIÁ-TRỊ của bước; lặp lại được."
    ),
    member: int = typer.Option(
        None,
        "--member",
        help="Chỉ thực hiện bước cho hồ sơ này (ví dụ return_for_supplement, withdraw).",
    ),
) -> None:
    """Thực hiện một bước trên mọi hồ sơ đang mở của đợt, hoặc trên một hồ sơ.

    Các hồ sơ bị từ chối được liệt kê."""
    rt = runtime()
    payload = parse_fields(field)
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        if member is not None:
            one = batches.step_member_in(
                conn, rt.registry, batch_id, member, trigger, actor, payload, comment=comment
            )
            console.print(f"#{one.nomination_id}: {one.from_state} → {one.to_state}")
            return
        step = batches.advance_batch_members_in(
            conn, rt.registry, batch_id, trigger, actor, payload, comment=comment
        )
    for nid, refusals in step.refused.items():
        typer.echo(f"#{nid} bị từ chối: " + "; ".join(map(refusal_line, refusals)), err=True)
    console.print(
        f"Đợt đề nghị #{batch_id}: {len(step.done)} hồ sơ đã chuyển, {len(step.refused)} bị từ chối"
    )
    if step.refused:
        raise typer.Exit(1)


@app.command("remove")
@report_errors
def remove(
    batch_id: int,
    nomination_id: int,
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Đưa một hồ sơ ra khỏi đợt; hồ sơ đi tiếp riêng từ trạng thái hiện tại."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        batches.remove_member_in(conn, batch_id, nomination_id, actor=actor)
    console.print(f"Đợt đề nghị #{batch_id}: đã bỏ hồ sơ #{nomination_id} khỏi đợt")


@app.command("attach")
@report_errors
def attach(
    batch_id: int,
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    doc_type: str = typer.Option(..., "--type", help=f"Loại tài liệu: {', '.join(DOC_TYPES)}."),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Đính kèm một tài liệu cho cả đợt (được tính vào hồ sơ của mọi thành viên)."""
    rt = runtime()
    with actor_for(rt, as_user) as actor, write_tx(rt.engine) as conn:
        stored = batches.attach_in(
            conn, batch_id, doc_type=doc_type, filename=file.name, content=file.read_bytes(),
            actor=actor, max_bytes=rt.settings.max_attachment_bytes,
        )  # fmt: skip
    console.print(
        f"Đợt đề nghị #{batch_id}: đã đính kèm {DOC_TYPES.get(stored.doc_type, stored.doc_type)} "
        f"«{stored.filename}» "
        f"(sha256 {stored.sha256[:16]}…)"
    )


@app.command("documents")
@report_errors
def documents(
    batch_id: int,
    out: Path = typer.Option(..., "-o", "--output", help="Tệp ghi ra."),
    fmt: str = typer.Option("docx", "--format", help="Định dạng: docx hoặc pdf."),
    as_user: str = typer.Option(..., "--as"),
) -> None:
    """Tạo tờ trình của đợt với danh sách kèm theo (SHA-256 ghi vào nhật ký của đợt)."""
    rt = runtime()
    with actor_for(rt, as_user) as actor:
        with rt.engine.connect() as conn:
            ids = batches.member_ids(conn, batch_id)
        rendered = render_document(
            rt.engine, catalog_in(rt.settings.config_dir), rt.settings.config_dir,
            DocumentRequest("to-trinh", ",".join(map(str, ids)), fmt, actor),
            soffice=rt.settings.soffice, stream=batches.stream_of(batch_id),
        )  # fmt: skip
    out.write_bytes(rendered.content)
    console.print(f"Đã ghi tờ trình {out}; SHA-256 {rendered.sha256}")
