"""CSTĐ cấp Bộ end to end: dossier, eligibility from history, council vote, decision with money."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select

from khenthuong.errors import Forbidden, KhenthuongError, StepRefused
from khenthuong.localtime import local_date
from khenthuong.rules.catalog import QuotaRule, catalog_in
from khenthuong.runtime import Runtime
from khenthuong.services import councils, decisions, dossier, new_nominations, stepping
from khenthuong.services import nominations as svc
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.councils import MemberIn
from khenthuong.services.org import add_person
from khenthuong.storage.db import write_tx
from khenthuong.storage.decisions import DECISION_ITEMS, DECISIONS
from khenthuong.storage.history import AWARD_RECORDS, INITIATIVES
from khenthuong.storage.models import NOMINATIONS
from tests.conftest import CONFIG

PDF = b"%PDF-1.4 test"
TODAY = local_date(datetime.now(UTC))
"""Decisions may not be dated in the future (local date in Việt Nam) nor before their steps."""


def who(rt: Runtime, name: str) -> Actor:
    with rt.engine.connect() as conn:
        return load_actor(conn, name)


def person_with_history(rt: Runtime, name: str, cstdcs_years: list[int]) -> int:
    with write_tx(rt.engine) as conn:
        pid = add_person(conn, name, "CCYQD")
        for year in cstdcs_years:
            conn.execute(
                insert(AWARD_RECORDS).values(
                    person_id=pid,
                    award_code="CSTDCS",
                    year=year,
                    decision_number=f"{year}/QĐ-CCYQD",
                    decision_date=date(year, 12, 20),
                    commendation_type="cong_trang",
                    source="import",
                    created_at=datetime.now(UTC),
                )
            )
        conn.execute(
            insert(INITIATIVES).values(
                person_id=pid, year=2026, title="Giải pháp mật mã", scope="ministry"
            )
        )
    return pid


def nominated_at_council(rt: Runtime, pid: int) -> int:
    officer = who(rt, "cb.qd")
    nid = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="chien_si_thi_dua_cap_bo",
        proposing_unit="CCYQD",
        actor=officer,
        nominee_person_id=pid,
        year=2026,
    )
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, nid, "submit", officer)
    assert info.value.refusals[0].code == "dossier_complete"
    with write_tx(rt.engine) as conn:
        for doc in catalog_in(CONFIG).award("CSTD_BO").documents:
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
    stepping.advance(rt.engine, rt.registry, nid, "appraise", who(rt, "cv.bcy"))
    return nid


def council(
    rt: Runtime, present: int = 19, members: list[MemberIn] | None = None
) -> tuple[int, Actor]:
    secretary = who(rt, "tk.bcy")
    if members is None:
        members = [MemberIn(f"Ủy viên {i}", present=i < present) for i in range(20)]
    with write_tx(rt.engine) as conn:
        sid = councils.open_session(
            conn,
            "BCY",
            title="Phiên họp xét danh hiệu năm 2026",
            held_on=TODAY,
            members=members,
            actor=secretary,
        )
    return sid, secretary


def test_two_consecutive_years_are_refused_at_appraisal(rt: Runtime) -> None:
    """With CSTĐCS only in 2025–2026 the appraisal step is refused with the years."""
    pid = person_with_history(rt, "Trần Thị Bích", [2025, 2026])
    officer = who(rt, "cb.qd")
    nid = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="chien_si_thi_dua_cap_bo",
        proposing_unit="CCYQD",
        actor=officer,
        nominee_person_id=pid,
        year=2026,
    )
    with write_tx(rt.engine) as conn:
        for doc in catalog_in(CONFIG).award("CSTD_BO").documents:
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
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, nid, "appraise", who(rt, "cv.bcy"))
    assert "chỉ có 2 năm liên tục (2025, 2026)" in info.value.refusals[0].message_vi


def test_council_session_then_decision_with_money(rt: Runtime) -> None:
    """18/20 passes and 17/20 fails at 90% of total membership; the decision pays 7,020,000."""
    winner = nominated_at_council(
        rt, person_with_history(rt, "Nguyễn Văn Bình", [2024, 2025, 2026])
    )
    loser = nominated_at_council(rt, person_with_history(rt, "Lê Văn Cường", [2024, 2025, 2026]))
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, winner, "council_approve", who(rt, "tk.bcy"))
    assert info.value.refusals[0].code == "vote_passed"
    sid, secretary = council(rt)
    catalog = catalog_in(CONFIG)
    with write_tx(rt.engine) as conn:
        for nid in (winner, loser):
            councils.add_item(conn, rt.registry, sid, nid, actor=secretary)
        with pytest.raises(KhenthuongError, match="vượt số thành viên"):
            councils.record_tally(
                conn, sid, winner, agree=18, disagree=2, abstain=0, actor=secretary
            )
        councils.record_tally(conn, sid, winner, agree=18, disagree=1, abstain=0, actor=secretary)
        councils.record_tally(conn, sid, loser, agree=17, disagree=2, abstain=0, actor=secretary)
        minutes = councils.close_session(conn, rt.registry, catalog, sid, actor=secretary)
    assert "18/20 phiếu đồng ý" in minutes and "17/20" in minutes
    with rt.engine.connect() as conn:
        assert svc.get_row(conn, winner)["state"] == "minister_decision"
        assert svc.get_row(conn, loser)["state"] == "rejected"
    with write_tx(rt.engine) as conn:
        lines = decisions.create_decision(
            conn,
            rt.registry,
            catalog,
            number="45/QĐ-BCY",
            decided_on=TODAY,
            signer="Trưởng Ban Cơ yếu Chính phủ",
            authority="BCY",
            award_code="CSTD_BO",
            nomination_ids=[winner],
            actor=who(rt, "tb.bcy"),
        )
        header, shown = decisions.decision_lines(conn, "45/QĐ-BCY")
        records = conn.execute(
            select(AWARD_RECORDS).where(AWARD_RECORDS.c.nomination_id == winner)
        ).all()
    assert [(x.nominee_name, x.amount_vnd) for x in lines] == [("Nguyễn Văn Bình", 7_020_000)]
    assert shown == lines and header["award_code"] == "CSTD_BO"
    assert len(records) == 1 and records[0].award_code == "CSTD_BO"


def test_decision_must_match_the_award_and_the_signing_authority(rt: Runtime) -> None:
    """A CSTĐ cấp Bộ nomination cannot be signed as Bằng khen cấp Bộ (paid at another
    coefficient), nor by someone without the minister's role at the deciding authority."""
    nid = nominated_at_council(rt, person_with_history(rt, "Vũ Văn Giang", [2024, 2025, 2026]))
    sid, secretary = council(rt)
    catalog = catalog_in(CONFIG)
    with write_tx(rt.engine) as conn:
        councils.add_item(conn, rt.registry, sid, nid, actor=secretary)
        councils.record_tally(conn, sid, nid, agree=19, disagree=0, abstain=0, actor=secretary)
        councils.close_session(conn, rt.registry, catalog, sid, actor=secretary)

    def sign(award: str, user: str, authority: str = "BCY") -> None:
        with write_tx(rt.engine) as conn:
            decisions.create_decision(
                conn,
                rt.registry,
                catalog,
                number="50/QĐ-BCY",
                decided_on=TODAY,
                signer="Trưởng Ban Cơ yếu Chính phủ",
                authority=authority,
                award_code=award,
                nomination_ids=[nid],
                actor=who(rt, user),
            )

    with pytest.raises(KhenthuongError) as info:
        sign("BK_BO", "tb.bcy")
    message = str(info.value)
    assert f"Hồ sơ #{nid} (Vũ Văn Giang)" in message
    assert "đề nghị Chiến sĩ thi đua cấp Bộ, không phải Bằng khen cấp Bộ" in message
    assert "CSTD_BO" not in message and "BK_BO" not in message  # names, not codes
    minister = "Bộ trưởng, Thủ trưởng cơ quan trung ương, Chủ tịch UBND tỉnh"
    with pytest.raises(Forbidden, match=f"cần vai trò {minister} tại Ban Cơ yếu Chính phủ"):
        sign("CSTD_BO", "cv.bcy")
    with pytest.raises(Forbidden, match=f"cần vai trò {minister} tại Cục Cơ yếu Quân đội") as no:
        sign("CSTD_BO", "tt.qd", authority="CCYQD")
    assert "minister" not in str(no.value) and "tt.qd" not in str(no.value)
    assert no.value.en is not None and "Ministry Emulation Fighter" in no.value.en
    with pytest.raises(Forbidden, match="không thuộc đơn vị trong thẩm quyền của BCA"):
        sign("CSTD_BO", "bt.bca", authority="BCA")
    with rt.engine.connect() as conn:
        assert svc.get_row(conn, nid)["state"] == "minister_decision"
        assert conn.execute(select(DECISIONS)).first() is None
        assert (
            conn.execute(select(AWARD_RECORDS).where(AWARD_RECORDS.c.nomination_id == nid)).first()
            is None
        )
    sign("CSTD_BO", "tb.bcy")
    with rt.engine.connect() as conn:
        item = conn.execute(select(DECISION_ITEMS)).mappings().one()
    assert item["coefficient"] == 3.0 and item["amount_vnd"] == 7_020_000


