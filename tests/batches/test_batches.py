"""Proposal batches: documents attached once count for every member, one step moves every
member with refusals listed per member, one member can be returned alone, the batch's state
is derived from its members, and everything is on the batch's audit stream."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from khenthuong.errors import Forbidden, KhenthuongError
from khenthuong.runtime import Runtime
from khenthuong.services import batches, dossier, new_nominations
from khenthuong.services.actors import load_actor
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import EVENTS

PDF = b"%PDF-1.4\n% batch document\n"
NAMES = ("Nguyễn Văn An", "Trần Thị Bích", "Lê Văn Cường")


def _batch(rt: Runtime) -> tuple[int, list[int]]:
    with write_tx(rt.engine) as conn:
        officer = load_actor(conn, "cb.qd")
        bid = batches.create_batch_in(
            conn, proposing_unit="CCYQD", actor=officer, title="Đề nghị Bằng khen sơ kết 2026"
        )
        ids = [
            new_nominations.create_nomination_in(
                conn,
                rt.registry,
                workflow="bang_khen_bo",
                proposing_unit="CCYQD",
                actor=officer,
                nominee_name=name,
                create_person=True,
            )
            for name in NAMES
        ]
        batches.add_members_in(conn, bid, ids, actor=officer)
        for doc_type in ("to_trinh", "bien_ban_binh_xet"):
            batches.attach_in(
                conn, bid, doc_type=doc_type, filename=f"{doc_type}.pdf", content=PDF,
                actor=officer, max_bytes=10_000,
            )  # fmt: skip
        for nid in ids[:2]:  # the third has no báo cáo thành tích of its own
            dossier.attach(
                conn, nid, doc_type="bao_cao_thanh_tich", filename="bc.pdf", content=PDF,
                actor=officer, max_bytes=10_000,
            )  # fmt: skip
    return bid, ids


def test_batch_documents_count_for_every_member_and_refusals_are_per_member(rt: Runtime) -> None:
    bid, ids = _batch(rt)
    with write_tx(rt.engine) as conn:
        officer = load_actor(conn, "cb.qd")
        step = batches.advance_batch_members_in(conn, rt.registry, bid, "submit", officer)
    assert sorted(r.nomination_id for r in step.done) == ids[:2]
    assert list(step.refused) == [ids[2]]
    refusal = step.refused[ids[2]][0]
    assert refusal.code == "dossier_complete"
    assert refusal.details["missing"] == ["bao_cao_thanh_tich"]  # tờ trình, biên bản: batch's
    with rt.engine.connect() as conn:
        view = batches.view_batch(conn, rt.registry, bid)
        assert view.summary == (
            "2 hồ sơ: Thủ trưởng đơn vị ký tờ trình; 1 hồ sơ: Đơn vị lập hồ sơ đề nghị"
        )
        assert [d.doc_type for d in view.documents] == ["to_trinh", "bien_ban_binh_xet"]
        triggers = conn.execute(
            select(EVENTS.c.trigger).where(EVENTS.c.stream == f"batch:{bid}").order_by(EVENTS.c.seq)
        ).scalars().all()  # fmt: skip
    assert triggers == ["create", "add_members", "attach", "attach", "submit"]


def test_one_member_is_returned_alone_and_the_rest_go_on(rt: Runtime) -> None:
    bid, ids = _batch(rt)
    with write_tx(rt.engine) as conn:
        officer = load_actor(conn, "cb.qd")
        head = load_actor(conn, "tt.qd")
        batches.advance_batch_members_in(conn, rt.registry, bid, "submit", officer)
        returned = batches.step_member_in(
            conn, rt.registry, bid, ids[0], "return_for_supplement", head,
            {"reason": "Bổ sung số liệu"},
        )  # fmt: skip
        assert returned.to_state == "returned_to_unit"
        step = batches.advance_batch_members_in(conn, rt.registry, bid, "forward", head)
        batches.step_member_in(
            conn, rt.registry, bid, ids[2], "withdraw", officer, {"reason": "Rút"}
        )
    assert [r.nomination_id for r in step.done] == [ids[1]]
    assert set(step.refused) == {ids[0], ids[2]}
    with rt.engine.connect() as conn:
        view = batches.view_batch(conn, rt.registry, bid)
    assert view.summary == (
        "1 hồ sơ: Trả lại đơn vị để bổ sung; 1 hồ sơ: Vụ Thi đua – Khen thưởng Bộ thẩm định; "
        "1 hồ sơ: Đơn vị rút hồ sơ"
    )
    assert view.open_ids == ids[:2]


def test_membership_is_unique_and_access_is_checked(rt: Runtime) -> None:
    bid, ids = _batch(rt)
    with write_tx(rt.engine) as conn:
        officer = load_actor(conn, "cb.qd")
        other = batches.create_batch_in(conn, proposing_unit="CCYQD", actor=officer, title="Khác")
        with pytest.raises(KhenthuongError, match=f"hồ sơ #{ids[0]} đã thuộc đợt đề nghị #{bid}"):
            batches.add_members_in(conn, other, [ids[0]], actor=officer)
        outsider = load_actor(conn, "cb.pccc")
        with pytest.raises(Forbidden):
            batches.view_batch(conn, rt.registry, bid, outsider)
        with pytest.raises(Forbidden):
            batches.attach_in(
                conn, bid, doc_type="khac", filename="x.pdf", content=PDF, actor=outsider,
                max_bytes=10_000,
            )  # fmt: skip
        batches.remove_member_in(conn, bid, ids[0], actor=officer)
        batches.add_members_in(conn, other, [ids[0]], actor=officer)
        assert batches.batch_of(conn, ids[0]) == other
        assert batches.member_ids(conn, bid) == ids[1:]
