"""A bloc's year: leader rights per year, blocs managed with audited steps, the Cụm số 2
2017 outcome, and the báo cáo sơ kết / tổng kết as a document."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from docx import Document
from sqlalchemy import Connection, select

from khenthuong.errors import Forbidden, KhenthuongError
from khenthuong.rules.catalog import catalog_in
from khenthuong.runtime import Runtime
from khenthuong.services import bloc_admin, bloc_reviews, covenants, inspections
from khenthuong.services.actors import load_actor
from khenthuong.services.blocs import ScoringIn, apply_blocs, bloc_view, load_blocs
from khenthuong.services.documents import DocumentRequest, render_document
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import EVENTS, NOMINATIONS, UNITS
from tests.conftest import CONFIG

KCY4_TARGETS = [
    covenants.TargetIn("hoan_thanh", "100% cán bộ, đảng viên hoàn thành nhiệm vụ", "at_least", 100),
]
CUM2_HEADS = {
    "C07": "tt.pccc", "K02": "tt.k02", "BCAKHDT": "tt.khdt", "A05": "tt.a05", "C08": "tt.c08",
    "BCACY": "tt.bcacy",
}  # fmt: skip
CUM2_TARGETS = [
    covenants.TargetIn("hoan_thanh", "100% cán bộ, chiến sĩ hoàn thành nhiệm vụ", "at_least", 100),
    covenants.TargetIn(
        "dang_vien_tot", "Trên 80% đảng viên hoàn thành tốt nhiệm vụ", "more_than", 80
    ),
    covenants.TargetIn("suy_thoai", "Không có cán bộ suy thoái, vi phạm kỷ luật", "zero_cases"),
    covenants.TargetIn("de_an", "Hoàn thành đề án chuyển đổi số của đơn vị", "done"),
]


@pytest.fixture
def seeded(rt: Runtime) -> Runtime:
    with write_tx(rt.engine) as conn:
        known = set(conn.execute(select(UNITS.c.code)).scalars())
        apply_blocs(conn, load_blocs(CONFIG / "blocs.yaml", known))
    return rt


def trail(conn: Connection, stream: str) -> list[dict[str, object]]:
    """The events of an audit stream, oldest first, payload decoded."""
    return [
        {"trigger": r.trigger, "actor": r.actor, "payload": json.loads(r.payload)}
        for r in conn.execute(
            select(EVENTS).where(EVENTS.c.stream == stream).order_by(EVENTS.c.seq)
        )
    ]


def _launch(conn: Connection, who: str, year: int) -> int:
    return covenants.launch(
        conn, "KCY4", year, theme="Đoàn kết, sáng tạo, kỷ cương, nêu gương, quyết thắng",
        targets=KCY4_TARGETS, launched_on=date(year, 3, 7), actor=load_actor(conn, who),
    )  # fmt: skip


def test_the_2018_leader_cannot_launch_2019_and_the_2019_leader_can(seeded: Runtime) -> None:
    """Cục Cơ yếu Quân đội led in 2018: its officer and head launch 2018, not 2019; Cục Cơ
    yếu Đảng – Chính quyền led in 2019: its head launches 2019. The right is the unit's, for
    its year: nobody holds it for 2020 until a leader is chosen."""
    with write_tx(seeded.engine) as conn:
        for who in ("cb.qd", "tt.qd"):
            with pytest.raises(Forbidden) as info:
                _launch(conn, who, 2019)
            assert "Cục Cơ yếu Đảng – Chính quyền" in str(info.value)
        _launch(conn, "tt.qd", 2018)
        _launch(conn, "tt.dcq", 2019)
        with pytest.raises(Forbidden, match="chưa chọn khối trưởng năm 2020"):
            _launch(conn, "tt.dcq", 2020)
    with seeded.engine.connect() as conn:
        assert covenants.covenant_of(conn, "KCY4", 2019).launched_by == "tt.dcq"  # type: ignore[union-attr]


def test_the_leader_has_no_standing_role_over_the_members_nominations(seeded: Runtime) -> None:
    """No demo officer holds bloc_leader: the bloc's rights come from leading it that year."""
    with seeded.engine.connect() as conn:
        for username in ("kt.cy", "cb.dcq", "tt.dcq", "cb.qd"):
            actor = load_actor(conn, username)
            assert not actor.has_role("bloc_leader")
            assert all(g.scope_level == "unit" for g in actor.grants)