def test_session_without_quorum_cannot_close(rt: Runtime) -> None:
    """12 of 20 members present is below quorum: closing is refused and nothing moves."""
    nid = nominated_at_council(rt, person_with_history(rt, "Phạm Thị Dung", [2024, 2025, 2026]))
    sid, secretary = council(rt, present=12)
    with pytest.raises(KhenthuongError, match="không đủ số lượng"), write_tx(rt.engine) as conn:
        councils.add_item(conn, rt.registry, sid, nid, actor=secretary)
        councils.record_tally(conn, sid, nid, agree=12, disagree=0, abstain=0, actor=secretary)
        councils.close_session(conn, rt.registry, catalog_in(CONFIG), sid, actor=secretary)
    with rt.engine.connect() as conn:
        assert svc.get_row(conn, nid)["state"] == "ministry_council"


def test_nominee_on_the_council_is_recused(rt: Runtime) -> None:
    """A member who is the nominee is recused and leaves the denominator."""
    pid = person_with_history(rt, "Đỗ Văn Em", [2024, 2025, 2026])
    nid = nominated_at_council(rt, pid)
    secretary = who(rt, "tk.bcy")
    members = [MemberIn(f"Ủy viên {i}") for i in range(9)] + [MemberIn("Đỗ Văn Em", person_id=pid)]
    with write_tx(rt.engine) as conn:
        sid = councils.open_session(
            conn,
            "BCY",
            title="Phiên họp",
            held_on=date(2026, 12, 10),
            members=members,
            actor=secretary,
        )
        councils.add_item(conn, rt.registry, sid, nid, actor=secretary)
        with pytest.raises(KhenthuongError):
            councils.record_tally(conn, sid, nid, agree=10, disagree=0, abstain=0, actor=secretary)
        councils.record_tally(conn, sid, nid, agree=9, disagree=0, abstain=0, actor=secretary)
        minutes = councils.close_session(
            conn, rt.registry, catalog_in(CONFIG), sid, actor=secretary
        )
    assert "9/9" in minutes and "miễn biểu quyết: 1" in minutes


