"""The statistics report against a hand-counted ledger (SQLite and PostgreSQL): by line,
subject, women, commendation type, unit and year; revoked awards left out; a record written
without its place counted through the register; the workbook and the command line."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import insert
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.errors import Forbidden, KhenthuongError
from khenthuong.rules.statistics import Count, Layout, build_report
from khenthuong.runtime import Runtime
from khenthuong.services.actors import load_actor
from khenthuong.services.statistics import report_json, statistics_report
from khenthuong.services.statistics_export import workbook_bytes
from khenthuong.settings import PROJECT_ROOT
from khenthuong.storage.db import write_tx
from khenthuong.storage.history import AWARD_RECORDS, placement
from khenthuong.storage.models import UNITS

CONFIG = PROJECT_ROOT / "config"
AN, BICH, PHUC, TUAN = 1, 2, 3, 4
"""Demo people: An (CCYQD, nam), Bích (CCYQD, nữ), Phúc (CCYDCQ, nam), Tuấn (C07, nam)."""


def _ledger(rt: Runtime) -> None:
    """Eleven records; the hand counts are in the tests."""
    with write_tx(rt.engine) as conn:
        units = dict(conn.execute(UNITS.select().with_only_columns(UNITS.c.code, UNITS.c.id)).all())

        def award(
            code: str,
            year: int,
            kind: str = "cong_trang",
            *,
            person: int | None = None,
            unit: str | None = None,
            revoked: bool = False,
            placed: bool = True,
        ) -> None:
            unit_id = units[unit] if unit else None
            where: dict[str, Any] = (
                placement(conn, person, unit_id) if placed else {"unit_path": None}
            )
            conn.execute(insert(AWARD_RECORDS).values(
                person_id=person, unit_id=unit_id, award_code=code, year=year,
                decision_number=f"{code}/{year}", decision_date=date(year, 12, 20),
                commendation_type=kind, source="import", revoked=revoked,
                created_at=datetime.now(UTC), **where,
            ))  # fmt: skip

        award("LDTT", 2025, person=AN)  # a
        award("LDTT", 2025, person=BICH)  # b
        award("CSTDCS", 2025, person=BICH)  # c
        award("GIAY_KHEN", 2025, "dot_xuat", person=PHUC)  # d
        award("TTLDTT", 2025, unit="CCYQD")  # e: a collective
        award("BK_BO", 2025, "chuyen_de", unit="CCYDCQ")  # f: a collective
        award("BK_BO", 2025, person=TUAN)  # g: Bộ Công an
        award("LDTT", 2025, person=AN, revoked=True)  # h: revoked, never counted
        award("GIAY_KHEN", 2025, person=BICH, placed=False)  # i: written without its place
        award("LDTT", 2024, person=AN)  # j
        award("HCLD3", 2024, "cong_hien", person=PHUC)  # k


def _line(report: Any, label: str) -> dict[str, int]:
    for section in report.sections:
        for line in section.lines:
            if line.label == label:
                return dict(line.values)
    raise AssertionError(label)


def _unit(report: Any, code: str) -> Any:
    return next(u for u in report.units if u.code == code)


def test_one_unit_one_year_is_counted_by_hand(rt: Runtime) -> None:
    _ledger(rt)
    with rt.engine.connect() as conn:
        report = statistics_report(conn, CONFIG, year_from=2025, unit_code="BCY")
    # a b c d e f i (g is Bộ Công an's, h is revoked)
    assert report.total == {
        "total": 7, "collective": 2, "individual": 5, "female": 3,
        "cong_trang": 5, "chuyen_de": 1, "dot_xuat": 1, "other_type": 0,
    }  # fmt: skip
    assert _line(report, "Lao động tiên tiến, Chiến sĩ tiên tiến")["total"] == 2
    assert _line(report, "Chiến sĩ thi đua cơ sở") == {
        "total": 1, "collective": 0, "individual": 1, "female": 1,
        "cong_trang": 1, "chuyen_de": 0, "dot_xuat": 0, "other_type": 0,
    }  # fmt: skip
    assert _line(report, "Tập thể lao động tiên tiến, Đơn vị tiên tiến")["collective"] == 1
    assert _line(report, "Bằng khen cấp Bộ, ban, ngành, tỉnh")["chuyen_de"] == 1
    giay_khen = _line(report, "Giấy khen")
    assert (giay_khen["total"], giay_khen["female"], giay_khen["dot_xuat"]) == (2, 1, 1)
    assert _line(report, "Huân chương")["total"] == 0
    qd, dcq = _unit(report, "CCYQD"), _unit(report, "CCYDCQ")
    assert (qd.values["total"], qd.values["collective"], qd.values["female"]) == (5, 1, 3)
    assert qd.levels == {"co_so": 5}
    assert dcq.values["total"] == 2 and dcq.levels == {"co_so": 1, "bo_tinh": 1}
    assert _unit(report, "").values["total"] == 0  # nothing to Ban Cơ yếu's own staff
    assert _unit(report, "").name == "Ban Cơ yếu Chính phủ (không thuộc đơn vị cấp dưới)"
    assert _unit(report, "CCYCA").values["total"] == 0  # every sub-unit is listed
    assert report.years == {2025: {"nha_nuoc": 0, "chinh_phu": 0, "bo_tinh": 1, "co_so": 6,
                                   "total": 7}}  # fmt: skip


def test_a_range_of_years_for_the_whole_country(rt: Runtime) -> None:
    _ledger(rt)
    with rt.engine.connect() as conn:
        country = statistics_report(conn, CONFIG, year_from=2024, year_to=2025)
        state = statistics_report(conn, CONFIG, year_from=2024, year_to=2025, unit_code="CP")
    assert country.unit_name == "Toàn quốc" and country.total["total"] == 10
    assert [(u.code, u.values["total"]) for u in country.units] == [("CP", 10)]
    assert country.years[2024] == {"nha_nuoc": 1, "chinh_phu": 0, "bo_tinh": 0, "co_so": 1,
                                   "total": 2}  # fmt: skip
    assert country.years[2025]["total"] == 8 and country.years[2025]["bo_tinh"] == 2
    assert country.total["other_type"] == 1  # cống hiến (k)
    assert _unit(state, "BCY").values["total"] == 9 and _unit(state, "BCA").values["total"] == 1
    assert report_json(state)["years"]["2024"]["total"] == 2  # type: ignore[index]


def test_who_may_read_which_report(rt: Runtime) -> None:
    _ledger(rt)
    with rt.engine.connect() as conn:
        officer = load_actor(conn, "cb.qd")
        own = statistics_report(conn, CONFIG, year_from=2025, unit_code="CCYQD", actor=officer)
        assert own.total["total"] == 5
        with pytest.raises(Forbidden):
            statistics_report(conn, CONFIG, year_from=2025, unit_code="BCY", actor=officer)
        with pytest.raises(Forbidden) as whole:
            statistics_report(conn, CONFIG, year_from=2025, actor=officer)
        assert str(whole.value).endswith(": chọn đơn vị của mình")  # the page shows it too
        with pytest.raises(KhenthuongError, match="trước năm đầu"):
            statistics_report(conn, CONFIG, year_from=2025, year_to=2024)


def test_the_workbook_has_the_form_layout_with_typed_cells(rt: Runtime) -> None:
    _ledger(rt)
    with rt.engine.connect() as conn:
        report = statistics_report(conn, CONFIG, year_from=2025, unit_code="BCY")
    book = load_workbook(io.BytesIO(workbook_bytes(report)))
    assert book.sheetnames == ["Biểu thống kê", "Theo đơn vị", "Theo năm"]
    ws = book["Biểu thống kê"]
    assert ws["A1"].value == "BÁO CÁO THỐNG KÊ THI ĐUA, KHEN THƯỞNG"
    assert ws["A2"].value == "Ban Cơ yếu Chính phủ — năm 2025"
    assert [ws.cell(row=5, column=c).value for c in (1, 2, 3, 4, 5, 8)] == [
        "STT", "Danh hiệu thi đua, hình thức khen thưởng", "Cấp khen thưởng", "Tổng số",
        "Chia theo đối tượng", "Chia theo loại hình khen thưởng",
    ]  # fmt: skip
    assert [ws.cell(row=6, column=c).value for c in range(5, 12)] == [
        "Tập thể", "Cá nhân", "Trong đó nữ", "Thường xuyên (công trạng)",
        "Theo đợt (chuyên đề)", "Đột xuất", "Loại hình khác",
    ]  # fmt: skip
    last = ws.max_row
    assert ws.cell(row=last, column=2).value == "Tổng cộng"
    assert ws.cell(row=last, column=4).value == 7 and ws.cell(row=last, column=4).data_type == "n"
    units = book["Theo đơn vị"]
    row = next(
        r for r in units.iter_rows(min_row=7, values_only=True) if r[1] == "Cục Cơ yếu Quân đội"
    )
    assert row[2:6] == (5, 1, 4, 3)


def test_an_award_no_row_lists_goes_to_the_other_line_of_its_category() -> None:
    layout = Layout.model_validate({
        "title": "T", "basis": "B", "levels": {"co_so": "Cơ sở", "bo_tinh": "Bộ"},
        "sections": [
            {"key": "title", "title": "I",
             "rows": [{"label": "LĐTT", "awards": ["LDTT"], "level": "co_so"}]},
            {"key": "form", "title": "II",
             "rows": [{"label": "BK", "awards": ["BK_BO"], "level": "bo_tinh"}]},
        ],
    })  # fmt: skip
    counts = [
        Count("LDTT", 2025, "cong_trang", False, True, "A", 3),
        Count("GIAY_KHEN", 2025, "dot_xuat", True, False, "B", 2),
        Count("NEW_TITLE", 2025, "cong_trang", False, False, "A", 1),
    ]
    report = build_report(
        layout, counts, categories={"LDTT": "title", "GIAY_KHEN": "form", "BK_BO": "form"},
        unit_code="X", unit_name="X", children={"A": "Đơn vị A"}, year_from=2025, year_to=2025,
    )  # fmt: skip
    assert [(x.label, x.values["total"]) for x in report.sections[0].lines] == [("LĐTT", 3)]
    assert [(x.label, x.values["total"]) for x in report.sections[1].lines] == [
        ("BK", 0), ("Khác", 3),
    ]  # fmt: skip
    assert report.unknown == {"NEW_TITLE": 1}
    assert [(u.code, u.name, u.values["total"]) for u in report.units] == [
        ("A", "Đơn vị A", 4), ("B", "B", 2),
    ]  # fmt: skip
    with pytest.raises(ValueError, match="two rows"):
        Layout.model_validate({
            "title": "T", "basis": "B", "levels": {"co_so": "Cơ sở"},
            "sections": [{"key": "title", "title": "I", "rows": [
                {"label": "a", "awards": ["LDTT"], "level": "co_so"},
                {"label": "b", "awards": ["LDTT"], "level": "co_so"},
            ]}],
        })  # fmt: skip


def test_the_stats_command(rt: Runtime, tmp_path: Path) -> None:
    _ledger(rt)
    runner = CliRunner()
    result = runner.invoke(app, ["stats", "--year", "2025", "--unit", "BCY", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"]["total"] == 7 and data["unit_name"] == "Ban Cơ yếu Chính phủ"
    out = tmp_path / "thong-ke.xlsx"
    result = runner.invoke(
        app, ["stats", "--year", "2024", "--to", "2025", "--format", "xlsx", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert load_workbook(out)["Theo năm"].cell(row=7, column=1).value == 2024
    result = runner.invoke(app, ["stats", "--year", "2025", "--unit", "BCY"])
    assert result.exit_code == 0 and "Ban Cơ yếu Chính phủ, năm 2025" in result.output
    result = runner.invoke(app, ["stats", "--year", "2025", "--unit", "BCY", "--as", "cb.qd"])
    assert result.exit_code == 1 and "không được xem thống kê" in result.output
