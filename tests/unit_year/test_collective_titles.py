"""The collective titles decided above the unit (Tập thể lao động xuất sắc, Đơn vị quyết
thắng, Cờ thi đua cấp Bộ and Cờ thi đua của Bộ Công an) from proposal to the minister's
decision, and their refusals at the ministry's appraisal: a member disciplined at cảnh cáo,
too few LĐTT, a collective that led no bloc of its ministry; and the armed forces' unit
titles (Chiến sĩ tiên tiến, Đơn vị tiên tiến) through one year-end review."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select

from khenthuong.errors import StepRefused
from khenthuong.localtime import LOCAL_TZ
from khenthuong.runtime import Runtime
from khenthuong.services import (
    councils,
    decisions,
    dossier,
    new_nominations,
    ratings,
    stepping,
    year_review,
)
from khenthuong.services.blocs import apply_blocs, load_blocs
from khenthuong.services.councils import MemberIn
from khenthuong.services.year_review import ProposedEntry, Tally
from khenthuong.storage.blocs import BLOC_VOTES, BLOCS, COVENANTS
from khenthuong.storage.db import write_tx
from khenthuong.storage.history import AWARD_RECORDS
from khenthuong.storage.models import UNITS
from tests.conftest import CONFIG
from tests.unit_year.helpers import (
    PDF,
    catalog,
    council_pass,
    discipline,
    people,
    propose_and_submit,
    who,
)

YEAR = 2026
TODAY = datetime.now(UTC).astimezone(LOCAL_TZ).date()


def unit_year_records(rt: Runtime, ldtt: int, others: int, cstdcs: int = 1) -> dict[str, int]:
    """People of Cục Cơ yếu Quân đội (beside the two demo people) rated for the year, `ldtt`
    of them holding a decided LĐTT and `cstdcs` a CSTĐCS."""
    names = {f"Mạc Văn {i}": "htt" for i in range(ldtt + others)}
    ids = people(rt, names, year=YEAR)
    with write_tx(rt.engine) as conn:
        demo = [r.person_id for r in ratings.unit_ratings(conn, "CCYQD", YEAR) if r.rating is None]
        ratings.set_ratings_in(
            conn, unit="CCYQD", year=YEAR, ratings=[(p, "ht") for p in demo],
            actor=who(rt, "cb.qd"),
        )  # fmt: skip
        for n, pid in enumerate(ids.values()):
            codes = (["LDTT"] if n < ldtt else []) + (["CSTDCS"] if n < cstdcs else [])
            for code in codes:
                conn.execute(
                    insert(AWARD_RECORDS).values(
                        person_id=pid, award_code=code, year=YEAR, decision_number=f"9/QĐ-{n}",
                        decision_date=date(YEAR, 12, 1), created_at=datetime.now(UTC),
                    )
                )  # fmt: skip
    return ids


BCY_OFFICERS = {"unit": "cb.qd", "head": "tt.qd", "appraiser": "cv.bcy", "secretary": "tk.bcy",
                "minister": "tb.bcy", "ministry": "BCY"}  # fmt: skip
BCA_OFFICERS = {"unit": "cb.pccc", "head": "tt.pccc", "appraiser": "cv.bca", "secretary": "tk.bca",
                "minister": "bt.bca", "ministry": "BCA"}  # fmt: skip


def to_appraisal(
    rt: Runtime, workflow: str, award: str | None = None, unit: str = "CCYQD",
    officers: dict[str, str] = BCY_OFFICERS,
) -> int:  # fmt: skip
    officer = who(rt, officers["unit"])
    with write_tx(rt.engine) as conn:
        nid = new_nominations.create_nomination_in(
            conn, rt.registry, workflow=workflow, proposing_unit=unit, actor=officer,
            nominee_unit_code=unit, nominee_kind="collective", year=YEAR, award_code=award,
        )  # fmt: skip
        for doc in ("to_trinh", "bao_cao_thanh_tich", "bien_ban_binh_xet"):
            dossier.attach(
                conn, nid, doc_type=doc, filename=f"{doc}.pdf", content=PDF, actor=officer,
                max_bytes=10_000,
            )  # fmt: skip
    stepping.advance(rt.engine, rt.registry, nid, "submit", officer)
    stepping.advance(rt.engine, rt.registry, nid, "forward", who(rt, officers["head"]))
    return nid


def to_decision(
    rt: Runtime, nid: int, award: str, number: str, officers: dict[str, str] = BCY_OFFICERS
) -> int:
    """Appraised, passed by the ministry council, signed by the minister; the money."""
    stepping.advance(rt.engine, rt.registry, nid, "appraise", who(rt, officers["appraiser"]))
    secretary = who(rt, officers["secretary"])
    with write_tx(rt.engine) as conn:
        sid = councils.open_session(
            conn, officers["ministry"], title="Hội đồng TĐKT Ban", held_on=datetime.now(UTC).date(),
            members=[MemberIn(f"Ủy viên {i}") for i in range(5)], actor=secretary,
        )  # fmt: skip
        councils.add_item(conn, rt.registry, sid, nid, actor=secretary)
        councils.record_tally(conn, sid, nid, agree=5, disagree=0, abstain=0, actor=secretary)
        councils.close_session(conn, rt.registry, catalog(), sid, actor=secretary)
    with write_tx(rt.engine) as conn:
        [line] = decisions.create_decision(
            conn, rt.registry, catalog(), number=number, decided_on=TODAY,
            signer="Thủ trưởng", authority=officers["ministry"], award_code=award,
            nomination_ids=[nid], actor=who(rt, officers["minister"]),
        )  # fmt: skip
    return line.amount_vnd


@pytest.mark.parametrize(
    ("workflow", "award", "amount"),
    [("tap_the_lao_dong_xuat_sac", "TTLDXS", 3_510_000), ("don_vi_quyet_thang", "DVQT", 3_510_000)],
)
def test_excellent_collective_to_the_ministers_decision(
    rt: Runtime, workflow: str, award: str, amount: int
) -> None:
    """Every member completed the year, 8 of 10 hold LĐTT, one CSTĐCS: appraised, voted,
    decided by the head of Ban Cơ yếu; 1.5 × 2,340,000."""
    unit_year_records(rt, ldtt=8, others=0)
    nid = to_appraisal(rt, workflow)
    assert to_decision(rt, nid, award, "91/QĐ-BCY") == amount


def test_excellent_collective_refused_for_a_disciplined_member_and_too_few_ldtt(
    rt: Runtime,
) -> None:
    """6 of 10 hold LĐTT (needs 70%) and one member was given a cảnh cáo: the appraisal
    refuses, naming both."""
    ids = unit_year_records(rt, ldtt=6, others=2)
    discipline(rt, next(iter(ids.values())), "canh_cao", YEAR)
    nid = to_appraisal(rt, "tap_the_lao_dong_xuat_sac")
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, nid, "appraise", who(rt, "cv.bcy"))
    message = info.value.refusals[0].message_vi
    assert "6/10 cá nhân đạt Lao động tiên tiến (cần ít nhất 70\u00a0%)" in message
    assert "1 cá nhân bị kỷ luật từ mức cảnh cáo trở lên trong năm" in message


def lead_bloc(rt: Runtime, bloc: str, unit: str, rank: int) -> None:
    with write_tx(rt.engine) as conn:
        known = set(conn.execute(select(UNITS.c.code)).scalars())
        apply_blocs(conn, load_blocs(CONFIG / "blocs.yaml", known))
        bloc_id = conn.execute(select(BLOCS.c.id).where(BLOCS.c.code == bloc)).scalar_one()
        unit_id = conn.execute(select(UNITS.c.id).where(UNITS.c.code == unit)).scalar_one()
        cid = conn.execute(
            insert(COVENANTS).values(
                bloc_id=bloc_id, year=YEAR, theme="Đoàn kết, sáng tạo", launched_on=date(YEAR, 3, 1),
                launched_by="kt.cy",
            )
        ).inserted_primary_key[0]  # fmt: skip
        conn.execute(
            insert(BLOC_VOTES).values(covenant_id=cid, unit_id=unit_id, votes=4, rank=rank)
        )


def test_ministry_flag_for_the_bloc_leader_and_refused_otherwise(rt: Runtime) -> None:
    """Cờ thi đua cấp Bộ: refused while the unit led no bloc of its ministry; first in the
    year-end vote of Khối thi đua 4 Hệ Cơ yếu (organised by Ban Cơ yếu), decided: 8.0 × base."""
    nid = to_appraisal(rt, "co_thi_dua_cap_bo")
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, nid, "appraise", who(rt, "cv.bcy"))
    assert (
        "không dẫn đầu cụm, khối thi đua do Bộ tổ chức nào năm 2026"
        in info.value.refusals[0].message_vi
    )
    lead_bloc(rt, "KCY4", "CCYQD", 1)
    assert to_decision(rt, nid, "CO_BO", "92/QĐ-BCY") == 18_720_000


def test_public_security_flag_is_the_ministrys_own(rt: Runtime) -> None:
    """Cờ thi đua của Bộ Công an (CO_BCA) on the ministry-flag path: a unit of Ban Cơ yếu
    ranked first in a Ban Cơ yếu bloc is refused (the BCA flag counts blocs the BCA
    organises); Cục Cảnh sát PCCC và CNCH, second in Cụm thi đua số 2, gets it from the Minister
    of Public Security: 8.0 × 2,340,000."""
    lead_bloc(rt, "KCY4", "CCYQD", 1)
    nid = to_appraisal(rt, "co_thi_dua_cap_bo", award="CO_BCA")
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, nid, "appraise", who(rt, "cv.bcy"))
    assert "không dẫn đầu cụm, khối thi đua do BCA tổ chức" in info.value.refusals[0].message_vi

    lead_bloc(rt, "CUM2-BCA", "C07", 2)
    ok = to_appraisal(rt, "co_thi_dua_cap_bo", award="CO_BCA", unit="C07", officers=BCA_OFFICERS)
    assert to_decision(rt, ok, "CO_BCA", "95/QĐ-BCA", BCA_OFFICERS) == 18_720_000


def test_armed_forces_unit_titles_through_one_review(rt: Runtime) -> None:
    """Chiến sĩ tiên tiến and Đơn vị tiên tiến in one year-end review: one vote per title,
    one decision each, the unit judged on its members' Chiến sĩ tiên tiến."""
    ids = people(rt, {f"Lù Văn {i}": "htt" for i in range(4)})
    entries = [ProposedEntry("CST", person_id=p) for p in ids.values()]
    batch, step = propose_and_submit(rt, [*entries, ProposedEntry("DVTT", unit_code="CCYQD")])
    assert not step.refused
    council_pass(rt, batch, {"CST": Tally(7), "DVTT": Tally(7)})
    with write_tx(rt.engine) as conn:
        signed = year_review.decide_titles_in(
            conn, rt.registry, catalog(), batch, {"CST": "93/QĐ-CCYQD", "DVTT": "94/QĐ-CCYQD"},
            signer="Trần Văn Hùng", authority="CCYQD", decided_on=TODAY, actor=who(rt, "tt.qd"),
        )  # fmt: skip
    assert [len(signed["CST"]), len(signed["DVTT"])] == [4, 1]
    assert signed["DVTT"][0].amount_vnd == 1_880_000
