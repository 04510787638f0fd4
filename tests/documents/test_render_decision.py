"""Generated decision, certificates, minutes and tờ trình: DOCX and PDF read back."""

from __future__ import annotations

import hashlib
import io
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from docx import Document
from pypdf import PdfReader
from sqlalchemy import select, update

from khenthuong.cli.demo_council import demo_council
from khenthuong.documents.text import date_line
from khenthuong.errors import Forbidden, NotFound
from khenthuong.localtime import local_date
from khenthuong.rules.catalog import catalog_in
from khenthuong.runtime import Runtime
from khenthuong.services import councils, decisions
from khenthuong.services.councils import MemberIn
from khenthuong.services.documents import DocumentRequest, render_document
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import EVENTS, PERSONS
from tests.conftest import CONFIG
from tests.services.test_council_and_decision import (
    council,
    nominated_at_council,
    person_with_history,
    who,
)

NAMES = ["Nguyễn Văn Bình", "Trần Thị Ngọc Ánh", "Đặng Quốc Việt"]
NUMBER = "45/QĐ-BCY"
QUOC_HIEU = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
needs_soffice = pytest.mark.usefixtures("soffice")

TODAY = local_date(datetime.now(UTC))
"""Decisions are dated today: a later date is refused, an earlier one precedes the steps."""


def docx_text(content: bytes) -> str:
    doc = Document(io.BytesIO(content))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.extend(c.text for c in row.cells)
    return "\n".join(parts)


def pdf_text(content: bytes, tmp_path: Path) -> str:
    path = tmp_path / "out.pdf"
    path.write_bytes(content)
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True
    ).stdout


def decided(rt: Runtime, members: list[MemberIn] | None = None) -> tuple[list[int], int]:
    """Three CSTĐ cấp Bộ nominees passed by the council and signed in one decision."""
    nids = []
    for i, name in enumerate(NAMES):
        pid = person_with_history(rt, name, [2024, 2025, 2026])
        with write_tx(rt.engine) as conn:
            conn.execute(
                update(PERSONS).where(PERSONS.c.id == pid).values(position=f"Trợ lý {i + 1}")
            )
        nids.append(nominated_at_council(rt, pid))
    sid, secretary = council(rt, members=members)
    catalog = catalog_in(CONFIG)
    with write_tx(rt.engine) as conn:
        for nid in nids:
            councils.add_item(conn, rt.registry, sid, nid, actor=secretary)
            councils.record_tally(conn, sid, nid, agree=18, disagree=1, abstain=0,
                                  actor=secretary)  # fmt: skip
        councils.close_session(conn, rt.registry, catalog, sid, actor=secretary)
        decisions.create_decision(
            conn, rt.registry, catalog, number=NUMBER, decided_on=TODAY,
            signer="Ngô Văn Thành", authority="BCY", award_code="CSTD_BO",
            nomination_ids=nids, actor=who(rt, "tb.bcy"),
        )  # fmt: skip
    return nids, sid


def render(rt: Runtime, kind: str, key: str, fmt: str, user: str = "tb.bcy") -> bytes:
    req = DocumentRequest(kind, key, fmt, who(rt, user))
    return render_document(rt.engine, catalog_in(CONFIG), CONFIG, req).content


def test_decision_docx_holds_the_list_and_total_and_its_hash_is_audited(rt: Runtime) -> None:
    """The quyết định DOCX names every awardee with diacritics, the number and the total;
    its SHA-256 is on the decision's stream."""
    decided(rt)
    content = render(rt, "quyet-dinh", NUMBER, "docx")
    text = docx_text(content)
    assert QUOC_HIEU in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert f"Số: {NUMBER}" in text and date_line("Hà Nội", TODAY) in text
    assert all(name in text for name in NAMES)
    assert "21.060.000" in text  # 3 × 7.020.000 đồng
    assert "Trợ lý 2, Cục Cơ yếu Quân đội" in text
    flat = " ".join(text.split())
    assert "Kèm theo danh hiệu Chiến sĩ thi đua cấp Bộ, mỗi cá nhân được thưởng" in flat
    assert "Tổng cộng: 3 cá nhân; tổng số tiền thưởng: 21.060.000 đồng." in flat
    assert "tập thể được thưởng" not in flat and "0 tập thể" not in flat
    with rt.engine.connect() as conn:
        events = conn.execute(
            select(EVENTS.c.payload).where(
                EVENTS.c.stream.like("decision:%"), EVENTS.c.trigger == "generate_document"
            )
        ).scalars().all()  # fmt: skip
    assert len(events) == 1 and hashlib.sha256(content).hexdigest() in events[0]


