"""Catalog facts from DOMAIN: titles and forms, coefficients by decree, collective amounts,
Art 84 dossiers, and that the workflows check what the catalog asks of them."""

from __future__ import annotations

from datetime import date

import pytest

from khenthuong.roles import load_roles
from khenthuong.rules.catalog import load_catalog
from khenthuong.rules.money import award_money
from khenthuong.settings import PROJECT_ROOT
from khenthuong.workflow.loader import load_registry

CATALOG = load_catalog(PROJECT_ROOT / "config" / "awards.yaml")
REGISTRY = load_registry(
    [PROJECT_ROOT / "workflows"], known_roles=load_roles(PROJECT_ROOT / "config" / "roles.yaml")
)
ND152 = date(2025, 7, 1)
NOT_RETRIEVED_UNDER_ND152 = {"CO_BO", "CO_BCA", "CO_QK_BCY", "AHLD"}
"""DOMAIN §7: the ND 152 figure was not retrieved; the ND 98 set stays in force."""


@pytest.mark.parametrize("code", ["BK_BO", "BK_TTG", "GIAY_KHEN"])
def test_collectives_get_more_for_certificates(code: str) -> None:
    """DOMAIN §7: collectives get more than individuals; ×2, marked uncertain with its source."""
    award = CATALOG.award(code)
    assert award.collective_multiplier == 2.0
    assert award.collective_multiplier_uncertain and award.collective_multiplier_source


def test_collective_bang_khen_pays_twice_the_individual_amount() -> None:
    """Bằng khen cấp Bộ under ND 152: 1.5 × 2,340,000 = 3,510,000; a collective 7,020,000."""
    rule = CATALOG.rules_for("BK_BO", date(2026, 12, 20))
    base = CATALOG.base_salary_on(date(2026, 12, 20))
    multiplier = CATALOG.award("BK_BO").collective_multiplier
    assert award_money(rule.coefficient, base) == 3_510_000
    assert award_money(rule.coefficient, base, multiplier=multiplier) == 7_020_000


def test_dossiers_follow_law_article_84() -> None:
    """Art 84(1): minutes of the emulation review for the CSTĐ titles; Art 84(3): agencies'
    opinions for Cờ CP, Bằng khen TTg and the Labour Order before the PM; Art 84(5):
    publicity for the Labour Order; ND 152 Art 42: the council minutes for Bằng khen TTg."""
    for code in ("CSTD_BO", "CSTDTQ"):
        assert {"bien_ban_binh_xet", "xac_nhan_sang_kien"} <= set(CATALOG.award(code).documents)
    for code in ("CO_CP", "BK_TTG", "HCLD3", "HCLD2", "HCLD1"):
        assert "y_kien_co_quan" in CATALOG.award(code).documents_at["submit_to_pm"]
    assert CATALOG.award("HCLD3").documents_at["end_publicity"] == ["cong_khai"]
    assert "bien_ban_hop_hoi_dong" in CATALOG.award("BK_TTG").documents_at["submit_to_pm"]
    assert {"y_kien_co_quan", "cong_khai"} <= set(CATALOG.award("AHLD").documents)


@pytest.mark.parametrize(
    ("code", "on", "coefficient"),
    [
        ("HCLD1", date(2024, 6, 1), 9.0),
        ("HCLD2", date(2026, 1, 1), 7.5),
        ("HCLD3", date(2026, 1, 1), 4.5),
        ("AHLD", date(2026, 1, 1), 15.5),
        ("KNC_BO", date(2026, 1, 1), 0.6),
        ("CO_QK_BCY", date(2026, 1, 1), 6.0),
        ("CO_BO", date(2026, 1, 1), 8.0),
        ("CST", date(2026, 1, 1), 0.3),
        ("DVQT", date(2026, 1, 1), 1.5),
        ("DVTT", date(2026, 1, 1), 0.8),
    ],
)
def test_added_titles_and_forms_carry_the_domain_coefficients(
    code: str, on: date, coefficient: float
) -> None:
    """Labour Orders I/II (ND 98 Art 55), Hero of Labour (Art 56), the ministry's
    commemorative medal (≤ 0.6, ND 152), the 6.0-tier flag, the armed forces' titles."""
    award = CATALOG.award(code)
    rule = CATALOG.rules_for(code, on)
    assert rule.coefficient == coefficient and rule.source and award.authority


def test_labour_orders_share_one_workflow_with_third_class_by_default() -> None:
    """A Huân chương Lao động nomination without an award code is the third class."""
    assert CATALOG.award_for_workflow("huan_chuong_lao_dong") == "HCLD3"
    assert CATALOG.award("CST").rules[0].eligibility is not None


def test_every_title_has_a_nd152_rule_set_where_the_values_carry_over() -> None:
    """From 01/07/2025 (ND 152) every entry cites ND 152, except those whose ND 152 value
    DOMAIN did not retrieve."""
    for code, award in CATALOG.awards.items():
        if code in NOT_RETRIEVED_UNDER_ND152:
            assert all(r.effective_from < ND152 for r in award.rules), code
            continue
        rule = CATALOG.rules_for(code, ND152)
        assert rule.effective_from == ND152 and "152/2025" in rule.source, code


def test_workflows_check_what_the_catalog_asks() -> None:
    """Documents required at a trigger are checked there (dossier_complete), and every award
    with a quota, national or of an organisation, follows a workflow that names
    within_quota."""
    for code, award in CATALOG.awards.items():
        if award.workflow is None:
            continue
        wf = REGISTRY.get(award.workflow).definition
        for trigger in award.documents_at:
            steps = [t for t in wf.transitions if t.trigger == trigger]
            assert steps and all("dossier_complete" in t.guards for t in steps), (code, trigger)
        quotas = [r.quota for r in award.rules] + [
            o.quota for org in CATALOG.organisations.values() for o in org.awards.get(code, [])
        ]
        if any(q is not None for q in quotas):
            assert any("within_quota" in t.guards for t in wf.transitions), code


def test_awardees_are_counted_by_whom_the_award_is_for() -> None:
    """Awardees counted as "4 cá nhân", "1 tập thể"; an award for both says "đối tượng"."""
    assert CATALOG.award("LDTT").count_vi(4) == "4 cá nhân"
    assert CATALOG.award("TTLDTT").count_vi(1) == "1 tập thể"
    assert CATALOG.award("HCLD1").count_vi(3) == "3 đối tượng"
    assert [CATALOG.award(c).awardees_vi for c in ("LDTT", "TTLDTT", "HCLD1")] == [
        "cá nhân", "tập thể", "được khen",
    ]  # fmt: skip
