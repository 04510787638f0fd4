"""`khenthuong documents render`: writes the file and prints its SHA-256."""

from __future__ import annotations

import hashlib
from pathlib import Path

from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.runtime import Runtime
from tests.documents.test_render_decision import NAMES, NUMBER, decided, docx_text

runner = CliRunner()


def test_render_decision_list_to_docx(rt: Runtime, tmp_path: Path) -> None:
    """The danh sách kèm theo is written to -o with every name; a bad kind is a usage error."""
    decided(rt)
    out = tmp_path / "danh-sach.docx"
    args = ["documents", "render", "danh-sach", NUMBER, "--format", "docx", "-o", str(out)]
    result = runner.invoke(app, [*args, "--as", "tb.bcy"])
    assert result.exit_code == 0, result.output
    assert hashlib.sha256(out.read_bytes()).hexdigest() in result.output.replace("\n", "")
    text = docx_text(out.read_bytes())
    assert "DANH SÁCH" in text and all(name in text for name in NAMES)
    assert "QUYẾT ĐỊNH" not in text
    refused = runner.invoke(app, [*args, "--as", "cb.pccc"])
    assert refused.exit_code == 1 and "ngoài phạm vi" in refused.output
    bad = runner.invoke(
        app, ["documents", "render", "thu-moi", "1", "-o", str(out), "--as", "tb.bcy"]
    )
    assert bad.exit_code == 2 and "quyet-dinh" in bad.output