def test_a_serial_without_its_ky_hieu_is_refused_naming_the_full_number(rt: Runtime) -> None:
    """'45' is not a decision number; the refusal names '45/QĐ-BCY' (wildcards are literal)."""
    decided(rt)
    with pytest.raises(NotFound) as refused:
        render(rt, "quyet-dinh", "45", "docx")
    assert str(refused.value) == "Không có quyết định '45'; có: 45/QĐ-BCY"
    for other in ("4_", "4%", "46"):
        with pytest.raises(NotFound) as refused:
            render(rt, "quyet-dinh", other, "docx")
        assert "; có:" not in str(refused.value)


@needs_soffice
def test_decision_pdf_and_one_certificate_page_per_awardee(rt: Runtime, tmp_path: Path) -> None:
    """The PDF holds the Quốc hiệu, the number, every name and the total; the certificates
    file has one page per awardee, each naming them."""
    decided(rt)
    text = pdf_text(render(rt, "quyet-dinh", NUMBER, "pdf"), tmp_path)
    assert QUOC_HIEU in text and NUMBER in text and "21.060.000" in text
    assert all(name in text for name in NAMES)
    reader = PdfReader(io.BytesIO(render(rt, "bang-khen", NUMBER, "pdf")))
    assert len(reader.pages) == len(NAMES)
    for page, name in zip(reader.pages, NAMES, strict=True):
        assert name in page.extract_text()


def test_minutes_list_votes_and_results(rt: Runtime) -> None:
    """The biên bản of a closed session lists members, attendance, votes and each result."""
    _nids, sid = decided(rt)
    text = docx_text(render(rt, "bien-ban", str(sid), "docx", user="tk.bcy"))
    assert "BIÊN BẢN" in text and "HỘI ĐỒNG THI ĐUA – KHEN THƯỞNG" in text
    assert "tổng số 20 thành viên" in text and "có mặt 19" in text
    assert "Ủy viên 19" in text and "Vắng" in text
    assert text.count("Đạt") >= len(NAMES) and "18/20 phiếu đồng ý" in text
    assert all(name in text for name in NAMES)


def test_minutes_name_offices_signers_and_each_title(rt: Runtime) -> None:
    """Members' offices fill the Chức vụ column; the chair and the secretary present sign the
    minutes by name; each conclusion names the title it was voted for."""
    members = demo_council(20, absent=1)
    _nids, sid = decided(rt, members=members)
    text = docx_text(render(rt, "bien-ban", str(sid), "docx", user="tk.bcy"))
    assert "Trần Văn Hùng Chủ tịch Hội đồng Có mặt" in " ".join(text.split())
    assert "Lê Thị Thu Ủy viên thường trực, Thư ký Có mặt" in " ".join(text.split())
    assert "Thái Thị Sương Ủy viên Vắng" in " ".join(text.split())
    signatures = text[text.index("THƯ KÝ") :]
    assert "Lê Thị Thu" in signatures and "Trần Văn Hùng" in signatures
    conclusions = text[text.index("III. KẾT LUẬN") : text.index("THƯ KÝ")]
    for name in NAMES:
        assert f"{name} – Chiến sĩ thi đua cấp Bộ:" in conclusions


def test_minutes_leave_signers_blank_without_offices(rt: Runtime) -> None:
    """Without offices every member is an Ủy viên and no name is printed under a signature."""
    _nids, sid = decided(rt)
    text = docx_text(render(rt, "bien-ban", str(sid), "docx", user="tk.bcy"))
    signatures = text[text.index("THƯ KÝ") :]
    assert "Ủy viên" not in signatures and "(Ký, ghi rõ họ tên)" in signatures


def test_proposal_of_one_unit_and_refusal_outside_scope(rt: Runtime) -> None:
    """A tờ trình lists the unit's nominees; an officer of another unit is refused."""
    nids, _sid = decided(rt)
    key = ",".join(str(n) for n in nids)
    text = docx_text(render(rt, "to-trinh", key, "docx", user="cb.qd"))
    assert "TỜ TRÌNH" in text and "/TTr-CCYQD" in text and "Kính gửi: Ban Cơ yếu Chính phủ" in text
    assert all(name in text for name in NAMES) and "3 cá nhân" in text
    for kind, k in (("quyet-dinh", NUMBER), ("to-trinh", key)):
        with pytest.raises(Forbidden, match="ngoài phạm vi"):
            render(rt, kind, k, "docx", user="cb.pccc")
