"""The Bằng khen cấp Bộ passes appraisal by any point of Luật TĐKT 2022 Điều 74(1) and is
refused, point by point, when none is met (SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import insert, select

from khenthuong.errors import Forbidden, StepRefused
from khenthuong.runtime import Runtime
from khenthuong.services import dossier, grounds, new_nominations, stepping
from khenthuong.services.org import add_person
from khenthuong.storage.db import write_tx
from khenthuong.storage.history import INITIATIVES, YEARLY_RATINGS
from khenthuong.storage.models import EVENTS
from tests.services.test_eligibility_guards import BK_DOCS, PDF, record, who

ATTESTED = {
    "74.1.a": ("xac_nhan_phong_trao", "chuyen_de", "Dẫn đầu phong trào thi đua sơ kết 6 tháng"),
    "74.1.b": ("xac_nhan_thanh_tich_dot_xuat", "dot_xuat", "Bắt giữ đối tượng tội phạm"),
    "74.1.c": ("xac_nhan_dong_gop", "cong_trang", "Ủng hộ 2 tỷ đồng xây trường học"),
}


def to_appraisal(
    rt: Runtime,
    pid: int,
    *,
    docs: tuple[str, ...] = (),
    ctype: str = "cong_trang",
    basis: str | None = None,
    attestation: str | None = None,
) -> int:
    """A 2026 Bằng khen cấp Bộ with the usual dossier plus `docs`, at the ministry's
    appraisal (where `eligible` is checked)."""
    officer = who(rt, "cb.qd")
    nid = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="bang_khen_bo",
        proposing_unit="CCYQD",
        actor=officer,
        nominee_person_id=pid,
        year=2026,
        commendation_type=ctype,
        basis=basis,
        attestation=attestation,
    )
    with write_tx(rt.engine) as conn:
        for doc in (*BK_DOCS, *docs):
            dossier.attach(
                conn,
                nid,
                doc_type=doc,
                filename=f"{doc}.pdf",
                content=PDF,
                actor=officer,
                max_bytes=10_000,
            )
    stepping.advance(rt.engine, rt.registry, nid, "submit", officer)
    stepping.advance(rt.engine, rt.registry, nid, "forward", who(rt, "tt.qd"))
    return nid


def appraise(rt: Runtime, nid: int) -> None:
    stepping.advance(rt.engine, rt.registry, nid, "appraise", who(rt, "cv.bcy"))


def refused(rt: Runtime, nid: int) -> str:
    with pytest.raises(StepRefused) as info:
        appraise(rt, nid)
    assert info.value.refusals[0].code == "eligible"
    return info.value.refusals[0].message_vi


def person(rt: Runtime, name: str) -> int:
    with write_tx(rt.engine) as conn:
        return add_person(conn, name, "CCYQD")


def line_of(message: str, point: str) -> str:
    return next(x for x in message.splitlines() if x.startswith(f"- Điều 74(1)({point})"))


@pytest.mark.parametrize("basis", sorted(ATTESTED))
def test_a_point_attested_with_its_document_passes_without_history(rt: Runtime, basis: str) -> None:
    """Points a (thematic: a mid-year proposal for the movement), b (ad-hoc) and c (merit):
    no rating, title or initiative on record; the claim, the statement and the confirming
    document are enough."""
    doc, ctype, text = ATTESTED[basis]
    pid = person(rt, f"Người theo điểm {basis}")
    nid = to_appraisal(rt, pid, docs=(doc,), ctype=ctype, basis=basis, attestation=text)
    appraise(rt, nid)
    with rt.engine.connect() as conn:
        claim = grounds.claim_of(conn, nid)
    assert claim is not None and (claim.basis, claim.statement) == (basis, text)


@pytest.mark.parametrize("basis", sorted(ATTESTED))
def test_a_point_without_its_document_is_refused_naming_it(rt: Runtime, basis: str) -> None:
    _, ctype, text = ATTESTED[basis]
    pid = person(rt, f"Thiếu tài liệu {basis}")
    message = refused(rt, to_appraisal(rt, pid, ctype=ctype, basis=basis, attestation=text))
    assert "thiếu Văn bản xác nhận" in line_of(message, basis[-1])
    assert "chưa chọn" not in line_of(message, basis[-1])


@pytest.mark.parametrize("basis", sorted(ATTESTED))
def test_a_document_without_the_claim_is_refused(rt: Runtime, basis: str) -> None:
    doc, ctype, _ = ATTESTED[basis]
    pid = person(rt, f"Chưa xác nhận {basis}")
    message = refused(rt, to_appraisal(rt, pid, docs=(doc,), ctype=ctype))
    assert f"chưa chọn căn cứ {basis} và xác nhận thành tích" in line_of(message, basis[-1])


def test_point_d_passes_from_history_and_fails_on_a_short_streak(rt: Runtime) -> None:
    """Two consecutive CSTĐCS, or two excellent years with two grassroots initiatives, pass
    with no claim; a single CSTĐCS is refused with every point listed."""
    streak, excellent, short = (person(rt, n) for n in ("Hai CSTĐCS", "Hai năm HTXS", "Một"))
    with write_tx(rt.engine) as conn:
        for year in (2025, 2026):
            record(conn, streak, "CSTDCS", year)
            conn.execute(
                insert(YEARLY_RATINGS).values(person_id=excellent, year=year, rating="htxs")
            )
            conn.execute(
                insert(INITIATIVES).values(
                    person_id=excellent, year=year, scope="grassroots", title=f"Sáng kiến {year}"
                )
            )
        record(conn, short, "CSTDCS", 2026)
    appraise(rt, to_appraisal(rt, streak))
    appraise(rt, to_appraisal(rt, excellent, basis="74.1.d"))
    message = refused(rt, to_appraisal(rt, short))
    assert [x[:15] for x in message.splitlines()[1:]] == [f"- Điều 74(1)({p})" for p in "abcd"]
    assert "Cần 2 năm liên tục đạt CSTĐCS đến năm 2026" in line_of(message, "d")


def test_a_thematic_or_ad_hoc_proposal_is_no_longer_waved_through(rt: Runtime) -> None:
    """Before: a chuyên đề or đột xuất Bằng khen skipped every check. Now it needs a point."""
    pid = person(rt, "Không căn cứ")
    for ctype in ("chuyen_de", "dot_xuat"):
        assert "Chưa đáp ứng căn cứ nào" in refused(rt, to_appraisal(rt, pid, ctype=ctype))


def test_the_claim_is_checked_when_it_is_made(rt: Runtime) -> None:
    """An unknown point is refused listing the points; an attested point needs the
    statement; an award without points takes none; nothing is written when refused."""
    officer = who(rt, "cb.qd")
    pid = person(rt, "Kiểm tra căn cứ")

    def create(workflow: str, basis: str, attestation: str | None) -> StepRefused:
        with pytest.raises(StepRefused) as info:
            new_nominations.create_nomination(
                rt.engine,
                rt.registry,
                workflow=workflow,
                proposing_unit="CCYQD",
                actor=officer,
                nominee_person_id=pid,
                year=2026,
                basis=basis,
                attestation=attestation,
            )
        return info.value

    unknown = create("bang_khen_bo", "74.1.e", "x").refusals[0]
    assert unknown.code == "field:basis"
    assert "74.1.a (Có thành tích tiêu biểu xuất sắc" in unknown.message_vi
    assert "74.1.d" in unknown.message_vi
    assert create("bang_khen_bo", "74.1.b", None).refusals[0].code == "field:attestation"
    assert create("giay_khen", "74.1.a", "x").refusals[0].code == "field:basis"
    with rt.engine.connect() as conn:
        names = conn.execute(select(EVENTS.c.payload).where(EVENTS.c.trigger == "create")).all()
    assert not any("Kiểm tra căn cứ" in json.loads(p.payload).get("nominee", "") for p in names)


def test_the_latest_claim_counts_and_is_audited(rt: Runtime) -> None:
    """The officer first claims point a, then corrects it to point b: the guard judges the
    correction; both claims stay in the dossier's audit stream."""
    doc, _, text = ATTESTED["74.1.b"]
    pid = person(rt, "Sửa căn cứ")
    nid = to_appraisal(rt, pid, docs=(doc,), basis="74.1.a", attestation="Phong trào")
    assert "Chưa đáp ứng căn cứ nào" in refused(rt, nid)
    with write_tx(rt.engine) as conn:
        grounds.claim_basis_in(conn, nid, basis="74.1.b", statement=text, actor=who(rt, "cv.bcy"))
    appraise(rt, nid)
    with rt.engine.connect() as conn:
        claims = [
            json.loads(p)["basis"]
            for p in conn.execute(
                select(EVENTS.c.payload)
                .where(EVENTS.c.stream == f"dossier:{nid}", EVENTS.c.trigger == "claim_basis")
                .order_by(EVENTS.c.seq)
            ).scalars()
        ]
    assert claims == ["74.1.a", "74.1.b"]
    with write_tx(rt.engine) as conn, pytest.raises(Forbidden):
        grounds.claim_basis_in(conn, nid, basis="74.1.c", statement="x", actor=who(rt, "cb.pccc"))
