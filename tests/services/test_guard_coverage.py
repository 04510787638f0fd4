"""One achievement earns one award (not_blocked), the explicit per-transition relaxation of
four-eyes (allow_same_actor), and a stored due date across Tết 2027."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from khenthuong.errors import StepRefused
from khenthuong.runtime import Runtime, open_runtime
from khenthuong.services import new_nominations, stepping
from khenthuong.services import nominations as svc
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.org import add_person, apply_seed, grant_role, load_seed
from khenthuong.settings import Settings
from khenthuong.storage.db import make_engine, write_tx
from khenthuong.storage.history import AWARD_RECORDS, BLOCKERS
from tests.conftest import CONFIG, WORKFLOWS


def who(rt: Runtime, name: str) -> Actor:
    with rt.engine.connect() as conn:
        return load_actor(conn, name)


def giay_khen(rt: Runtime, person: int = 1, ref: str | None = None) -> int:
    return new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="giay_khen",
        proposing_unit="CCYQD",
        actor=who(rt, "cb.qd"),
        nominee_person_id=person,
        year=2026,
        achievement_ref=ref,
    )


def test_one_achievement_earns_one_award(rt: Runtime) -> None:
    """Law Art 5: an achievement already proposed elsewhere, or already rewarded, cannot be
    proposed again; a withdrawn proposal frees it; another achievement is not affected."""
    ref = "Sáng kiến SK-2026-01: phần mềm quản lý khóa"
    first = giay_khen(rt, ref=ref)
    stepping.advance(rt.engine, rt.registry, first, "submit", who(rt, "cb.qd"))
    second = giay_khen(rt, person=1, ref=ref)
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, second, "submit", who(rt, "cb.qd"))
    refusal = info.value.refusals[0]
    assert refusal.code == "not_blocked"
    assert f"hồ sơ #{first}" in refusal.message_vi and "Điều 5" in refusal.message_vi
    stepping.advance(
        rt.engine, rt.registry, first, "withdraw", who(rt, "cb.qd"), {"reason": "Trùng thành tích"}
    )
    stepping.advance(rt.engine, rt.registry, second, "submit", who(rt, "cb.qd"))
    stepping.advance(rt.engine, rt.registry, second, "council_approve", who(rt, "tk.qd"))
    stepping.advance(
        rt.engine,
        rt.registry,
        second,
        "decide",
        who(rt, "tt.qd"),
        {"decision_number": "21/QĐ-CCYQD"},
    )
    third = giay_khen(rt, person=1, ref=ref)
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, third, "submit", who(rt, "cb.qd"))
    assert "quyết định 21/QĐ-CCYQD" in info.value.refusals[0].message_vi
    other = giay_khen(rt, person=1, ref="Sáng kiến SK-2026-02")
    assert stepping.advance(rt.engine, rt.registry, other, "submit", who(rt, "cb.qd")).to_state == (
        "unit_council"
    )


def test_a_batch_judges_each_nomination_as_a_single_step_would(rt: Runtime) -> None:
    """`not_blocked` reads its facts once for a whole batch: the person under discipline,
    the achievement already rewarded and the achievement claimed by another open file are
    each refused with the single step's reason, and only the clean file moves."""
    officer = who(rt, "cb.qd")
    with write_tx(rt.engine) as conn:
        clean, disciplined, rewarded, claimed = (
            add_person(conn, name, "CCYQD") for name in ("Sạch", "Kỷ luật", "Đã khen", "Trùng")
        )
        conn.execute(
            insert(BLOCKERS).values(
                person_id=disciplined, kind="discipline", starts_on=date(2026, 1, 5)
            )
        )
        conn.execute(
            insert(AWARD_RECORDS).values(
                person_id=rewarded,
                award_code="GKCCY",
                year=2025,
                decision_number="9/QĐ-CCYQD",
                decision_date=date(2025, 12, 20),
                commendation_type="cong_trang",
                source="import",
                created_at=datetime.now(UTC),
                achievement_ref="SK-2025-07",
            )
        )
    elsewhere = giay_khen(rt, person=clean, ref="SK-2026-03")
    ids = [
        giay_khen(rt, person=clean),
        giay_khen(rt, person=disciplined),
        giay_khen(rt, person=rewarded, ref="SK-2025-07"),
        giay_khen(rt, person=claimed, ref="SK-2026-03"),
    ]
    done, refused = stepping.advance_batch(
        rt.engine, rt.registry, ids, "submit", officer, partial=True
    )
    assert [r.nomination_id for r in done] == ids[:1]
    assert sorted(refused) == ids[1:]
    assert {r.code for refs in refused.values() for r in refs} == {"not_blocked"}
    assert "đang trong thời hạn kỷ luật (từ 05/01/2026)" in refused[ids[1]][0].message_vi
    assert "quyết định 9/QĐ-CCYQD" in refused[ids[2]][0].message_vi
    assert f"hồ sơ #{elsewhere}" in refused[ids[3]][0].message_vi
    for nid in ids[1:]:
        with pytest.raises(StepRefused) as info:
            stepping.advance(rt.engine, rt.registry, nid, "submit", officer)
        assert info.value.refusals == refused[nid]


