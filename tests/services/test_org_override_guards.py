"""Guards and council votes use the overrides of the proposing unit's organisation."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from khenthuong.errors import StepRefused
from khenthuong.rules.catalog import Catalog, load_catalog
from khenthuong.runtime import Runtime
from khenthuong.services import councils, guards, new_nominations, stepping
from khenthuong.services import nominations as svc
from khenthuong.services.councils import MemberIn
from khenthuong.services.org import add_person
from khenthuong.storage.db import write_tx
from khenthuong.storage.history import AWARD_RECORDS, INITIATIVES
from tests.conftest import CONFIG
from tests.services.test_quota_guards import attach, cstdcs_at_council, who

BCY = """
  BCY:
    name: "Ban Cơ yếu Chính phủ"
    awards:
      BK_BO:
        - {effective_from: 2024-01-01, source: "Quy chế (ví dụ)", eligibility: {cstdcs_streak: 3}}
      CSTDCS:
        - {effective_from: 2024-01-01, source: "Quy chế (ví dụ)", quota: {share: 0.34, of: staff}}
      CSTD_BO:
        - effective_from: 2024-01-01
          source: "Quy chế (ví dụ)"
          vote: {threshold: "80%", denominator: present_members, quorum: "2/3"}
          quota: {count: 1, per: organisation}
"""


@pytest.fixture
def bcy_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Catalog:
    text = (CONFIG / "awards.yaml").read_text(encoding="utf-8")
    path = tmp_path / "awards.yaml"
    path.write_text(
        text.replace("\norganisations:\n", "\norganisations:\n" + BCY.lstrip("\n"), 1),
        encoding="utf-8",
    )
    catalog = load_catalog(path)
    monkeypatch.setattr(guards, "_catalog", lambda: catalog)
    return catalog


def person(rt: Runtime, name: str, cstdcs: list[int], initiative: str | None = None) -> int:
    with write_tx(rt.engine) as conn:
        pid = add_person(conn, name, "CCYQD")
        for year in cstdcs:
            conn.execute(
                insert(AWARD_RECORDS).values(
                    person_id=pid,
                    award_code="CSTDCS",
                    year=year,
                    decision_number=f"{year}/QĐ-CCYQD",
                    decision_date=date(year, 12, 20),
                    created_at=datetime.now(UTC),
                )
            )
        if initiative:
            conn.execute(
                insert(INITIATIVES).values(
                    person_id=pid, year=2026, title="Giải pháp", scope=initiative
                )
            )
    return pid


def to_appraisal(rt: Runtime, catalog: Catalog, workflow: str, code: str, pid: int) -> int:
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
    attach(rt, nid, tuple(catalog.award(code).documents), officer)
    stepping.advance(rt.engine, rt.registry, nid, "submit", officer)
    stepping.advance(rt.engine, rt.registry, nid, "forward", who(rt, "tt.qd"))
    return nid


def test_eligibility_uses_the_organisations_streak(rt: Runtime, bcy_catalog: Catalog) -> None:
    """BCY asks 3 consecutive CSTĐCS for its Bằng khen: 2 are refused for a BCY unit."""
    nid = to_appraisal(rt, bcy_catalog, "bang_khen_bo", "BK_BO", person(rt, "A", [2025, 2026]))
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, nid, "appraise", who(rt, "cv.bcy"))
    assert "Cần 3 năm liên tục đạt CSTĐCS" in info.value.refusals[0].message_vi
    ok = to_appraisal(rt, bcy_catalog, "bang_khen_bo", "BK_BO", person(rt, "B", [2024, 2025, 2026]))
    stepping.advance(rt.engine, rt.registry, ok, "appraise", who(rt, "cv.bcy"))


def test_quota_of_the_units_strength(rt: Runtime, bcy_catalog: Catalog) -> None:
    """34% of Cục Cơ yếu Quân đội's 4 people is 1 CSTĐCS place: the second is refused."""
    first, second = cstdcs_at_council(rt, ["Ứng viên A", "Ứng viên B"], datetime.now(UTC))
    secretary = who(rt, "tk.qd")
    stepping.advance(rt.engine, rt.registry, first, "council_approve", secretary)
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, second, "council_approve", secretary)
    assert "34\u00a0% quân số 4 người" in info.value.refusals[0].message_vi


