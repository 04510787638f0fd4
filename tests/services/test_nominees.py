"""Every individual nominee is a person of the register: a typed name is resolved (or refused,
or created on request), the subject is stored, and the award money follows it (issue 11)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, insert, select

from khenthuong.cli.common import refusal_line as cli_line
from khenthuong.errors import StepRefused
from khenthuong.localtime import LOCAL_TZ
from khenthuong.rules.catalog import catalog_in
from khenthuong.rules.money import award_money
from khenthuong.runtime import Runtime
from khenthuong.services import new_nominations, stepping
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.org import add_person
from khenthuong.storage.db import write_tx
from khenthuong.storage.decisions import DECISION_ITEMS
from khenthuong.storage.history import BLOCKERS
from khenthuong.storage.models import EVENTS, NOMINATIONS, PERSONS
from khenthuong.web.ui_common import refusal_line as page_line
from tests.conftest import CONFIG


def who(rt: Runtime, name: str) -> Actor:
    with rt.engine.connect() as conn:
        return load_actor(conn, name)


def propose(rt: Runtime, workflow: str = "giay_khen", **nominee: object) -> int:
    return new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow=workflow,
        proposing_unit="CCYQD",
        actor=who(rt, "cb.qd"),
        year=2026,
        **nominee,  # type: ignore[arg-type]
    )


def nomination(rt: Runtime, nid: int) -> dict[str, object]:
    with rt.engine.connect() as conn:
        return dict(
            conn.execute(select(NOMINATIONS).where(NOMINATIONS.c.id == nid)).mappings().one()
        )


def counts(rt: Runtime) -> tuple[int, int, int]:
    with rt.engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (NOMINATIONS, EVENTS, PERSONS)
        )


def refused(rt: Runtime, **nominee: object) -> StepRefused:
    before = counts(rt)
    with pytest.raises(StepRefused) as info:
        propose(rt, **nominee)
    assert counts(rt) == before, "a refused nomination writes nothing"
    return info.value


def test_a_typed_name_is_the_registered_person_whatever_the_case_and_spacing(rt: Runtime) -> None:
    """'trần  thị bích' is Trần Thị Bích of the demo register (NFC, spacing and case aside);
    the nomination stores her id, her registered name and the subject 'individual'."""
    with rt.engine.connect() as conn:
        bich = conn.execute(
            select(PERSONS.c.id).where(PERSONS.c.full_name == "Trần Thị Bích")
        ).scalar_one()
    typed = unicodedata.normalize("NFD", "  trần  THỊ bích ")
    row = nomination(rt, propose(rt, nominee_name=typed))
    assert row["nominee_person_id"] == bich
    assert row["nominee_name"] == "Trần Thị Bích"
    assert row["nominee_kind"] == "individual"
    assert row["nominee_unit_id"] is None


def test_diacritics_are_part_of_the_name(rt: Runtime) -> None:
    """'Tran Thi Bich' is not Trần Thị Bích: it is an unknown name."""
    refusal = refused(rt, nominee_name="Tran Thi Bich").refusals[0]
    assert refusal.code == "nominee_unknown"


def test_a_typed_name_under_discipline_is_refused_like_a_picked_one(rt: Runtime) -> None:
    """The person under an open discipline is refused at submission (not_blocked) whether the
    officer picked her from the register or typed her name."""
    officer = who(rt, "cb.qd")
    with write_tx(rt.engine) as conn:
        pid = add_person(conn, "Đinh Thị Kỷ", "CCYQD")
        conn.execute(
            insert(BLOCKERS).values(person_id=pid, kind="discipline", starts_on=date(2026, 3, 2))
        )
    picked = propose(rt, nominee_person_id=pid)
    typed = propose(rt, nominee_name="đinh thị kỷ")
    assert nomination(rt, typed)["nominee_person_id"] == pid
    for nid in (picked, typed):
        with pytest.raises(StepRefused) as info:
            stepping.advance(rt.engine, rt.registry, nid, "submit", officer)
        assert [r.code for r in info.value.refusals] == ["not_blocked"]
        assert nomination(rt, nid)["state"] == "draft"


def test_a_nomination_left_unlinked_by_the_migration_cannot_be_submitted(rt: Runtime) -> None:
    """A row written before names were resolved (no person, no unit) is refused at the
    discipline check instead of passing it unchecked; withdrawing it stays possible."""
    officer = who(rt, "cb.qd")
    nid = propose(rt, nominee_name="Nguyễn Văn An")
    with write_tx(rt.engine) as conn:
        conn.execute(
            NOMINATIONS.update().where(NOMINATIONS.c.id == nid).values(nominee_person_id=None)
        )
    with pytest.raises(StepRefused) as info:
        stepping.advance(rt.engine, rt.registry, nid, "submit", officer)
    assert [r.code for r in info.value.refusals] == ["nominee_unlinked"]
    unlinked = info.value.refusals[0]
    assert unlinked.message_vi.endswith(
        "rút hồ sơ và lập lại cho một cá nhân trong danh sách hoặc một đơn vị"
    )
    assert "--person" not in unlinked.message_vi and "--person" not in unlinked.message_en
    stepping.advance(rt.engine, rt.registry, nid, "withdraw", officer, {"reason": "Lập lại"})
    assert nomination(rt, nid)["state"] == "withdrawn"


def test_an_unknown_name_is_refused_with_the_way_to_register_the_person(rt: Runtime) -> None:
    """The refusal says who is missing in one language each, no interface's wording; the
    CLI adds its command (with the unit) and flag, the form its box, the API reads `api`."""
    refusal = refused(rt, nominee_name="Lò  Văn Pá").refusals[0]
    assert refusal.code == "nominee_unknown"
    for text in (refusal.message_vi, refusal.message_en):
        assert "khenthuong" not in text and "--" not in text and "POST" not in text
    assert refusal.details["unlisted"] == "Lò Văn Pá" and refusal.details["unit"] == "CCYQD"
    assert refusal.details["api"] == "POST /api/persons"
    assert cli_line(refusal) == (
        "Không có cá nhân tên 'Lò Văn Pá' trong danh sách cá nhân (thêm vào danh sách: "
        'khenthuong persons add "Lò Văn Pá" --unit CCYQD, hoặc đề nghị lại với --create-person)'
    )
    assert page_line(refusal, "en") == (
        "No person named 'Lò Văn Pá' in the register (tick “Add to the person register if not "
        "there” and send the form again)"
    )


def test_create_person_registers_and_links_once(rt: Runtime) -> None:
    """--create-person adds an unknown name to the proposing unit (or the unit asked for) and
    links it; the same name next time is that person, not a second record."""
    first = nomination(rt, propose(rt, nominee_name="Lò Văn Pá", create_person=True))
    with rt.engine.connect() as conn:
        person = (
            conn.execute(select(PERSONS).where(PERSONS.c.id == first["nominee_person_id"]))
            .mappings()
            .one()
        )
        created = conn.execute(
            select(EVENTS.c.payload).where(EVENTS.c.nomination_id == first["id"])
        ).scalar_one()
    assert person["full_name"] == "Lò Văn Pá" and person["name_key"] == "lò văn pá"
    assert '"person_created":true' in created
    again = nomination(rt, propose(rt, nominee_name="LÒ VĂN PÁ", create_person=True))
    assert again["nominee_person_id"] == first["nominee_person_id"]
    elsewhere = nomination(
        rt,
        propose(rt, nominee_name="Hà Thị Mới", create_person=True, person_unit_code="CCYQD"),
    )
    assert elsewhere["nominee_kind"] == "individual" and elsewhere["nominee_person_id"]


def test_create_person_outside_the_proposing_unit_is_refused(rt: Runtime) -> None:
    """A unit proposes its own people: a new person cannot be put in another unit."""
    refusal = refused(
        rt, nominee_name="Hà Thị Xa", create_person=True, person_unit_code="CCYDCQ"
    ).refusals[0]
    assert refusal.code == "field:person_unit"


def test_an_ambiguous_name_lists_the_candidates_and_how_to_choose(rt: Runtime) -> None:
    """Two people of the proposing unit share a name: both are listed with id, unit and year
    of birth, and the officer is told to choose with --person; --create-person does not
    make a third."""
    with write_tx(rt.engine) as conn:
        older = add_person(conn, "Nguyễn Văn Hai", "CCYQD", birth_year=1975)
        younger = add_person(conn, "Nguyễn  Văn Hai", "CCYQD", birth_year=1992)
    for flags in ({}, {"create_person": True}):
        refusal = refused(rt, nominee_name="nguyễn văn hai", **flags).refusals[0]
        assert refusal.code == "nominee_ambiguous"
        assert refusal.details["candidates"] == [
            {"id": older, "unit": "CCYQD", "birth_year": 1975},
            {"id": younger, "unit": "CCYQD", "birth_year": 1992},
        ]
        assert f"#{older}" in refusal.message_vi and "sinh 1992" in refusal.message_vi
        assert "--person" not in refusal.message_vi and refusal.details["namesakes"]
        assert "--person ID" in cli_line(refusal)
        assert page_line(refusal, "vi").endswith("(chọn đúng người trong ô Cá nhân)")
    chosen = nomination(rt, propose(rt, nominee_person_id=younger))
    assert chosen["nominee_person_id"] == younger


def test_people_of_the_proposing_unit_come_first(rt: Runtime) -> None:
    """A namesake in another ministry's unit does not make the name ambiguous."""
    with write_tx(rt.engine) as conn:
        mine = add_person(conn, "Vũ Văn Ba", "CCYQD")
        add_person(conn, "Vũ Văn Ba", "C07")
    assert nomination(rt, propose(rt, nominee_name="Vũ Văn Ba"))["nominee_person_id"] == mine


