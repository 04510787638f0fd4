"""Pure rules: eligibility ladder, votes, money and the catalog by date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from khenthuong.errors import InvalidDefinition, KhenthuongError
from khenthuong.rules.catalog import VoteRule, load_catalog
from khenthuong.rules.eligibility import History, bk_ttg, check_not_blocked, cstd_bo, cstdcs, hcld3
from khenthuong.rules.money import award_money
from khenthuong.rules.votes import evaluate_vote
from khenthuong.settings import PROJECT_ROOT

CATALOG = load_catalog(PROJECT_ROOT / "config" / "awards.yaml")
M = "cong_trang"


def test_three_consecutive_cstdcs_make_cstd_bo_eligible() -> None:
    """CSTĐCS 2024–2026 and a ministry-level initiative: eligible for CSTĐ cấp Bộ 2026."""
    history = History(
        awards=(("CSTDCS", 2024, M), ("CSTDCS", 2025, M), ("CSTDCS", 2026, M)),
        initiatives=((2026, "ministry"),),
    )
    assert cstd_bo(history, 2026) is None


def test_two_consecutive_cstdcs_are_refused_naming_the_years() -> None:
    """With only 2025 and 2026 the refusal says which years are needed and which exist."""
    history = History(
        awards=(("CSTDCS", 2025, M), ("CSTDCS", 2026, M)), initiatives=((2026, "ministry"),)
    )
    refusal = cstd_bo(history, 2026)
    assert refusal is not None
    assert "2024, 2025, 2026" in refusal.message_vi
    assert "chỉ có 2 năm liên tục (2025, 2026)" in refusal.message_vi


def test_ad_hoc_awards_do_not_count_toward_merit_titles() -> None:
    """An ad-hoc (đột xuất) CSTĐCS does not complete a streak (ND 98 Art 4)."""
    history = History(
        awards=(("CSTDCS", 2024, "dot_xuat"), ("CSTDCS", 2025, M), ("CSTDCS", 2026, M)),
        initiatives=((2026, "national"),),
    )
    assert cstd_bo(history, 2026) is not None


def test_cstdcs_needs_excellence_or_an_initiative() -> None:
    """A good rating alone is not enough; excellent or an initiative is."""
    assert cstdcs(History(ratings={2026: "htt"}), 2026) is not None
    assert cstdcs(History(ratings={2026: "htxs"}), 2026) is None
    assert cstdcs(History(ratings={2026: "htt"}, initiatives=((2026, "grassroots"),)), 2026) is None
    assert cstdcs(History(ratings={2026: "ht"}), 2026) is not None


def test_pm_certificate_and_labour_order_windows() -> None:
    """BK TTg after a ministry Bằng khen and 5 good years with 3 CSTĐCS; HCLĐ3 also needs HTXS."""
    ratings = dict.fromkeys(range(2021, 2027), "htt")
    awards = (("BK_BO", 2020, M), ("CSTDCS", 2022, M), ("CSTDCS", 2024, M), ("CSTDCS", 2026, M))
    assert bk_ttg(History(ratings=ratings, awards=awards), 2026) is None
    assert bk_ttg(History(ratings={**ratings, 2023: "ht"}, awards=awards), 2026) is not None
    hc_awards = (("BK_TTG", 2020, M), *awards[1:])
    refusal = hcld3(History(ratings=ratings, awards=hc_awards), 2026)
    assert refusal is not None and "xuất sắc" in refusal.message_vi
    assert hcld3(History(ratings={**ratings, 2025: "htxs"}, awards=hc_awards), 2026) is None


def test_open_discipline_blocks_and_ended_one_does_not() -> None:
    """Discipline until 05/07/2026 blocks a proposal on 01/07 but not on 06/07."""
    history = History(blockers=(("discipline", date(2026, 1, 5), date(2026, 7, 5)),))
    assert check_not_blocked(history, date(2026, 7, 1)) is not None
    assert check_not_blocked(history, date(2026, 7, 6)) is None


NINETY_TOTAL = VoteRule(
    threshold=0.9, denominator="total_members", quorum=0.6667, count_written_votes=True
)


@pytest.mark.parametrize(("agree", "passed"), [(18, True), (17, False)])
def test_ninety_percent_of_total_membership(agree: int, passed: bool) -> None:
    """18 of 20 members pass a 90% rule on total membership; 17 fail."""
    outcome = evaluate_vote(
        NINETY_TOTAL, members_total=20, present=19, agree=agree, disagree=19 - agree, abstain=0
    )
    assert outcome.passed is passed


def test_written_votes_and_recusal_change_the_count() -> None:
    """An absent member's written vote counts when allowed; a recused member leaves the base."""
    outcome = evaluate_vote(
        NINETY_TOTAL, members_total=20, present=19, agree=17, disagree=2, abstain=0, written_agree=1
    )
    assert outcome.passed
    recused = evaluate_vote(
        NINETY_TOTAL, members_total=10, present=10, agree=9, disagree=0, abstain=0, recused=1
    )
    assert recused.passed and recused.ratio == 1.0


