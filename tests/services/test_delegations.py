"""Delegation (ủy quyền, ký thay): the delegate acts under their own name on behalf of the
delegator for a dated period; events record both; a decision prints KT. (ND 30/2020)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from khenthuong.errors import Forbidden, KhenthuongError
from khenthuong.rules.catalog import catalog_in
from khenthuong.runtime import Runtime
from khenthuong.services import councils, decisions, delegations
from khenthuong.services.actors import load_actor
from khenthuong.services.listing import my_queue
from khenthuong.services.org import add_user
from khenthuong.storage.db import write_tx
from khenthuong.storage.decisions import DECISIONS
from khenthuong.storage.models import EVENTS
from tests.conftest import CONFIG
from tests.documents.test_render_decision import TODAY, docx_text, render
from tests.services.test_council_and_decision import (
    council,
    nominated_at_council,
    person_with_history,
    who,
)

NUMBER = "77/QĐ-BCY"


def _deputy(rt: Runtime) -> None:
    with write_tx(rt.engine) as conn:
        add_user(conn, "pt.bcy", "Đoàn Minh Phúc", "pt.bcy@bcy.example", "BCY", [], rt.roles)


def _delegate(rt: Runtime, **changes: object) -> int:
    values: dict[str, object] = {
        "delegator": "tb.bcy", "delegate": "pt.bcy", "unit": "BCY", "roles": ["minister"],
        "mode": "KT", "delegate_title": "Phó Trưởng ban", "starts_on": TODAY,
        "ends_on": TODAY + timedelta(days=14), "reason": "Trưởng ban đi công tác nước ngoài",
    }  # fmt: skip
    values.update(changes)
    with write_tx(rt.engine) as conn:
        return delegations.create(conn, who(rt, "tb.bcy"), **values)  # type: ignore[arg-type]


def _passed_council(rt: Runtime, nid: int) -> int:
    """The ministry council passes the nomination: it waits for the head's signature."""
    sid, secretary = council(rt)
    with write_tx(rt.engine) as conn:
        councils.add_item(conn, rt.registry, sid, nid, actor=secretary)
        councils.record_tally(conn, sid, nid, agree=18, disagree=1, abstain=0, actor=secretary)
        councils.close_session(conn, rt.registry, catalog_in(CONFIG), sid, actor=secretary)
    return nid


def test_a_deputy_signs_for_the_head_and_the_decision_prints_kt_with_both_in_the_events(
    rt: Runtime,
) -> None:
    _deputy(rt)
    pid = person_with_history(rt, "Nguyễn Văn Bình", [2024, 2025, 2026])
    nid = _passed_council(rt, nominated_at_council(rt, pid))
    catalog = catalog_in(CONFIG)
    # no delegation yet: the deputy cannot sign
    with pytest.raises(Forbidden), write_tx(rt.engine) as conn:
        decisions.create_decision(
                conn, rt.registry, catalog, number=NUMBER, decided_on=TODAY,
                signer="Đoàn Minh Phúc", authority="BCY", award_code="CSTD_BO",
                nomination_ids=[nid], actor=who(rt, "pt.bcy"),
            )  # fmt: skip
    delegation_id = _delegate(rt)
    deputy = who(rt, "pt.bcy")
    assert [(g.role, g.scope_code, g.on_behalf_of) for g in deputy.grants] == [
        ("minister", "BCY", "tb.bcy")
    ]
    with write_tx(rt.engine) as conn:
        decisions.create_decision(
            conn, rt.registry, catalog, number=NUMBER, decided_on=TODAY,
            signer="Đoàn Minh Phúc", authority="BCY", award_code="CSTD_BO",
            nomination_ids=[nid], actor=deputy,
        )  # fmt: skip
    with rt.engine.connect() as conn:
        row = conn.execute(select(DECISIONS).where(DECISIONS.c.number == NUMBER)).one()
        step = conn.execute(
            select(EVENTS.c.actor, EVENTS.c.payload)
            .where(EVENTS.c.nomination_id == nid)
            .order_by(EVENTS.c.seq.desc())
        ).first()
    assert (row.signer, row.signer_mode, row.signer_title, row.on_behalf_of) == (
        "Đoàn Minh Phúc", "KT", "PHÓ TRƯỞNG BAN", "tb.bcy",
    )  # fmt: skip
    assert step is not None and step.actor == "pt.bcy"
    payload = json.loads(step.payload)
    assert (payload["on_behalf_of"], payload["delegation_id"], payload["delegation_mode"]) == (
        "tb.bcy", delegation_id, "KT",
    )  # fmt: skip
    lines = [
        line.strip() for line in docx_text(render(rt, "quyet-dinh", NUMBER, "docx")).split("\n")
    ]
    at = lines.index("KT. TRƯỞNG BAN")
    assert lines[at + 1] == "PHÓ TRƯỞNG BAN"
    assert "Đoàn Minh Phúc" in lines[at + 2 :]


