"""Steps on nominations: creation, advancing, refusals, versions and batches."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select

from khenthuong.errors import BatchRefused, StepRefused, VersionConflict
from khenthuong.runtime import Runtime
from khenthuong.services import new_nominations, stepping
from khenthuong.services import nominations as svc
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.org import add_person
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import EVENTS


def actor(rt: Runtime, username: str) -> Actor:
    with rt.engine.connect() as conn:
        return load_actor(conn, username)


def event_count(rt: Runtime) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(EVENTS)).scalar_one())


def new_giay_khen(rt: Runtime, name: str = "Nguyễn Văn An") -> int:
    return new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="giay_khen",
        proposing_unit="CCYQD",
        actor=actor(rt, "cb.qd"),
        nominee_name=name,
        create_person=True,
        year=2026,
    )


def row(rt: Runtime, nid: int) -> dict[str, object]:
    with rt.engine.connect() as conn:
        return dict(svc.get_row(conn, nid))


def test_nomination_goes_from_proposal_to_decision(rt: Runtime) -> None:
    """A Giấy khen nomination reaches `decided` through the right officers, one event per step."""
    nid = new_giay_khen(rt)
    steps = [
        ("submit", "cb.qd", {}),
        ("council_approve", "tk.qd", {}),
        ("decide", "tt.qd", {"decision_number": "15/QĐ-CCYQD"}),
    ]
    for trigger, user, payload in steps:
        stepping.advance(rt.engine, rt.registry, nid, trigger, actor(rt, user), payload)
    final = row(rt, nid)
    assert final["state"] == "decided"
    assert final["version"] == 4
    assert final["closed"] is True
    assert final["due_at"] is None
    with rt.engine.connect() as conn:
        steps = conn.execute(
            select(func.count()).select_from(EVENTS).where(EVENTS.c.nomination_id == nid)
        ).scalar_one()
    assert steps == 4  # creation and three steps


def test_entering_a_state_with_a_time_limit_sets_its_due_date(rt: Runtime) -> None:
    """Submitting to the unit council stores the due date 10 working days later (after Tết)."""
    nid = new_giay_khen(rt)
    submitted = datetime(2026, 2, 12, 3, 0, tzinfo=UTC)  # Thu 12/02/2026, 10:00 in Hà Nội
    result = stepping.advance(
        rt.engine, rt.registry, nid, "submit", actor(rt, "cb.qd"), now=submitted
    )
    assert result.due_at is not None
    local = result.due_at.astimezone(svc.LOCAL_TZ)
    # 13/02 (Fri) is day 1; Tết 16–20/02 is skipped; 23/02..05/03 are days 2..10.
    assert local.date().isoformat() == "2026-03-05"


@pytest.mark.parametrize(
    ("trigger", "user", "payload", "code"),
    [
        ("submit", "tt.qd", {}, "role"),
        ("decide", "tt.qd", {"decision_number": "1/QĐ-CCYQD"}, "state"),
        ("withdraw", "cb.qd", {}, "field:reason"),
        ("withdraw", "cb.qd", {"reason": "  "}, "field:reason"),
        ("submit", "cb.qd", {"colour": "red"}, "field:colour"),
        ("submit", "cb.pccc", {}, "role"),
    ],
)
def test_refused_step_says_why_and_writes_nothing(
    rt: Runtime, trigger: str, user: str, payload: dict[str, str], code: str
) -> None:
    """Wrong role, wrong state, missing reason or unknown field: refused with a reason, no event."""
    nid = new_giay_khen(rt)
    before = event_count(rt)
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, nid, trigger, actor(rt, user), payload)
    assert code in [r.code for r in info.value.refusals]
    assert all(r.message_vi and r.message_en for r in info.value.refusals)
    assert event_count(rt) == before
    assert row(rt, nid)["state"] == "draft"
    assert row(rt, nid)["version"] == 1


def test_wrong_state_refusal_lists_the_possible_steps(rt: Runtime) -> None:
    """A step from the wrong state names the current state and what is possible from it."""
    nid = new_giay_khen(rt)
    with pytest.raises(StepRefused) as info:
        stepping.advance(
            rt.engine,
            rt.registry,
            nid,
            "decide",
            actor(rt, "tt.qd"),
            {"decision_number": "1/QĐ-CCYQD"},
        )
    refusal = info.value.refusals[0]
    assert refusal.message_vi == (
        "Không thể thực hiện 'Ký quyết định' khi hồ sơ đang ở trạng thái 'Dự thảo đề nghị'; "
        "có thể: Trình Hội đồng, Rút hồ sơ"
    )  # titles, not codes
    assert "'draft'" not in refusal.message_en and "decide" not in refusal.message_en
    assert refusal.details["possible"] == ["submit", "withdraw"]


def test_stale_expected_version_is_a_conflict_naming_the_current_state(rt: Runtime) -> None:
    """Advancing with an old version number raises VersionConflict with the current state."""
    nid = new_giay_khen(rt)
    stepping.advance(rt.engine, rt.registry, nid, "submit", actor(rt, "cb.qd"), expected_version=1)
    with pytest.raises(VersionConflict) as info:
        stepping.advance(
            rt.engine,
            rt.registry,
            nid,
            "withdraw",
            actor(rt, "cb.qd"),
            {"reason": "nhầm"},
            expected_version=1,
        )
    assert info.value.current_state == "unit_council"
    assert info.value.current_version == 2
    assert "unit_council" in str(info.value)


def test_allowed_triggers_follow_role_and_unit_scope(rt: Runtime) -> None:
    """The proposer sees submit/withdraw on their draft; another unit's officer sees none."""
    nid = new_giay_khen(rt)
    current = row(rt, nid)
    mine = {t.trigger for t in svc.allowed_triggers(rt.registry, current, actor(rt, "cb.qd"))}
    assert mine == {"submit", "withdraw"}
    assert svc.allowed_triggers(rt.registry, current, actor(rt, "cb.pccc")) == []


