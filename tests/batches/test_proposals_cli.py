"""The batch path end to end through the CLI: a danh sách of 18 collectives and 31 individuals
of the four Hệ Cơ yếu imported as one batch and carried to one decision in at most 10
commands; and bad files each refused with FILE:ROW, creating nothing."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import unicodedata
from datetime import datetime
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.documents.text import money
from khenthuong.localtime import LOCAL_TZ
from khenthuong.rules.catalog import catalog_in
from khenthuong.rules.money import award_money
from khenthuong.runtime import Runtime
from khenthuong.services.org import add_person, add_unit
from khenthuong.services.proposal_import import TEMPLATE_HEADERS
from khenthuong.storage.batches import BATCHES
from khenthuong.storage.db import write_tx
from khenthuong.storage.decisions import DECISION_ITEMS
from khenthuong.storage.models import NOMINATIONS, PERSONS
from tests.service_guard import absent

runner = CliRunner()
HE = ("CCYQD", "CCYCA", "CCYNG", "CCYDCQ")
FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi")
GIVEN = ("Văn Đức", "Thị Hạnh", "Minh Tuấn", "Quốc Huy", "Thu Trang", "Đình Khải", "Ngọc Ánh")
PDF = b"%PDF-1.4\n% test\n"


def _xlsx(path: Path, rows: list[list[str]], header: list[str] | None = None) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header or TEMPLATE_HEADERS)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _organisations(rt: Runtime) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """18 sections of the four Hệ (collectives) and 31 people: 27 already registered in
    their Hệ, 4 new (of the proposing unit, added by --create-persons)."""
    collectives = []
    people = []
    with write_tx(rt.engine) as conn:
        for i in range(18):
            he = HE[i % 4]
            code = f"{he}P{i + 1}"
            add_unit(conn, code, f"Phòng Nghiệp vụ mật mã {i + 1} ({he})", "unit", parent=he)
            collectives.append((f"Phòng Nghiệp vụ mật mã {i + 1} ({he})", he))
        for i in range(31):
            name = f"{FAMILY[i % 8]} {GIVEN[i % 7]} {chr(65 + i % 26)}{'h' * (i // 26)}"
            he = HE[i % 4]
            if i < 27:
                add_person(conn, name, he, position="Kỹ thuật viên mật mã")
                people.append((name, he))
            else:
                people.append((name, "CCYQD"))
    return collectives, people


def test_batch_of_49_to_one_decision_in_at_most_10_commands(rt: Runtime, tmp_path: Path) -> None:
    collectives, people = _organisations(rt)
    rows = []
    for i, (name, parent) in enumerate(collectives, start=1):
        (tmp_path / f"bc{i}.pdf").write_bytes(PDF)
        rows.append([str(i), name, "Tập thể", "", parent, "Bằng khen cấp Bộ",
                     "Hoàn thành xuất sắc nhiệm vụ 6 tháng đầu năm", "", "", f"bc{i}.pdf"])  # fmt: skip
    for i, (name, he) in enumerate(people, start=19):
        (tmp_path / f"bc{i}.pdf").write_bytes(PDF)
        rows.append([str(i), name, "Cá nhân", "Kỹ thuật viên", he, "BK_BO",
                     "Tiêu biểu trong phong trào thi đua", "74.1.a",
                     "Tiêu biểu xuất sắc trong phong trào thi đua của Ban", f"bc{i}.pdf"])  # fmt: skip
    listed = _xlsx(tmp_path / "danh-sach.xlsx", rows)
    for doc in ("to-trinh.pdf", "bien-ban.pdf", "xac-nhan.pdf"):
        (tmp_path / doc).write_bytes(PDF)
    commands = 0

    def cli(*args: str) -> str:
        nonlocal commands
        commands += 1
        result = runner.invoke(app, list(args))
        assert result.exit_code == 0, result.output
        return result.output

    out = cli("proposals", "import", str(listed), "--unit", "CCYQD", "--as", "cb.qd",
              "--create-persons", "--title", "Đề nghị Bằng khen sơ kết 6 tháng đầu năm",
              "--attach", f"to_trinh={tmp_path / 'to-trinh.pdf'}",
              "--attach", f"bien_ban_binh_xet={tmp_path / 'bien-ban.pdf'}",
              "--attach", f"xac_nhan_phong_trao={tmp_path / 'xac-nhan.pdf'}")  # fmt: skip
    batch = int(out.strip().splitlines()[-1])
    assert "49 hồ sơ, 4 cá nhân mới" in out
    cli("proposals", "advance", str(batch), "submit", "--as", "cb.qd")
    cli("proposals", "advance", str(batch), "forward", "--as", "tt.qd")
    out = cli("proposals", "advance", str(batch), "appraise", "--as", "cv.bcy")
    assert "49 hồ sơ đã chuyển, 0 bị từ chối" in out
    members = [f"--member={n}" for n in ("Ngô Văn Thành", "Bùi Thị Ngọc", "Hoàng Đức Anh")]
    session = cli("councils", "open", "--unit", "BCY", "--title", "Phiên họp sơ kết", *members,
                  "--as", "tk.bcy").strip()  # fmt: skip
    cli("councils", "tally", session, "--batch", str(batch), "--agree", "3", "--as", "tk.bcy")
    cli("councils", "close", session, "--as", "tk.bcy")
    out = cli("decisions", "create", "--number", "45/QĐ-BCY", "--signer", "Ngô Văn Thành",
              "--authority", "BCY", "--award", "BK_BO", "--batch", str(batch),
              "--as", "tb.bcy")  # fmt: skip
    assert commands <= 10
    today = datetime.now(LOCAL_TZ).date()
    catalog = catalog_in(rt.settings.config_dir)
    rule = catalog.rules_for("BK_BO", today)
    base = catalog.base_salary_on(today)
    one = award_money(rule.coefficient, base)
    group = award_money(
        rule.coefficient, base, multiplier=catalog.award("BK_BO").collective_multiplier
    )
    total = 31 * one + 18 * group
    assert f"Quyết định 45/QĐ-BCY: 49 hồ sơ, tổng {money(total)} đồng" in out
    with rt.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(DECISION_ITEMS)).scalar() == 49
        assert conn.execute(select(func.sum(DECISION_ITEMS.c.amount_vnd))).scalar() == total
        states = conn.execute(select(NOMINATIONS.c.state).distinct()).scalars().all()
        assert states == ["decided"]
        assert conn.execute(select(func.count()).select_from(BATCHES)).scalar() == 1
    shown = runner.invoke(app, ["proposals", "show", str(batch), "--as", "cb.qd"])
    assert "49 hồ sơ: Đã có quyết định khen thưởng" in shown.output
    as_json = runner.invoke(app, ["proposals", "show", str(batch), "--as", "cb.qd", "-f", "json"])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.stdout)
    assert data["id"] == batch and len(data["members"]) == 49
    assert data["summary"] == "49 hồ sơ: Đã có quyết định khen thưởng" and data["unit_code"]
    assert {m["state"] for m in data["members"]} == {"decided"}
    names = [name for name, _ in collectives + people]
    _documents_name_everyone(tmp_path, "45/QĐ-BCY", names)


def _render(kind: str, number: str, fmt: str, out: Path) -> bytes:
    """`documents render` outside the counted commands (the documents are read, not made)."""
    result = runner.invoke(app, ["documents", "render", kind, number, "--format", fmt,
                                 "-o", str(out), "--as", "tb.bcy"])  # fmt: skip
    assert result.exit_code == 0, result.output
    return out.read_bytes()


def _documents_name_everyone(tmp_path: Path, number: str, names: list[str]) -> None:
    """The decision's PDF and DOCX hold the Quốc hiệu, the number and all 49 names in NFC;
    the certificates PDF has 49 pages, each naming its awardee."""
    from pypdf import PdfReader

    from tests.documents.test_render_decision import QUOC_HIEU, docx_text

    assert len(set(names)) == 49
    assert all(unicodedata.is_normalized("NFC", n) for n in names)
    docx = docx_text(_render("quyet-dinh", number, "docx", tmp_path / "qd.docx"))
    if shutil.which("soffice") is None or shutil.which("pdftotext") is None:
        absent("LibreOffice or poppler missing: the PDFs are not checked")
    _render("quyet-dinh", number, "pdf", tmp_path / "qd.pdf")
    # Reading order, not -layout: a name wrapped inside its table cell stays in one run.
    pdf = subprocess.run(["pdftotext", str(tmp_path / "qd.pdf"), "-"], capture_output=True,
                         check=True, text=True).stdout  # fmt: skip
    for label, text in (("DOCX", docx), ("PDF", pdf)):
        assert unicodedata.is_normalized("NFC", text), label
        flat = " ".join(text.split())
        assert QUOC_HIEU in flat and number in flat, label
        missing = [n for n in names if n not in flat]
        assert not missing, f"{label} lacks {missing}"
    reader = PdfReader(io.BytesIO(_render("bang-khen", number, "pdf", tmp_path / "bk.pdf")))
    assert len(reader.pages) == 49
    named = []
    for page in reader.pages:
        flat = " ".join(page.extract_text().split())
        on_page = [n for n in names if n in flat]
        assert len(on_page) == 1, on_page
        named += on_page
    assert sorted(named) == sorted(names)


def _refused(rt: Runtime, path: Path, *extra: str) -> str:
    result = runner.invoke(
        app, ["proposals", "import", str(path), "--unit", "CCYQD", "--as", "cb.qd", *extra]
    )
    assert result.exit_code == 1, result.output
    with rt.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(NOMINATIONS)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(BATCHES)).scalar() == 0
    return " ".join(result.output.split())


def _row(name: str, stt: str = "1") -> list[str]:
    return [stt, name, "Cá nhân", "", "CCYQD", "Bằng khen cấp Bộ", "", "", "", ""]


def test_bad_files_name_file_and_row_and_create_nothing(rt: Runtime, tmp_path: Path) -> None:
    merged = tmp_path / "gop.xlsx"
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(TEMPLATE_HEADERS)
    sheet.merge_cells("A1:B1")
    sheet.append(_row("Nguyễn Văn An"))
    book.save(merged)
    assert "gop.xlsx:1: tiêu đề có ô gộp (A1:B1)" in _refused(rt, merged)

    formula = _xlsx(tmp_path / "cong-thuc.xlsx", [_row("Nguyễn Văn An"), ["=1+1", *_row("X")[1:]]])
    assert "cong-thuc.xlsx:3: ô A3 là công thức chưa có giá trị" in _refused(rt, formula)

    unknown = _xlsx(tmp_path / "la.xlsx", [_row("Nguyễn Văn An"), _row("Hồ Vô Danh", "2")])
    no_award = _xlsx(tmp_path / "thieu.xlsx", [_row("Nguyễn Văn An")[:5] + [""] * 5])
    assert "thieu.xlsx:2: thiếu hình thức khen thưởng ở cột Hình thức khen thưởng" in _refused(
        rt, no_award
    )  # the pages show it too: no --workflow

    said = _refused(rt, unknown)
    assert "la.xlsx:3: không có cá nhân tên 'Hồ Vô Danh'" in said
    assert "khenthuong persons add TÊN --unit MÃ" in said and "--create-persons" in said

    twice = _xlsx(tmp_path / "trung.xlsx", [_row("Nguyễn Văn An"), _row("nguyễn văn  an", "2")])
    said = _refused(rt, twice)
    assert "trung.xlsx:3: trùng với dòng 2 (" in said
    assert ", Bằng khen cấp Bộ)" in said and "BK_BO" not in said  # the award by name

    collective = _xlsx(
        tmp_path / "tap-the.xlsx",
        [["1", "Cục Cơ yếu Quân đội", "Tập thể", "", "BCY", "CSTDCS", "", "", "", ""]],
    )
    assert "tap-the.xlsx:2: hình thức 'Chiến sĩ thi đua cơ sở' chỉ dành cho cá nhân" in (
        _refused(rt, collective)
    )

    empty = _xlsx(tmp_path / "rong.xlsx", [])
    assert "rong.xlsx:2: danh sách không có dòng nào" in _refused(rt, empty)
    blank = tmp_path / "rong.csv"
    blank.write_text("", encoding="utf-8")
    assert "rong.csv:1: tệp rỗng" in _refused(rt, blank)

    header = tmp_path / "cot-la.csv"
    header.write_text("STT,Họ và tên,Ghi chú\n1,Nguyễn Văn An,x\n", encoding="utf-8")
    assert "cot-la.csv:1: cột không có trong mẫu: ghi chú" in _refused(rt, header)


def test_nfd_names_and_double_spaces_match_the_register(rt: Runtime, tmp_path: Path) -> None:
    """A name typed in NFD (macOS) or with a double space is the registered person; the
    header may be written without diacritics or in another case."""
    nfd = unicodedata.normalize("NFD", "Trần Thị Bích")
    header = [h.upper() for h in TEMPLATE_HEADERS]
    header[1] = "Ho va ten"
    listed = _xlsx(tmp_path / "ds.xlsx", [_row(nfd), _row("Nguyễn  Văn   An", "2")], header)
    result = runner.invoke(
        app, ["proposals", "import", str(listed), "--unit", "CCYQD", "--as", "cb.qd", "--dry-run"]
    )
    assert result.exit_code == 0, result.output
    assert "2 dòng hợp lệ; chạy thử" in result.output
    with rt.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(NOMINATIONS)).scalar() == 0
    result = runner.invoke(
        app, ["proposals", "import", str(listed), "--unit", "CCYQD", "--as", "cb.qd"]
    )
    assert result.exit_code == 0, result.output
    with rt.engine.connect() as conn:
        names = conn.execute(
            select(NOMINATIONS.c.nominee_name, NOMINATIONS.c.nominee_person_id)
            .order_by(NOMINATIONS.c.id)
        ).all()  # fmt: skip
        registered = dict(conn.execute(select(PERSONS.c.full_name, PERSONS.c.id)).all())
    assert [n for n, _ in names] == ["Trần Thị Bích", "Nguyễn Văn An"]
    assert [p for _, p in names] == [registered["Trần Thị Bích"], registered["Nguyễn Văn An"]]


def test_template_has_the_vietnamese_headers(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    out = tmp_path / "mau.xlsx"
    result = runner.invoke(app, ["proposals", "template", "-o", str(out)])
    assert result.exit_code == 0, result.output
    sheet = load_workbook(out).active
    assert sheet is not None
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header[:7] == ["STT", "Họ và tên / Tên tập thể", "Đối tượng", "Chức vụ", "Đơn vị",
                          "Hình thức khen thưởng", "Thành tích tóm tắt"]  # fmt: skip


def test_the_batch_renders_its_to_trinh_on_its_stream(rt: Runtime, tmp_path: Path) -> None:
    """`proposals documents` renders the batch's tờ trình with every member in its danh
    sách, and writes the file's SHA-256 on the batch's stream."""
    import hashlib

    from khenthuong.storage.models import EVENTS
    from tests.documents.test_render_decision import docx_text

    listed = _xlsx(tmp_path / "ds.xlsx", [_row("Trần Thị Bích"), _row("Nguyễn Văn An", "2")])
    made = runner.invoke(app, ["proposals", "import", str(listed), "--unit", "CCYQD",
                               "--as", "cb.qd", "--title", "Sơ kết 6 tháng"])  # fmt: skip
    assert made.exit_code == 0, made.output
    batch = made.output.strip().splitlines()[-1]
    out = tmp_path / "to-trinh.docx"
    result = runner.invoke(app, ["proposals", "documents", batch, "-o", str(out), "--as", "cb.qd"])
    assert result.exit_code == 0, result.output
    text = docx_text(out.read_bytes())
    assert "TỜ TRÌNH" in text.upper()
    assert "Trần Thị Bích" in text and "Nguyễn Văn An" in text
    with rt.engine.connect() as conn:
        payloads = conn.execute(
            select(EVENTS.c.payload).where(
                EVENTS.c.stream == f"batch:{batch}", EVENTS.c.trigger == "generate_document"
            )
        ).scalars().all()  # fmt: skip
    assert len(payloads) == 1 and hashlib.sha256(out.read_bytes()).hexdigest() in payloads[0]
    refused = runner.invoke(
        app, ["proposals", "documents", batch, "-o", str(out), "--as", "cb.pccc"]
    )
    assert refused.exit_code == 1


def test_a_csv_list_and_taking_a_member_out(rt: Runtime, tmp_path: Path) -> None:
    """A CSV written by Excel in a decimal-comma locale (semicolons) with an NFD name is read;
    `proposals remove` takes one member out and the batch shows the rest."""
    listed = tmp_path / "danh-sach.csv"
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn An")
    listed.write_text(
        "STT;Họ và tên;Đơn vị;Hình thức khen thưởng\n"
        f"1;{nfd};CCYQD;Giấy khen\n2;Trần Thị Bích;Cục Cơ yếu Quân đội;GIAY_KHEN\n",
        encoding="utf-8",
    )
    made = runner.invoke(
        app, ["proposals", "import", str(listed), "--unit", "CCYQD", "--as", "cb.qd"]
    )
    assert made.exit_code == 0, made.output
    batch = made.output.strip().splitlines()[-1]
    with rt.engine.connect() as conn:
        ids = conn.execute(select(NOMINATIONS.c.id).order_by(NOMINATIONS.c.id)).scalars().all()
        workflows = set(conn.execute(select(NOMINATIONS.c.workflow)).scalars())
    assert workflows == {"giay_khen"}
    gone = runner.invoke(app, ["proposals", "remove", batch, str(ids[0]), "--as", "cb.qd"])
    assert gone.exit_code == 0, gone.output
    shown = runner.invoke(app, ["proposals", "show", batch])
    flat = " ".join(shown.output.split())
    assert "Trạng thái: 1 hồ sơ: " in flat
    assert "Trần Thị Bích" in flat and "Nguyễn Văn An" not in flat
