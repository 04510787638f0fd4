"""`khenthuong documents render`: quyết định, danh sách, Bằng khen, biên bản, tờ trình, kế hoạch."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from khenthuong.cli.common import actor_for, console, report_errors, runtime
from khenthuong.rules.catalog import catalog_in
from khenthuong.services.documents import KINDS, DocumentRequest, render_document

app = typer.Typer(help="Văn bản (generated documents, DOCX and PDF).", no_args_is_help=True)


@app.command("render")
@report_errors
def render(
    kind: str = typer.Argument(..., help=" | ".join(KINDS)),
    key: str = typer.Argument(
        ...,
        help="Decision number (quyet-dinh, danh-sach, bang-khen), session id (bien-ban), "
        "nomination ids 12,13 (to-trinh), BLOC:YEAR (ke-hoach-kiem-tra)",
    ),
    fmt: str = typer.Option("pdf", "--format", help="docx or pdf"),
    out: Path = typer.Option(..., "-o", "--output", help="File to write"),
    as_user: str = typer.Option(
        ..., "--as", help="Who asks (read scope; recorded on the audit stream)"
    ),
) -> None:
    """Render a document; its SHA-256 goes on the audit stream of what it documents."""
    if kind not in KINDS:
        raise typer.BadParameter(f"{kind!r}: choose one of {', '.join(KINDS)}", param_hint="KIND")
    if fmt not in ("docx", "pdf"):
        raise typer.BadParameter(f"{fmt!r}: docx or pdf", param_hint="--format")
    rt = runtime()
    started = time.monotonic()
    with actor_for(rt, as_user) as actor:
        rendered = render_document(
            rt.engine,
            catalog_in(rt.settings.config_dir),
            rt.settings.config_dir,
            DocumentRequest(kind, key, fmt, actor),
            soffice=rt.settings.soffice,
        )
    out.write_bytes(rendered.content)
    console.print(
        f"Đã ghi {out} ({len(rendered.content):,} byte, {time.monotonic() - started:.1f} giây); "
        f"SHA-256 {rendered.sha256}"
    )
