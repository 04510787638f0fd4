"""`khenthuong attach` and `khenthuong documents`: the dossier from the command line."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.doctypes import DOC_TYPES
from khenthuong.settings import Settings, get_settings

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def nomination(settings: Settings) -> str:
    """A Bằng khen cấp Bộ draft of Cục Cơ yếu Quân đội on a fresh demo database."""
    code, out = run("init", "--demo")
    assert code == 0, out
    code, out = run("nominate", "bang_khen_bo", "--person", "1", "--unit", "CCYQD", "--as", "cb.qd")
    assert code == 0, out
    return out.strip()


def test_submit_needs_the_dossier_and_attach_supplies_it(nomination: str, tmp_path: Path) -> None:
    """Submitting without documents names the missing ones; attached, the same step passes."""
    code, out = run("advance", nomination, "submit", "--as", "cb.qd")
    assert code == 1
    assert "Hồ sơ còn thiếu" in out and "to_trinh" in out
    pdf = tmp_path / "tờ trình.pdf"
    pdf.write_bytes(b"%PDF-1.4 to trinh")
    for doc_type in ("to_trinh", "bao_cao_thanh_tich", "bien_ban_binh_xet"):
        code, out = run("attach", nomination, str(pdf), "--type", doc_type, "--as", "cb.qd")
        assert code == 0, out
        assert f"đã đính kèm {DOC_TYPES[doc_type]} «" in out  # the type by name
    code, out = run("documents", "list", nomination)
    assert code == 0
    assert out.count(hashlib.sha256(pdf.read_bytes()).hexdigest()[:20]) == 3
    code, out = run("advance", nomination, "submit", "--as", "cb.qd")
    assert code == 0, out
    assert "Đơn vị lập hồ sơ đề nghị → Thủ trưởng đơn vị ký tờ trình" in out  # names, not codes


def test_attach_refuses_bad_type_read_only_user_and_oversize(
    nomination: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An unknown type, an auditor and a file over the limit are refused; nothing is stored."""
    pdf = tmp_path / "a.pdf"
    pdf.write_bytes(b"%PDF-1.4 " + b"x" * 100)
    code, out = run("attach", nomination, str(pdf), "--type", "khong_co", "--as", "cb.qd")
    assert code == 1 and "Loại tài liệu 'khong_co' không hợp lệ" in out
    code, out = run("attach", nomination, str(pdf), "--type", "to_trinh", "--as", "kiemtra")
    assert code == 1 and "chỉ có quyền xem" in out
    monkeypatch.setenv("KHENTHUONG_MAX_ATTACHMENT_BYTES", "50")
    get_settings.cache_clear()
    code, out = run("attach", nomination, str(pdf), "--type", "to_trinh", "--as", "cb.qd")
    assert code == 2 and "vượt giới hạn" in out
    get_settings.cache_clear()
    code, out = run("documents", "list", nomination)
    assert code == 0 and "chưa có tài liệu" in out
