"""DOCX from a docxtpl template, PDF from the DOCX by LibreOffice headless."""

from __future__ import annotations

import atexit
import hashlib
import io
import os
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docxtpl import DocxTemplate  # type: ignore[import-untyped,unused-ignore]

from khenthuong.documents.text import nfc
from khenthuong.errors import KhenthuongError

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF_TYPE = "application/pdf"
FORMATS = ("docx", "pdf")
_PROFILE_LOCK = threading.Lock()
"""One LibreOffice at a time per process: its profile folder cannot be shared."""
CONVERT_TIMEOUT_S = 180
"""LibreOffice converts a 5,000-line decision in well under this; a hung soffice is killed."""


@dataclass(frozen=True)
class Rendered:
    """One generated file: its name, bytes, media type and SHA-256."""

    filename: str
    content: bytes
    media_type: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def template_path(templates_dir: Path, kind: str) -> Path:
    """The office's template for `kind` (config/templates/KIND.docx), refused when missing."""
    path = templates_dir / f"{kind}.docx"
    if not path.is_file():
        raise KhenthuongError(
            f"Không có mẫu văn bản {path}: tạo lại bằng scripts/build-templates",
            en=f"Template {path} missing: build it again with scripts/build-templates",
        )
    return path


def render_docx(template: Path, context: dict[str, Any]) -> bytes:
    """Fill the template with `context` (every string NFC); the DOCX bytes."""
    doc = DocxTemplate(str(template))
    try:
        doc.render(nfc(context), autoescape=True)
    except Exception as exc:  # Jinja errors name the tag; the office edits the template
        raise KhenthuongError(f"Mẫu {template.name} lỗi khi điền dữ liệu: {exc}") from exc
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def soffice_path(configured: str | None = None) -> str:
    """The LibreOffice executable, refused with what to install when absent."""
    found = shutil.which(configured or "soffice") or shutil.which("libreoffice")
    if found is None:
        raise KhenthuongError(
            "Không tìm thấy LibreOffice (soffice) để tạo PDF: cài gói libreoffice-writer-nogui "
            "(scripts/install làm việc này) hoặc đặt KHENTHUONG_SOFFICE"
        )
    return found


def _profile_dir() -> Path:
    """This process's own LibreOffice profile, kept between conversions (first start ~2 s
    slower) and never shared with another process, so concurrent runs do not collide."""
    path = Path(tempfile.gettempdir()) / f"khenthuong-lo-{os.getuid()}-{os.getpid()}"
    if not path.exists():
        atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def docx_to_pdf(docx: bytes, *, soffice: str | None = None) -> bytes:
    """Convert with LibreOffice headless in this process's private profile."""
    exe = soffice_path(soffice)
    with _PROFILE_LOCK, tempfile.TemporaryDirectory(prefix="khenthuong-pdf-") as tmp:
        work = Path(tmp)
        source = work / "document.docx"
        source.write_bytes(docx)
        profile = _profile_dir().as_uri()
        env = {**os.environ, "HOME": tmp, "SAL_USE_VCLPLUGIN": "svp"}
        try:
            proc = subprocess.run(  # a fixed argument list, no shell
                [
                    exe,
                    f"-env:UserInstallation={profile}",
                    "--headless",
                    "--norestore",
                    "--nolockcheck",
                    "--convert-to",
                    "pdf:writer_pdf_Export",
                    "--outdir",
                    str(work),
                    str(source),
                ],
                capture_output=True,
                timeout=CONVERT_TIMEOUT_S,
                env=env,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise KhenthuongError(
                f"LibreOffice không chuyển xong PDF trong {CONVERT_TIMEOUT_S} giây"
            ) from exc
        target = work / "document.pdf"
        if proc.returncode != 0 or not target.is_file():
            detail = (proc.stderr or proc.stdout).decode("utf-8", "replace").strip()[-500:]
            raise KhenthuongError(
                f"LibreOffice không tạo được PDF (mã {proc.returncode}): {detail}"
            )
        return target.read_bytes()


def render(
    template: Path,
    context: dict[str, Any],
    *,
    fmt: str,
    stem: str,
    soffice: str | None = None,
) -> Rendered:
    """The document as DOCX, or as PDF converted from that DOCX."""
    if fmt not in FORMATS:
        raise KhenthuongError(f"Định dạng {fmt!r} không hỗ trợ: chọn docx hoặc pdf")
    docx = render_docx(template, context)
    if fmt == "docx":
        return Rendered(f"{stem}.docx", docx, DOCX_TYPE)
    return Rendered(f"{stem}.pdf", docx_to_pdf(docx, soffice=soffice), PDF_TYPE)
