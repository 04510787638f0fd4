"""Council sessions: an exact two-thirds quorum, and recusal of the head of a nominated unit
counted as the title's vote rule says (exclude_recused by default, or keep)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from khenthuong.errors import KhenthuongError
from khenthuong.rules.catalog import Catalog, VoteRule, catalog_in
from khenthuong.runtime import Runtime
from khenthuong.services import councils, new_nominations
from khenthuong.services import nominations as svc
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.councils import MemberIn
from khenthuong.services.org import add_person
from khenthuong.storage.councils import COUNCIL_MEMBERS, RECUSALS
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import NOMINATIONS
from tests.conftest import CONFIG


def who(rt: Runtime, name: str) -> Actor:
    with rt.engine.connect() as conn:
        return load_actor(conn, name)


def at_unit_council(
    rt: Runtime, workflow: str, *, person: str | None = None, unit: str | None = None
) -> int:
    """A nomination of Cục Cơ yếu Quân đội placed straight at its unit council."""
    with write_tx(rt.engine) as conn:
        pid = add_person(conn, person, "CCYQD") if person else None
        nid = new_nominations.create_nomination_in(
            conn,
            rt.registry,
            workflow=workflow,
            proposing_unit="CCYQD",
            actor=who(rt, "cb.qd"),
            nominee_person_id=pid,
            nominee_unit_code=unit,
            year=2026,
        )
        conn.execute(
            NOMINATIONS.update().where(NOMINATIONS.c.id == nid).values(state="unit_council")
        )
    return nid


def session_result(
    rt: Runtime, nid: int, members: list[MemberIn], agree: int, catalog: Catalog
) -> tuple[str, str]:
    secretary = who(rt, "tk.qd")
    with write_tx(rt.engine) as conn:
        sid = councils.open_session(
            conn,
            "CCYQD",
            title="Bình xét 2026",
            held_on=date(2026, 12, 5),
            members=members,
            actor=secretary,
        )
        councils.add_item(conn, rt.registry, sid, nid, actor=secretary)
        councils.record_tally(conn, sid, nid, agree=agree, disagree=0, abstain=0, actor=secretary)
        minutes = councils.close_session(conn, rt.registry, catalog, sid, actor=secretary)
        state = svc.get_row(conn, nid)["state"]
    return minutes, state


@pytest.mark.parametrize(("present", "total"), [(2, 3), (10, 15)])
def test_exactly_two_thirds_present_is_a_quorum(rt: Runtime, present: int, total: int) -> None:
    """CSTĐCS (quorum "2/3" in config/awards.yaml): 2 of 3 and 10 of 15 members present
    hold a valid session; all present agree, so the nomination passes."""
    nid = at_unit_council(rt, "chien_si_thi_dua_co_so", person="Nguyễn Văn Hải")
    members = [MemberIn(f"Ủy viên {i}", present=i < present) for i in range(total)]
    minutes, state = session_result(rt, nid, members, present, catalog_in(CONFIG))
    assert f"Thành viên: {total}; có mặt: {present}." in minutes
    assert f"{present}/{present} phiếu đồng ý" in minutes
    assert state == "head_decision"


def test_one_under_two_thirds_cannot_close(rt: Runtime) -> None:
    """9 of 15 present is under two thirds: closing is refused and the nomination stays."""
    nid = at_unit_council(rt, "chien_si_thi_dua_co_so", person="Nguyễn Văn Hải")
    members = [MemberIn(f"Ủy viên {i}", present=i < 9) for i in range(15)]
    with pytest.raises(KhenthuongError, match="cần 2/3"):
        session_result(rt, nid, members, 9, catalog_in(CONFIG))
    with rt.engine.connect() as conn:
        assert svc.get_row(conn, nid)["state"] == "unit_council"


def _with_giay_khen_vote(recusal: str) -> Catalog:
    """The shipped catalog with a unanimity rule of the whole membership on Giấy khen."""
    catalog = catalog_in(CONFIG)
    award = catalog.awards["GIAY_KHEN"]
    vote = VoteRule(threshold="1", denominator="total_members", quorum="2/3", recusal=recusal)
    rules = [r.model_copy(update={"vote": vote}) for r in award.rules]
    patched = award.model_copy(update={"rules": rules})
    return catalog.model_copy(update={"awards": {**catalog.awards, "GIAY_KHEN": patched}})


@pytest.mark.parametrize(
    ("recusal", "count", "state"),
    [("exclude_recused", "2/2", "head_decision"), ("keep", "2/3", "rejected")],
)
def test_head_of_the_nominated_unit_is_recused_as_the_rule_says(
    rt: Runtime, recusal: str, count: str, state: str
) -> None:
    """A collective Giấy khen for Cục Cơ yếu Quân đội: the council member who heads it is
    recused (recorded with the reason) and cannot vote; two others agree. Excluding the
    recused member counts 2/2; keeping them counts 2/3 against unanimity."""
    nid = at_unit_council(rt, "giay_khen", unit="CCYQD")
    members = [
        MemberIn("Ủy viên 1"),
        MemberIn("Ủy viên 2"),
        MemberIn("Cục trưởng Trần Văn Hùng", heads_unit="CCYQD"),
    ]
    with pytest.raises(KhenthuongError, match="vượt số thành viên"):
        session_result(rt, nid, members, 3, _with_giay_khen_vote(recusal))
    minutes, final = session_result(rt, nid, members, 2, _with_giay_khen_vote(recusal))
    assert f"{count} phiếu đồng ý" in minutes and "miễn biểu quyết: 1" in minutes
    assert final == state
    with rt.engine.connect() as conn:
        recused = conn.execute(
            select(COUNCIL_MEMBERS.c.full_name, RECUSALS.c.reason).join(
                RECUSALS, RECUSALS.c.member_id == COUNCIL_MEMBERS.c.id
            )
        ).all()
    assert [tuple(r) for r in recused][-1] == (
        "Cục trưởng Trần Văn Hùng",
        "Thành viên là thủ trưởng tập thể được đề nghị",
    )
