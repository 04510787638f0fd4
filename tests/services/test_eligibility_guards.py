"""The eligible guard: rules of the submission date, commendation types, collectives."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, insert, select

from khenthuong.errors import StepRefused
from khenthuong.rules.catalog import catalog_in
from khenthuong.rules.eligibility import BkBoRule
from khenthuong.runtime import Runtime
from khenthuong.services import dossier, grounds, guards, new_nominations, stepping
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.blocs import apply_blocs, load_blocs
from khenthuong.services.org import add_person
from khenthuong.storage.blocs import BLOC_VOTES, BLOCS, COVENANTS
from khenthuong.storage.db import write_tx
from khenthuong.storage.history import AWARD_RECORDS, BLOCKERS, YEARLY_RATINGS
from khenthuong.storage.models import UNITS
from tests.conftest import CONFIG

PDF = b"%PDF-1.4 test"
BK_DOCS = ("to_trinh", "bao_cao_thanh_tich", "bien_ban_binh_xet")


def who(rt: Runtime, name: str) -> Actor:
    with rt.engine.connect() as conn:
        return load_actor(conn, name)


def record(conn: object, pid: int, code: str, year: int, ctype: str = "cong_trang") -> None:
    conn.execute(  # type: ignore[attr-defined]
        insert(AWARD_RECORDS).values(
            person_id=pid,
            award_code=code,
            year=year,
            decision_number=f"{year}/QĐ-CCYQD",
            decision_date=date(year, 12, 20),
            commendation_type=ctype,
            source="import",
            created_at=datetime.now(UTC),
        )
    )


def bang_khen_to_appraisal(
    rt: Runtime, pid: int, *, ctype: str = "cong_trang", at: datetime | None = None
) -> int:
    officer = who(rt, "cb.qd")
    nid = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="bang_khen_bo",
        proposing_unit="CCYQD",
        actor=officer,
        nominee_person_id=pid,
        year=2026,
        commendation_type=ctype,
        now=at,
    )
    with write_tx(rt.engine) as conn:
        for doc in BK_DOCS:
            dossier.attach(
                conn,
                nid,
                doc_type=doc,
                filename=f"{doc}.pdf",
                content=PDF,
                actor=officer,
                max_bytes=10_000,
            )
    stepping.advance(rt.engine, rt.registry, nid, "submit", officer, now=at)
    stepping.advance(rt.engine, rt.registry, nid, "forward", who(rt, "tt.qd"), now=at)
    return nid


def test_ad_hoc_bang_khen_is_judged_by_its_own_point_of_article_74(rt: Runtime) -> None:
    """With no CSTĐCS at all, a merit Bằng khen is refused at appraisal (point d lacks the
    streak); an ad-hoc one goes through by point b (sudden achievement) once the officer
    claims it and the dossier holds its confirmation, not by its type alone."""
    with write_tx(rt.engine) as conn:
        pid = add_person(conn, "Võ Thị Giang", "CCYQD")
    merit = bang_khen_to_appraisal(rt, pid)
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, merit, "appraise", who(rt, "cv.bcy"))
    assert info.value.refusals[0].code == "eligible"
    assert "Điều 74(1)(d)" in info.value.refusals[0].message_vi
    ad_hoc = bang_khen_to_appraisal(rt, pid, ctype="dot_xuat")
    with pytest.raises(StepRefused):
        stepping.advance(rt.engine, rt.registry, ad_hoc, "appraise", who(rt, "cv.bcy"))
    officer = who(rt, "cv.bcy")
    with write_tx(rt.engine) as conn:
        grounds.claim_basis_in(
            conn, ad_hoc, basis="74.1.b", statement="Cứu người trong vụ cháy", actor=officer
        )
        dossier.attach(
            conn,
            ad_hoc,
            doc_type="xac_nhan_thanh_tich_dot_xuat",
            filename="xac_nhan.pdf",
            content=PDF,
            actor=officer,
            max_bytes=10_000,
        )
    stepping.advance(rt.engine, rt.registry, ad_hoc, "appraise", officer)


def test_eligibility_follows_the_rules_of_the_submission_date(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An organisation raises the Bằng khen streak to 3 CSTĐCS from 01/06/2026: a dossier
    submitted on 20/05 is appraised on 01/07 under the old rule, one of 05/06 under the new."""
    catalog = catalog_in(CONFIG)
    base = catalog.rules_for("BK_BO", date(2026, 1, 1))
    stricter = base.model_copy(
        update={
            "effective_from": date(2026, 6, 1),
            "source": "quy định mới",
            "eligibility": BkBoRule(cstdcs_streak=3),
        }
    )
    award = catalog.awards["BK_BO"].model_copy(update={"rules": [base, stricter]})
    patched = catalog.model_copy(update={"awards": {**catalog.awards, "BK_BO": award}})
    monkeypatch.setattr(guards, "_catalog", lambda: patched)
    ids = []
    for name, day in (("Trước", date(2026, 5, 20)), ("Sau", date(2026, 6, 5))):
        with write_tx(rt.engine) as conn:
            pid = add_person(conn, name, "CCYQD")
            for year in (2025, 2026):
                record(conn, pid, "CSTDCS", year)
        at = datetime(day.year, day.month, day.day, 3, tzinfo=UTC)
        ids.append(bang_khen_to_appraisal(rt, pid, at=at))
    later = datetime(2026, 7, 1, 3, tzinfo=UTC)
    stepping.advance(rt.engine, rt.registry, ids[0], "appraise", who(rt, "cv.bcy"), now=later)
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, ids[1], "appraise", who(rt, "cv.bcy"), now=later)
    assert "Cần 3 năm liên tục đạt CSTĐCS" in info.value.refusals[0].message_vi


