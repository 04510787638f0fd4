"""dossier_complete at later steps: documents the catalog requires at a trigger (Law Art 84)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert

from khenthuong.errors import StepRefused
from khenthuong.roles import roles_in
from khenthuong.rules.catalog import catalog_in
from khenthuong.runtime import Runtime
from khenthuong.services import councils, new_nominations, stepping
from khenthuong.services.councils import MemberIn
from khenthuong.services.org import add_person, add_user
from khenthuong.storage.db import write_tx
from khenthuong.storage.history import AWARD_RECORDS, YEARLY_RATINGS
from tests.conftest import CONFIG
from tests.services.test_quota_guards import attach, who


def with_history(rt: Runtime, name: str, prerequisite: str, excellent: int | None = None) -> int:
    """Holds `prerequisite` (2020), then good years 2021–2026 with CSTĐCS 2022, 2024, 2026."""
    with write_tx(rt.engine) as conn:
        pid = add_person(conn, name, "CCYQD")
        for year in range(2021, 2027):
            rating = "htxs" if year == excellent else "htt"
            conn.execute(insert(YEARLY_RATINGS).values(person_id=pid, year=year, rating=rating))
        for code, year in (
            (prerequisite, 2020),
            ("CSTDCS", 2022),
            ("CSTDCS", 2024),
            ("CSTDCS", 2026),
        ):
            conn.execute(
                insert(AWARD_RECORDS).values(
                    person_id=pid,
                    award_code=code,
                    year=year,
                    decision_number=f"{year}/QĐ-X",
                    decision_date=date(year, 12, 20),
                    created_at=datetime.now(UTC),
                )
            )
    return pid


def appraised(rt: Runtime, workflow: str, code: str, pid: int) -> int:
    officer = who(rt, "cb.qd")
    nid = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow=workflow,
        proposing_unit="CCYQD",
        actor=officer,
        nominee_person_id=pid,
        year=2026,
    )
    attach(rt, nid, tuple(catalog_in(CONFIG).award(code).documents), officer)
    stepping.advance(rt.engine, rt.registry, nid, "submit", officer)
    stepping.advance(rt.engine, rt.registry, nid, "forward", who(rt, "tt.qd"))
    stepping.advance(rt.engine, rt.registry, nid, "appraise", who(rt, "cv.bcy"))
    return nid


def test_pm_certificate_needs_agency_opinions_before_the_prime_minister(rt: Runtime) -> None:
    """Bằng khen TTg: after the ministry council passed it, the submission to the PM asks
    only for the agencies' opinions (Art 84(3)); the council minutes come from the session
    (ND 152 Art 42)."""
    nid = appraised(rt, "bang_khen_thu_tuong", "BK_TTG", with_history(rt, "Lương Thị Mai", "BK_BO"))
    secretary = who(rt, "tk.bcy")
    with write_tx(rt.engine) as conn:
        sid = councils.open_session(
            conn,
            "BCY",
            title="Phiên họp",
            held_on=date(2026, 12, 10),
            members=[MemberIn(f"Ủy viên {i}") for i in range(7)],
            actor=secretary,
        )
        councils.add_item(conn, rt.registry, sid, nid, actor=secretary)
        councils.record_tally(conn, sid, nid, agree=7, disagree=0, abstain=0, actor=secretary)
        councils.close_session(conn, rt.registry, catalog_in(CONFIG), sid, actor=secretary)
    minister = who(rt, "tb.bcy")
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, nid, "submit_to_pm", minister)
    assert info.value.refusals[0].details == {"missing": ["y_kien_co_quan"]}
    attach(rt, nid, ("y_kien_co_quan",), who(rt, "cv.bcy"))
    assert stepping.advance(rt.engine, rt.registry, nid, "submit_to_pm", minister).to_state == (
        "central_appraisal"
    )


def test_labour_order_publicity_needs_its_evidence(rt: Runtime) -> None:
    """Huân chương Lao động hạng Ba: ending the publicity asks for its evidence (Art 84(5))."""
    pid = with_history(rt, "Tôn Thất Nam", "BK_TTG", excellent=2025)
    nid = appraised(rt, "huan_chuong_lao_dong", "HCLD3", pid)
    with write_tx(rt.engine) as conn:  # another officer: cv.bcy appraised (four-eyes)
        roles = roles_in(CONFIG)
        grants = [("ministry_officer", "BCY")]
        add_user(conn, "cv2.bcy", "Phan Văn Lộc", "cv2.bcy@bcy.example", "BCY", grants, roles)
    officer = who(rt, "cv2.bcy")
    # After the listing's minimum of 10 working days (tests/services/test_minimum_stay.py).
    over = datetime.now(UTC) + timedelta(days=40)
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, nid, "end_publicity", officer, now=over)
    assert info.value.refusals[0].details == {"missing": ["cong_khai"]}
    attach(rt, nid, ("cong_khai",), officer)
    stepping.advance(rt.engine, rt.registry, nid, "end_publicity", officer, now=over)
