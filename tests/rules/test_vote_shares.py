"""Quorum and thresholds as exact fractions; recusal's effect on the denominator per title."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest
from pydantic import ValidationError

from khenthuong.rules.catalog import VoteRule, load_catalog
from khenthuong.rules.shares import parse_share, reaches, share_text
from khenthuong.rules.votes import evaluate_vote
from tests.conftest import CONFIG

TWO_THIRDS = VoteRule(threshold="1/2", denominator="present_members", quorum="2/3")


@pytest.mark.parametrize(("present", "total"), [(2, 3), (10, 15), (14, 21), (20, 30)])
def test_exactly_two_thirds_present_meets_a_two_thirds_quorum(present: int, total: int) -> None:
    """2 of 3 and 10 of 15 are exactly two thirds: the quorum is met."""
    outcome = evaluate_vote(
        TWO_THIRDS, members_total=total, present=present, agree=present, disagree=0, abstain=0
    )
    assert outcome.quorum_met and outcome.passed


@pytest.mark.parametrize(("present", "total"), [(1, 3), (9, 15), (13, 21)])
def test_just_under_two_thirds_misses_the_quorum(present: int, total: int) -> None:
    outcome = evaluate_vote(
        TWO_THIRDS, members_total=total, present=present, agree=present, disagree=0, abstain=0
    )
    assert not outcome.quorum_met and not outcome.passed
    assert "cần 2/3" in outcome.message_vi


def test_the_shipped_catalog_stores_two_thirds_exactly() -> None:
    """config/awards.yaml writes the quorum as "2/3"; 0.6667 would refuse 2 of 3."""
    catalog = load_catalog(CONFIG / "awards.yaml")
    for code in ("CSTDCS", "CSTD_BO", "CO_CP"):
        vote = catalog.rules_for(code, date(2026, 6, 1)).vote
        assert vote is not None and vote.quorum == Fraction(2, 3)
        assert vote.recusal == "exclude_recused"
    vote = catalog.rules_for("CSTD_BO", date(2026, 6, 1)).vote
    assert vote is not None and vote.threshold == Fraction(9, 10)
    old = VoteRule(threshold=0.5, denominator="present_members", quorum=0.6667)
    assert not evaluate_vote(
        old, members_total=3, present=2, agree=2, disagree=0, abstain=0
    ).quorum_met


def test_threshold_of_ninety_percent_is_exact() -> None:
    """9 of 10 meets 90% and 26 of 29 (89.66%) does not: no float tolerance involved."""
    rule = VoteRule(threshold="90%", denominator="total_members", quorum="2/3")
    met = evaluate_vote(rule, members_total=10, present=10, agree=9, disagree=1, abstain=0)
    assert met.passed
    assert "(90,0\u00a0% tổng số thành viên); cần 90\u00a0%: đạt" in met.message_vi
    assert "(90.0%); 90% needed" in met.message_en
    assert not evaluate_vote(
        rule, members_total=29, present=29, agree=26, disagree=3, abstain=0
    ).passed


def test_shares_parse_and_print() -> None:
    assert parse_share("2/3") == Fraction(2, 3)
    assert parse_share(" 2 / 3 ") == Fraction(2, 3)
    assert parse_share(0.9) == Fraction(9, 10)
    assert parse_share("90%") == Fraction(9, 10)
    assert parse_share(share_text(Fraction(9, 10))) == Fraction(9, 10)
    assert parse_share(1) == 1
    assert share_text(Fraction(2, 3)) == "2/3" and share_text(Fraction(9, 10)) == "90\u00a0%"
    assert share_text(Fraction(9, 10), "en") == "90%"
    assert reaches(2, 3, Fraction(2, 3)) and not reaches(1, 0, Fraction(1, 2))
    for bad in ("0", "3/2", "abc", "1/0", True, None):
        with pytest.raises(ValueError):
            parse_share(bad)
    with pytest.raises(ValidationError):
        VoteRule(threshold="7/5", denominator="total_members")
    with pytest.raises(ValidationError):
        VoteRule(threshold="1/2", denominator="total_members", recusal="sometimes")


def test_recusal_rule_decides_the_denominator() -> None:
    """10 members, all present, the nominee recused, 9 in favour: `exclude_recused` counts
    9/9, `keep` counts 9/10 (exactly 90%: passes a 90% rule, fails a unanimity rule)."""
    exclude = VoteRule(threshold="9/10", denominator="total_members", quorum="2/3")
    keep = exclude.model_copy(update={"recusal": "keep"})
    common = {"members_total": 10, "present": 10, "disagree": 0, "abstain": 0, "recused": 1}
    excluded = evaluate_vote(exclude, agree=9, **common)
    kept = evaluate_vote(keep, agree=9, **common)
    assert excluded.message_vi.startswith("9/9") and excluded.passed
    assert kept.message_vi.startswith("9/10") and kept.passed
    strict = VoteRule(threshold="1", denominator="present_members", quorum="2/3")
    strict_keep = strict.model_copy(update={"recusal": "keep"})
    assert evaluate_vote(strict, agree=9, **common).passed  # 9/9 present and not recused
    refused = evaluate_vote(strict_keep, agree=9, **common)
    assert not refused.passed and refused.message_vi.startswith("9/10")
    absent = {"members_total": 10, "present": 9, "disagree": 0, "abstain": 0}
    assert evaluate_vote(exclude, agree=9, recused_absent=1, **absent).passed  # 9/9
    assert not evaluate_vote(keep, agree=8, recused=1, **absent).passed  # 8/10