def test_second_bang_khen_on_an_overlapping_streak_is_refused(rt: Runtime) -> None:
    """CSTĐCS 2024–2026 with a Bằng khen cấp Bộ for 2025: a 2026 Bằng khen is refused."""
    with write_tx(rt.engine) as conn:
        pid = add_person(conn, "Hồ Văn Hải", "CCYQD")
        for year in (2024, 2025, 2026):
            record(conn, pid, "CSTDCS", year)
        record(conn, pid, "BK_BO", 2025)
    nid = bang_khen_to_appraisal(rt, pid)
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, nid, "appraise", who(rt, "cv.bcy"))
    assert "sau Bằng khen năm 2025" in info.value.refusals[0].message_vi


@pytest.fixture
def bloc_leader(rt: Runtime) -> Actor:
    with write_tx(rt.engine) as conn:
        known = set(conn.execute(select(UNITS.c.code)).scalars())
        apply_blocs(conn, load_blocs(CONFIG / "blocs.yaml", known))
        return load_actor(conn, "kt.cy")


def ranked(rt: Runtime, year: int, ranks: dict[str, int]) -> None:
    """Record the year-end ranking of Khối 4 Hệ Cơ yếu."""
    with write_tx(rt.engine) as conn:
        bloc = conn.execute(select(BLOCS.c.id).where(BLOCS.c.code == "KCY4")).scalar_one()
        cid = conn.execute(
            insert(COVENANTS)
            .values(
                bloc_id=bloc,
                year=year,
                theme="Đoàn kết, sáng tạo",
                launched_on=date(year, 3, 7),
                launched_by="kt.cy",
            )
            .returning(COVENANTS.c.id)
        ).scalar_one()
        for code, rank in ranks.items():
            unit = conn.execute(select(UNITS.c.id).where(UNITS.c.code == code)).scalar_one()
            conn.execute(
                insert(BLOC_VOTES).values(covenant_id=cid, unit_id=unit, votes=4, rank=rank)
            )


def test_government_flag_needs_the_collective_that_led_its_bloc(
    rt: Runtime, bloc_leader: Actor
) -> None:
    """Law Art 25: the bloc's first collective passes appraisal; the second is refused
    with its rank (each proposed in its own year, so the bloc quota is not in the way)."""
    ranked(rt, 2025, {"CCYDCQ": 1, "CCYQD": 2})
    ranked(rt, 2026, {"CCYDCQ": 1, "CCYQD": 2})
    ids = []
    for unit, year in (("CCYDCQ", 2025), ("CCYQD", 2026)):
        nid = new_nominations.create_nomination(
            rt.engine,
            rt.registry,
            workflow="co_thi_dua_chinh_phu",
            proposing_unit="CCYDCQ",
            actor=bloc_leader,
            nominee_unit_code=unit,
            year=year,
        )
        with write_tx(rt.engine) as conn:
            for doc in BK_DOCS:
                dossier.attach(
                    conn,
                    nid,
                    doc_type=doc,
                    filename=f"{doc}.pdf",
                    content=PDF,
                    actor=bloc_leader,
                    max_bytes=10_000,
                )
        stepping.advance(rt.engine, rt.registry, nid, "submit", bloc_leader)
        ids.append(nid)
    stepping.advance(rt.engine, rt.registry, ids[0], "appraise", who(rt, "cv.bcy"))
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, ids[1], "appraise", who(rt, "cv.bcy"))
    assert "KCY4: hạng 2" in info.value.refusals[0].message_vi


