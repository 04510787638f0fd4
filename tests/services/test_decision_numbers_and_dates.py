"""Decisions carry the official number of their issuer and a date within the law's limits.

ND 30/2020: `<số>/QĐ-<ký hiệu>`, the ký hiệu in its registered case (QĐ-TTg), serial numbers
restarting every year; the decision date is not in the future, not before the nominations'
last step nor their council session, and the money is that of the decision's date.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from khenthuong.errors import KhenthuongError, StepRefused
from khenthuong.localtime import LOCAL_TZ, local_date
from khenthuong.rules.catalog import catalog_in
from khenthuong.runtime import Runtime
from khenthuong.services import councils, decisions, new_nominations, stepping
from khenthuong.services import nominations as svc
from khenthuong.services.councils import MemberIn
from khenthuong.services.org import add_person
from khenthuong.storage.db import write_tx
from khenthuong.storage.decisions import DECISION_ITEMS, DECISIONS
from khenthuong.storage.history import AWARD_RECORDS
from tests.conftest import CONFIG
from tests.services.test_council_and_decision import (
    council,
    nominated_at_council,
    person_with_history,
    who,
)
from tests.services.test_quota_guards import attach
from tests.services.test_staged_dossier import appraised, with_history

TODAY = local_date(datetime.now(UTC))


def at(day: date, hour: int = 9) -> datetime:
    """`hour` o'clock in Hà Nội on `day`, as an aware instant."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=LOCAL_TZ)


def giay_khen_at_head(rt: Runtime, name: str, submitted: date, approved: date) -> int:
    """A Giấy khen of a registered person, submitted and passed by the unit council on
    the given days: it waits for the head of unit's decision."""
    with write_tx(rt.engine) as conn:
        pid = add_person(conn, name, "CCYQD")
    nid = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="giay_khen",
        proposing_unit="CCYQD",
        actor=who(rt, "cb.qd"),
        nominee_person_id=pid,
        year=submitted.year,
        now=at(submitted, 8),
    )
    stepping.advance(rt.engine, rt.registry, nid, "submit", who(rt, "cb.qd"), now=at(submitted))
    stepping.advance(
        rt.engine, rt.registry, nid, "council_approve", who(rt, "tk.qd"), now=at(approved)
    )
    return nid


def decide(rt: Runtime, nid: int, number: str, day: date | None = None) -> svc.StepResult:
    """`advance NID decide --field decision_number=… [--field decision_date=…]` by the head."""
    payload = {"decision_number": number}
    if day is not None:
        payload["decision_date"] = day.isoformat()
    return stepping.advance(rt.engine, rt.registry, nid, "decide", who(rt, "tt.qd"), payload)


def passed_council(rt: Runtime, name: str) -> tuple[int, int]:
    """A CSTĐ cấp Bộ nomination passed by a session of the BCY council held and closed today."""
    nid = nominated_at_council(rt, person_with_history(rt, name, [2024, 2025, 2026]))
    sid, secretary = council(rt)
    with write_tx(rt.engine) as conn:
        councils.add_item(conn, rt.registry, sid, nid, actor=secretary)
        councils.record_tally(conn, sid, nid, agree=19, disagree=0, abstain=0, actor=secretary)
        councils.close_session(conn, rt.registry, catalog_in(CONFIG), sid, actor=secretary)
    return nid, sid


def sign_at_bcy(rt: Runtime, nid: int, number: str, day: date) -> list[decisions.DecisionLine]:
    """`khenthuong decisions create` by the head of Ban Cơ yếu for one nomination."""
    with write_tx(rt.engine) as conn:
        return decisions.create_decision(
            conn,
            rt.registry,
            catalog_in(CONFIG),
            number=number,
            decided_on=day,
            signer="Trưởng Ban Cơ yếu Chính phủ",
            authority="BCY",
            award_code="CSTD_BO",
            nomination_ids=[nid],
            actor=who(rt, "tb.bcy"),
        )


def messages(info: pytest.ExceptionInfo[StepRefused]) -> str:
    return " | ".join(r.message_vi for r in info.value.refusals)