def test_machine_is_shared_and_keeps_no_models(rt: Runtime) -> None:
    """Every step reuses the one machine per workflow version and leaves no model attached."""
    loaded = rt.registry.get("giay_khen")
    machine = loaded.machine
    for _ in range(3):
        nid = new_giay_khen(rt)
        stepping.advance(rt.engine, rt.registry, nid, "submit", actor(rt, "cb.qd"))
        assert rt.registry.get("giay_khen", loaded.definition.version).machine is machine
    assert machine.models == []


def test_state_survives_reload_after_every_step(rt: Runtime) -> None:
    """After each step, reloading the row and asking for allowed steps gives the same state."""
    nid = new_giay_khen(rt)
    path = [
        ("submit", "cb.qd", {}),
        ("return_for_supplement", "tk.qd", {"reason": "Thiếu biên bản"}),
        ("submit", "cb.qd", {}),
        ("council_approve", "tk.qd", {}),
    ]
    for trigger, user, payload in path:
        result = stepping.advance(rt.engine, rt.registry, nid, trigger, actor(rt, user), payload)
        reloaded = row(rt, nid)
        assert reloaded["state"] == result.to_state
        assert reloaded["version"] == result.version
        assert reloaded["head_hash"] == result.event_hash


def test_batch_is_all_or_nothing_by_default(rt: Runtime) -> None:
    """One refused nomination refuses the whole batch, listing it, and nothing changes."""
    ids = [new_giay_khen(rt, f"Cán bộ {i}") for i in range(5)]
    stepping.advance(rt.engine, rt.registry, ids[2], "submit", actor(rt, "cb.qd"))
    before = event_count(rt)
    with pytest.raises(BatchRefused) as info:
        stepping.advance_batch(rt.engine, rt.registry, ids, "submit", actor(rt, "cb.qd"))
    assert list(info.value.failures) == [ids[2]]
    assert event_count(rt) == before
    assert [row(rt, i)["state"] for i in ids] == [
        "draft",
        "draft",
        "unit_council",
        "draft",
        "draft",
    ]


def test_partial_batch_applies_the_permitted_steps(rt: Runtime) -> None:
    """With partial=True the permitted steps are written and refusals returned."""
    ids = [new_giay_khen(rt, f"Cán bộ {i}") for i in range(4)]
    stepping.advance(rt.engine, rt.registry, ids[0], "submit", actor(rt, "cb.qd"))
    done, refused = stepping.advance_batch(
        rt.engine, rt.registry, [*ids, 99999], "submit", actor(rt, "cb.qd"), partial=True
    )
    assert [r.nomination_id for r in done] == ids[1:]
    assert set(refused) == {ids[0], 99999}
    assert all(row(rt, i)["state"] == "unit_council" for i in ids)
    assert all(row(rt, i)["version"] == 2 for i in ids)