def test_excellent_labour_collective_is_judged_on_its_members_history(rt: Runtime) -> None:
    """TTLĐXS for Cục Quản lý kỹ thuật: 3 of 3 members complete, 3 LĐTT, 1 CSTĐCS passes;
    a member reprimanded (khiển trách) during the year still passes, one warned (cảnh cáo)
    fails it, and so does a discipline recorded without its level."""
    catalog = catalog_in(CONFIG)
    rule = catalog.rules_for("TTLDXS", date(2026, 12, 1))
    with write_tx(rt.engine) as conn:
        unit = conn.execute(select(UNITS.c.id).where(UNITS.c.code == "CQLKT")).scalar_one()
        pids = [add_person(conn, f"Kỹ sư {i}", "CQLKT") for i in range(3)]
        for pid in pids:
            conn.execute(insert(YEARLY_RATINGS).values(person_id=pid, year=2026, rating="htt"))
            record(conn, pid, "LDTT", 2026)
        record(conn, pids[0], "CSTDCS", 2026)
        assert guards.judge(conn, rule, "TTLDXS", person_id=None, unit_id=unit, year=2026) is None
        discipline = {"kind": "discipline", "starts_on": date(2025, 10, 1)}
        conn.execute(
            insert(BLOCKERS).values(
                person_id=pids[1], ends_on=date(2026, 3, 31), level="khien_trach", **discipline
            )
        )
        assert guards.judge(conn, rule, "TTLDXS", person_id=None, unit_id=unit, year=2026) is None
        conn.execute(
            insert(BLOCKERS).values(
                person_id=pids[1], ends_on=date(2026, 1, 31), level="canh_cao", **discipline
            )
        )
        warned = guards.judge(conn, rule, "TTLDXS", person_id=None, unit_id=unit, year=2026)
        conn.execute(
            insert(BLOCKERS).values(person_id=pids[2], ends_on=date(2026, 2, 1), **discipline)
        )
        unknown = guards.judge(conn, rule, "TTLDXS", person_id=None, unit_id=unit, year=2026)
    assert warned is not None and "1 cá nhân bị kỷ luật từ mức cảnh cáo" in warned.message_vi
    assert unknown is not None and "2 cá nhân bị kỷ luật" in unknown.message_vi


def test_batch_steps_read_guard_facts_once(rt: Runtime) -> None:
    """A batch `appraise` (eligible) of Bằng khen cấp Bộ runs as many statements for 6
    nominations as for 3, and judges each as a single step would: the one without the
    CSTĐCS streak is refused with the single step's reason."""
    appraiser = who(rt, "cv.bcy")

    def nominee(name: str, streak: bool) -> int:
        with write_tx(rt.engine) as conn:
            pid = add_person(conn, name, "CCYQD")
            for year in (2025, 2026) if streak else (2026,):
                record(conn, pid, "CSTDCS", year)
        return pid

    counts = []
    for size in (3, 6):
        ids = [bang_khen_to_appraisal(rt, nominee(f"Cỡ {size} số {i}", i > 0)) for i in range(size)]
        statements: list[str] = []

        def seen(*args: object, out: list[str] = statements) -> None:
            out.append(str(args[2]))

        event.listen(rt.engine, "before_cursor_execute", seen)
        try:
            done, refused = stepping.advance_batch(
                rt.engine, rt.registry, ids, "appraise", appraiser, partial=True
            )
        finally:
            event.remove(rt.engine, "before_cursor_execute", seen)
        counts.append(len(statements))
        assert [r.nomination_id for r in done] == ids[1:]
        assert list(refused) == ids[:1]
        with pytest.raises(StepRefused) as info:
            stepping.advance(rt.engine, rt.registry, ids[0], "appraise", appraiser)
        assert info.value.refusals == refused[ids[0]]
    assert counts[0] == counts[1], counts