def test_the_delegate_sees_the_work_only_while_the_delegation_is_in_force(rt: Runtime) -> None:
    _deputy(rt)
    pid = person_with_history(rt, "Trần Thị Ánh", [2024, 2025, 2026])
    _passed_council(rt, nominated_at_council(rt, pid))
    with rt.engine.connect() as conn:
        before = my_queue(conn, rt.registry, load_actor(conn, "pt.bcy"))
        head_sees = my_queue(conn, rt.registry, load_actor(conn, "tb.bcy"))
    delegation_id = _delegate(rt, roles=[])  # every role the head holds over BCY
    with rt.engine.connect() as conn:
        during = my_queue(conn, rt.registry, load_actor(conn, "pt.bcy"))
        later = load_actor(conn, "pt.bcy", today=TODAY + timedelta(days=15))
        earlier = load_actor(conn, "pt.bcy", today=TODAY - timedelta(days=1))
    assert before == []
    assert _ids(during) == _ids(head_sees) and _ids(during)
    assert later.grants == () and earlier.grants == ()
    with write_tx(rt.engine) as conn:
        delegations.revoke(conn, who(rt, "tb.bcy"), delegation_id, "Đã về cơ quan")
    assert who(rt, "pt.bcy").grants == ()
    with rt.engine.connect() as conn:
        triggers = conn.execute(
            select(EVENTS.c.trigger).where(
                EVENTS.c.stream == delegations.stream_of(delegation_id)
            ).order_by(EVENTS.c.seq)
        ).scalars().all()  # fmt: skip
    assert triggers == ["delegate", "revoke_delegation"]


def _ids(queue: list[dict[str, object]]) -> list[int]:
    return sorted(int(str(item["id"])) for item in queue)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"roles": ["unit_head"]}, "Ngô Văn Thành không giữ vai trò Thủ trưởng đơn vị đối với Ban"),
        ({"delegate": "tb.bcy"}, "phải khác người ủy quyền"),
        ({"mode": "XX"}, r"Hình thức ký .XX. không hợp lệ"),
        ({"ends_on": TODAY - timedelta(days=1), "starts_on": TODAY}, "trước ngày bắt đầu"),
        ({"reason": "  "}, "Thiếu lý do"),
        (
            {"unit": "CCYQD", "delegator": "cb.qd", "roles": ["unit_officer"]},
            "không thể ủy quyền thay",
        ),
    ],
)
def test_refusals_name_what_is_wrong(rt: Runtime, changes: dict[str, object], message: str) -> None:
    _deputy(rt)
    with pytest.raises(KhenthuongError, match=message):
        _delegate(rt, **changes)
    with rt.engine.connect() as conn:
        assert (
            conn.execute(select(EVENTS.c.id).where(EVENTS.c.stream.like("delegation:%"))).first()
            is None
        )