def test_a_year_without_a_leader_is_chosen_with_an_audited_step(seeded: Runtime) -> None:
    """2020 has no sourced leader: shown as none until the 2019 leader's unit (at its
    year-end review) or the organiser records one; an outsider is refused; each step is on
    the bloc's trail; the new leader then holds the rights for 2020 only."""
    with write_tx(seeded.engine) as conn:
        view = bloc_view(conn, "KCY4", 2020)
        assert (view.leader, view.leader_source, view.leader_title) == (None, None, "Khối trưởng")
        with pytest.raises(Forbidden, match="không được chọn khối trưởng năm 2020"):
            bloc_admin.set_leader(
                conn, "KCY4", 2020, "CCYCA", None, source="elected",
                actor=load_actor(conn, "cb.qd"),
            )  # fmt: skip
        with pytest.raises(KhenthuongError, match="không phải thành viên"):
            bloc_admin.set_leader(
                conn, "KCY4", 2020, "C07", None, source="set", actor=load_actor(conn, "cv.bcy")
            )
        bloc_admin.set_leader(
            conn, "KCY4", 2020, "CCYCA", "CCYNG", source="elected",
            actor=load_actor(conn, "tt.dcq"),
        )  # fmt: skip
        _launch(conn, "tt.ca", 2020)
        with pytest.raises(Forbidden):
            _launch(conn, "tt.ca", 2021)
        events = trail(conn, "bloc:KCY4:2020")
    assert [e["trigger"] for e in events] == ["set_leader", "launch_covenant"]
    assert events[0]["payload"] == {
        "leader": "CCYCA", "deputy": "CCYNG", "source": "elected", "before": None, "note": "",
    }  # fmt: skip
    assert events[0]["actor"] == "tt.dcq"


def test_blocs_are_created_and_members_change_with_dates(seeded: Runtime) -> None:
    """The organiser's office creates a cluster, adds members from a date and removes one;
    labels follow the kind (Cụm trưởng); others are refused; all on the bloc's trail."""
    scoring = ScoringIn(ministry_flags=2, ministry_flag_name="Cờ thi đua của Bộ Công an")
    with write_tx(seeded.engine) as conn:
        officer = load_actor(conn, "cv.bca")
        with pytest.raises(Forbidden):
            bloc_admin.create_bloc(
                conn, code="CUM9", name="Cụm thi đua số 9", kind="cum", organiser="BCA",
                since=2024, flag_quota=1, scoring=None, actor=load_actor(conn, "cv.bcy"),
            )  # fmt: skip
        bloc_admin.create_bloc(
            conn, code="CUM9", name="Cụm thi đua số 9", kind="cum", organiser="BCA", since=2024,
            flag_quota=1, scoring=scoring, actor=officer,
        )  # fmt: skip
        for unit in ("C07", "K02", "A05"):
            bloc_admin.add_member(conn, "CUM9", unit, since=date(2024, 1, 1), actor=officer)
        bloc_admin.add_member(conn, "CUM9", "C08", since=date(2025, 7, 1), actor=officer)
        bloc_admin.remove_member(conn, "CUM9", "A05", until=date(2024, 12, 31), actor=officer)
        with pytest.raises(KhenthuongError, match="đã là thành viên"):
            bloc_admin.add_member(conn, "CUM9", "K02", since=date(2025, 1, 1), actor=officer)
        with pytest.raises(Forbidden):
            bloc_admin.add_member(
                conn, "CUM9", "BCACY", since=date(2025, 1, 1), actor=load_actor(conn, "cb.pccc")
            )
        v2024, v2025 = bloc_view(conn, "CUM9", 2024), bloc_view(conn, "CUM9", 2025)
        triggers = [e["trigger"] for e in trail(conn, "bloc:CUM9")]
    assert [c for c, _ in v2024.members] == ["C07", "K02", "A05"]
    assert [c for c, _ in v2025.members] == ["C07", "K02", "C08"]
    assert (v2025.leader_title, v2025.deputy_title, v2025.leader) == ("Cụm trưởng", "Cụm phó", None)
    assert v2025.scoring.ministry_flags == 2
    assert triggers == ["create_bloc"] + ["add_member"] * 4 + ["remove_member"]


