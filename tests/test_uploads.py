"""Uploads are checked by their content (khenthuong.uploads)."""

from __future__ import annotations

import io
import zipfile

import pytest

from khenthuong.uploads import UploadRefused, check_upload, safe_name


def ooxml(part: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr(part, "<x/>")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("name", "content", "stored"),
    [
        ("Tờ trình.pdf", b"%PDF-1.7\n", "application/pdf"),
        ("bao-cao.docx", ooxml("word/document.xml"),
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("danh-sach.XLSX", ooxml("xl/workbook.xml"),
         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("cu.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 8, "application/msword"),
        ("anh.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png"),
        ("anh.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00", "image/jpeg"),
        ("ghi-chu.txt", "Ghi chú: đã công khai".encode(), "text/plain"),
    ],
)  # fmt: skip
def test_files_that_are_what_they_say_pass(name: str, content: bytes, stored: str) -> None:
    assert check_upload(name, content, None).content_type == stored
    assert check_upload(name, content, "application/octet-stream").content_type == stored


@pytest.mark.parametrize(
    ("name", "content", "declared", "message"),
    [
        ("bao-cao.docx", ooxml("xl/workbook.xml"), None,
         "Tệp 'bao-cao.docx': nội dung không phải tệp Word như phần mở rộng .docx cho biết"),
        ("bao-cao.docx", b"%PDF-1.4", None, "không phải tệp Word"),
        ("ghi-chu.txt", b"MZ\x00\x00binary", None, "không phải tệp văn bản"),
        ("anh.png", b"%PDF-1.4", "image/png", "không phải tệp PNG"),
        ("setup.exe", b"MZ", None, "phần mở rộng .exe không được chấp nhận"),
        ("khong-duoi", b"%PDF", None, "phần mở rộng (không có) không được chấp nhận"),
        ("a.pdf", b"%PDF-1.4", "text/html", "loại khai báo text/html không khớp"),
    ],
)  # fmt: skip
def test_files_that_are_not_what_they_say_are_refused(
    name: str, content: bytes, declared: str | None, message: str
) -> None:
    with pytest.raises(UploadRefused) as refused:
        check_upload(name, content, declared)
    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("..\\..\\evil.pdf", "evil.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\cb\\Tờ trình.pdf", "Tờ trình.pdf"),
        (".hidden.pdf", "hidden.pdf"),
        ('a"b<c>|d\x00.pdf', "a_b_c__d_.pdf"),
        ("..", "tep-tai-len"),
    ],
)
def test_safe_names(given: str, kept: str) -> None:
    assert safe_name(given) == kept


def test_names_are_nfc() -> None:
    decomposed = "To\u0302\u0300 tri\u0300nh.pdf"
    assert safe_name(decomposed) == "Tồ trình.pdf"
