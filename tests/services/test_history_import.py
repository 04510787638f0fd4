"""Importing past award history from CSV and XLSX with row-by-row errors."""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import func, select

from khenthuong.rules.catalog import catalog_in
from khenthuong.runtime import Runtime
from khenthuong.services.history_import import import_history
from khenthuong.storage.db import write_tx
from khenthuong.storage.history import AWARD_RECORDS, BLOCKERS, INITIATIVES, YEARLY_RATINGS

HEADER = (
    "record,person,unit,year,code,decision_number,decision_date,commendation_type,title,ends_on\n"
)
GOOD = (
    "award,Nguyễn Văn An,CCYQD,2024,CSTDCS,12/QĐ-CCYQD,2024-12-20,,,\n"
    "award,Nguyễn Văn An,CCYQD,2025,CSTDCS,15/QĐ-CCYQD,20/12/2025,,,\n"
    "rating,Nguyễn Văn An,CCYQD,2025,htxs,,,,,\n"
    "initiative,Nguyễn Văn An,CCYQD,2025,ministry,7/QĐ-BCY,2025-10-01,,Giải pháp quản lý khóa,\n"
    "award,,CCYDCQ,2025,TTLDXS,3/QĐ-BCY,2025-12-28,,,\n"
    "blocker,Người Mới,CCYCA,,discipline,9/QĐ,2026-01-05,,Khiển trách,2026-07-05\n"
)
CODES = {"CSTDCS", "TTLDXS", "BK_BO"}


def count(rt: Runtime, table: object) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_good_csv_imports_every_kind_of_record(rt: Runtime, tmp_path: Path) -> None:
    """Awards for a person and a unit, a rating, an initiative and a blocker are imported."""
    path = tmp_path / "lich_su.csv"
    path.write_text(HEADER + GOOD, encoding="utf-8")
    with write_tx(rt.engine) as conn:
        report = import_history(conn, path, award_codes=CODES)
    assert report.errors == []
    assert (report.rows, report.imported, report.persons_created) == (6, 6, 1)
    assert count(rt, AWARD_RECORDS) == 3
    assert (count(rt, YEARLY_RATINGS), count(rt, INITIATIVES), count(rt, BLOCKERS)) == (1, 1, 1)


def test_file_with_bad_rows_imports_nothing_and_names_each_row(rt: Runtime, tmp_path: Path) -> None:
    """Unknown unit, unknown award code and a bad date are reported by line; nothing is written."""
    path = tmp_path / "bad.csv"
    path.write_text(
        HEADER
        + GOOD
        + "award,Trần B,NOPE,2025,CSTDCS,1/QĐ,2025-01-01,,,\n"
        + "award,Trần B,CCYQD,2025,CSTD_XYZ,1/QĐ,2025-01-01,,,\n"
        + "award,Trần B,CCYQD,2025,CSTDCS,1/QĐ,31-13-2025,,,\n",
        encoding="utf-8",
    )
    with write_tx(rt.engine) as conn:
        report = import_history(conn, path, award_codes=CODES)
    assert [line for line, _ in report.errors] == [8, 9, 10]
    assert "NOPE" in report.errors[0][1]
    assert "CSTD_XYZ" in report.errors[1][1]
    assert "31-13-2025" in report.errors[2][1]
    assert report.imported == 0
    assert count(rt, AWARD_RECORDS) == 0


def test_skip_bad_keeps_the_good_rows(rt: Runtime, tmp_path: Path) -> None:
    """With skip_bad the good rows go in and the bad ones are still reported."""
    path = tmp_path / "mixed.csv"
    path.write_text(HEADER + GOOD + "rating,Trần B,CCYQD,2025,tot,,,,,\n", encoding="utf-8")
    with write_tx(rt.engine) as conn:
        report = import_history(conn, path, award_codes=CODES, skip_bad=True)
    assert report.imported == 6
    assert len(report.errors) == 1
    assert "tot" in report.errors[0][1]


def test_xlsx_is_read_like_csv(rt: Runtime, tmp_path: Path) -> None:
    """An Excel sheet with the same columns (dates as cells) imports the same way."""
    from datetime import datetime

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(HEADER.strip().split(","))
    ws.append(["award", "Lê Hoàng Phúc", "CCYDCQ", 2025, "CSTDCS", "4/QĐ", datetime(2025, 12, 1)])
    ws.append(["rating", "Lê Hoàng Phúc", "CCYDCQ", 2025, "htt"])
    path = tmp_path / "lich_su.xlsx"
    wb.save(path)
    with write_tx(rt.engine) as conn:
        report = import_history(conn, path, award_codes=CODES)
    assert report.errors == []
    assert report.imported == 2