def test_a_picked_person_with_another_typed_name_is_refused(rt: Runtime) -> None:
    with write_tx(rt.engine) as conn:
        pid = add_person(conn, "Phan Văn Một", "CCYQD")
    refusal = refused(rt, nominee_person_id=pid, nominee_name="Phan Văn Hai").refusals[0]
    assert refusal.code == "field:nominee"


def test_a_collective_is_a_unit_and_says_so(rt: Runtime) -> None:
    """--collective stores the unit and the subject 'collective'; a collective without a unit
    code, a subject the workflow does not take, or both a person and a unit are refused."""
    row = nomination(rt, propose(rt, nominee_unit_code="CCYQD"))
    assert row["nominee_kind"] == "collective" and row["nominee_person_id"] is None
    assert row["nominee_unit_id"] is not None
    for nominee in (
        {"nominee_kind": "collective", "nominee_name": "Tổ Năm"},
        {"nominee_kind": "individual", "nominee_unit_code": "CCYQD"},
        {"nominee_person_id": 1, "nominee_unit_code": "CCYQD"},
        {"nominee_kind": "collective", "nominee_name": "Tổ Năm", "create_person": True},
        {"nominee_name": " "},
    ):
        refusal = refused(rt, **nominee).refusals[0]
        assert refusal.code.startswith("field:")
        # Pages and the API show these too: no CLI option in them.
        assert "--" not in refusal.message_vi + refusal.message_en, refusal
    assert refused(rt, nominee_kind="group", nominee_name="A").refusals[0].code == (
        "field:nominee_kind"
    )
    with pytest.raises(StepRefused) as info:
        propose(rt, "chien_si_thi_dua_co_so", nominee_unit_code="CCYQD")
    assert info.value.refusals[0].code == "subject"


