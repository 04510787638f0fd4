"""Covenant commands: launch, sign, report, vote into nominations; bad input refused."""

from __future__ import annotations

from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.settings import Settings

runner = CliRunner()
MEMBERS = ["CCYQD", "CCYDCQ", "CCYCA", "CCYNG"]


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
        code == 1 and "cb.qd không phải cán bộ thi đua hay thủ trưởng của Cục Cơ yếu Công an" in out
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
    assert "Cờ thi đua của Chính phủ" in out and "Cờ thi đua của Ban Cơ yếu Chính phủ" in out
    code, out = run("covenants", "scores", "--bloc", "KCY4", "--year", "2019")
    assert code == 0 and "dv: không đạt (70; trên 80 %) → 0" in out, out
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
