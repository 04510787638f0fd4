"""The shipped award paths: valid, complete, and walkable from proposal to decision."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from khenthuong.cli.walkthrough import happy_path
from khenthuong.roles import load_roles
from khenthuong.settings import PROJECT_ROOT
from khenthuong.workflow.definition import StateKind, WorkflowDef
from khenthuong.workflow.loader import load_registry

ROLES = load_roles(PROJECT_ROOT / "config" / "roles.yaml")
REGISTRY = load_registry([PROJECT_ROOT / "workflows"], known_roles=ROLES)
WORKFLOWS = [item.definition for item in REGISTRY.all()]
EXPECTED = {
    "giay_khen",
    "bang_khen_bo",
    "bang_khen_thu_tuong",
    "chien_si_thi_dua_co_so",
    "chien_si_thi_dua_cap_bo",
    "co_thi_dua_chinh_phu",
    "huan_chuong_lao_dong",
    "lao_dong_tien_tien",
    "chien_si_tien_tien",
    "tap_the_lao_dong_tien_tien",
    "tap_the_lao_dong_xuat_sac",
    "don_vi_tien_tien",
    "don_vi_quyet_thang",
    "co_thi_dua_cap_bo",
    "giay_khen_dot_xuat",
    "bang_khen_bo_dot_xuat",
}


def test_every_award_path_is_shipped() -> None:
    """Every shipped award path loads and passes the checks."""
    assert {wf.name for wf in WORKFLOWS} == EXPECTED


@pytest.mark.parametrize(
    ("adhoc", "regular"),
    [("giay_khen_dot_xuat", "giay_khen"), ("bang_khen_bo_dot_xuat", "bang_khen_bo")],
)
def test_the_simplified_paths_are_shorter_and_have_no_council(adhoc: str, regular: str) -> None:
    """An ad-hoc award's simplified path (Luật TĐKT 2022, Điều 85) skips the council and
    checks the short dossier and the commendation type when it is submitted."""
    short, full = REGISTRY.get(adhoc).definition, REGISTRY.get(regular).definition
    assert len(happy_path(short)) < len(happy_path(full))
    assert not [s for s in short.states.values() if s.kind is StateKind.council]
    submit = next(t for t in short.transitions if t.trigger == "submit")
    assert "simplified_procedure" in submit.guards


@pytest.mark.parametrize("wf", WORKFLOWS, ids=lambda wf: wf.name)
def test_path_has_return_reject_withdraw_and_revoke_with_reasons(wf: WorkflowDef) -> None:
    """Every path can be returned, rejected, withdrawn and revoked, each with a reason."""
    triggers = {t.trigger: t for t in wf.transitions}
    for trigger in ("return_for_supplement", "reject", "withdraw", "revoke"):
        assert trigger in triggers, f"{wf.name} lacks {trigger}"
        for t in wf.transitions:
            if t.trigger == trigger:
                assert "reason" in t.requires
    revoke = triggers["revoke"]
    assert revoke.source == ["decided"]
    assert wf.state(revoke.dest).kind is StateKind.terminal
    returns = [t for t in wf.transitions if t.trigger == "return_for_supplement"]
    assert all(wf.state(t.dest).kind is StateKind.proposal for t in returns)


@pytest.mark.parametrize("wf", WORKFLOWS, ids=lambda wf: wf.name)
def test_path_reaches_a_decision_with_a_decision_number(wf: WorkflowDef) -> None:
    """The forward path ends in `decided` through a step that needs the decision number."""
    path = happy_path(wf)
    assert path[-1].dest == "decided"
    assert "decision_number" in path[-1].requires
    assert wf.state("decided").closed


@pytest.mark.parametrize("wf", WORKFLOWS, ids=lambda wf: wf.name)
def test_vietnamese_text_is_nfc(wf: WorkflowDef) -> None:
    """Every Vietnamese title is in Unicode NFC."""
    titles = [wf.title.vi] + [s.title.vi for s in wf.states.values()]
    titles += [t.title.vi for t in wf.transitions]
    assert all(unicodedata.is_normalized("NFC", text) for text in titles)


def test_huan_chuong_has_ten_working_days_of_publicity() -> None:
    """Huân chương Lao động is listed publicly for at least 10 working days before the
    council (a minimum stay, NĐ 98/2023 Art 46(2)), within a longer time limit."""
    wf = REGISTRY.get("huan_chuong_lao_dong").definition
    publicity = wf.state("publicity")
    assert publicity.kind is StateKind.publicity
    assert publicity.minimum is not None and publicity.minimum.working_days == 10
    assert "Điều 46" in publicity.minimum.basis
    assert publicity.deadline is not None and publicity.deadline.working_days > 10
    assert [t.dest for t in happy_path(wf)][-3:] == ["pm_decision", "president_decision", "decided"]


@pytest.mark.parametrize("wf", WORKFLOWS, ids=lambda wf: wf.name)
def test_every_public_listing_has_a_minimum_stay(wf: WorkflowDef) -> None:
    """A publicity state is a minimum period, not only a due date (NĐ 98/2023 Art 46)."""
    for name, state in wf.states.items():
        if state.kind is StateKind.publicity:
            assert state.minimum is not None, name
            assert any(wf.held_back(name, t) for t in wf.transitions_from(name)), name


def test_every_file_is_in_the_workflows_folder() -> None:
    """Each definition's file name matches its workflow name."""
    for item in REGISTRY.all():
        assert Path(item.source).stem == item.definition.name