def test_prime_ministers_number_is_taken_in_its_official_case(rt: Runtime) -> None:
    """Bằng khen của Thủ tướng: 1234/QĐ-TTG is refused naming the form <số>/QĐ-TTg;
    1234/QĐ-TTg is accepted and stored exactly as typed."""
    nid = appraised(rt, "bang_khen_thu_tuong", "BK_TTG", with_history(rt, "Lương Thị Mai", "BK_BO"))
    secretary = who(rt, "tk.bcy")
    with write_tx(rt.engine) as conn:
        sid = councils.open_session(
            conn,
            "BCY",
            title="Phiên họp xét Bằng khen",
            held_on=TODAY,
            members=[MemberIn(f"Ủy viên {i}") for i in range(7)],
            actor=secretary,
        )
        councils.add_item(conn, rt.registry, sid, nid, actor=secretary)
        councils.record_tally(conn, sid, nid, agree=7, disagree=0, abstain=0, actor=secretary)
        councils.close_session(conn, rt.registry, catalog_in(CONFIG), sid, actor=secretary)
    attach(rt, nid, ("y_kien_co_quan",), who(rt, "cv.bcy"))
    stepping.advance(rt.engine, rt.registry, nid, "submit_to_pm", who(rt, "tb.bcy"))
    stepping.advance(rt.engine, rt.registry, nid, "appraise", who(rt, "cv.tw"))
    pm = who(rt, "ttg")
    for wrong in ("1234/QĐ-TTG", "1234/qđ-ttg", "1234/QĐ-BCY"):
        with pytest.raises(StepRefused) as info:
            stepping.advance(rt.engine, rt.registry, nid, "decide", pm, {"decision_number": wrong})
        assert "phải có dạng <số>/QĐ-TTg (Thủ tướng Chính phủ)" in messages(info), wrong
    result = stepping.advance(
        rt.engine, rt.registry, nid, "decide", pm, {"decision_number": " 1234/QĐ-TTg "}
    )
    assert result.to_state == "decided"
    with rt.engine.connect() as conn:
        stored = conn.execute(select(DECISIONS)).mappings().one()
        record = conn.execute(
            select(AWARD_RECORDS.c.decision_number).where(AWARD_RECORDS.c.nomination_id == nid)
        ).scalar_one()
        header, lines = decisions.decision_lines(conn, "1234/qđ-ttg")
    assert stored["number"] == "1234/QĐ-TTg" and record == "1234/QĐ-TTg"
    assert stored["number_key"] == "1234/qđ-ttg" and stored["number_year"] == TODAY.year
    assert header["award_code"] == "BK_TTG" and [x.nomination_id for x in lines] == [nid]


def test_a_ministry_decision_refuses_the_prime_ministers_form(rt: Runtime) -> None:
    """The head of Ban Cơ yếu signs QĐ-BCY: 1234/QĐ-TTg is refused naming that form."""
    nid, _sid = passed_council(rt, "Vũ Văn Giang")
    with pytest.raises(StepRefused) as info:
        sign_at_bcy(rt, nid, "1234/QĐ-TTg", TODAY)
    assert "phải có dạng <số>/QĐ-BCY (Ban Cơ yếu Chính phủ)" in messages(info)
    assert info.value.refusals[0].details == {"expected": "<số>/QĐ-BCY"}
    with rt.engine.connect() as conn:
        assert conn.execute(select(DECISIONS)).first() is None
        assert svc.get_row(conn, nid)["state"] == "minister_decision"
    assert [x.amount_vnd for x in sign_at_bcy(rt, nid, "1234/QĐ-BCY", TODAY)] == [7_020_000]


def test_numbers_are_unique_in_a_year_whatever_their_case(rt: Runtime) -> None:
    """12/QĐ-BCY then 12/qđ-bcy in the same year is refused as the same number."""
    first, _ = passed_council(rt, "Nguyễn Văn Bình")
    second, _ = passed_council(rt, "Lê Văn Cường")
    sign_at_bcy(rt, first, "12/QĐ-BCY", TODAY)
    for again in ("12/qđ-bcy", "12/QĐ-BCY"):
        with pytest.raises(StepRefused) as info:
            sign_at_bcy(rt, second, again, TODAY)
        assert f"Số quyết định {again} đã được dùng cho quyết định 12/QĐ-BCY" in messages(info)
    with rt.engine.connect() as conn:
        assert svc.get_row(conn, second)["state"] == "minister_decision"
        row = conn.execute(select(DECISIONS)).mappings().one()
    # The database holds the rule too, whatever path writes the row.
    with pytest.raises(IntegrityError), write_tx(rt.engine) as conn:
        conn.execute(
            insert(DECISIONS).values(
                {**{k: v for k, v in row.items() if k != "id"}, "number": "12/Qđ-Bcy"}
            )
        )