def cum2_2017(rt: Runtime) -> list[bloc_reviews.Proposal]:
    """Cụm số 2's 2017: the organiser sets the leader, the leader launches, each member's
    head signs, members report at mid-year and year-end, the leader votes."""
    with write_tx(rt.engine) as conn:
        bloc_admin.set_leader(
            conn, "CUM2-BCA", 2017, "C07", None, source="set", actor=load_actor(conn, "cv.bca"),
            note="Đơn vị cụm trưởng năm 2017 (ghi nhận để tái hiện kết quả năm 2017)",
        )  # fmt: skip
        leader = load_actor(conn, "cb.pccc")
        covenants.launch(
            conn, "CUM2-BCA", 2017, theme="Vì an ninh Tổ quốc", targets=CUM2_TARGETS,
            launched_on=date(2017, 3, 10), actor=leader,
        )  # fmt: skip
        for unit, head in CUM2_HEADS.items():
            covenants.sign(
                conn, "CUM2-BCA", 2017, unit, signed_on=date(2017, 3, 10),
                actor=load_actor(conn, head),
            )  # fmt: skip
        year_end = {
            "C07": (100, 92, 0, 1),
            "K02": (100, 88, 0, 1),
            "A05": (100, 85, 0, 1),
            "C08": (100, 90, 1, 1),
            "BCAKHDT": (98, 75, 0, 0),
            "BCACY": (100, 70, 2, 0),
        }
        for unit, values in year_end.items():
            report = dict(
                zip(("hoan_thanh", "dang_vien_tot", "suy_thoai", "de_an"), values, strict=True)
            )
            head = load_actor(conn, CUM2_HEADS[unit])
            bloc_reviews.report(conn, "CUM2-BCA", 2017, "so_ket", unit, report, actor=head)
            bloc_reviews.report(conn, "CUM2-BCA", 2017, "tong_ket", unit, report, actor=head)
        votes = {"C07": 6, "K02": 5, "A05": 4, "C08": 4, "BCAKHDT": 1, "BCACY": 0}
        return bloc_reviews.year_end_vote(
            conn, rt.registry, "CUM2-BCA", 2017, votes, voters=6, actor=leader
        )


def test_cum2_2017_ends_with_one_government_flag_and_three_ministry_flags(seeded: Runtime) -> None:
    """The seed (DOMAIN §11): Cụm thi đua số 2 of Bộ Công an proposed, for 2017, 1 Cờ thi đua
    của Chính phủ and 3 Cờ thi đua của Bộ Công an: the cluster leader met every target and
    leads; the next three get the ministry's flag; nominations made by the cluster leader."""
    proposed = cum2_2017(seeded)
    assert [(p.unit, p.award) for p in proposed] == [
        ("C07", "Cờ thi đua của Chính phủ"),
        ("K02", "Cờ thi đua của Bộ Công an"),
        ("A05", "Cờ thi đua của Bộ Công an"),
        ("C08", "Cờ thi đua của Bộ Công an"),
        ("BCAKHDT", ""),
        ("BCACY", ""),
    ]
    assert [p.score for p in proposed] == [40, 40, 40, 30, 10, 10]
    with seeded.engine.connect() as conn:
        rows = conn.execute(
            select(
                NOMINATIONS.c.workflow, NOMINATIONS.c.nominee_name, NOMINATIONS.c.award_code,
                UNITS.c.code,
            )
            .join(UNITS, UNITS.c.id == NOMINATIONS.c.proposing_unit_id)
            .where(NOMINATIONS.c.year == 2017)
        ).all()  # fmt: skip
    workflows = sorted(r.workflow for r in rows)
    assert workflows == ["co_thi_dua_cap_bo"] * 3 + ["co_thi_dua_chinh_phu"]
    # The BCA's flag is its own award (Cờ thi đua của Bộ Công an), not the generic CO_BO.
    assert (
        sorted((r.workflow, r.award_code) for r in rows if r.workflow == "co_thi_dua_cap_bo")
        == [("co_thi_dua_cap_bo", "CO_BCA")] * 3
    )
    assert {r.code for r in rows} == {"C07"}


