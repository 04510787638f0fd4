"""within_quota: count limits, the bloc's limit for Cờ thi đua CP, and the submission date."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import insert, select

from khenthuong.errors import BatchRefused, StepRefused
from khenthuong.rules.catalog import Catalog, QuotaRule, RuleSet, catalog_in
from khenthuong.runtime import Runtime
from khenthuong.services import councils, dossier, guards, new_nominations, registrations, stepping
from khenthuong.services import nominations as svc
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.blocs import apply_blocs, load_blocs
from khenthuong.services.councils import MemberIn
from khenthuong.services.org import add_person
from khenthuong.storage.db import write_tx
from khenthuong.storage.history import INITIATIVES, YEARLY_RATINGS
from khenthuong.storage.models import UNITS
from tests.conftest import CONFIG

PDF = b"%PDF-1.4 test"
FLAG_DOCS = ("to_trinh", "bao_cao_thanh_tich", "bien_ban_binh_xet")


def who(rt: Runtime, name: str) -> Actor:
    with rt.engine.connect() as conn:
        return load_actor(conn, name)


def attach(rt: Runtime, nid: int, docs: tuple[str, ...], actor: Actor) -> None:
    with write_tx(rt.engine) as conn:
        for doc in docs:
            dossier.attach(
                conn,
                nid,
                doc_type=doc,
                filename=f"{doc}.pdf",
                content=PDF,
                actor=actor,
                max_bytes=10_000,
            )


def with_cstdcs_rules(monkeypatch: pytest.MonkeyPatch, rules: list[RuleSet]) -> Catalog:
    catalog = catalog_in(CONFIG)
    award = catalog.awards["CSTDCS"].model_copy(update={"rules": rules})
    patched = catalog.model_copy(update={"awards": {**catalog.awards, "CSTDCS": award}})
    monkeypatch.setattr(guards, "_catalog", lambda: patched)
    return patched


def cstdcs_at_council(
    rt: Runtime,
    names: list[str],
    submitted: datetime,
    unit: str = "CCYQD",
    officer_name: str = "cb.qd",
    secretary_name: str = "tk.qd",
    year: int = 2026,
) -> list[int]:
    """CSTĐCS nominations of `unit` for `year` (an excellent year with a recognised
    initiative, as the 2003 law also asked), submitted on `submitted`, passed by its council."""
    officer = who(rt, officer_name)
    ids = []
    for name in names:
        with write_tx(rt.engine) as conn:
            pid = add_person(conn, name, unit)
            conn.execute(insert(YEARLY_RATINGS).values(person_id=pid, year=year, rating="htxs"))
            conn.execute(
                insert(INITIATIVES).values(
                    person_id=pid, year=year, title=f"Sáng kiến của {name}", scope="grassroots"
                )
            )
            # Registered for the title (required under the 2003 law, rule set nd91).
            registrations.add_entries_in(
                conn, catalog_in(CONFIG), unit=unit, year=year, actor=officer,
                entries=[registrations.EntryIn("CSTDCS", person_id=pid)],
            )  # fmt: skip
        nid = new_nominations.create_nomination(
            rt.engine,
            rt.registry,
            workflow="chien_si_thi_dua_co_so",
            proposing_unit=unit,
            actor=officer,
            nominee_person_id=pid,
            year=year,
            now=submitted,
        )
        attach(rt, nid, ("to_trinh", "bao_cao_thanh_tich"), officer)
        stepping.advance(rt.engine, rt.registry, nid, "submit", officer, now=submitted)
        ids.append(nid)
    secretary = who(rt, secretary_name)
    with write_tx(rt.engine) as conn:
        sid = councils.open_session(
            conn,
            unit,
            title=f"Bình xét {year}",
            held_on=date(year, 12, 5),
            members=[MemberIn(f"Ủy viên {i}") for i in range(5)],
            actor=secretary,
        )
        for nid in ids:
            councils.add_item(conn, rt.registry, sid, nid, actor=secretary)
            councils.record_tally(conn, sid, nid, agree=5, disagree=0, abstain=0, actor=secretary)
        # Mark the votes passed without moving the nominations: the step under test does.
        conn.execute(
            councils.COUNCIL_ITEMS.update()
            .where(councils.COUNCIL_ITEMS.c.session_id == sid)
            .values(result="passed")
        )
        conn.execute(
            councils.COUNCIL_SESSIONS.update()
            .where(councils.COUNCIL_SESSIONS.c.id == sid)
            .values(status="closed", closed_at=datetime.now(UTC))
        )
    return ids


def test_count_limit_gives_one_place_per_unit_and_year(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A count of 1 CSTĐCS per unit and year: the first council step passes, the second is
    refused with the count."""
    base = catalog_in(CONFIG).awards["CSTDCS"].rules[-1]
    with_cstdcs_rules(
        monkeypatch,
        [base.model_copy(update={"quota": QuotaRule(count=1, source="quy chế đơn vị")})],
    )
    first, second = cstdcs_at_council(rt, ["Ứng viên A", "Ứng viên B"], datetime.now(UTC))
    secretary = who(rt, "tk.qd")
    stepping.advance(rt.engine, rt.registry, first, "council_approve", secretary)
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, second, "council_approve", secretary)
    refusal = info.value.refusals[0]
    assert refusal.code == "within_quota"
    assert "tối đa 1 hồ sơ Chiến sĩ thi đua cơ sở năm 2026" in refusal.message_vi
    assert refusal.details == {"award": "CSTDCS", "cap": 1, "taken": 1}  # the code for machines


