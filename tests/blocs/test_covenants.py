"""Covenants, review rounds and the year-end vote turning into nominations within quota."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from khenthuong.errors import Forbidden, KhenthuongError
from khenthuong.runtime import Runtime
from khenthuong.services import bloc_reviews, covenants
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.blocs import apply_blocs, load_blocs
from khenthuong.storage.blocs import COVENANT_SIGNATURES
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import NOMINATIONS, UNITS
from tests.conftest import CONFIG

MEMBERS = ["CCYQD", "CCYDCQ", "CCYCA", "CCYNG"]
HEADS = {"CCYQD": "tt.qd", "CCYDCQ": "tt.dcq", "CCYCA": "tt.ca", "CCYNG": "tt.ng"}
"""The demo's head of each member unit, who signs its covenant."""
TARGETS = [
    covenants.TargetIn(
        "hoan_thanh", "100% cán bộ, đảng viên hoàn thành nhiệm vụ", "at_least", 100, points=40
    ),
    covenants.TargetIn(
        "dang_vien_tot", "Trên 80% đảng viên hoàn thành tốt, xuất sắc", "more_than", 80, points=30
    ),
    covenants.TargetIn("chi_bo", "100% chi bộ hoàn thành nhiệm vụ", "at_least", 100, points=30),
]


@pytest.fixture
def leader(rt: Runtime) -> Actor:
    with write_tx(rt.engine) as conn:
        known = set(conn.execute(select(UNITS.c.code)).scalars())
        apply_blocs(conn, load_blocs(CONFIG / "blocs.yaml", known))
        return load_actor(conn, "kt.cy")  # an officer of CCYDCQ, the 2019 khối trưởng


def launched(rt: Runtime, leader: Actor) -> None:
    with write_tx(rt.engine) as conn:
        covenants.launch(
            conn,
            "KCY4",
            2019,
            theme="Đoàn kết, sáng tạo, kỷ cương, nêu gương, quyết thắng",
            targets=TARGETS,
            launched_on=date(2019, 3, 7),
            actor=leader,
        )
        for unit in MEMBERS:
            head = load_actor(conn, HEADS[unit])
            covenants.sign(conn, "KCY4", 2019, unit, signed_on=date(2019, 3, 7), actor=head)


def test_scores_follow_reported_results(rt: Runtime, leader: Actor) -> None:
    """A target met earns its points; one missed earns nothing (no proportional share):
    60 % against "over 80 %" loses the target's 30 points."""
    launched(rt, leader)
    with write_tx(rt.engine) as conn:
        full = bloc_reviews.report(
            conn,
            "KCY4",
            2019,
            "so_ket",
            "CCYQD",
            {"hoan_thanh": 100, "dang_vien_tot": 85, "chi_bo": 100},
            actor=leader,
        )
        short = bloc_reviews.report(
            conn,
            "KCY4",
            2019,
            "so_ket",
            "CCYCA",
            {"hoan_thanh": 100, "dang_vien_tot": 60, "chi_bo": 100},
            actor=leader,
        )
        board = bloc_reviews.scores(conn, "KCY4", 2019, "so_ket")
    assert (full.total, short.total) == (100.0, 70.0)
    assert not short.lines[1].met
    assert board == {"CCYQD": 100.0, "CCYCA": 70.0, "CCYDCQ": 0.0, "CCYNG": 0.0}


def test_report_must_match_the_targets_and_signature(rt: Runtime, leader: Actor) -> None:
    """A report missing a target, or from a unit that did not sign, is refused."""
    launched(rt, leader)
    with write_tx(rt.engine) as conn:
        with pytest.raises(KhenthuongError, match="thiếu chi_bo"):
            bloc_reviews.report(
                conn,
                "KCY4",
                2019,
                "tong_ket",
                "CCYQD",
                {"hoan_thanh": 100, "dang_vien_tot": 85},
                actor=leader,
            )
        with pytest.raises(KhenthuongError, match="không phải thành viên"):
            covenants.sign(
                conn,
                "KCY4",
                2019,
                "C07",
                signed_on=date(2019, 3, 8),
                actor=load_actor(conn, "tt.pccc"),
            )


