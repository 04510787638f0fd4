"""Covenant commands: launch, sign, report, vote into nominations; bad input refused."""

from __future__ import annotations

import json
import re

from sqlalchemy import select
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.settings import Settings
from khenthuong.storage.db import make_engine
from khenthuong.storage.models import NOMINATIONS

runner = CliRunner()
MEMBERS = ["CCYQD", "CCYDCQ", "CCYCA", "CCYNG"]


def squash(text: str) -> str:
    """Text without spaces and table rules, to find a phrase a table cell wrapped."""
    return re.sub(r"[\s│┃]+", "", text)


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "240"})  # tables unwrapped
    return result.exit_code, " ".join(result.output.split())


def test_covenant_cycle_through_the_cli(settings: Settings) -> None:
    """A bloc launches, signs, reports and votes; the leading member becomes a Cờ thi đua của
    Chính phủ nomination, the next the flag of Ban Cơ yếu."""
    assert run("init", "--demo")[0] == 0
    code, out = run(
        "covenants",
        "launch",
        "--bloc",
        "KCY4",
        "--year",
        "2019",
        "--theme",
        "Đoàn kết",
        "--target",
        "ht:at_least:100%:100% hoàn thành nhiệm vụ",
        "--target",
        "dv:more_than:80%:Trên 80% đảng viên",
        "--date",
        "2019-03-07",
        "--as",
        "kt.cy",
    )
    assert code == 0, out
    sign = ["covenants", "sign", "--bloc", "KCY4", "--year", "2019"]
    # The bloc leader does not sign for the members; each member's head does.
    code, out = run(*sign, "--unit", "CCYCA", "--as", "kt.cy")
    assert code == 1 and "không được ký giao ước thay đơn vị" in out, out
    code, out = run(*sign, "--unit", "CCYCA", "--as", "cb.qd")
    assert (
        code == 1
        and "Nguyễn Thị Hoa không phải cán bộ thi đua hay thủ trưởng của Cục Cơ yếu Công an" in out
    ), out
    for unit, head in zip(MEMBERS, ("tt.qd", "tt.dcq", "tt.ca", "tt.ng"), strict=True):
        code, out = run(*sign, "--unit", unit, "--as", head)
        assert code == 0 and "Đã ghi 1 chữ ký giao ước" in out, out
    code, out = run(
        "covenants",
        "report",
        "--bloc",
        "KCY4",
        "--year",
        "2019",
        "--round",
        "so_ket",
        "--unit",
        "CCYNG",
        "--value",
        "ht=100",
        "--value",
        "dv=80",
        "--as",
        "cb.qd",
    )
    assert code == 1 and "không được báo cáo, chấm điểm cho đơn vị này" in out, out
    for unit, dv in zip(MEMBERS, ("85", "90", "70", "60"), strict=True):
        code, out = run(
            "covenants",
            "report",
            "--bloc",
            "KCY4",
            "--year",
            "2019",
            "--round",
            "tong_ket",
            "--unit",
            unit,
            "--value",
            "ht=100",
            "--value",
            f"dv={dv}",
            "--as",
            "kt.cy",
        )
        assert code == 0, out
    # The last report again, for a program: the score with each target's line, codes kept.
    result = runner.invoke(
        app,
        ["covenants", "report", "--bloc", "KCY4", "--year", "2019", "--round", "tong_ket",
         "--unit", MEMBERS[-1], "--value", "ht=100", "--value", "dv=60", "--as", "kt.cy",
         "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    score = json.loads(result.stdout)
    assert score["unit"] == MEMBERS[-1] and score["round"] == "tong_ket"
    assert {line["code"] for line in score["lines"]} == {"ht", "dv"}
    assert score["total"] == round(sum(line["earned"] for line in score["lines"])
                                   - sum(d["lost"] for d in score["deductions"]), 2)  # fmt: skip
    code, out = run(
        "covenants",
        "vote",
        "--bloc",
        "KCY4",
        "--year",
        "2019",
        "--votes",
        "CCYDCQ=4",
        "--voters",
        "4",
        "--as",
        "kt.cy",
    )
    assert code == 0, out
    # The proposals themselves (the table's award column may wrap at a narrow terminal).
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        made = sorted(
            conn.execute(select(NOMINATIONS.c.workflow, NOMINATIONS.c.nominee_name)).all()
        )
    engine.dispose()
    assert ("co_thi_dua_chinh_phu", "Cục Cơ yếu Đảng – Chính quyền") in made, made
    assert any(w == "co_thi_dua_cap_bo" for w, _ in made), made
    assert "Cờ thi đua" in out, out
    code, out = run("covenants", "scores", "--bloc", "KCY4", "--year", "2019")
    # the computation column is the last: a wrapped cell continues on the next line
    assert code == 0 and squash("dv: không đạt (70; trên 80\u00a0%) → 0") in squash(out), out
    code, out = run(
        "covenants",
        "report",
        "--bloc",
        "KCY4",
        "--year",
        "2019",
        "--round",
        "cuoi_nam",
        "--unit",
        "CCYQD",
        "--value",
        "ht=1",
        "--as",
        "kt.cy",
    )
    assert code == 1 and "dùng so_ket (sơ kết) hoặc tong_ket (tổng kết)" in out
    code, out = run(
        "covenants",
        "vote",
        "--bloc",
        "KCY4",
        "--year",
        "2019",
        "--votes",
        "CCYQD=x",
        "--voters",
        "4",
        "--as",
        "kt.cy",
    )
    assert code == 2