def test_council_counts_by_the_organisations_vote_rule(rt: Runtime, bcy_catalog: Catalog) -> None:
    """17 of 19 present is 89%: below the national 90% of all 20 members, above BCY's 80%
    of members present, so BCY's session passes the CSTĐ cấp Bộ."""
    pid = person(rt, "Đinh Văn Khải", [2024, 2025, 2026], initiative="ministry")
    nid = to_appraisal(rt, bcy_catalog, "chien_si_thi_dua_cap_bo", "CSTD_BO", pid)
    stepping.advance(rt.engine, rt.registry, nid, "appraise", who(rt, "cv.bcy"))
    secretary = who(rt, "tk.bcy")
    sid = bcy_session(rt, nid, members=20, present=19, agree=17, disagree=2)
    with write_tx(rt.engine) as conn:
        councils.close_session(conn, rt.registry, bcy_catalog, sid, actor=secretary)
    with rt.engine.connect() as conn:
        assert svc.get_row(conn, nid)["state"] == "minister_decision"


def bcy_session(
    rt: Runtime,
    nid: int,
    *,
    members: int = 19,
    present: int = 19,
    agree: int = 19,
    disagree: int = 0,
) -> int:
    """A BCY council session with `nid` on its agenda and its tally recorded; left open."""
    secretary = who(rt, "tk.bcy")
    with write_tx(rt.engine) as conn:
        sid = councils.open_session(
            conn,
            "BCY",
            title="Phiên họp",
            held_on=date(2026, 12, 10),
            members=[MemberIn(f"Ủy viên {i}", present=i < present) for i in range(members)],
            actor=secretary,
        )
        councils.add_item(conn, rt.registry, sid, nid, actor=secretary)
        councils.record_tally(
            conn, sid, nid, agree=agree, disagree=disagree, abstain=0, actor=secretary
        )
    return sid


def test_ministry_cap_on_cstd_bo_is_taken_at_the_council_step(
    rt: Runtime, bcy_catalog: Catalog
) -> None:
    """CSTĐ cấp Bộ v3 takes a quota place at the council step: with BCY's one place for the
    whole organisation, the second session cannot pass a second nominee and stays open."""
    first, second = (
        to_appraisal(
            rt,
            bcy_catalog,
            "chien_si_thi_dua_cap_bo",
            "CSTD_BO",
            person(rt, name, [2024, 2025, 2026], initiative="ministry"),
        )
        for name in ("Đinh Văn Khải", "Lưu Thị Duyên")
    )
    for nid in (first, second):
        stepping.advance(rt.engine, rt.registry, nid, "appraise", who(rt, "cv.bcy"))
    secretary = who(rt, "tk.bcy")
    sessions = [bcy_session(rt, nid) for nid in (first, second)]
    with write_tx(rt.engine) as conn:
        councils.close_session(conn, rt.registry, bcy_catalog, sessions[0], actor=secretary)
    with pytest.raises(StepRefused) as info, write_tx(rt.engine) as conn:
        councils.close_session(conn, rt.registry, bcy_catalog, sessions[1], actor=secretary)
    refusal = info.value.refusals[0]
    assert refusal.code == "within_quota"
    assert (
        "tối đa 1 hồ sơ Chiến sĩ thi đua cấp Bộ năm 2026 (giới hạn số lượng của Ban Cơ yếu Chính phủ)"
        in refusal.message_vi
    )
    with rt.engine.connect() as conn:
        assert svc.get_row(conn, first)["state"] == "minister_decision"
        assert svc.get_row(conn, second)["state"] == "ministry_council"
        status = conn.execute(
            select(councils.COUNCIL_SESSIONS.c.status).where(
                councils.COUNCIL_SESSIONS.c.id == sessions[1]
            )
        ).scalar_one()
    assert status == "open"
