"""The unit's year through the CLI: bulk ratings and registrations from files (all rows
checked first, FILE:ROW errors in Vietnamese, nothing written on any error; a second import
adds nothing), then the year-end review in one pass."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from openpyxl import Workbook
from sqlalchemy import func, select
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.runtime import Runtime
from khenthuong.services import batches, year_review
from khenthuong.services.org import add_person
from khenthuong.services.year_review import ProposedEntry
from khenthuong.storage.councils import COUNCIL_MEMBERS
from khenthuong.storage.db import write_tx
from khenthuong.storage.decisions import DECISIONS
from khenthuong.storage.history import YEARLY_RATINGS
from khenthuong.storage.registrations import REGISTRATION_ENTRIES
from tests.unit_year.helpers import PDF, catalog, people, who

runner = CliRunner()
YEAR = datetime.now(UTC).year


def xlsx(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


def count(rt: Runtime, table: object) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def team(rt: Runtime) -> None:
    with write_tx(rt.engine) as conn:
        for name in ("Mai Văn Một", "Mai Văn Hai", "Mai Thị Ba", "Mai Văn Tư"):
            add_person(conn, name, "CCYQD")


def test_bulk_rating_import_reports_every_bad_row_and_writes_nothing(
    rt: Runtime, tmp_path: Path
) -> None:
    """Four bad rows (unknown person, unknown rating, missing rating, a person twice) are
    each named FILE:ROW and nothing is written; the corrected file rates the whole unit;
    importing it again changes nothing; a different rating needs --replace."""
    team(rt)
    header = ["STT", "Họ và tên", "Đơn vị", "Xếp loại", "Ghi chú"]
    bad = xlsx(tmp_path / "xep-loai.xlsx", header, [
        ["1", "Mai Văn Một", "CCYQD", "Hoàn thành xuất sắc nhiệm vụ", ""],
        ["2", "Người Không Có", "CCYQD", "htt", ""],
        ["3", "Mai Văn Hai", "", "Giỏi", ""],
        ["4", "Mai Thị Ba", "CCYQD", "", ""],
        ["5", "mai  văn một", "", "HTTNV", ""],
    ])  # fmt: skip
    code, out = run("ratings", "import", str(bad), "--unit", "CCYQD", "--year", str(YEAR),
                    "--as", "cb.qd")  # fmt: skip
    assert code == 1
    assert (
        "xep-loai.xlsx:3: không có cá nhân tên 'Người Không Có' trong danh sách cá nhân của "
        "Cục Cơ yếu Quân đội; thêm người này vào danh sách cá nhân trước" in out
    )
    assert "(thêm cá nhân vào danh sách: khenthuong persons add TÊN --unit MÃ)" in out
    assert "xep-loai.xlsx:4: xếp loại 'Giỏi' không hợp lệ" in out
    assert "xep-loai.xlsx:5: thiếu xếp loại" in out
    assert "xep-loai.xlsx:6: Mai Văn Một đã có ở xep-loai.xlsx:2" in out
    assert count(rt, YEARLY_RATINGS) == 0
    good = xlsx(tmp_path / "xep-loai-2.xlsx", header, [
        ["1", "Mai Văn Một", "CCYQD", "Hoàn thành xuất sắc nhiệm vụ", ""],
        ["2", "Mai Văn Hai", "", "htt", ""],
        ["3", "Mai Thị Ba", "CCYQD", "Hoàn thành tốt nhiệm vụ", ""],
        ["4", "Mai Văn Tư", "CCYQD", "HTNV", ""],
    ])  # fmt: skip
    args = ("ratings", "import", str(good), "--unit", "CCYQD", "--year", str(YEAR), "--as", "cb.qd")
    code, out = run(*args)
    assert code == 0 and "4 mới, 0 sửa, 0 giữ nguyên" in out
    code, out = run(*args)
    assert code == 0 and "0 mới, 0 sửa, 4 giữ nguyên" in out
    code, out = run("ratings", "set", "--unit", "CCYQD", "--year", str(YEAR),
                    "--rating", "Mai Văn Tư=htt", "--as", "cb.qd")  # fmt: skip
    assert code == 1 and "Mai Văn Tư đã được xếp loại năm" in out
    assert "(sửa cả xếp loại đã có: thêm --replace)" in out
    code, out = run("ratings", "set", "--unit", "CCYQD", "--year", str(YEAR),
                    "--rating", "Mai Văn Tư=htt", "--replace", "--as", "cb.qd")  # fmt: skip
    assert code == 0 and "1 sửa" in out
    code, out = run("ratings", "import", str(good), "--unit", "CCYQD", "--year", str(YEAR),
                    "--as", "kiemtra")  # fmt: skip
    assert code == 1 and "không có quyền" in out


def test_registrations_import_then_one_pass_through_the_cli(rt: Runtime, tmp_path: Path) -> None:
    """A danh sách đăng ký with a bad row is refused FILE:ROW; fixed, it registers; then
    year-review propose / proposals attach + advance / councils open / year-review tally,
    close, decide give one decision per title."""
    team(rt)
    header = ["STT", "Họ và tên / Tên tập thể", "Đối tượng", "Đơn vị", "Danh hiệu đăng ký",
              "Ghi chú"]  # fmt: skip
    rows = [
        ["1", "Mai Văn Một", "Cá nhân", "", "Chiến sĩ thi đua cơ sở; LDTT", ""],
        ["2", "Mai Văn Hai", "Cá nhân", "", "Lao động tiên tiến", ""],
        ["3", "Mai Thị Ba", "Cá nhân", "", "LDTT", ""],
        ["4", "Mai Văn Tư", "Cá nhân", "", "LDTT", ""],
        ["5", "Cục Cơ yếu Quân đội", "Tập thể", "", "TTLDTT", ""],
    ]
    bad = xlsx(
        tmp_path / "dang-ky.xlsx", header, [*rows, ["6", "Mai Văn Năm", "", "", "Huân chương", ""]]
    )
    base = ("--unit", "CCYQD", "--year", str(YEAR), "--as", "cb.qd")
    code, out = run("year-review", "propose", *base)  # nothing registered yet
    assert code == 1 and "chưa đăng ký thi đua danh hiệu nào" in out
    assert "(đăng ký: khenthuong registrations add)" in " ".join(out.split())
    code, out = run("registrations", "import", str(bad), *base)
    assert code == 1 and "dang-ky.xlsx:7: danh hiệu 'Huân chương' không có trong danh mục" in out
    assert count(rt, REGISTRATION_ENTRIES) == 0
    good = xlsx(tmp_path / "dang-ky-2.xlsx", header, rows)
    code, out = run("registrations", "import", str(good), *base)
    assert code == 0 and "Đã đăng ký 6 danh hiệu" in out
    code, out = run("registrations", "import", str(good), *base)
    assert code == 1 and "dang-ky-2.xlsx:2: Mai Văn Một đã đăng ký Chiến sĩ thi đua cơ sở" in out
    code, _ = run("ratings", "set", "--unit", "CCYQD", "--year", str(YEAR), "--rating",
                  "Mai Văn Một=htxs", "--rating", "Mai Văn Hai=htt", "--rating", "Mai Thị Ba=htt",
                  "--rating", "Mai Văn Tư=htt",
                  "--as", "cb.qd")  # fmt: skip
    assert code == 0
    code, out = run(
        "year-review", "propose", "--unit", "CCYQD", "--year", str(YEAR), "--as", "cb.qd"
    )
    assert code == 0, out
    batch = out.strip().splitlines()[-1]
    pdf = tmp_path / "to-trinh.pdf"
    pdf.write_bytes(b"%PDF-1.4\n% test\n")
    for doc in ("to_trinh", "bao_cao_thanh_tich"):
        code, out = run("proposals", "attach", batch, str(pdf), "--type", doc, "--as", "cb.qd")
        assert code == 0, out
    code, out = run("proposals", "advance", batch, "submit", "--as", "cb.qd")
    assert code == 0, out
    code, out = run("councils", "open", "--unit", "CCYQD", "--title", "Bình xét cuối năm",
                    "--member", "A:late", "--as", "tk.qd")  # fmt: skip
    assert code == 2 and "ghi HỌ-TÊN hoặc HỌ-TÊN,CHỨC-VỤ" in out
    code, out = run("councils", "open", "--unit", "CCYQD", "--title", "Bình xét cuối năm",
                    "--member", "Trần Văn Hùng, Chủ tịch Hội đồng",
                    "--member", "Lê Minh Châu,Ủy viên thường trực, Thư ký", "--member", "C",
                    "--member", "D,Ủy viên:written", "--as", "tk.qd")  # fmt: skip
    session = out.strip().splitlines()[-1]
    with rt.engine.connect() as conn:
        seated = conn.execute(
            select(COUNCIL_MEMBERS.c.full_name, COUNCIL_MEMBERS.c.position,
                   COUNCIL_MEMBERS.c.present, COUNCIL_MEMBERS.c.written_vote)
            .where(COUNCIL_MEMBERS.c.session_id == int(session))
            .order_by(COUNCIL_MEMBERS.c.id)
        ).all()  # fmt: skip
    assert [tuple(r) for r in seated] == [
        ("Trần Văn Hùng", "Chủ tịch Hội đồng", True, False),
        ("Lê Minh Châu", "Ủy viên thường trực, Thư ký", True, False),
        ("C", None, True, False),
        ("D", "Ủy viên", False, True),
    ]
    code, out = run("year-review", "tally", session, "--batch", batch, "--vote", "LDTT=3",
                    "--vote", "Chiến sĩ thi đua cơ sở=3", "--as", "tk.qd")  # fmt: skip
    assert code == 1 and "thiếu kết quả bỏ phiếu cho Tập thể lao động tiên tiến" in out
    assert "TTLDTT" not in out  # the award by its name, never its code
    code, out = run("year-review", "tally", session, "--batch", batch, "--vote", "LDTT=3",
                    "--vote", "CSTDCS=2/1", "--vote", "TTLDTT=3", "--as", "tk.qd")  # fmt: skip
    assert code == 0, out
    code, out = run("year-review", "close", session, "--as", "tk.qd")
    assert code == 0 and "Lao động tiên tiến: 4 cá nhân" in out and "(LDTT)" not in out
    code, out = run("year-review", "decide", "--batch", batch, "--number", "LDTT=61/QĐ-CCYQD",
                    "--number", "CSTDCS=62/QĐ-CCYQD", "--number", "TTLDTT=63/QĐ-CCYQD",
                    "--signer", "Trần Văn Hùng", "--authority", "CCYQD", "--as", "tt.qd")  # fmt: skip
    assert code == 0, out
    assert "Quyết định 61/QĐ-CCYQD — Lao động tiên tiến: 4 cá nhân" in out
    assert count(rt, DECISIONS) == 3


def test_a_missing_rating_refusal_names_the_ratings_command(rt: Runtime) -> None:
    """`proposals advance … submit` refuses an unrated person with the CLI's own way to enter
    ratings (the rule itself names no interface)."""
    ids = people(rt, {"Mai Văn Sáu": None}, year=YEAR)
    officer = who(rt, "cb.qd")
    with write_tx(rt.engine) as conn:
        batch, _ = year_review.propose_in(
            conn, rt.registry, catalog(), unit="CCYQD", year=YEAR, actor=officer,
            title="Bình xét", entries=[ProposedEntry("CST", person_id=ids["Mai Văn Sáu"])],
        )  # fmt: skip
        for doc in ("to_trinh", "bao_cao_thanh_tich"):
            batches.attach_in(
                conn, batch, doc_type=doc, filename=f"{doc}.pdf", content=PDF, actor=officer,
                max_bytes=10_000,
            )  # fmt: skip
    _, out = run("proposals", "advance", str(batch), "submit", "--as", "cb.qd")
    assert f"Chưa có xếp loại năm {YEAR}" in out
    assert "(nhập xếp loại: khenthuong ratings import)" in " ".join(out.split())
