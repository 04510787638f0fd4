"""`khenthuong history import FILE`: the row-by-row report, exit codes and --skip-bad."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.settings import Settings
from khenthuong.storage.db import make_engine
from khenthuong.storage.history import AWARD_RECORDS

runner = CliRunner()
HEADER = "record,person,unit,year,code,decision_number,decision_date,commendation_type,title\n"
GOOD = (
    "award,Nguyễn Văn Lâm,CCYQD,2024,CSTDCS,12/QĐ-CCYQD,2024-12-20,,\n"
    "award,Nguyễn Văn Lâm,CCYQD,2025,CSTDCS,15/QĐ-CCYQD,20/12/2025,,\n"
    "rating,Nguyễn Văn Lâm,CCYQD,2025,htxs,,,,\n"
)


@pytest.fixture
def fresh(settings: Settings) -> Settings:
    result = runner.invoke(app, ["init", "--demo"])
    assert result.exit_code == 0, result.output
    return settings


def awards(settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        n = int(conn.execute(select(func.count()).select_from(AWARD_RECORDS)).scalar_one())
    engine.dispose()
    return n


def test_history_import_reports_bad_rows_and_skip_bad_keeps_the_good(
    fresh: Settings, tmp_path: Path
) -> None:
    """A file with a bad row and a repeated row exits 1 with FILE:LINE errors and imports
    nothing; --skip-bad imports the good rows; the same file again adds nothing."""
    path = tmp_path / "lich_su.csv"
    path.write_text(
        HEADER
        + GOOD
        + "award,Nguyễn Văn Lâm,NOPE,2025,CSTDCS,1/QĐ-CCYQD,2025-01-01,,\n"
        + "award,Nguyễn Văn Lâm,CCYQD,2024,CSTDCS,12/QĐ-CCYQD,2024-12-20,,\n",
        encoding="utf-8",
    )
    before = awards(fresh)
    result = runner.invoke(app, ["history", "import", str(path)])
    assert result.exit_code == 1, result.output
    assert f"{path}:5: unit 'NOPE' is not a known unit code" in result.output
    assert f"{path}:6: trùng với dòng 2" in result.output
    assert "Không nhập dòng nào: 2 dòng lỗi trên 5" in result.output
    assert awards(fresh) == before

    result = runner.invoke(app, ["history", "import", str(path), "--skip-bad"])
    assert result.exit_code == 0, result.output
    assert "Đã nhập 3/5 dòng, tạo 1 cá nhân mới, bỏ qua 2 dòng lỗi" in result.output
    assert awards(fresh) == before + 2

    good = tmp_path / "good.csv"
    good.write_text(HEADER + GOOD, encoding="utf-8")
    result = runner.invoke(app, ["history", "import", str(good)])
    assert result.exit_code == 1, result.output
    said = "đã có trong lịch sử: Chiến sĩ thi đua cơ sở năm 2024 của Nguyễn Văn Lâm"
    assert f"{good}:2: {said}" in result.output
    assert "đã có xếp loại năm 2025" in result.output
    assert awards(fresh) == before + 2


def test_history_import_of_a_good_file_and_a_missing_one(fresh: Settings, tmp_path: Path) -> None:
    good = tmp_path / "good.csv"
    good.write_text(HEADER + GOOD, encoding="utf-8")
    result = runner.invoke(app, ["history", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "Đã nhập 3/3 dòng, tạo 1 cá nhân mới" in result.output
    result = runner.invoke(app, ["history", "import", str(tmp_path / "none.csv")])
    assert result.exit_code == 2
