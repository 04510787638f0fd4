"""Target kinds, value checks, met / not met, the scoring rule and the vote's outcome (pure)."""

from __future__ import annotations

import re

import pytest

from khenthuong.blocs import targets as tg
from khenthuong.blocs.targets import Deduction, ScoringRule, Target, TargetError

PARTY = Target("dang_vien_tot", "Trên 80% đảng viên tốt, xuất sắc", "more_than", 80)


@pytest.mark.parametrize(
    ("target", "value", "met"),
    [
        (Target("a", "ít nhất 100%", "at_least", 100), 100, True),
        (Target("a", "ít nhất 100%", "at_least", 100), 99.5, False),
        (PARTY, 80, False),
        (PARTY, 80.1, True),
        (PARTY, 70, False),
        (Target("m", "không quá 5%", "at_most", 5), 5, True),
        (Target("m", "không quá 5%", "at_most", 5), 6, False),
        (Target("e", "đúng 12 lớp", "equals", 12, unit="count"), 12, True),
        (Target("e", "đúng 12 lớp", "equals", 12, unit="count"), 11, False),
        (Target("z", "Không có cán bộ suy thoái", "zero_cases"), 0, True),
        (Target("z", "Không có cán bộ suy thoái", "zero_cases"), 1, False),
        (Target("d", "Hoàn thành đề án", "done"), 1, True),
        (Target("d", "Hoàn thành đề án", "done"), 0, False),
    ],
)
def test_each_kind_is_met_or_not(target: Target, value: float, met: bool) -> None:
    """Every kind decides met / not met on its own condition."""
    assert tg.is_met(target, value) is met


@pytest.mark.parametrize(
    ("target", "value", "message"),
    [
        (PARTY, 250, "250 % ngoài khoảng 0–100 %"),
        (PARTY, -1, "-1 % ngoài khoảng 0–100 %"),
        (Target("z", "Không có vi phạm", "zero_cases"), 1.5, "phải là số nguyên không âm"),
        (Target("z", "Không có vi phạm", "zero_cases"), -2, "phải là số nguyên không âm"),
        (Target("e", "12 lớp", "equals", 12, unit="count"), 2.5, "phải là số nguyên không âm"),
        (Target("d", "Hoàn thành đề án", "done"), 2, "ghi 1 (hoàn thành) hoặc 0"),
    ],
)
def test_values_are_checked_for_their_kind(target: Target, value: float, message: str) -> None:
    """A percentage outside 0–100, a fractional or negative count, done other than 0/1."""
    with pytest.raises(TargetError, match=re.escape(message)):
        tg.is_met(target, value)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        (Target("x", "?", "roughly", 10), "loại 'roughly' không có"),
        (Target("x", "?", "at_least", 120), "120 % phải từ 0 đến 100"),
        (Target("x", "?", "at_least", 2.5, unit="count"), "phải là số nguyên không âm"),
        (Target("x", "?", "at_least", 5, unit="kg"), "đơn vị 'kg' không có"),
        (Target("x", "?", "done", weight=0), "hệ số phải lớn hơn 0"),
        (Target("x", "?", "done", points=-1), "điểm phải lớn hơn 0"),
    ],
)
def test_bad_targets_are_refused(target: Target, message: str) -> None:
    with pytest.raises(TargetError, match=re.escape(message)):
        tg.check_target(target)


def test_a_member_at_70_percent_misses_over_80_percent() -> None:
    """The issue's case: 70 % against "over 80 %" no longer scores 96 of 100; it earns
    nothing for that target, and the computation says why."""
    targets = [
        Target("hoan_thanh", "100% hoàn thành nhiệm vụ", "at_least", 100, points=40),
        Target("dang_vien_tot", "Trên 80% đảng viên tốt", "more_than", 80, points=30),
        Target("chi_bo", "100% chi bộ hoàn thành", "at_least", 100, points=30),
    ]
    result = tg.score(
        targets, {"hoan_thanh": 100, "dang_vien_tot": 70, "chi_bo": 100}, ScoringRule()
    )
    assert result.total == 70
    assert [x.met for x in result.lines] == [True, False, True]
    assert not result.met_all
    assert "dang_vien_tot: không đạt (70; trên 80\u00a0%) → 0" in result.explain()
    assert result.explain().endswith("tổng 70 điểm")


def test_scoring_rule_points_weights_and_deductions() -> None:
    """Points per target met from the rule (a target may name its own), times the weight;
    deductions per case subtract."""
    rule = ScoringRule(
        points_per_target=10,
        deductions=(Deduction("bao_cao_muon", "Báo cáo chậm", 2),),
    )
    targets = [
        Target("a", "ít nhất 90%", "at_least", 90, weight=2),
        Target("b", "không có vụ việc", "zero_cases"),
        Target("c", "hoàn thành đề án", "done", points=15),
    ]
    result = tg.score(targets, {"a": 95, "b": 0, "c": 1}, rule, {"bao_cao_muon": 3})
    assert [x.earned for x in result.lines] == [20, 10, 15]
    assert result.deductions[0].lost == 6
    assert result.total == 39
    assert "trừ Báo cáo chậm: 3 × 2 = −6" in result.explain()
    with pytest.raises(TargetError, match="Khoản trừ 'di_muon' không có"):
        tg.score(targets, {"a": 95, "b": 0, "c": 1}, rule, {"di_muon": 1})
    with pytest.raises(TargetError, match="thiếu b, c"):
        tg.score(targets, {"a": 95}, rule)


def test_outcome_government_flag_ministry_flags_and_merit() -> None:
    """The leader (all targets met, voted) gets the Government flag; the next N the
    ministry's flag; then Bằng khen within the merit share; a zero score gets nothing."""
    rule = ScoringRule(ministry_flags=2, merit_share=0.5)
    ranked = tg.rank(
        {"A": 100, "B": 90, "C": 80, "D": 60, "E": 0},
        {"A": True, "B": True, "C": False, "D": False, "E": False},
        {"A": 5, "B": 3},
    )
    assert tg.outcome(ranked, rule, 1) == {
        "A": tg.GOVERNMENT_FLAG,
        "B": tg.MINISTRY_FLAG,
        "C": tg.MINISTRY_FLAG,
        "D": tg.MERIT,
    }


def test_a_leader_that_missed_a_target_gets_no_government_flag() -> None:
    """The first place did not meet every target: nobody gets the Government flag (the
    criteria of Luật TĐKT Điều 25), and the ministry's flags go to the first N."""
    rule = ScoringRule(ministry_flags=1)
    ranked = tg.rank({"A": 90, "B": 80}, {"A": False, "B": True}, {"A": 3, "B": 1})
    assert tg.outcome(ranked, rule, 1) == {"A": tg.MINISTRY_FLAG}
