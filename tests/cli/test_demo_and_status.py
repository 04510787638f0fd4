"""The walk-through (`khenthuong demo`, docs/guide/walkthrough.md) and the status service, end to end."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.runtime import Runtime
from khenthuong.settings import Settings
from khenthuong.storage.blocs import COVENANT_SIGNATURES, COVENANTS, INSPECTION_PLANS
from khenthuong.storage.db import make_engine
from khenthuong.storage.models import NOMINATIONS
from khenthuong.storage.outbox import OUTBOX
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
    assert "7.020.000 đồng" in flat
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
    assert missing.exit_code == 3  # not found
    maildir = Path(os.environ["KHENTHUONG_MAILDIR"]) / "new"
    sent = sorted(maildir.iterdir())
    assert len(sent) >= 10  # the plans' notices to every member of both blocs, and steps
    engine = make_engine(settings.database_url)

    def counts() -> tuple[int, ...]:
        plan_notices = select(func.count()).where(OUTBOX.c.kind == "inspection_plan")
        with engine.connect() as conn:
            return (
                *(int(conn.execute(select(func.count()).select_from(t)).scalar() or 0)
                  for t in (COVENANTS, COVENANT_SIGNATURES, INSPECTION_PLANS)),
                int(conn.execute(plan_notices).scalar() or 0),
                int(conn.execute(select(func.count()).select_from(NOMINATIONS)).scalar() or 0),
            )  # fmt: skip

    before = counts()
    again = runner.invoke(app, ["demo"])
    assert again.exit_code == 0, again.output  # a second run works on the same data
    assert "không gửi lại thư" in " ".join(again.output.split())
    assert counts() == before and sorted(maildir.iterdir()) == sent  # nothing new, no mail
    forced = runner.invoke(app, ["demo", "--again"])
    assert forced.exit_code == 0, forced.output
    assert "Giao ước thi đua năm 2019" in forced.output
    assert "đã lập và gửi ở lần chạy trước" in " ".join(forced.output.split())
    *kept, nominations = counts()
    assert kept == list(before[:4]) and before[:4] == (1, 4, 2, 10)  # no plan again, no mail
    assert nominations > before[4]  # the nominations are walked again, as asked
    engine.dispose()


def test_status_service_reports_health_and_counts(rt: Runtime) -> None:
    """/health answers ok and /api/status lists workflows and the job mode."""
    client = TestClient(create_app(rt))
    assert client.get("/health").json()["status"] == "ok"
    body = client.get("/api/status").json()
    assert body["mode"] == "embedded"
    assert {w["name"] for w in body["workflows"]} >= {"giay_khen", "huan_chuong_lao_dong"}
