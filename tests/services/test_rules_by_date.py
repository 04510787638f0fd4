"""The law of the date in the services: a 2019 decision is paid by NĐ 91 and the 2019 base
salary, a 2019 submission meets the CSTĐCS 15% cap, 2018 history imports against the 2018
rules, and a date before the earliest rule set is refused naming it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from khenthuong.errors import StepRefused
from khenthuong.rules.catalog import catalog_in
from khenthuong.runtime import Runtime
from khenthuong.services import councils, new_nominations, stepping
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.blocs import apply_blocs, load_blocs
from khenthuong.services.councils import MemberIn
from khenthuong.services.history_import import import_history
from khenthuong.services.org import add_person
from khenthuong.storage.db import write_tx
from khenthuong.storage.decisions import DECISION_ITEMS, DECISIONS
from khenthuong.storage.history import AWARD_RECORDS, INITIATIVES, YEARLY_RATINGS
from khenthuong.storage.models import UNITS
from tests.conftest import CONFIG
from tests.services.test_quota_guards import attach, cstdcs_at_council, who

BK_DOCS = ("to_trinh", "bao_cao_thanh_tich", "bien_ban_binh_xet")


def at(day: date, hour: int = 3) -> datetime:
    """A moment of `day` in Việt Nam's working hours (03:00 UTC is 10:00 in Hà Nội)."""
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def bk_bo_to_decision(rt: Runtime, *, person: int | None, unit: str | None, year: int) -> int:
    """A Bằng khen cấp Bộ of `year` carried to the minister's desk with every step dated in
    that year: proposal, appraisal and a council of Ban Cơ yếu that passed it."""
    officer = who(rt, "cb.qd")
    nid = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="bang_khen_bo",
        proposing_unit="CCYQD",
        actor=officer,
        nominee_person_id=person,
        nominee_unit_code=unit,
        year=year,
        now=at(date(year, 11, 1)),
    )
    attach(rt, nid, BK_DOCS, officer)
    stepping.advance(rt.engine, rt.registry, nid, "submit", officer, now=at(date(year, 11, 4)))
    stepping.advance(
        rt.engine, rt.registry, nid, "forward", who(rt, "tt.qd"), now=at(date(year, 11, 5))
    )
    stepping.advance(
        rt.engine, rt.registry, nid, "appraise", who(rt, "cv.bcy"), now=at(date(year, 11, 6))
    )
    secretary = who(rt, "tk.bcy")
    with write_tx(rt.engine) as conn:
        sid = councils.open_session(
            conn,
            "BCY",
            title=f"Hội đồng TĐKT Ban Cơ yếu năm {year}",
            held_on=date(year, 12, 10),
            members=[MemberIn(f"Ủy viên {i}") for i in range(5)],
            actor=secretary,
        )
        councils.add_item(conn, rt.registry, sid, nid, actor=secretary)
        councils.record_tally(conn, sid, nid, agree=5, disagree=0, abstain=0, actor=secretary)
        # The vote passed; the council step itself is taken below, dated in `year`.
        conn.execute(
            councils.COUNCIL_ITEMS.update()
            .where(councils.COUNCIL_ITEMS.c.session_id == sid)
            .values(result="passed")
        )
        conn.execute(
            councils.COUNCIL_SESSIONS.update()
            .where(councils.COUNCIL_SESSIONS.c.id == sid)
            .values(status="closed", closed_at=at(date(year, 12, 10)))
        )
    stepping.advance(
        rt.engine, rt.registry, nid, "council_approve", secretary, now=at(date(year, 12, 11))
    )
    return nid


def test_a_2019_decision_is_paid_by_nd91_and_the_2019_base_salary(rt: Runtime) -> None:
    """Bằng khen cấp Bộ signed on 20/12/2019: 1.0 × 1,490,000 for a person, twice that for a
    collective (NĐ 91/2017 Điều 73; NĐ 38/2019)."""
    with write_tx(rt.engine) as conn:
        pid = add_person(conn, "Phạm Văn Hùng", "CCYQD")
    individual = bk_bo_to_decision(rt, person=pid, unit=None, year=2019)
    collective = bk_bo_to_decision(rt, person=None, unit="CCYQD", year=2019)
    minister = who(rt, "tb.bcy")
    for nid, number in ((individual, "101/QĐ-BCY"), (collective, "102/QĐ-BCY")):
        done = stepping.advance(
            rt.engine,
            rt.registry,
            nid,
            "decide",
            minister,
            {"decision_number": number},
            now=at(date(2019, 12, 20)),
        )
        assert done.to_state == "decided"
    with rt.engine.connect() as conn:
        items = conn.execute(
            select(
                DECISIONS.c.number,
                DECISIONS.c.decided_on,
                DECISION_ITEMS.c.coefficient,
                DECISION_ITEMS.c.base_salary_vnd,
                DECISION_ITEMS.c.amount_vnd,
            )
            .join(DECISIONS, DECISIONS.c.id == DECISION_ITEMS.c.decision_id)
            .order_by(DECISIONS.c.number)
        ).all()
    assert [tuple(i) for i in items] == [
        ("101/QĐ-BCY", date(2019, 12, 20), 1.0, 1_490_000, 1_490_000),
        ("102/QĐ-BCY", date(2019, 12, 20), 1.0, 1_490_000, 2_980_000),
    ]


