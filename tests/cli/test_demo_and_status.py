"""The README's walk-through and the status service, end to end."""

from __future__ import annotations

from fastapi.testclient import TestClient
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.runtime import Runtime
from khenthuong.settings import Settings
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
    shown = runner.invoke(app, ["decisions", "show", "2/QĐ-BCY"])
    assert shown.exit_code == 0, shown.output
    assert "Trần Thị Bích" in shown.output
    missing = runner.invoke(app, ["decisions", "show", "999/QĐ-BCY"])
    assert missing.exit_code == 1
    assert runner.invoke(app, ["demo"]).exit_code == 0  # a second run works on the same data


def test_status_service_reports_health_and_counts(rt: Runtime) -> None:
    """/health answers ok and /api/status lists workflows and the job mode."""
    client = TestClient(create_app(rt))
    assert client.get("/health").json()["status"] == "ok"
    body = client.get("/api/status").json()
    assert body["mode"] == "embedded"
    assert {w["name"] for w in body["workflows"]} >= {"giay_khen", "huan_chuong_lao_dong"}