def test_last_quota_place_goes_to_one_of_two_concurrent_officers(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a 15% CSTĐCS cap and one place left, two simultaneous council steps: one wins."""
    from khenthuong.services import guards

    catalog = catalog_in(CONFIG)
    rule = catalog.awards["CSTDCS"].rules[-1]
    capped = rule.model_copy(update={"quota": QuotaRule(share=0.15, of="LDTT")})
    award = catalog.awards["CSTDCS"].model_copy(update={"rules": [capped]})
    patched = catalog.model_copy(update={"awards": {**catalog.awards, "CSTDCS": award}})
    monkeypatch.setattr(guards, "_catalog", lambda: patched)
    officer = who(rt, "cb.qd")
    with write_tx(rt.engine) as conn:
        for i in range(7):  # 7 LĐTT in 2026 -> floor(0.15 * 7) = 1 place
            pid = add_person(conn, f"Cán bộ {i}", "CCYQD")
            conn.execute(
                insert(AWARD_RECORDS).values(
                    person_id=pid,
                    award_code="LDTT",
                    year=2026,
                    decision_number=f"{i}/QĐ-CCYQD",
                    decision_date=date(2026, 12, 1),
                    created_at=datetime.now(UTC),
                )
            )
    ids = []
    for name in ("Ứng viên A", "Ứng viên B"):
        with write_tx(rt.engine) as conn:
            pid = add_person(conn, name, "CCYQD")
            nid = new_nominations.create_nomination_in(
                conn,
                rt.registry,
                workflow="chien_si_thi_dua_co_so",
                proposing_unit="CCYQD",
                actor=officer,
                nominee_person_id=pid,
                year=2026,
            )
            conn.execute(
                NOMINATIONS.update().where(NOMINATIONS.c.id == nid).values(state="unit_council")
            )
            ids.append(nid)
    secretary = who(rt, "tk.qd")
    with write_tx(rt.engine) as conn:
        sid = councils.open_session(
            conn,
            "CCYQD",
            title="Bình xét 2026",
            held_on=date(2026, 12, 5),
            members=[MemberIn(f"Ủy viên {i}") for i in range(5)],
            actor=secretary,
        )
        for nid in ids:
            councils.add_item(conn, rt.registry, sid, nid, actor=secretary)
            councils.record_tally(conn, sid, nid, agree=5, disagree=0, abstain=0, actor=secretary)
        conn.execute(
            councils.COUNCIL_ITEMS.update()
            .where(councils.COUNCIL_ITEMS.c.session_id == sid)
            .values(result="passed")
        )
        conn.execute(
            councils.COUNCIL_SESSIONS.update()
            .where(councils.COUNCIL_SESSIONS.c.id == sid)
            .values(status="closed", closed_at=datetime.now(UTC))
        )
    barrier = threading.Barrier(2)
    results: list[object] = []

    def attempt(nid: int) -> None:
        barrier.wait()
        try:
            results.append(
                stepping.advance(rt.engine, rt.registry, nid, "council_approve", secretary)
            )
        except StepRefused as exc:
            results.append(exc)

    threads = [threading.Thread(target=attempt, args=(nid,)) for nid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    wins = [r for r in results if isinstance(r, svc.StepResult)]
    refusals = [r for r in results if isinstance(r, StepRefused)]
    assert len(wins) == 1 and len(refusals) == 1
    assert refusals[0].refusals[0].code == "within_quota"