RELAXED = (WORKFLOWS / "giay_khen.yaml").read_text(encoding="utf-8")
COUNCIL_STEP = (
    "    dest: head_decision\n"
    '    title: {vi: "Hội đồng đề nghị khen thưởng", en: "Council recommends"}\n'
    "    roles: [council_secretary]\n"
)
assert COUNCIL_STEP in RELAXED
RELAXED = RELAXED.replace(COUNCIL_STEP, COUNCIL_STEP + "    allow_same_actor: true\n")


@pytest.fixture
def relaxed_rt(settings: Settings, tmp_path: Path) -> Runtime:
    """A runtime whose Giấy khen lets the same officer take the council step only."""
    folder = tmp_path / "workflows"
    folder.mkdir()
    (folder / "giay_khen.yaml").write_text(RELAXED, encoding="utf-8")
    custom = settings.model_copy(update={"workflows_dir": folder})
    rt = open_runtime(custom, engine=make_engine(settings.database_url))
    with rt.engine.begin() as conn:
        apply_seed(conn, load_seed(CONFIG / "demo.yaml", rt.roles), rt.roles)
        officer = load_actor(conn, "cb.qd")
        grant_role(conn, officer.user_id, "council_secretary", "CCYQD", rt.roles)
        grant_role(conn, officer.user_id, "unit_head", "CCYQD", rt.roles)
    return rt


def test_allow_same_actor_relaxes_four_eyes_on_that_transition_only(relaxed_rt: Runtime) -> None:
    """With `allow_same_actor: true` on council_approve, the proposer who is also the
    council's secretary may pass the council step; the next step (decide) still refuses the
    same officer, and the shipped workflow refuses both."""
    rt = relaxed_rt
    assert rt.registry.get("giay_khen").definition.find("unit_council", "council_approve")
    officer = who(rt, "cb.qd")
    nid = giay_khen(rt)
    stepping.advance(rt.engine, rt.registry, nid, "submit", officer)
    result = stepping.advance(rt.engine, rt.registry, nid, "council_approve", officer)
    assert result.to_state == "head_decision"
    with pytest.raises(StepRefused) as info:
        stepping.advance(
            rt.engine, rt.registry, nid, "decide", officer, {"decision_number": "22/QĐ-CCYQD"}
        )
    assert [r.code for r in info.value.refusals] == ["four_eyes"]
    done = stepping.advance(
        rt.engine, rt.registry, nid, "decide", who(rt, "tt.qd"), {"decision_number": "22/QĐ-CCYQD"}
    )
    assert done.to_state == "decided"


def test_shipped_giay_khen_does_not_relax_the_council_step(rt: Runtime) -> None:
    with rt.engine.begin() as conn:
        officer = load_actor(conn, "cb.qd")
        grant_role(conn, officer.user_id, "council_secretary", "CCYQD", rt.roles)
    nid = giay_khen(rt)
    stepping.advance(rt.engine, rt.registry, nid, "submit", who(rt, "cb.qd"))
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, nid, "council_approve", who(rt, "cb.qd"))
    assert [r.code for r in info.value.refusals] == ["four_eyes"]


def test_due_date_stored_over_tet_2027(rt: Runtime) -> None:
    """Tết Đinh Mùi: Mùng 1 is Saturday 06/02/2027; the days off are 04/02 (29 Tết) to
    10/02 (five days, Labour Code Art 112, plus Mùng 1 and Mùng 2 falling on the weekend
    taken on 09–10/02). Submitting on Wednesday 03/02/2027 to the unit council (10 working
    days, NĐ 39/2012 default) stores 24/02/2027; a return for supplementation the same day
    (5 working days) stores 17/02/2027."""
    submitted = datetime(2027, 2, 3, 3, 0, tzinfo=UTC)  # 10:00 in Hà Nội
    nid = giay_khen(rt)
    result = stepping.advance(
        rt.engine, rt.registry, nid, "submit", who(rt, "cb.qd"), now=submitted
    )
    assert result.due_at is not None
    with rt.engine.connect() as conn:
        stored = svc.get_row(conn, nid)["due_at"]
    local = stored.replace(tzinfo=stored.tzinfo or UTC).astimezone(svc.LOCAL_TZ)
    # 11/02 (Thu) is day 1 after Tết; 12, 15–19, 22, 23 are days 2–9; 24/02 is day 10.
    assert (local.date().isoformat(), local.hour, local.minute) == ("2027-02-24", 23, 59)
    back = stepping.advance(
        rt.engine,
        rt.registry,
        nid,
        "return_for_supplement",
        who(rt, "tk.qd"),
        {"reason": "Thiếu biên bản"},
        now=submitted.replace(hour=8),
    )
    assert back.due_at is not None
    assert back.due_at.astimezone(svc.LOCAL_TZ).date().isoformat() == "2027-02-17"