def test_a_row_repeated_in_the_file_is_an_error_naming_both_rows(
    rt: Runtime, tmp_path: Path
) -> None:
    """The same award (or rating) twice in one file: the repeat names the first row and
    nothing is written; with skip_bad the first is written once."""
    path = tmp_path / "trung.csv"
    path.write_text(
        HEADER
        + GOOD
        + "award,Nguyễn Văn An,CCYQD,2024,CSTDCS,12/QĐ-CCYQD,20/12/2024,,,\n"
        + "rating,Nguyễn Văn An,CCYQD,2025,htt,,,,,\n",
        encoding="utf-8",
    )
    with write_tx(rt.engine) as conn:
        report = import_history(conn, path, award_codes=CODES)
    assert [line for line, _ in report.errors] == [8, 9]
    assert report.errors[0][1].startswith("trùng với dòng 2: CSTDCS năm 2024 của Nguyễn Văn An")
    assert "trùng với dòng 2" in report.errors[0][1]
    assert report.errors[1][1].startswith("trùng với dòng 4: xếp loại năm 2025")
    assert count(rt, AWARD_RECORDS) == 0
    with write_tx(rt.engine) as conn:  # with the catalog, the award is named, not coded
        named = import_history(conn, path, catalog=catalog_in(rt.settings.config_dir))
    assert named.errors[0][1].startswith(
        "trùng với dòng 2: Chiến sĩ thi đua cơ sở năm 2024 của Nguyễn Văn An"
    )
    assert count(rt, AWARD_RECORDS) == 0
    with write_tx(rt.engine) as conn:
        report = import_history(conn, path, award_codes=CODES, skip_bad=True)
    assert report.imported == 6 and len(report.errors) == 2
    with rt.engine.connect() as conn:
        awards = conn.execute(
            select(func.count())
            .select_from(AWARD_RECORDS)
            .where(AWARD_RECORDS.c.year == 2024, AWARD_RECORDS.c.award_code == "CSTDCS")
        ).scalar_one()
    assert awards == 1


def test_importing_the_same_file_twice_adds_nothing(rt: Runtime, tmp_path: Path) -> None:
    """Every row of a re-imported file is already in the history: each is reported and
    nothing is added (with or without skip_bad)."""
    path = tmp_path / "lich_su.csv"
    path.write_text(HEADER + GOOD, encoding="utf-8")
    with write_tx(rt.engine) as conn:
        assert import_history(conn, path, award_codes=CODES).errors == []
    before = [count(rt, t) for t in (AWARD_RECORDS, YEARLY_RATINGS, INITIATIVES, BLOCKERS)]
    for skip in (False, True):
        with write_tx(rt.engine) as conn:
            report = import_history(conn, path, award_codes=CODES, skip_bad=skip)
        assert [line for line, _ in report.errors] == [2, 3, 4, 5, 6, 7]
        assert all("đã có" in message for _, message in report.errors)
        assert report.imported == 0
    after = [count(rt, t) for t in (AWARD_RECORDS, YEARLY_RATINGS, INITIATIVES, BLOCKERS)]
    assert after == before


def test_a_discipline_carries_its_level(rt: Runtime, tmp_path: Path) -> None:
    """The `level` column takes a code or the Vietnamese name (any case); it is refused for
    an investigation, when unknown, and an end before the start is refused too."""
    head = HEADER.rstrip("\n") + ",level\n"
    rows = (
        "blocker,Người A,CCYCA,,discipline,9/QĐ,2026-01-05,,,2026-07-05,Cảnh cáo\n"
        "blocker,Người B,CCYCA,,discipline,10/QĐ,2026-01-05,,,,khien_trach\n"
        "blocker,Người C,CCYCA,,discipline,11/QĐ,2026-01-05,,,,\n"
    )
    bad = (
        "blocker,Người D,CCYCA,,investigation,12/QĐ,2026-01-05,,,,canh_cao\n"
        "blocker,Người E,CCYCA,,discipline,13/QĐ,2026-01-05,,,,phê bình\n"
        "blocker,Người F,CCYCA,,discipline,14/QĐ,2026-01-05,,,2025-12-31,\n"
    )
    path = tmp_path / "ky_luat.csv"
    path.write_text(head + rows + bad, encoding="utf-8")
    with write_tx(rt.engine) as conn:
        report = import_history(conn, path, award_codes=CODES, skip_bad=True)
        levels = conn.execute(select(BLOCKERS.c.level).order_by(BLOCKERS.c.id)).scalars().all()
    assert levels == ["canh_cao", "khien_trach", None]
    assert [line for line, _ in report.errors] == [5, 6, 7]
    assert "only for a discipline" in report.errors[0][1]
    assert "'phê bình' must be one of khien_trach" in report.errors[1][1]
    assert "is before decision_date" in report.errors[2][1]