def test_cum2_scores_show_their_computation(seeded: Runtime) -> None:
    """C08 had one case against "no cadre in moral decline": that target is not met."""
    cum2_2017(seeded)
    with seeded.engine.connect() as conn:
        table = {r.unit: r for r in bloc_reviews.score_table(conn, "CUM2-BCA", 2017, "tong_ket")}
    c08 = table["C08"].score
    assert c08 is not None and not c08.met_all
    assert "suy_thoai: không đạt (1; không có trường hợp nào) → 0" in c08.explain()
    assert table["C07"].total == 40 and table["C07"].met_all


@pytest.mark.parametrize("kind", ["bao-cao-so-ket", "bao-cao-tong-ket"])
def test_review_report_document(seeded: Runtime, kind: str) -> None:
    """The báo cáo sơ kết / tổng kết names the members, targets, values, scores, ranking and
    (year-end) the proposals; a unit outside the cluster is refused."""
    cum2_2017(seeded)
    with seeded.engine.connect() as conn:
        reader = load_actor(conn, "tt.k02")
        outsider = load_actor(conn, "cb.qd")
    args = (seeded.engine, catalog_in(CONFIG), CONFIG)
    rendered = render_document(*args, DocumentRequest(kind, "CUM2-BCA:2017", "docx", reader))
    text = "\n".join(
        cell.text
        for table in Document(io.BytesIO(rendered.content)).tables
        for row in table.rows
        for cell in row.cells
    )
    body = "\n".join(p.text for p in Document(io.BytesIO(rendered.content)).paragraphs)
    assert "Vì an ninh Tổ quốc" in body
    assert "Bộ Tư lệnh Cảnh vệ" in text and "trên 80\u00a0%" in text
    assert ("Cờ thi đua của Bộ Công an" in text) is (kind == "bao-cao-tong-ket")
    with pytest.raises(Forbidden):
        render_document(*args, DocumentRequest(kind, "CUM2-BCA:2017", "docx", outsider))


def test_the_years_leader_reads_every_inspection_report_of_that_year(seeded: Runtime) -> None:
    """The 2019 leader's officer reads a 2019 visit between two other members; the 2018
    leader's officer does not (its right ended with 2018)."""
    with write_tx(seeded.engine) as conn:
        leader = load_actor(conn, "kt.cy")  # Cục Cơ yếu Đảng – Chính quyền
        inspections.plan_inspections(conn, "KCY4", 2019, actor=leader, seed=5)
        visits = inspections.visits(conn, "KCY4", 2019)
    others = [v for v in visits if "CCYDCQ" not in (v.inspector, v.inspected)]
    outside_qd = [v for v in visits if "CCYQD" not in (v.inspector, v.inspected)]
    assert others and outside_qd
    with seeded.engine.connect() as conn:
        assert inspections.report_documents(conn, others[0].id, leader) == []
        with pytest.raises(Forbidden):
            inspections.report_documents(conn, outside_qd[0].id, load_actor(conn, "cb.qd"))
