"""The public listing of a Huân chương is a minimum stay (NĐ 98/2023 Art 46(2)): ending it
before 10 working days is refused, naming the first possible day, alone or in a batch."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from khenthuong.errors import BatchRefused, StepRefused
from khenthuong.roles import roles_in
from khenthuong.rules.catalog import catalog_in
from khenthuong.runtime import Runtime
from khenthuong.services import new_nominations, stepping
from khenthuong.services.actors import Actor
from khenthuong.services.org import add_user
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import EVENTS
from tests.conftest import CONFIG
from tests.services.test_quota_guards import attach, who
from tests.services.test_staged_dossier import with_history

# Listed on Friday 23/04/2027, 09:00 in Hà Nội. Days off: 30/4 (Fri), 1/5 (Sat) and 3/5 (Mon,
# nghỉ bù). Listing days: 23/4, 26–29/4, 4–7/5, 10/5: the 9th working day after the entry day
# (10/5) is the listing's 10th and last day; the step is possible from 11/05/2027.
LISTED = datetime(2027, 4, 23, 2, 0, tzinfo=UTC)
WORKING_DAY_9 = datetime(2027, 5, 10, 9, 0, tzinfo=UTC)  # 16:00 on 10/05 in Hà Nội
WORKING_DAY_10 = datetime(2027, 5, 11, 1, 0, tzinfo=UTC)  # 08:00 on 11/05 in Hà Nội
REFUSAL = (
    "Chưa đủ thời gian công khai tối thiểu 10 ngày làm việc (từ 23/04/2027); "
    "có thể chuyển bước từ ngày 11/05/2027."
)


def second_officer(rt: Runtime) -> Actor:
    """A ministry officer other than cv.bcy, who appraised (four-eyes)."""
    with write_tx(rt.engine) as conn:
        grants = [("ministry_officer", "BCY")]
        add_user(
            conn, "cv2.bcy", "Phan Văn Lộc", "cv2.bcy@bcy.example", "BCY", grants, roles_in(CONFIG)
        )
    return who(rt, "cv2.bcy")


def listed(rt: Runtime, name: str, at: datetime = LISTED) -> int:
    """A Labour Order (hạng Ba) nomination put on the public list at `at`, with its whole
    dossier (the listing's evidence included)."""
    officer = who(rt, "cb.qd")
    nid = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="huan_chuong_lao_dong",
        proposing_unit="CCYQD",
        actor=officer,
        nominee_person_id=with_history(rt, name, "BK_TTG", excellent=2025),
        year=2026,
    )
    docs = (*catalog_in(CONFIG).award("HCLD3").documents, "cong_khai")
    attach(rt, nid, docs, officer)
    stepping.advance(rt.engine, rt.registry, nid, "submit", officer, now=at)
    stepping.advance(rt.engine, rt.registry, nid, "forward", who(rt, "tt.qd"), now=at)
    stepping.advance(rt.engine, rt.registry, nid, "appraise", who(rt, "cv.bcy"), now=at)
    return nid


def events(rt: Runtime) -> int:
    with rt.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(EVENTS)).scalar_one()


def test_listing_ends_on_working_day_10_not_9_across_the_may_holidays(rt: Runtime) -> None:
    nid = listed(rt, "Tôn Thất Nam")
    officer = second_officer(rt)
    before = events(rt)
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, nid, "end_publicity", officer, now=WORKING_DAY_9)
    [refusal] = info.value.refusals
    assert refusal.code == "minimum"
    assert refusal.message_vi.startswith(REFUSAL)
    assert "NĐ 98/2023/NĐ-CP, Điều 46(2)" in refusal.message_vi
    assert refusal.details["possible_from"] == "2027-05-11"
    assert events(rt) == before
    done = stepping.advance(
        rt.engine, rt.registry, nid, "end_publicity", officer, now=WORKING_DAY_10
    )
    assert done.to_state == "ministry_council"


def test_a_withdrawal_does_not_wait_for_the_listing(rt: Runtime) -> None:
    nid = listed(rt, "Tôn Thất Nam")
    result = stepping.advance(
        rt.engine,
        rt.registry,
        nid,
        "withdraw",
        second_officer(rt),
        {"reason": "Đơn vị rút hồ sơ"},
        now=LISTED,
    )
    assert result.to_state == "withdrawn"


def test_a_batch_gives_each_nomination_the_same_refusal(rt: Runtime) -> None:
    ids = [listed(rt, "Tôn Thất Nam"), listed(rt, "Lê Thị Hoa")]
    officer = second_officer(rt)
    before = events(rt)
    with pytest.raises(BatchRefused) as info:
        stepping.advance_batch(
            rt.engine, rt.registry, ids, "end_publicity", officer, now=WORKING_DAY_9
        )
    assert sorted(info.value.failures) == sorted(ids)
    for refusals in info.value.failures.values():
        assert [r.code for r in refusals] == ["minimum"]
        assert refusals[0].message_vi.startswith(REFUSAL)
    assert events(rt) == before
    done, refused = stepping.advance_batch(
        rt.engine, rt.registry, ids, "end_publicity", officer, now=WORKING_DAY_10
    )
    assert refused == {}
    assert [r.to_state for r in done] == ["ministry_council", "ministry_council"]