def test_a_submission_before_the_earliest_rule_set_is_refused_naming_it(rt: Runtime) -> None:
    """Submitted on 04/09/2017, before NĐ 91's rule sets (01/10/2017): the appraisal's
    `eligible` is refused with that date and the award."""
    with write_tx(rt.engine) as conn:
        pid = add_person(conn, "Đỗ Văn Sớm", "CCYQD")
    officer = who(rt, "cb.qd")
    nid = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="bang_khen_bo",
        proposing_unit="CCYQD",
        actor=officer,
        nominee_person_id=pid,
        year=2017,
        now=at(date(2017, 9, 1)),
    )
    attach(rt, nid, BK_DOCS, officer)
    stepping.advance(rt.engine, rt.registry, nid, "submit", officer, now=at(date(2017, 9, 4)))
    stepping.advance(
        rt.engine, rt.registry, nid, "forward", who(rt, "tt.qd"), now=at(date(2017, 9, 5))
    )
    with pytest.raises(StepRefused) as info:
        stepping.advance(
            rt.engine, rt.registry, nid, "appraise", who(rt, "cv.bcy"), now=at(date(2017, 10, 2))
        )
    refusal = info.value.refusals[0]
    assert refusal.code == "rules"
    assert "quy định khen thưởng Bằng khen cấp Bộ áp dụng" in refusal.message_vi
    assert "BK_BO" not in refusal.message_vi + refusal.message_en  # the code in the details
    assert "ngày 04/09/2017" in refusal.message_vi and "từ ngày 01/10/2017" in refusal.message_vi
    assert refusal.details == {"award": "BK_BO", "on": "2017-09-04", "earliest": "2017-10-01"}


def ldtt_holders(rt: Runtime, year: int, count: int) -> None:
    """`count` people of Cục Cơ yếu Quân đội holding Lao động tiên tiến of `year`."""
    with write_tx(rt.engine) as conn:
        for i in range(count):
            pid = add_person(conn, f"Lao động tiên tiến {year} số {i}", "CCYQD")
            conn.execute(
                insert(AWARD_RECORDS).values(
                    person_id=pid,
                    award_code="LDTT",
                    year=year,
                    decision_number=f"{i + 1}/QĐ-CCYQD",
                    decision_date=date(year, 12, 1),
                    commendation_type="cong_trang",
                    source="import",
                    created_at=datetime.now(UTC),
                )
            )


@pytest.mark.parametrize(("year", "capped"), [(2019, True), (2025, False)])
def test_the_cstdcs_cap_of_nd91_reaches_a_2019_submission_only(
    rt: Runtime, year: int, capped: bool
) -> None:
    """7 LĐTT in the unit: 15% of 7 gives one CSTĐCS place in 2019 (NĐ 91 Điều 9(3)); a
    2025 submission has no cap by default."""
    ldtt_holders(rt, year, 7)
    first, second = cstdcs_at_council(
        rt, [f"Ứng viên A {year}", f"Ứng viên B {year}"], at(date(year, 11, 4)), year=year
    )
    secretary = who(rt, "tk.qd")
    later = at(date(year, 12, 11))
    stepping.advance(rt.engine, rt.registry, first, "council_approve", secretary, now=later)
    if not capped:
        stepping.advance(rt.engine, rt.registry, second, "council_approve", secretary, now=later)
        return
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, second, "council_approve", secretary, now=later)
    refusal = info.value.refusals[0]
    assert refusal.code == "within_quota"
    assert (
        f"tối đa 1 hồ sơ Chiến sĩ thi đua cơ sở năm {year} (15\u00a0% của 7 Lao động tiên tiến)"
        in refusal.message_vi
    )


HEADER = (
    "record,person,unit,year,code,decision_number,decision_date,commendation_type,title,ends_on\n"
)