def test_year_end_vote_proposes_within_the_flag_quota(rt: Runtime, leader: Actor) -> None:
    """The leading member, having met every target, goes to Cờ thi đua CP (quota 1); the
    next (the bloc's rule: 1) to the flag of Ban Cơ yếu; those within 90 % of the best to
    Bằng khen; proposals are made by the unit leading the bloc that year."""
    launched(rt, leader)
    results = {
        "CCYQD": {"hoan_thanh": 100, "dang_vien_tot": 90, "chi_bo": 100},
        "CCYDCQ": {"hoan_thanh": 100, "dang_vien_tot": 85, "chi_bo": 100},
        "CCYCA": {"hoan_thanh": 100, "dang_vien_tot": 95, "chi_bo": 100},
        "CCYNG": {"hoan_thanh": 80, "dang_vien_tot": 60, "chi_bo": 90},
    }
    with write_tx(rt.engine) as conn:
        for unit, values in results.items():
            bloc_reviews.report(conn, "KCY4", 2019, "tong_ket", unit, values, actor=leader)
        standings = bloc_reviews.year_end_vote(
            conn,
            rt.registry,
            "KCY4",
            2019,
            {"CCYQD": 2, "CCYDCQ": 4, "CCYCA": 1, "CCYNG": 0},
            voters=4,
            actor=leader,
        )
    # Three members score 100: the vote decides their order.
    assert [s.unit for s in standings] == ["CCYDCQ", "CCYQD", "CCYCA", "CCYNG"]
    with rt.engine.connect() as conn:
        proposed = bloc_reviews.proposals(conn, "KCY4", 2019)
        rows = {
            r.id: r for r in conn.execute(select(NOMINATIONS).where(NOMINATIONS.c.year == 2019))
        }
        leading_unit = conn.execute(select(UNITS.c.id).where(UNITS.c.code == "CCYDCQ")).scalar()
    assert [(p.unit, p.workflow, p.award) for p in proposed] == [
        ("CCYDCQ", "co_thi_dua_chinh_phu", "Cờ thi đua của Chính phủ"),
        ("CCYQD", "co_thi_dua_cap_bo", "Cờ thi đua của Ban Cơ yếu Chính phủ"),
        ("CCYCA", "bang_khen_bo", "Bằng khen"),
        ("CCYNG", None, ""),
    ]
    flags = [r for r in rows.values() if r.workflow == "co_thi_dua_chinh_phu"]
    assert len(flags) == 1
    assert flags[0].nominee_name == "Cục Cơ yếu Đảng – Chính quyền"
    assert {r.proposing_unit_id for r in rows.values()} == {leading_unit}
    # Voting again proposes nobody twice and keeps within the quota.
    with write_tx(rt.engine) as conn:
        bloc_reviews.year_end_vote(
            conn,
            rt.registry,
            "KCY4",
            2019,
            {"CCYQD": 4, "CCYDCQ": 0, "CCYCA": 1, "CCYNG": 0},
            voters=4,
            actor=leader,
        )
    with rt.engine.connect() as conn:
        count = len(conn.execute(select(NOMINATIONS.c.id).where(NOMINATIONS.c.year == 2019)).all())
    assert count == 3


def test_vote_tally_above_voters_is_refused(rt: Runtime, leader: Actor) -> None:
    """More votes than voting members is refused with the numbers."""
    launched(rt, leader)
    with write_tx(rt.engine) as conn, pytest.raises(KhenthuongError, match="5 phiếu, phải từ 0"):
        bloc_reviews.year_end_vote(
            conn, rt.registry, "KCY4", 2019, {"CCYQD": 5}, voters=4, actor=leader
        )


def test_only_the_bloc_leader_launches(rt: Runtime, leader: Actor) -> None:
    """An officer of a unit that does not lead the bloc in 2019 cannot launch its covenant."""
    with write_tx(rt.engine) as conn:
        officer = load_actor(conn, "tt.ng")
        with pytest.raises(Forbidden, match="chỉ cán bộ thi đua, thủ trưởng đơn vị đó"):
            covenants.launch(
                conn,
                "KCY4",
                2019,
                theme="x",
                targets=TARGETS,
                launched_on=date(2019, 3, 7),
                actor=officer,
            )


