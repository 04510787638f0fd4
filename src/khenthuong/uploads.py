"""What an uploaded file really is: its name made safe, its type read from its content.

A file is accepted when its extension is one of the kinds below AND its bytes are that kind
(magic numbers read by puremagic; Office Open XML told apart by the parts inside the zip; text
by decoding as UTF-8), AND the type the client declared, if any, agrees. So a program renamed
`.pdf` is refused, whatever the browser says. Pure: no database, no settings.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

KINDS: dict[str, tuple[str, str]] = {
    ".pdf": ("application/pdf", "PDF"),
    ".doc": ("application/msword", "Word 97-2003"),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Word"),
    ".xls": ("application/vnd.ms-excel", "Excel 97-2003"),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "Excel"),
    ".jpg": ("image/jpeg", "JPEG"),
    ".jpeg": ("image/jpeg", "JPEG"),
    ".png": ("image/png", "PNG"),
    ".txt": ("text/plain", "văn bản"),
}
"""Accepted extension → (the type stored and served, the name officers know)."""

GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
"""Declared types that say nothing (the content decides)."""

_OOXML_PART = {".docx": "word/document.xml", ".xlsx": "xl/workbook.xml"}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_UNSAFE = re.compile(r"[\x00-\x1f\x7f<>:\"|?*]")


class UploadRefused(ValueError):
    """The upload is not what it says; the message (Vietnamese) names the file and why."""


@dataclass(frozen=True)
class CheckedUpload:
    """A file that passed: its safe name and its content type."""

    name: str
    content_type: str


def safe_name(filename: str) -> str:
    """The last part of `filename` after `/` or `\\` (either kind), NFC, without control or
    reserved characters and leading dots: `..\\..\\evil.pdf` → `evil.pdf`."""
    last = re.split(r"[\\/]", unicodedata.normalize("NFC", filename))[-1]
    cleaned = _UNSAFE.sub("_", last).strip().lstrip(".").strip()
    return cleaned[:200] or "tep-tai-len"


def _content_is(extension: str, content: bytes) -> bool:
    if extension == ".txt":
        if b"\x00" in content:
            return False
        try:
            content.decode("utf-8-sig")
        except UnicodeDecodeError:
            return False
        return True
    if extension in _OOXML_PART:
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return False
        return "[Content_Types].xml" in names and _OOXML_PART[extension] in names
    if extension in (".doc", ".xls"):
        return content.startswith(_OLE2)
    import puremagic  # noqa: PLC0415 - its tables load with the first upload, not every command

    expected = KINDS[extension][0]
    try:
        found = puremagic.magic_string(content)
    except puremagic.PureError:
        return False
    return any(m.mime_type == expected and m.confidence >= 0.3 for m in found)


def check_upload(filename: str, content: bytes, declared_type: str | None) -> CheckedUpload:
    """Accept the upload or raise UploadRefused naming the file and what is wrong."""
    name = safe_name(filename)
    extension = "." + name.rsplit(".", 1)[1].lower() if "." in name else ""
    if extension not in KINDS:
        accepted = ", ".join(sorted({k for k in KINDS if k != ".jpeg"}))
        raise UploadRefused(
            f"Tệp {name!r}: phần mở rộng {extension or '(không có)'} không được chấp nhận; "
            f"dùng {accepted}"
        )
    stored, label = KINDS[extension]
    declared = (declared_type or "").split(";", 1)[0].strip().lower()
    if declared not in GENERIC_TYPES and declared != stored:
        raise UploadRefused(
            f"Tệp {name!r}: loại khai báo {declared} không khớp với phần mở rộng {extension} "
            f"({stored})"
        )
    if not _content_is(extension, content):
        raise UploadRefused(
            f"Tệp {name!r}: nội dung không phải tệp {label} như phần mở rộng {extension} cho "
            "biết; hãy tải lên đúng tệp"
        )
    return CheckedUpload(name, stored)