def test_2018_history_imports_against_the_2018_rules(rt: Runtime, tmp_path: Path) -> None:
    """A 2018 CSTĐCS and Bằng khen import (their awards existed under NĐ 91), and so does a
    2015 record older than every rule set; a Kỷ niệm chương dated 2018 is refused, naming
    the date its rules begin."""
    good = tmp_path / "lich_su_2018.csv"
    good.write_text(
        HEADER
        + "award,Nguyễn Văn Cũ,CCYQD,2015,CSTDCS,5/QĐ-CCYQD,2015-12-20,,,\n"
        + "award,Nguyễn Văn Cũ,CCYQD,2018,CSTDCS,9/QĐ-CCYQD,20/12/2018,,,\n"
        + "award,Nguyễn Văn Cũ,CCYQD,2018,BK_BO,77/QĐ-BCY,2018-12-28,,,\n"
        + "rating,Nguyễn Văn Cũ,CCYQD,2018,htxs,,,,,\n",
        encoding="utf-8",
    )
    catalog = catalog_in(CONFIG)
    with write_tx(rt.engine) as conn:
        report = import_history(conn, good, catalog=catalog)
    assert report.errors == [] and report.imported == 4
    bad = tmp_path / "knc_2018.csv"
    bad.write_text(
        HEADER + "award,Nguyễn Văn Cũ,CCYQD,2018,KNC_BO,3/QĐ-BCY,2018-06-01,,,\n",
        encoding="utf-8",
    )
    with write_tx(rt.engine) as conn:
        report = import_history(conn, bad, catalog=catalog)
    assert [line for line, _ in report.errors] == [2]
    message = report.errors[0][1]
    assert (
        "Kỷ niệm chương của bộ, ban, ngành áp dụng ngày 01/06/2018" in message
        and "từ ngày 01/07/2025" in message
    )
    with rt.engine.connect() as conn:
        years = sorted(
            conn.execute(
                select(AWARD_RECORDS.c.year).where(AWARD_RECORDS.c.award_code == "CSTDCS")
            ).scalars()
        )
        assert years == [2015, 2018]
        assert conn.execute(select(YEARLY_RATINGS.c.year)).scalars().all() == [2018]
        assert conn.execute(select(INITIATIVES.c.id)).first() is None


@pytest.fixture
def flag_proposer(rt: Runtime) -> Actor:
    """An officer of Cục Cơ yếu Đảng – Chính quyền (khối trưởng in 2019), who proposes Cờ thi
    đua CP for the bloc."""
    with write_tx(rt.engine) as conn:
        known = set(conn.execute(select(UNITS.c.code)).scalars())
        apply_blocs(conn, load_blocs(CONFIG / "blocs.yaml", known))
        return load_actor(conn, "kt.cy")


@pytest.mark.parametrize("flag", ["CO_BO", "CO_BCA"])
def test_the_government_flag_cap_of_nd91_counts_the_ministry_flags(
    rt: Runtime, flag_proposer: Actor, flag: str
) -> None:
    """2019: Cờ thi đua CP for at most 20% of the collectives holding Ban Cơ yếu's flag that
    year (NĐ 91 Điều 11): 5 flags give one place, the second submission is refused. A
    ministry's own flag (CO_BCA, counts_as CO_BO) is counted as the ministry flag."""
    units = ("CCYQD", "CCYCA", "CCYNG", "CCYDCQ", "CQLKT")
    with write_tx(rt.engine) as conn:
        rows = conn.execute(select(UNITS.c.code, UNITS.c.id).where(UNITS.c.code.in_(units)))
        ids = {r.code: r.id for r in rows}
        for i, unit in enumerate(units):
            conn.execute(
                insert(AWARD_RECORDS).values(
                    unit_id=ids[unit],
                    award_code=flag,
                    year=2019,
                    decision_number=f"{200 + i}/QĐ-BCY",
                    decision_date=date(2019, 12, 5),
                    commendation_type="cong_trang",
                    source="import",
                    created_at=datetime.now(UTC),
                )
            )
    nominations = []
    for unit in ("CCYQD", "CCYCA"):
        nid = new_nominations.create_nomination(
            rt.engine,
            rt.registry,
            workflow="co_thi_dua_chinh_phu",
            proposing_unit="CCYDCQ",
            actor=flag_proposer,
            nominee_unit_code=unit,
            year=2019,
            now=at(date(2019, 12, 9)),
        )
        attach(rt, nid, BK_DOCS, flag_proposer)
        nominations.append(nid)
    first, second = nominations
    when = at(date(2019, 12, 10))
    stepping.advance(rt.engine, rt.registry, first, "submit", flag_proposer, now=when)
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, second, "submit", flag_proposer, now=when)
    refusal = info.value.refusals[0]
    assert refusal.code == "within_quota"
    assert (
        "tối đa 1 hồ sơ Cờ thi đua của Chính phủ năm 2019 (20\u00a0% của 5 Cờ thi đua cấp Bộ)"
        in refusal.message_vi
    )