def test_serial_numbers_restart_every_year(rt: Runtime) -> None:
    """15/QĐ-CCYQD of 2025 and 15/QĐ-CCYQD of 2026 are two decisions; a lookup by the
    number alone asks for the year."""
    old = giay_khen_at_head(rt, "Phạm Văn Hải", date(2025, 12, 1), date(2025, 12, 5))
    new = giay_khen_at_head(rt, "Đào Thị Hương", date(2026, 1, 5), date(2026, 1, 9))
    decide(rt, old, "15/QĐ-CCYQD", date(2025, 12, 30))
    decide(rt, new, "15/QĐ-CCYQD", date(2026, 1, 12))
    with rt.engine.connect() as conn:
        with pytest.raises(KhenthuongError, match="các năm 2026, 2025"):
            decisions.decision_lines(conn, "15/QĐ-CCYQD")
        header, lines = decisions.decision_lines(conn, "15/qđ-ccyqd", 2025)
    assert header["decided_on"] == date(2025, 12, 30) and lines[0].nomination_id == old


def test_a_decision_dated_tomorrow_is_refused(rt: Runtime) -> None:
    nid, _sid = passed_council(rt, "Hoàng Văn Khánh")
    tomorrow = TODAY + timedelta(days=1)
    with pytest.raises(StepRefused) as info:
        sign_at_bcy(rt, nid, "7/QĐ-BCY", tomorrow)
    assert messages(info) == (
        f"Ngày quyết định {tomorrow:%d/%m/%Y} ở tương lai: ngày quyết định không được sau "
        f"ngày {TODAY:%d/%m/%Y}"
    )
    with rt.engine.connect() as conn:
        assert svc.get_row(conn, nid)["state"] == "minister_decision"


def test_a_decision_dated_before_its_council_session_is_refused(rt: Runtime) -> None:
    """The session met and closed today: a decision dated yesterday is refused naming it."""
    nid, sid = passed_council(rt, "Trịnh Thị Lan")
    yesterday = TODAY - timedelta(days=1)
    with pytest.raises(StepRefused) as info:
        sign_at_bcy(rt, nid, "8/QĐ-BCY", yesterday)
    text = messages(info)
    assert f"Ngày quyết định {yesterday:%d/%m/%Y} trước ngày {TODAY:%d/%m/%Y}" in text
    assert f"phiên họp Hội đồng #{sid}" in text
    assert info.value.refusals[0].details == {"earliest": TODAY.isoformat()}
    assert len(sign_at_bcy(rt, nid, "8/QĐ-BCY", TODAY)) == 1


def test_a_decision_dated_before_the_nominations_last_step_is_refused(rt: Runtime) -> None:
    """The unit council passed it on 05/03/2025: a decision of 04/03/2025 is refused."""
    nid = giay_khen_at_head(rt, "Lý Văn Minh", date(2025, 3, 3), date(2025, 3, 5))
    with pytest.raises(StepRefused) as info:
        decide(rt, nid, "3/QĐ-CCYQD", date(2025, 3, 4))
    assert (
        f"quyết định không được ký trước bước xử lý cuối của hồ sơ #{nid} ngày 05/03/2025"
        in messages(info)
    )
    assert decide(rt, nid, "3/QĐ-CCYQD", date(2025, 3, 5)).to_state == "decided"


def test_the_money_is_that_of_the_decisions_date(rt: Runtime) -> None:
    """Giấy khen (0,3): 540,000 đ on 28/06/2024 (base salary 1,800,000), 710,000 đ on
    10/07/2025 (2,340,000, rounded up to 10,000); a date no rule set covers is refused
    naming the date."""
    early = giay_khen_at_head(rt, "Ngô Thị Nga", date(2024, 3, 4), date(2024, 3, 8))
    late = giay_khen_at_head(rt, "Bùi Văn Quang", date(2024, 3, 4), date(2024, 3, 8))
    decide(rt, early, "31/QĐ-CCYQD", date(2024, 6, 28))
    decide(rt, late, "32/QĐ-CCYQD", date(2025, 7, 10))
    with rt.engine.connect() as conn:
        items = {
            r.nomination_id: (r.coefficient, r.base_salary_vnd, r.amount_vnd)
            for r in conn.execute(select(DECISION_ITEMS))
        }
    assert items == {early: (0.3, 1_800_000, 540_000), late: (0.3, 2_340_000, 710_000)}
    ancient = giay_khen_at_head(rt, "Đinh Văn Sơn", date(2016, 5, 2), date(2016, 5, 4))
    with pytest.raises(KhenthuongError, match="01/06/2016"):
        decide(rt, ancient, "40/QĐ-CCYQD", date(2016, 6, 1))
    with rt.engine.connect() as conn:
        assert svc.get_row(conn, ancient)["state"] == "head_decision"