def test_a_name_in_another_case_or_spacing_is_the_registered_person(
    rt: Runtime, tmp_path: Path
) -> None:
    """A discipline imported for 'trần  THỊ bích' lands on Trần Thị Bích of the register (the
    person a typed nomination resolves to), not on a second record of her; a name written
    without its diacritics is somebody else."""
    from khenthuong.storage.models import PERSONS

    path = tmp_path / "ky_luat.csv"
    path.write_text(
        HEADER
        + "blocker,trần  THỊ bích,CCYQD,,discipline,9/QĐ,2026-01-05,,Khiển trách,2026-07-05\n"
        + "rating,Trần Thị Bích,CCYQD,2025,htxs,,,,,\n"
        + "rating,Tran Thi Bich,CCYQD,2025,ht,,,,,\n",
        encoding="utf-8",
    )
    with rt.engine.connect() as conn:
        bich = conn.execute(
            select(PERSONS.c.id).where(PERSONS.c.full_name == "Trần Thị Bích")
        ).scalar_one()
    with write_tx(rt.engine) as conn:
        report = import_history(conn, path, award_codes=CODES)
    assert report.errors == [] and report.persons_created == 1
    with rt.engine.connect() as conn:
        assert conn.execute(select(BLOCKERS.c.person_id)).scalars().all() == [bich]
        rated = conn.execute(select(YEARLY_RATINGS.c.person_id)).scalars().all()
    assert bich in rated and len(set(rated)) == 2


def test_commendation_type_by_code_or_vietnamese_name(rt: Runtime, tmp_path: Path) -> None:
    """The type column takes a code or the Vietnamese name; an ad-hoc Bằng khen is stored as
    dot_xuat (it will not count toward a merit award); an unknown type names the accepted."""
    path = tmp_path / "types.csv"
    path.write_text(
        HEADER
        + "award,Nguyễn Văn An,CCYQD,2023,BK_BO,5/QĐ-BCY,2023-06-01,Đột xuất,,\n"
        + "award,Nguyễn Văn An,CCYQD,2024,BK_BO,8/QĐ-BCY,2024-06-01,theo_dot,,\n"
        + "award,Nguyễn Văn An,CCYQD,2025,BK_BO,9/QĐ-BCY,2025-06-01,thuong xuyen,,\n"
        + "award,Nguyễn Văn An,CCYQD,2022,BK_BO,4/QĐ-BCY,2022-06-01,hang_nam,,\n",
        encoding="utf-8",
    )
    with write_tx(rt.engine) as conn:
        report = import_history(conn, path, award_codes=CODES, skip_bad=True)
    assert [line for line, _ in report.errors] == [5]
    assert "'hang_nam'" in report.errors[0][1] and "theo_dot/chuyen_de" in report.errors[0][1]
    with rt.engine.connect() as conn:
        stored = dict(
            conn.execute(select(AWARD_RECORDS.c.year, AWARD_RECORDS.c.commendation_type)).all()
        )
    assert stored == {2023: "dot_xuat", 2024: "chuyen_de", 2025: "cong_trang"}


def test_a_formula_person_cell_without_a_value_is_refused_not_made_a_unit_award(
    rt: Runtime, tmp_path: Path
) -> None:
    """Before: an uncomputed formula read as an empty person, so the row became a collective
    award of the unit (exit 0). Now the row is refused, naming the cell, and nothing is written."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["record", "person", "unit", "year", "code", "decision_number", "decision_date"])
    ws.append(["award", '=A1&"x"', "CCYQD", 2025, "CSTDCS", "3/QĐ-CCYQD", "2025-12-20"])
    path = tmp_path / "cong-thuc.xlsx"
    wb.save(path)
    with write_tx(rt.engine) as conn:
        report = import_history(conn, path, award_codes=CODES)
    assert report.errors == [
        (2, "ô B2 là công thức chưa có giá trị; mở tệp bằng Excel, lưu lại (hoặc dán giá trị) "
            "rồi nhập lại")
    ]  # fmt: skip
    assert report.imported == 0 and count(rt, AWARD_RECORDS) == 0


def test_an_unknown_column_is_named_and_nothing_is_imported(rt: Runtime, tmp_path: Path) -> None:
    path = tmp_path / "cot-la.csv"
    path.write_text(HEADER.replace("ends_on", "ghi_chu") + GOOD, encoding="utf-8")
    with write_tx(rt.engine) as conn:
        report = import_history(conn, path, award_codes=CODES)
    assert len(report.errors) == 1 and report.errors[0][0] == 1
    assert "cột không có trong mẫu: ghi_chu" in report.errors[0][1]
    assert report.imported == 0