def test_a_batch_reads_the_same_number_of_times_whatever_its_size(rt: Runtime) -> None:
    """A batch submit (guard `not_blocked`) runs as many statements for 30 nominations as
    for 10: the guard's facts are read once for the batch, not once per nomination."""
    officer = actor(rt, "cb.qd")

    def of_person(name: str) -> int:
        with write_tx(rt.engine) as conn:
            pid = add_person(conn, name, "CCYQD")
        return new_nominations.create_nomination(
            rt.engine,
            rt.registry,
            workflow="giay_khen",
            proposing_unit="CCYQD",
            actor=officer,
            nominee_person_id=pid,
            year=2026,
            achievement_ref=f"Thành tích của {name}",
        )

    small = [of_person(f"Nhỏ {i}") for i in range(10)]
    large = [of_person(f"Lớn {i}") for i in range(30)]
    counts = []
    for ids in (small, large):
        statements: list[str] = []

        def record(
            conn: object, cursor: object, sql: str, *rest: object, seen: list[str] = statements
        ) -> None:
            seen.append(sql)

        event.listen(rt.engine, "before_cursor_execute", record)
        try:
            done, _ = stepping.advance_batch(rt.engine, rt.registry, ids, "submit", officer)
        finally:
            event.remove(rt.engine, "before_cursor_execute", record)
        assert len(done) == len(ids)
        counts.append(len(statements))
    assert counts[0] == counts[1]
    assert counts[0] < 10


def test_a_guarded_single_step_reads_the_nomination_once(rt: Runtime) -> None:
    """`submit` runs `not_blocked`, which looks at the nominee and the achievement: the step's
    own read carries them, so the whole row is not read a second time (statements through
    Core are seen by the listener; the step's own SELECT, UPDATE and INSERT are not)."""
    officer = actor(rt, "cb.qd")
    with write_tx(rt.engine) as conn:
        pid = add_person(conn, "Lê Văn Cường", "CCYQD")
    nid = new_nominations.create_nomination(
        rt.engine, rt.registry, workflow="giay_khen", proposing_unit="CCYQD", actor=officer,
        nominee_person_id=pid, year=2026, achievement_ref="Sáng kiến cải tiến quy trình",
    )  # fmt: skip
    statements: list[str] = []

    def record(conn: object, cursor: object, sql: str, *rest: object) -> None:
        statements.append(sql)

    event.listen(rt.engine, "before_cursor_execute", record)
    try:
        stepping.advance(rt.engine, rt.registry, nid, "submit", officer)
    finally:
        event.remove(rt.engine, "before_cursor_execute", record)
    assert row(rt, nid)["state"] != "draft"
    whole_row = [s for s in statements if "nomination.nominee_name" in s]
    assert whole_row == []  # only the guard's facts: blockers, awards, other claims
    assert statements and all("FROM nomination" not in s or "achievement_ref IN" in s
                              for s in statements)  # fmt: skip


def test_vietnamese_text_is_stored_in_nfc(rt: Runtime) -> None:
    """A decomposed (NFD) reason is stored composed (NFC) in the event payload."""
    import unicodedata

    nid = new_giay_khen(rt)
    reason = unicodedata.normalize("NFD", "Thiếu báo cáo thành tích")
    stepping.advance(
        rt.engine, rt.registry, nid, "withdraw", actor(rt, "cb.qd"), {"reason": reason}
    )
    with rt.engine.connect() as conn:
        payload = conn.execute(
            select(EVENTS.c.payload).where(EVENTS.c.trigger == "withdraw")
        ).scalar_one()
    assert "Thiếu báo cáo thành tích" in payload
    assert unicodedata.is_normalized("NFC", payload)


def test_proposer_cannot_approve_their_own_nomination(rt: Runtime) -> None:
    """Four-eyes: a proposer who also holds the council role is refused at the council step."""
    from khenthuong.services.org import grant_role

    with rt.engine.begin() as conn:
        officer = load_actor(conn, "cb.qd")
        grant_role(conn, officer.user_id, "council_secretary", "CCYQD", rt.roles)
    nid = new_giay_khen(rt)
    stepping.advance(rt.engine, rt.registry, nid, "submit", actor(rt, "cb.qd"))
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, nid, "council_approve", actor(rt, "cb.qd"))
    assert [r.code for r in info.value.refusals] == ["four_eyes"]
    # Returning it is not an approval, so the same person may do that.
    stepping.advance(
        rt.engine, rt.registry, nid, "return_for_supplement", actor(rt, "cb.qd"), {"reason": "x"}
    )


def test_same_officer_cannot_pass_two_successive_levels(rt: Runtime) -> None:
    """Four-eyes: whoever passed the council level may not also decide."""
    from khenthuong.services.org import grant_role

    with rt.engine.begin() as conn:
        secretary = load_actor(conn, "tk.qd")
        grant_role(conn, secretary.user_id, "unit_head", "CCYQD", rt.roles)
    nid = new_giay_khen(rt)
    stepping.advance(rt.engine, rt.registry, nid, "submit", actor(rt, "cb.qd"))
    stepping.advance(rt.engine, rt.registry, nid, "council_approve", actor(rt, "tk.qd"))
    with pytest.raises(StepRefused) as info:
        stepping.advance(
            rt.engine,
            rt.registry,
            nid,
            "decide",
            actor(rt, "tk.qd"),
            {"decision_number": "1/QĐ-CCYQD"},
        )
    assert [r.code for r in info.value.refusals] == ["four_eyes"]
    stepping.advance(
        rt.engine, rt.registry, nid, "decide", actor(rt, "tt.qd"), {"decision_number": "1/QĐ-CCYQD"}
    )


