"""The README's walk-through and the status service, end to end."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.runtime import Runtime
from khenthuong.settings import Settings
from khenthuong.storage.blocs import COVENANT_SIGNATURES, COVENANTS
from khenthuong.storage.db import make_engine
from khenthuong.web.app import create_app

runner = CliRunner()


def test_demo_walks_to_decisions_with_money(settings: Settings) -> None:
    """`init --demo` then `demo`: a Bằng khen and a CSTĐ cấp Bộ decided, with award money."""
    assert runner.invoke(app, ["init", "--demo"]).exit_code == 0
    result = runner.invoke(app, ["demo"])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())  # Rich wraps long lines
    assert "toàn vẹn" in flat
    assert "18/20 phiếu đồng ý" in flat
    assert "7,020,000 đồng" in flat
    # The 2019 covenant of Khối thi đua 4 Hệ Cơ yếu, signed by each member's head.
    assert "Giao ước thi đua năm 2019 — Khối thi đua 4 Hệ Cơ yếu" in flat
    assert "Đoàn kết, sáng tạo, kỷ cương, nêu gương, quyết thắng" in flat
    assert "Trên 80% đảng viên hoàn thành tốt, xuất sắc nhiệm vụ" in flat
    for head in ("tt.qd", "tt.dcq", "tt.ca", "tt.ng"):
        assert f"07/03/2019 │ {head}" in flat
    assert "chưa ký" not in flat
    assert "không được ký giao ước thay đơn vị" in flat  # cb.qd for Cục Cơ yếu Công an
    assert "không có địa chỉ" not in flat  # every bloc member's notice has a recipient
    shown = runner.invoke(app, ["decisions", "show", "2/QĐ-BCY"])
    assert shown.exit_code == 0, shown.output
    assert "Trần Thị Bích" in shown.output
    missing = runner.invoke(app, ["decisions", "show", "999/QĐ-BCY"])
    assert missing.exit_code == 1
    again = runner.invoke(app, ["demo"])
    assert again.exit_code == 0, again.output  # a second run works on the same data
    assert "Giao ước thi đua năm 2019" in again.output
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(COVENANTS)).scalar() == 1
        assert conn.execute(select(func.count()).select_from(COVENANT_SIGNATURES)).scalar() == 4
    engine.dispose()


def test_status_service_reports_health_and_counts(rt: Runtime) -> None:
    """/health answers ok and /api/status lists workflows and the job mode."""
    client = TestClient(create_app(rt))
    assert client.get("/health").json()["status"] == "ok"
    body = client.get("/api/status").json()
    assert body["mode"] == "embedded"
    assert {w["name"] for w in body["workflows"]} >= {"giay_khen", "huan_chuong_lao_dong"}