def test_only_the_members_own_officers_sign_for_it(rt: Runtime, leader: Actor) -> None:
    """The bloc leader, another member's officer, the ministry's officer and the admin are
    refused with a Vietnamese reason; the member's officer signs and nothing else is recorded."""
    with write_tx(rt.engine) as conn:
        covenants.launch(
            conn,
            "KCY4",
            2019,
            theme="Đoàn kết, sáng tạo, kỷ cương, nêu gương, quyết thắng",
            targets=TARGETS,
            launched_on=date(2019, 3, 7),
            actor=leader,
        )
        for username in ("kt.cy", "cb.qd", "tt.dcq", "cv.bcy", "admin", "cb.pccc"):
            with pytest.raises(Forbidden, match="không được ký giao ước thay đơn vị"):
                covenants.sign(
                    conn,
                    "KCY4",
                    2019,
                    "CCYCA",
                    signed_on=date(2019, 3, 7),
                    actor=load_actor(conn, username),
                )
        covenants.sign(
            conn, "KCY4", 2019, "CCYQD", signed_on=date(2019, 3, 7), actor=load_actor(conn, "cb.qd")
        )
        signed = conn.execute(
            select(UNITS.c.code, COVENANT_SIGNATURES.c.signed_by).join(
                UNITS, UNITS.c.id == COVENANT_SIGNATURES.c.unit_id
            )
        ).all()
    assert [tuple(r) for r in signed] == [("CCYQD", "cb.qd")]


def test_reports_come_from_the_member_or_the_bloc_leader(rt: Runtime, leader: Actor) -> None:
    """A member's officer reports for it, not for another member; the officers and head of
    the 2019 khối trưởng (Cục Cơ yếu Đảng – Chính quyền) score any member; outsiders and
    the administrator are refused."""
    launched(rt, leader)
    values = {"hoan_thanh": 100, "dang_vien_tot": 85, "chi_bo": 100}
    with write_tx(rt.engine) as conn:
        assert (
            bloc_reviews.report(
                conn, "KCY4", 2019, "so_ket", "CCYQD", values, actor=load_actor(conn, "cb.qd")
            ).total
            == 100.0
        )
        for username, unit in (
            ("cb.qd", "CCYCA"),
            ("tt.ng", "CCYCA"),
            ("cv.bcy", "CCYNG"),
            ("cb.pccc", "CCYQD"),
            ("kiemtra", "CCYQD"),
            ("admin", "CCYDCQ"),
        ):
            with pytest.raises(Forbidden, match="không được báo cáo, chấm điểm"):
                bloc_reviews.report(
                    conn,
                    "KCY4",
                    2019,
                    "so_ket",
                    unit,
                    values,
                    actor=load_actor(conn, username),
                )
        for username, unit in (("kt.cy", "CCYCA"), ("cb.dcq", "CCYNG"), ("tt.dcq", "CCYDCQ")):
            bloc_reviews.report(
                conn, "KCY4", 2019, "so_ket", unit, values, actor=load_actor(conn, username)
            )
        board = bloc_reviews.scores(conn, "KCY4", 2019, "so_ket")
    assert board == {"CCYQD": 100.0, "CCYDCQ": 100.0, "CCYCA": 100.0, "CCYNG": 100.0}


def test_covenant_of_shows_theme_targets_and_signatures(rt: Runtime, leader: Actor) -> None:
    """Nothing before the launch; then the theme, the targets in order and each signature."""
    with rt.engine.connect() as conn:
        assert covenants.covenant_of(conn, "KCY4", 2019) is None
    launched(rt, leader)
    with rt.engine.connect() as conn:
        shown = covenants.covenant_of(conn, "KCY4", 2019)
    assert shown is not None
    assert shown.theme == "Đoàn kết, sáng tạo, kỷ cương, nêu gương, quyết thắng"
    assert [t.code for t in shown.targets] == ["hoan_thanh", "dang_vien_tot", "chi_bo"]
    assert {s.unit: s.signed_by for s in shown.signatures} == HEADS
    assert all(s.signed_on == date(2019, 3, 7) for s in shown.signatures)
