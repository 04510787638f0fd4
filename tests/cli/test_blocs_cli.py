"""`khenthuong blocs list|show` and `khenthuong inspections plan|export` on a demo database."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.settings import Settings

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    """Exit code and output (stdout and stderr) with whitespace collapsed: rich wraps cells."""
    code, out = run_raw(*args)
    return code, " ".join(out.split())


def run_raw(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def table_rows(output: str) -> list[list[str]]:
    """The body rows of a rich table, a cell wrapped over several lines joined again."""
    rows: list[list[str]] = []
    for line in output.splitlines():
        if "│" not in line:
            continue
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if rows and not cells[0]:
            rows[-1] = [f"{a} {b}".strip() for a, b in zip(rows[-1], cells, strict=True)]
        else:
            rows.append(cells)
    return rows


@pytest.fixture
def demo(settings: Settings) -> Settings:
    code, out = run("init", "--demo")
    assert code == 0, out
    return settings


def test_blocs_list_and_show(demo: Settings) -> None:
    """The list names every demo bloc; show gives members, the 2019 leader, deputy and quota;
    an unknown bloc is refused by name."""
    code, out = run("blocs", "list", "--year", "2019")
    assert code == 0, out
    assert "Năm 2019" in out
    for bloc in ("KCY4", "KNCTW", "CUM2-BCA", "KCQTM-BCY"):
        assert bloc in out, bloc
    code, raw = run_raw("blocs", "show", "KCY4", "--year", "2019")
    assert code == 0, raw
    out = " ".join(raw.split())
    assert "Khối thi đua 4 Hệ Cơ yếu (KCY4) — năm 2019, đơn vị tổ chức BCY" in out
    assert table_rows(raw) == [
        ["CCYQD", "Cục Cơ yếu Quân đội", ""],
        ["CCYDCQ", "Cục Cơ yếu Đảng – Chính quyền", "Khối trưởng"],
        ["CCYCA", "Cục Cơ yếu Công an", ""],
        ["CCYNG", "Cục Cơ yếu Ngoại giao", ""],
    ]
    assert "Chỉ tiêu đề nghị Cờ thi đua của Chính phủ: 1" in out
    code, out = run("blocs", "show", "KCY4", "--year", "2020")
    assert code == 0 and "Khối trưởng năm 2020: chưa chọn" in out, out
    code, out = run("blocs", "show", "NOPE", "--year", "2019")
    assert code == 3  # not found
    assert "Không có khối thi đua 'NOPE'" in out


def read_csv(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_inspections_plan_and_export(demo: Settings, tmp_path: Path) -> None:
    """plan prints the table; the same seed regenerates the same visits; export writes CSV and
    XLSX with the same rows; pdf, an unknown bloc and a non-leader are refused."""
    plan = ["inspections", "plan", "--bloc", "KCY4", "--year", "2019"]
    code, raw = run_raw(*plan, "--seed", "5", "--as", "kt.cy")
    assert code == 0, raw
    assert "Kế hoạch kiểm tra chéo KCY4 năm 2019 (seed 5)" in " ".join(raw.split())
    printed = table_rows(raw)
    export = ["inspections", "export", "--bloc", "KCY4", "--year", "2019"]
    code, out = run(*export, "--format", "csv", "-o", str(tmp_path / "first.csv"))
    assert code == 0, out
    assert "Đã ghi 3 lượt kiểm tra" in out
    first = read_csv(tmp_path / "first.csv")
    assert first[0][:4] == ["Đơn vị kiểm tra", "Mã", "Đơn vị được kiểm tra", "Mã"]
    assert len(first) == 4  # a bloc of four: one triangle a year
    assert all(row[1] != row[3] for row in first[1:])
    # The printed table has the exported visits: "Name (CODE)", dates, report due date.
    assert [[f"{r[0]} ({r[1]})", f"{r[2]} ({r[3]})", r[4], r[5], r[6]] for r in first[1:]] == [
        row[1:6] for row in printed
    ]
    # Regenerating with the same seed gives the same visits and dates.
    assert run(*plan, "--seed", "5", "--as", "kt.cy")[0] == 0
    assert run(*export, "--format", "csv", "-o", str(tmp_path / "again.csv"))[0] == 0
    assert read_csv(tmp_path / "again.csv") == first
    # XLSX: the suffix follows the format, the rows are the CSV's; dates are typed date cells
    # shown dd/mm/yyyy, not text.
    code, out = run(*export, "--format", "xlsx", "-o", str(tmp_path / "plan.csv"))
    assert code == 0, out
    sheet = load_workbook(tmp_path / "plan.xlsx").active
    assert sheet is not None
    assert sheet.cell(row=2, column=5).number_format == "DD/MM/YYYY"

    def shown(c: object) -> str:
        return "" if c is None else f"{c:%d/%m/%Y}" if isinstance(c, datetime) else str(c)

    cells = [[shown(c) for c in row] for row in sheet.iter_rows(values_only=True)]
    assert cells == first
    code, out = run(*export, "--format", "pdf")
    assert code == 2
    assert "xlsx hoặc csv" in out
    assert not list(Path.cwd().glob("kiem-tra-cheo-KCY4-2019.pdf"))
    code, out = run("inspections", "export", "--bloc", "NOPE", "--year", "2019", "-o",
                    str(tmp_path / "nope.csv"), "--format", "csv")  # fmt: skip
    assert code == 3
    assert "Không có khối thi đua 'NOPE'" in out
    assert not (tmp_path / "nope.csv").exists()
    code, out = run("inspections", "plan", "--bloc", "NOPE", "--year", "2019", "--as", "admin")
    assert code == 3 and "Không có khối thi đua 'NOPE'" in out
    code, out = run(*plan, "--as", "cb.qd")
    assert code == 1 and "chỉ cán bộ thi đua, thủ trưởng đơn vị đó" in out
    code, out = run(*export[:4], "--year", "2020", "--format", "csv", "-o", str(tmp_path / "x"))
    assert code == 3 and "chưa có kế hoạch kiểm tra chéo năm 2020" in out


def test_inspections_plan_defaults_to_the_blocs_configured_period(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --from/--to the plan falls in the bloc's inspection_period of config/blocs.yaml
    (here moved to 02/03-29/05), not in 1 Oct - 30 Nov; the help says so."""
    import shutil
    from datetime import date

    from sqlalchemy import create_engine, select

    from khenthuong.settings import get_settings
    from khenthuong.storage.blocs import BLOCS, INSPECTION_PLANS

    config = tmp_path / "config"
    shutil.copytree(settings.config_dir, config)
    blocs = config / "blocs.yaml"
    text = blocs.read_text(encoding="utf-8")
    default = 'inspection_period: {start: "01/10", end: "30/11"}'
    assert text.count(default) == 1  # KCY4's line
    blocs.write_text(
        text.replace(default, 'inspection_period: {start: "02/03", end: "29/05"}'),
        encoding="utf-8",
    )
    monkeypatch.setenv("KHENTHUONG_CONFIG_DIR", str(config))
    get_settings.cache_clear()
    code, out = run("init", "--demo")
    assert code == 0, out
    code, raw = run_raw("inspections", "plan", "--bloc", "KCY4", "--year", "2019", "--as", "kt.cy")
    assert code == 0, raw
    rows = table_rows(raw)
    assert len(rows) == 3
    days = [
        date(int(y), int(m), int(d))
        for row in rows
        for d, m, y in (row[3].split("/"), row[4].split("/"))
    ]
    assert all(date(2019, 3, 2) <= day <= date(2019, 5, 29) for day in days), days
    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        stored = conn.execute(
            select(INSPECTION_PLANS.c.period_start, INSPECTION_PLANS.c.period_end)
            .join(BLOCS, BLOCS.c.id == INSPECTION_PLANS.c.bloc_id)
            .where(BLOCS.c.code == "KCY4", INSPECTION_PLANS.c.current.is_(True))
        ).one()
    engine.dispose()
    assert tuple(stored) == (date(2019, 3, 2), date(2019, 5, 29))
    # --from/--to still override it.
    code, raw = run_raw("inspections", "plan", "--bloc", "KCY4", "--year", "2019", "--as",
                        "kt.cy", "--from", "2019-10-01", "--to", "2019-11-30")  # fmt: skip
    assert code == 0, raw
    assert all(row[3].endswith(("/10/2019", "/11/2019")) for row in table_rows(raw))
    result = runner.invoke(app, ["inspections", "plan", "--help"], env={"COLUMNS": "240"})
    help_text = " ".join(result.output.split())
    assert "1 Oct" not in help_text and "30 Nov" not in help_text
    assert help_text.count("inspection_period") == 2, help_text