def test_missing_quorum_fails_and_impossible_tallies_are_refused() -> None:
    """12 of 20 present is below a two-thirds quorum; more ballots than voters is an error."""
    outcome = evaluate_vote(
        NINETY_TOTAL, members_total=20, present=12, agree=12, disagree=0, abstain=0
    )
    assert not outcome.quorum_met and not outcome.passed
    with pytest.raises(KhenthuongError, match="vượt"):
        evaluate_vote(NINETY_TOTAL, members_total=20, present=10, agree=11, disagree=0, abstain=0)


def test_money_rounds_up_and_doubles_for_collective_orders() -> None:
    """HCLĐ hạng Ba: 4.5 × 2,340,000 = 10,530,000; collective ×2; rounding up to 10,000."""
    assert award_money(4.5, 2_340_000) == 10_530_000
    assert award_money(4.5, 2_340_000, multiplier=2) == 21_060_000
    assert award_money(0.3, 2_340_000) == 710_000
    assert award_money(0.3, 2_340_000, rounding_vnd=1_000) == 702_000


def test_rule_sets_and_base_salary_follow_the_dates() -> None:
    """Bằng khen cấp Bộ pays 1.0 before 01/07/2025 and 1.5 after; base salary rises 01/07/2024."""
    assert CATALOG.rules_for("BK_BO", date(2025, 6, 30)).coefficient == 1.0
    assert CATALOG.rules_for("BK_BO", date(2025, 7, 1)).coefficient == 1.5
    assert CATALOG.base_salary_on(date(2024, 6, 30)) == 1_800_000
    assert CATALOG.base_salary_on(date(2024, 7, 1)) == 2_340_000
    assert CATALOG.rules_for("CSTD_BO", date(2023, 12, 31)).source.startswith("NĐ 91/2017")
    assert CATALOG.rules_for("BK_BO", date(2023, 12, 31)).source.startswith("NĐ 91/2017")
    with pytest.raises(KhenthuongError, match="áp dụng từ ngày 01/10/2017"):
        CATALOG.rules_for("BK_BO", date(2017, 9, 30))


def test_catalog_errors_name_file_and_line(tmp_path: Path) -> None:
    """An unknown document type is located at its line."""
    text = (PROJECT_ROOT / "config" / "awards.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "awards.yaml"
    bad.write_text(
        text.replace(
            "documents: [to_trinh, bao_cao_thanh_tich]\n", "documents: [to_trinh, ho_chieu]\n", 1
        ),
        encoding="utf-8",
    )
    line = next(
        i for i, text_line in enumerate(bad.read_text().splitlines(), 1) if "ho_chieu" in text_line
    )
    with pytest.raises(InvalidDefinition) as info:
        load_catalog(bad)
    assert [str(p) for p in info.value.problems] == [
        f"{bad}:{line}: unknown document type 'ho_chieu'"
    ]