def decided_amount(rt: Runtime, nid: int) -> int:
    """Take a Giấy khen through the unit council and sign it; the amount paid."""
    stepping.advance(rt.engine, rt.registry, nid, "submit", who(rt, "cb.qd"))
    stepping.advance(rt.engine, rt.registry, nid, "council_approve", who(rt, "tk.qd"))
    stepping.advance(
        rt.engine,
        rt.registry,
        nid,
        "decide",
        who(rt, "tt.qd"),
        {"decision_number": f"{nid}/QĐ-CCYQD"},
    )
    with rt.engine.connect() as conn:
        return int(
            conn.execute(
                select(DECISION_ITEMS.c.amount_vnd).where(DECISION_ITEMS.c.nomination_id == nid)
            ).scalar_one()
        )


def test_award_money_follows_the_stored_subject(rt: Runtime) -> None:
    """A Giấy khen for a typed individual is paid the individual amount (0.3 × base salary,
    rounded up to 10,000 đ: 710,000 đ on the 2,340,000 đ base), a collective twice that."""
    assert award_money(0.3, 2_340_000) == 710_000  # the figures
    assert award_money(0.3, 2_340_000, multiplier=2.0) == 1_410_000
    catalog = catalog_in(CONFIG)
    today = datetime.now(UTC).astimezone(LOCAL_TZ).date()
    coefficient = catalog.rules_for("GIAY_KHEN", today).coefficient
    base = catalog.base_salary_on(today)
    individual = decided_amount(rt, propose(rt, nominee_name="Lê Văn Thưởng", create_person=True))
    collective = decided_amount(rt, propose(rt, nominee_unit_code="CCYQD"))
    assert individual == award_money(coefficient, base)
    assert collective == award_money(
        coefficient, base, multiplier=catalog.award("GIAY_KHEN").collective_multiplier
    )
