"""Cross-inspection scores received feed the bloc's year-end ranking."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from khenthuong.runtime import Runtime
from khenthuong.services import bloc_reviews, covenants, inspections
from khenthuong.services.actors import load_actor
from khenthuong.services.blocs import apply_blocs, load_blocs
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import UNITS
from tests.conftest import CONFIG

HEADS = {"CCYQD": "tt.qd", "CCYDCQ": "tt.dcq", "CCYCA": "tt.ca", "CCYNG": "tt.ng"}
TARGETS = [covenants.TargetIn("ht", "100% cán bộ hoàn thành nhiệm vụ", "at_least", 100, points=100)]


def test_inspection_scores_received_break_a_tie_before_the_vote(rt: Runtime) -> None:
    """Two members with the same year-end score: first the vote orders them; once their
    inspectors file scores, the better-inspected one ranks first whatever the votes, and
    the standings carry the mean score each received."""
    with write_tx(rt.engine) as conn:
        known = set(conn.execute(select(UNITS.c.code)).scalars())
        apply_blocs(conn, load_blocs(CONFIG / "blocs.yaml", known))
        leader = load_actor(conn, "kt.cy")
        covenants.launch(
            conn,
            "KCY4",
            2019,
            theme="Đoàn kết",
            targets=TARGETS,
            launched_on=date(2019, 3, 7),
            actor=leader,
        )
        for unit, head in HEADS.items():
            covenants.sign(
                conn, "KCY4", 2019, unit, signed_on=date(2019, 3, 7), actor=load_actor(conn, head)
            )
        inspections.plan_inspections(conn, "KCY4", 2019, actor=leader, seed=2019)
        rows = inspections.visits(conn, "KCY4", 2019)
        # Two inspected members tie on the year-end score; the rest score less.
        first, second = (r.inspected for r in rows[:2])
        for unit in HEADS:
            value = 100 if unit in (first, second) else 50
            bloc_reviews.report(conn, "KCY4", 2019, "tong_ket", unit, {"ht": value}, actor=leader)
        votes = {first: 0, second: 4}
        before = bloc_reviews.year_end_vote(
            conn, rt.registry, "KCY4", 2019, votes, voters=4, actor=leader
        )
        assert [s.unit for s in before[:2]] == [second, first]
        assert all(s.inspection is None for s in before)
        scores = {first: 95.0, second: 60.0}
        for row in rows[:2]:
            inspections.record_report(
                conn,
                row.id,
                findings="Biên bản kiểm tra chéo",
                score=scores[row.inspected],
                actor=load_actor(conn, HEADS[row.inspector]),
            )
        after = bloc_reviews.year_end_vote(
            conn, rt.registry, "KCY4", 2019, votes, voters=4, actor=leader
        )
    assert [s.unit for s in after[:2]] == [first, second]
    assert {s.unit: s.inspection for s in after[:2]} == scores
    assert [s.rank for s in after] == [1, 2, 3, 4]
