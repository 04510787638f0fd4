"""Benchmark: importing a 5,000-row danh sách, and rendering a 5,000-line decision.

Run:  .venv/bin/python bench/documents.py [--rows 5000] [--quick] [--no-pdf]

On a temporary SQLite database seeded with the demo organisations:

- import: `services.proposal_import` as `khenthuong proposals import` runs it (check every
  row, preview each row's eligibility, create the batch and its nominations in one
  transaction; no progress bar here) of an XLSX of ROWS individuals already registered
  (persons inserted in bulk) – target < 10 s. Baseline in the same run: reading the same
  file with openpyxl alone (read-only, values only).
- render: `services.documents.render_document` of a quyết định whose danh sách kèm theo has
  ROWS lines, to DOCX and to PDF (LibreOffice headless) – target < 30 s each. The decision
  and its ROWS items are INSERTED DIRECTLY into the decision / decision_item tables over the
  imported nominations (the workflow up to a decision is not run: it would take far longer
  than the rendering measured). Baseline: writing the same ROWS × 5 table with python-docx
  alone (no template, no database).

Prints figures only (no assertions); PASS / MISS against the targets.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from datetime import UTC, datetime
from itertools import product
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p).resolve() != Path(__file__).resolve().parent]

from sqlalchemy import insert, select  # noqa: E402

from khenthuong.documents.text import money  # noqa: E402
from khenthuong.localtime import LOCAL_TZ  # noqa: E402
from khenthuong.rules.catalog import catalog_in  # noqa: E402
from khenthuong.rules.issuers import number_key  # noqa: E402
from khenthuong.rules.money import award_money  # noqa: E402
from khenthuong.runtime import open_runtime  # noqa: E402
from khenthuong.services import proposal_import as imp  # noqa: E402
from khenthuong.services.actors import load_actor  # noqa: E402
from khenthuong.services.documents import DocumentRequest, render_document  # noqa: E402
from khenthuong.services.org import apply_seed, load_seed  # noqa: E402
from khenthuong.services.proposal_import import TEMPLATE_HEADERS  # noqa: E402
from khenthuong.settings import PROJECT_ROOT, Settings  # noqa: E402
from khenthuong.storage.db import inserted_id, make_engine, write_tx  # noqa: E402
from khenthuong.storage.decisions import DECISION_ITEMS, DECISIONS  # noqa: E402
from khenthuong.storage.models import PERSONS, UNITS  # noqa: E402
from khenthuong.textsearch import name_key  # noqa: E402

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô")
MIDDLE = ("Văn", "Thị", "Minh", "Quốc", "Thu", "Đình", "Ngọc", "Hữu", "Thanh", "Xuân")
GIVEN = ("Đức", "Hạnh", "Tuấn", "Huy", "Trang", "Khải", "Ánh", "Bình", "Việt", "Hương")
LAST = ("An", "Bảo", "Châu", "Dũng", "Giang", "Hòa", "Lâm", "Phúc", "Sơn", "Yến")
UNIT, AWARD, NUMBER = "CCYQD", "GIAY_KHEN", "999/QĐ-CCYQD"
IMPORT_TARGET_S, RENDER_TARGET_S = 10.0, 30.0


def names(count: int) -> list[str]:
    """`count` distinct Vietnamese full names (up to 10,000), NFC."""
    combos = product(FAMILY, MIDDLE, GIVEN, LAST)
    return [" ".join(c) for c, _ in zip(combos, range(count), strict=False)]


def seed(url: str):  # type: ignore[no-untyped-def]
    from khenthuong.storage.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    rt = open_runtime(Settings(database_url=url), engine=engine)
    with write_tx(engine) as conn:
        apply_seed(conn, load_seed(PROJECT_ROOT / "config" / "demo.yaml", rt.roles), rt.roles)
    return rt


def register(rt, people: list[str]) -> None:  # type: ignore[no-untyped-def]
    """The persons, inserted in bulk into the register of UNIT."""
    with write_tx(rt.engine) as conn:
        unit_id = conn.execute(select(UNITS.c.id).where(UNITS.c.code == UNIT)).scalar_one()
        conn.execute(
            insert(PERSONS),
            [
                {"full_name": n, "name_key": name_key(n), "unit_id": unit_id,
                 "position": "Kỹ thuật viên mật mã"}
                for n in people
            ],
        )  # fmt: skip


def write_list(path: Path, people: list[str]) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(TEMPLATE_HEADERS)
    for i, name in enumerate(people, 1):
        sheet.append([str(i), name, "Cá nhân", "Kỹ thuật viên mật mã", UNIT, "Giấy khen",
                      "Hoàn thành xuất sắc nhiệm vụ năm", "", "", ""])  # fmt: skip
    book.save(path)


def read_baseline(path: Path) -> tuple[float, int]:
    from openpyxl import load_workbook

    start = time.perf_counter()
    book = load_workbook(path, read_only=True, data_only=True)
    sheet = book.active
    assert sheet is not None
    rows = sum(1 for _ in sheet.iter_rows(min_row=2, values_only=True))
    book.close()
    return time.perf_counter() - start, rows


def import_list(rt, path: Path) -> tuple[float, list[int]]:  # type: ignore[no-untyped-def]
    """What `proposals import` does (check, preview, create in one transaction), timed."""
    catalog = catalog_in(rt.settings.config_dir)
    with rt.engine.connect() as conn:
        actor = load_actor(conn, "cb.qd")
    start = time.perf_counter()
    with write_tx(rt.engine) as conn:
        planned = imp.check_file(conn, catalog, path, proposing_unit=UNIT)
        imp.preview(conn, planned, datetime.now(LOCAL_TZ).year)
        made = imp.create_from(
            conn, rt.registry, planned, source=path, proposing_unit=UNIT, actor=actor,
            title="Bench", year=None, commendation_type="cong_trang", receiving_unit=None,
            max_bytes=rt.settings.max_attachment_bytes,
        )  # fmt: skip
    return time.perf_counter() - start, made.nomination_ids


def insert_decision(rt, nomination_ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    """A decision over the nominations, written straight into its tables (no workflow)."""
    catalog = catalog_in(rt.settings.config_dir)
    today = datetime.now(LOCAL_TZ).date()
    rule = catalog.rules_for(AWARD, today)
    base = catalog.base_salary_on(today)
    amount = award_money(rule.coefficient, base)
    with write_tx(rt.engine) as conn:
        unit_id = conn.execute(select(UNITS.c.id).where(UNITS.c.code == UNIT)).scalar_one()
        decision_id = inserted_id(conn.execute(
            insert(DECISIONS).values(
                number=NUMBER, number_key=number_key(NUMBER), number_year=today.year,
                decided_on=today, signer="Nguyễn Văn Thủ Trưởng", authority_unit_id=unit_id,
                award_code=AWARD, created_by="bench", created_at=datetime.now(UTC),
            )
        ))  # fmt: skip
        conn.execute(
            insert(DECISION_ITEMS),
            [
                {"decision_id": decision_id, "nomination_id": n,
                 "coefficient": rule.coefficient, "base_salary_vnd": base, "amount_vnd": amount}
                for n in nomination_ids
            ],
        )  # fmt: skip


def render_timed(rt, fmt: str) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    with rt.engine.connect() as conn:
        actor = load_actor(conn, "tt.qd")
    start = time.perf_counter()
    rendered = render_document(
        rt.engine, catalog_in(rt.settings.config_dir), rt.settings.config_dir,
        DocumentRequest("quyet-dinh", NUMBER, fmt, actor), soffice=rt.settings.soffice,
    )  # fmt: skip
    return time.perf_counter() - start, len(rendered.content)


def docx_baseline(people: list[str]) -> tuple[float, int]:
    """The same ROWS × 5 table (STT, name, position and unit, award, money) by python-docx."""
    from docx import Document

    start = time.perf_counter()
    doc = Document()
    table = doc.add_table(rows=1, cols=5)
    for cell, text in zip(table.rows[0].cells, ("STT", "Họ và tên", "Chức vụ, đơn vị",
                                                 "Hình thức", "Tiền thưởng"), strict=True):  # fmt: skip
        cell.text = text
    for i, name in enumerate(people, 1):
        cells = table.add_row().cells
        values = (str(i), name, "Kỹ thuật viên mật mã, Cục Cơ yếu Quân đội", "Giấy khen",
                  money(1_000_000))  # fmt: skip
        for cell, text in zip(cells, values, strict=True):
            cell.text = text
    out = io.BytesIO()
    doc.save(out)
    return time.perf_counter() - start, len(out.getvalue())


def verdict(seconds: float, target: float) -> str:
    return f"{'PASS' if seconds < target else 'MISS'} (target < {target:.0f} s)"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5_000)
    parser.add_argument("--quick", action="store_true", help="smoke run: 200 rows")
    parser.add_argument("--no-pdf", action="store_true", help="skip the LibreOffice render")
    args = parser.parse_args()
    rows = 200 if args.quick else args.rows
    if not 1 <= rows <= 10_000:
        parser.error("--rows: between 1 and 10000")
    sys.path.insert(0, str(PROJECT_ROOT))
    people = names(rows)
    figures: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        rt = seed(f"sqlite:///{tmp}/bench.db")
        register(rt, people)
        listed = Path(tmp) / "danh-sach.xlsx"
        write_list(listed, people)
        base_s, read = read_baseline(listed)
        import_s, ids = import_list(rt, listed)
        assert read == rows == len(ids)
        figures += [
            (f"SQLite: read the {rows:,}-row XLSX with openpyxl alone (baseline)",
             f"{base_s:.2f} s"),
            (f"SQLite: import {rows:,} rows (check, preview, create one batch)",
             f"{import_s:.2f} s {verdict(import_s, IMPORT_TARGET_S)}"),
            ("  ratio import / baseline", f"{import_s / base_s:.1f}"),
        ]  # fmt: skip
        insert_decision(rt, ids)
        figures.append(
            (f"decision with {rows:,} lines", "inserted directly into decision/decision_item")
        )
        docx_base_s, docx_base_b = docx_baseline(people)
        figures.append(
            (f"write the {rows:,}-line table with python-docx alone (baseline)",
             f"{docx_base_s:.2f} s ({docx_base_b:,} byte)")
        )  # fmt: skip
        for fmt in ("docx",) if args.no_pdf else ("docx", "pdf"):
            took, size = render_timed(rt, fmt)
            figures += [
                (f"render the quyết định with {rows:,} lines to {fmt.upper()}",
                 f"{took:.2f} s ({size:,} byte) {verdict(took, RENDER_TARGET_S)}"),
                (f"  ratio {fmt.upper()} render / python-docx baseline",
                 f"{took / docx_base_s:.1f}"),
            ]  # fmt: skip
        rt.engine.dispose()
    width = max(len(k) for k, _ in figures)
    for key, value in figures:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
