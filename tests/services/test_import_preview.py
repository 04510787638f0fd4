"""An imported danh sách's preview reads every person's history in one pass and gives each
row the verdict `eligibility_preview` gives that person alone."""

from __future__ import annotations

from datetime import date

from khenthuong.rules.catalog import catalog_in
from khenthuong.runtime import Runtime
from khenthuong.services import proposal_import as imp
from khenthuong.services.guards import eligibility_preview
from khenthuong.services.org import add_person
from khenthuong.storage.db import write_tx
from tests.conftest import CONFIG
from tests.services.test_council_and_decision import person_with_history

ON = date(2026, 12, 1)


def test_batch_preview_matches_the_one_person_preview(rt: Runtime) -> None:
    """Two people with three CSTĐCS years and one with none: each row's refusals are the
    ones the single-person preview names, in the list's order."""
    workflow = str(catalog_in(CONFIG).award("CSTD_BO").workflow)
    ready = [person_with_history(rt, n, [2024, 2025, 2026]) for n in ("Lê Văn An", "Vũ Thị Hà")]
    with write_tx(rt.engine) as conn:
        bare = add_person(conn, "Phan Quốc Huy", "CCYQD")
    people = [ready[0], bare, ready[1]]
    planned = [
        imp.PlannedRow(number=i + 2, stt=str(i + 1), kind="individual", name=f"#{pid}",
                       award_code="CSTD_BO", workflow=workflow, unit_code="CCYQD", person_id=pid)
        for i, pid in enumerate(people)
    ]  # fmt: skip
    with rt.engine.connect() as conn:
        imp.preview(conn, planned, 2026, ON)
        alone = [eligibility_preview(conn, workflow, pid, 2026, ON)[1] for pid in people]
    assert [p.refusals for p in planned] == [[r.message_vi for r in a] for a in alone]
    assert [bool(p.refusals) for p in planned] == [False, True, False]
    assert planned[1].verdict == "chưa đủ điều kiện"
    assert planned[0].verdict == "đủ điều kiện theo lịch sử"