def test_an_organisation_wide_count_is_shared_by_its_units(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`per: organisation`: one place for the whole of Ban Cơ yếu Chính phủ, so after Cục Cơ
    yếu Quân đội takes it, Cục Cơ yếu Đảng – Chính quyền is refused, naming BCY; with the
    default `per: unit` each Cục has its own place."""
    base = catalog_in(CONFIG).awards["CSTDCS"].rules[-1]
    with_cstdcs_rules(
        monkeypatch,
        [base.model_copy(update={"quota": QuotaRule(count=1, per="organisation", source="x")})],
    )
    (qd,) = cstdcs_at_council(rt, ["Quân đội A"], datetime.now(UTC))
    (dcq,) = cstdcs_at_council(
        rt, ["Chính quyền B"], datetime.now(UTC), "CCYDCQ", "cb.dcq", "tk.dcq"
    )
    stepping.advance(rt.engine, rt.registry, qd, "council_approve", who(rt, "tk.qd"))
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, dcq, "council_approve", who(rt, "tk.dcq"))
    refusal = info.value.refusals[0]
    assert refusal.code == "within_quota"
    assert "giới hạn số lượng của Ban Cơ yếu Chính phủ" in refusal.message_vi
    assert "BCY" not in refusal.message_vi and "CSTDCS" not in refusal.message_vi
    assert refusal.details == {"award": "CSTDCS", "cap": 1, "taken": 1}
    with_cstdcs_rules(
        monkeypatch, [base.model_copy(update={"quota": QuotaRule(count=1, source="x")})]
    )
    done = stepping.advance(rt.engine, rt.registry, dcq, "council_approve", who(rt, "tk.dcq"))
    assert done.to_state != "unit_council"


def test_a_batch_cannot_take_more_places_than_the_quota_leaves(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Places taken earlier in the same batch count: with 2 places and 3 nominations in one
    batch, all-or-nothing refuses the batch and writes nothing; partial takes exactly 2."""
    base = catalog_in(CONFIG).awards["CSTDCS"].rules[-1]
    with_cstdcs_rules(
        monkeypatch,
        [base.model_copy(update={"quota": QuotaRule(count=2, source="quy chế đơn vị")})],
    )
    ids = cstdcs_at_council(rt, ["Ứng viên A", "Ứng viên B", "Ứng viên C"], datetime.now(UTC))
    secretary = who(rt, "tk.qd")
    with pytest.raises(BatchRefused) as info:
        stepping.advance_batch(rt.engine, rt.registry, ids, "council_approve", secretary)
    assert list(info.value.failures) == [ids[2]]
    assert info.value.failures[ids[2]][0].details == {"award": "CSTDCS", "cap": 2, "taken": 2}
    with rt.engine.connect() as conn:
        assert {svc.get_row(conn, nid)["state"] for nid in ids} == {"unit_council"}
    done, refused = stepping.advance_batch(
        rt.engine, rt.registry, ids, "council_approve", secretary, partial=True
    )
    assert [r.nomination_id for r in done] == ids[:2]
    assert list(refused) == [ids[2]]
    assert refused[ids[2]][0].code == "within_quota"
    with rt.engine.connect() as conn:
        taken = [bool(svc.get_row(conn, nid)["quota_taken"]) for nid in ids]
    assert taken == [True, True, False]


def test_quota_in_force_on_the_submission_date_applies(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A no-places quota from 01/06/2026 does not reach a nomination submitted on 15/05/2026,
    even when the council step is taken later; one submitted on 05/06/2026 is refused."""
    base = catalog_in(CONFIG).awards["CSTDCS"].rules[-1]
    with_cstdcs_rules(
        monkeypatch,
        [
            base.model_copy(update={"effective_from": date(2024, 1, 1)}),
            base.model_copy(
                update={
                    "effective_from": date(2026, 6, 1),
                    "source": "quy định mới",
                    "quota": QuotaRule(count=0),
                }
            ),
        ],
    )
    (early,) = cstdcs_at_council(rt, ["Nộp sớm"], datetime(2026, 5, 15, 3, tzinfo=UTC))
    (late,) = cstdcs_at_council(rt, ["Nộp muộn"], datetime(2026, 6, 5, 3, tzinfo=UTC))
    secretary = who(rt, "tk.qd")
    after = datetime(2026, 6, 10, 3, tzinfo=UTC)
    stepping.advance(rt.engine, rt.registry, early, "council_approve", secretary, now=after)
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, late, "council_approve", secretary, now=after)
    assert info.value.refusals[0].code == "within_quota"


@pytest.fixture
def bloc_leader(rt: Runtime) -> Actor:
    with write_tx(rt.engine) as conn:
        known = set(conn.execute(select(UNITS.c.code)).scalars())
        apply_blocs(conn, load_blocs(CONFIG / "blocs.yaml", known))
        return load_actor(conn, "kt.cy")


def flag_draft(rt: Runtime, leader: Actor, unit: str, year: int = 2026) -> int:
    """A Cờ thi đua CP nomination created directly (not by the bloc's year-end vote)."""
    nid = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="co_thi_dua_chinh_phu",
        proposing_unit="CCYDCQ",  # the 2019 khối trưởng's unit proposes for the bloc
        actor=leader,
        nominee_unit_code=unit,
        year=year,
    )
    attach(rt, nid, FLAG_DOCS, leader)
    return nid


def test_direct_flag_nominations_cannot_bypass_the_bloc_quota(
    rt: Runtime, bloc_leader: Actor
) -> None:
    """Khối 4 Hệ Cơ yếu may propose 1 Cờ thi đua CP a year: a second member's directly
    created nomination is refused at submission, naming the bloc; withdrawing frees the place."""
    first = flag_draft(rt, bloc_leader, "CCYQD")
    second = flag_draft(rt, bloc_leader, "CCYDCQ")
    stepping.advance(rt.engine, rt.registry, first, "submit", bloc_leader)
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, second, "submit", bloc_leader)
    refusal = info.value.refusals[0]
    assert refusal.code == "within_quota"
    assert refusal.message_vi.startswith("Khối thi đua 4 Hệ Cơ yếu chỉ được đề nghị 1 Cờ thi đua")
    assert "KCY4" not in refusal.message_vi and "CO_CP" not in refusal.message_vi
    assert refusal.details == {"bloc": "KCY4", "award": "CO_CP", "cap": 1, "taken": 1}
    # Another year has its own place.
    next_year = flag_draft(rt, bloc_leader, "CCYCA", 2027)
    stepping.advance(rt.engine, rt.registry, next_year, "submit", bloc_leader)
    stepping.advance(
        rt.engine, rt.registry, first, "withdraw", who(rt, "cv.bcy"), {"reason": "Rút để xét lại"}
    )
    stepping.advance(rt.engine, rt.registry, second, "submit", bloc_leader)


def test_last_bloc_flag_place_goes_to_one_of_two_concurrent_submissions(
    rt: Runtime, bloc_leader: Actor
) -> None:
    """Two members' flag nominations submitted at the same moment: exactly one takes the
    bloc's only place (the bloc row is locked while the places are counted)."""
    ids = [flag_draft(rt, bloc_leader, unit) for unit in ("CCYQD", "CCYDCQ")]
    barrier = threading.Barrier(2)
    results: list[object] = []

    def attempt(nid: int) -> None:
        barrier.wait()
        try:
            results.append(stepping.advance(rt.engine, rt.registry, nid, "submit", bloc_leader))
        except StepRefused as exc:
            results.append(exc)

    threads = [threading.Thread(target=attempt, args=(nid,)) for nid in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    wins = [r for r in results if isinstance(r, svc.StepResult)]
    refusals = [r for r in results if isinstance(r, StepRefused)]
    assert len(wins) == 1 and len(refusals) == 1
    assert refusals[0].refusals[0].code == "within_quota"
