"""`khenthuong documents render`: quyết định, danh sách, Bằng khen, biên bản, tờ trình, kế hoạch."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer

from khenthuong.cli.common import (
    FormatOption,
    OutputFormat,
    actor_for,
    console,
    emit,
    err_console,
    progress,
    report_errors,
    runtime,
)
from khenthuong.cli.prompts import ask
from khenthuong.cli.usage_errors import file_problem
from khenthuong.documents.text import money, number
from khenthuong.rules.catalog import catalog_in
from khenthuong.services.documents import KINDS, DocumentRequest, render_document

app = typer.Typer(
    help="Văn bản: tài liệu của hồ sơ (lệnh list) và văn bản do hệ thống tạo (lệnh render, sign, verify).",
    no_args_is_help=True,
)


@app.command("list")
@report_errors
def list_documents(nomination_id: int, fmt: FormatOption = OutputFormat.table) -> None:
    """Các tài liệu của hồ sơ (loại, tệp, kích thước, SHA-256)."""
    from rich.table import Table  # noqa: PLC0415

    from khenthuong.services import dossier  # noqa: PLC0415
    from khenthuong.services.nominations import get_row  # noqa: PLC0415

    rt = runtime()
    with rt.engine.connect() as conn:
        get_row(conn, nomination_id)
        stored = dossier.documents(conn, nomination_id)
    if fmt is not OutputFormat.table:
        emit([d.__dict__ for d in stored], [("id", "Số"), ("doc_type", "Loại"),
             ("filename", "Tệp"), ("size", "Byte", "number"), ("sha256", "SHA-256")], fmt)  # fmt: skip
        return
    table = Table("Id", "Loại", "Tệp", "Byte", "SHA-256")
    for doc in stored:
        table.add_row(str(doc.id), doc.doc_type, doc.filename, money(doc.size), doc.sha256)
    console.print(table if stored else f"#{nomination_id}: chưa có tài liệu")


@app.command("render")
@report_errors
def render(
    kind: str = typer.Argument(..., help="Loại văn bản: " + " | ".join(KINDS)),
    key: str = typer.Argument(
        ...,
        help="Số quyết định, hoặc SỐ:NĂM khi số trùng giữa các năm (quyet-dinh, danh-sach, "
        "bang-khen); số phiên họp (bien-ban); số các hồ sơ, ví dụ 12,13 (to-trinh); KHỐI:NĂM "
        "(ke-hoach-kiem-tra).",
    ),
    fmt: str = typer.Option("pdf", "--format", help="Định dạng: docx hoặc pdf."),
    out: Path = typer.Option(..., "-o", "--output", help="Tệp ghi ra."),
    as_user: str = typer.Option(
        ...,
        "--as",
        help="Tên đăng nhập của người yêu cầu (theo phạm vi được xem; ghi vào nhật ký).",
    ),
) -> None:
    """Tạo văn bản; SHA-256 của văn bản được ghi vào nhật ký của đối tượng."""
    if kind not in KINDS:
        raise typer.BadParameter(
            f"{kind!r} không phải một trong: {', '.join(KINDS)}", param_hint="kind"
        )
    if fmt not in ("docx", "pdf"):
        raise typer.BadParameter(f"{fmt!r}: chỉ docx hoặc pdf", param_hint="--format")
    rt = runtime()
    started = time.monotonic()
    with progress(f"Tạo văn bản {kind}", None), actor_for(rt, as_user) as actor:
        rendered = render_document(
            rt.engine,
            catalog_in(rt.settings.config_dir),
            rt.settings.config_dir,
            DocumentRequest(kind, key, fmt, actor),
            soffice=rt.settings.soffice,
        )
    out.write_bytes(rendered.content)
    console.print(
        f"Đã ghi {out} ({money(len(rendered.content))} byte, {number(time.monotonic() - started, 1)} giây); "
        f"SHA-256 {rendered.sha256}"
    )


@app.command("sign")
@report_errors
def sign(
    number: str = typer.Argument(
        ..., help="Số quyết định, ví dụ 45/QĐ-BCY, hoặc 45/QĐ-BCY:2026 để nêu năm."
    ),
    p12: Path = typer.Option(..., "--p12", help="Tệp PKCS#12 của người ký (.p12/.pfx)."),
    out: Path = typer.Option(..., "-o", "--output", help="Tệp PDF đã ký cần ghi ra."),
    as_user: str = typer.Option(..., "--as", help="Người ký (có vai trò ký)."),
    passphrase_stdin: bool = typer.Option(
        False, "--passphrase-stdin", help="Đọc mật khẩu tệp PKCS#12 từ đầu vào chuẩn."
    ),
) -> None:
    """Ký số tệp PDF của quyết định (PAdES); lưu tệp đã ký và bản băm vào nhật ký."""
    secret = (
        sys.stdin.readline().rstrip("\n")
        if passphrase_stdin
        else ask("Mật khẩu tệp PKCS#12", secret=True, default="", show_default=False)
    )
    try:
        pkcs12 = p12.read_bytes()
    except OSError as exc:
        raise typer.BadParameter(f"{str(p12)!r}: {file_problem(exc)}", param_hint="--p12") from None
    rt = runtime()
    with actor_for(rt, as_user) as actor:
        from khenthuong.services.signatures import sign_decision  # noqa: PLC0415

        signed = sign_decision(
            rt.engine, catalog_in(rt.settings.config_dir), rt.settings.config_dir, number,
            pkcs12=pkcs12, passphrase=secret.encode() or None, actor=actor,
            soffice=rt.settings.soffice,
        )  # fmt: skip
    out.write_bytes(signed.content)
    console.print(f"Đã ký và lưu {out}; SHA-256 {signed.sha256}")


@app.command("verify")
@report_errors
def verify(file: Path = typer.Argument(..., help="Tệp PDF quyết định đã ký.")) -> None:
    """Kiểm tra chữ ký số, chuỗi chứng thư theo KHENTHUONG_TRUST_ROOTS và bản băm đã ghi."""
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise typer.BadParameter(f"{str(file)!r}: {file_problem(exc)}", param_hint="file") from None
    rt = runtime()
    from khenthuong.services.signatures import verify_file  # noqa: PLC0415

    result = verify_file(rt.engine, content, rt.settings.trust_roots)
    if result.valid:
        at = f" lúc {result.signed_at:%H:%M %d/%m/%Y}" if result.signed_at else ""
        console.print(
            f"Hợp lệ: chữ ký của {result.check.signer}, chuỗi tin cậy, đúng bản đã lưu "
            f"({result.recorded}{at})"
        )
        return
    err_console.print(f"Không hợp lệ: {file}")
    for problem in result.problems:
        err_console.print(f"  - {problem}")
    raise typer.Exit(1)