def test_return_writes_an_outbox_notice_in_the_same_transaction(rt: Runtime) -> None:
    """A return for supplementation writes one outbox row for the proposer with the reason."""
    import json

    from khenthuong.storage.outbox import OUTBOX

    nid = new_giay_khen(rt)
    stepping.advance(rt.engine, rt.registry, nid, "submit", actor(rt, "cb.qd"))
    with rt.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(OUTBOX)).scalar_one() == 0
    stepping.advance(
        rt.engine,
        rt.registry,
        nid,
        "return_for_supplement",
        actor(rt, "tk.qd"),
        {"reason": "Thiếu biên bản bình xét"},
    )
    with rt.engine.connect() as conn:
        rows = conn.execute(select(OUTBOX)).mappings().all()
    assert len(rows) == 1
    notice = json.loads(rows[0]["payload"])
    assert rows[0]["dedup_key"] == f"step:{nid}:3"
    assert notice["recipient_user"] == "cb.qd"
    assert notice["payload"]["reason"] == "Thiếu biên bản bình xét"


def test_unit_council_secretary_cannot_act_for_the_ministry_council(rt: Runtime) -> None:
    """A state's responsible role must be held at the state's level (ministry, not unit)."""
    from khenthuong.services import dossier
    from khenthuong.storage.db import write_tx

    nid = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="bang_khen_bo",
        proposing_unit="CCYQD",
        actor=actor(rt, "cb.qd"),
        nominee_name="Trần Thị Bích",
        # An ad-hoc award under Art 74(1)(b), attested and confirmed by its document: her
        # (empty) history is not what is judged, the roles are what is tested.
        commendation_type="dot_xuat",
        basis="74.1.b",
        attestation="Phát hiện và xử lý kịp thời sự cố bảo mật",
    )
    with write_tx(rt.engine) as conn:
        for doc in ("to_trinh", "bao_cao_thanh_tich", "bien_ban_binh_xet",
                    "xac_nhan_thanh_tich_dot_xuat"):  # fmt: skip
            dossier.attach(
                conn,
                nid,
                doc_type=doc,
                filename=f"{doc}.pdf",
                content=b"%PDF-1.4",
                actor=actor(rt, "cb.qd"),
                max_bytes=1000,
            )
    stepping.advance(rt.engine, rt.registry, nid, "submit", actor(rt, "cb.qd"))
    stepping.advance(rt.engine, rt.registry, nid, "forward", actor(rt, "tt.qd"))
    stepping.advance(rt.engine, rt.registry, nid, "appraise", actor(rt, "cv.bcy"))
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, nid, "council_approve", actor(rt, "tk.qd"))
    assert [r.code for r in info.value.refusals] == ["role"]
    # The ministry secretary holds the role, but the vote must have passed first.
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, nid, "council_approve", actor(rt, "tk.bcy"))
    assert [r.code for r in info.value.refusals] == ["vote_passed"]


def test_signing_is_not_a_batch_step(rt: Runtime) -> None:
    """A batch `decide` is refused for every nomination (a decision is signed through the
    decisions service, with its date, signer and authority) and nothing is written."""
    ids = [new_giay_khen(rt, f"Cán bộ {i}") for i in range(2)]
    for nid in ids:
        stepping.advance(rt.engine, rt.registry, nid, "submit", actor(rt, "cb.qd"))
        stepping.advance(rt.engine, rt.registry, nid, "council_approve", actor(rt, "tk.qd"))
    before = event_count(rt)
    with pytest.raises(BatchRefused) as info:
        stepping.advance_batch(
            rt.engine,
            rt.registry,
            ids,
            "decide",
            actor(rt, "tt.qd"),
            {"decision_number": "3/QĐ-CCYQD"},
        )
    assert {r.code for refs in info.value.failures.values() for r in refs} == {"decision"}
    _, refused = stepping.advance_batch(
        rt.engine,
        rt.registry,
        ids,
        "decide",
        actor(rt, "tt.qd"),
        {"decision_number": "3/QĐ-CCYQD"},
        partial=True,
    )
    assert set(refused) == set(ids)
    assert event_count(rt) == before
    assert all(row(rt, i)["state"] == "head_decision" for i in ids)
