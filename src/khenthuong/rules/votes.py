"""Council secret-ballot tallies against a title's vote rule (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from khenthuong.errors import KhenthuongError
from khenthuong.rules.catalog import VoteRule


@dataclass(frozen=True)
class VoteOutcome:
    """Whether a tally passes, and why."""

    passed: bool
    quorum_met: bool
    ratio: float
    message_vi: str
    message_en: str


def evaluate_vote(
    rule: VoteRule,
    *,
    members_total: int,
    present: int,
    agree: int,
    disagree: int,
    abstain: int,
    written_agree: int = 0,
    recused: int = 0,
) -> VoteOutcome:
    """Apply the rule: quorum on members present, then agree / denominator >= threshold.

    Recused members (the nominee, or the head of the nominated unit) leave both the
    membership and the attendance for this item. Written votes of absent members count
    only when the rule says so.
    """
    if min(members_total, present, agree, disagree, abstain, written_agree, recused) < 0:
        raise KhenthuongError("Số liệu kiểm phiếu không được âm (tally figures cannot be negative)")
    if present > members_total:
        raise KhenthuongError(
            f"Số thành viên có mặt {present} lớn hơn tổng số {members_total} (more present than members)"
        )
    eligible_present = present - recused
    if agree + disagree + abstain > eligible_present:
        raise KhenthuongError(
            f"Tổng phiếu {agree + disagree + abstain} vượt số thành viên có mặt được bỏ phiếu "
            f"{eligible_present} (ballots exceed members present)"
        )
    absent = members_total - present
    if written_agree > absent:
        raise KhenthuongError(f"Phiếu bằng văn bản {written_agree} vượt số vắng mặt {absent}")
    quorum_met = present >= rule.quorum * members_total
    total = members_total - recused
    votes_for = agree + (written_agree if rule.count_written_votes else 0)
    denominator = (
        total
        if rule.denominator == "total_members"
        else eligible_present + (written_agree if rule.count_written_votes else 0)
    )
    ratio = votes_for / denominator if denominator else 0.0
    base = "tổng số thành viên" if rule.denominator == "total_members" else "số thành viên có mặt"
    if not quorum_met:
        return VoteOutcome(
            False,
            False,
            ratio,
            f"Không đủ số thành viên dự họp: {present}/{members_total}, cần {rule.quorum:.0%}",
            f"no quorum: {present}/{members_total} present, {rule.quorum:.0%} needed",
        )
    passed = ratio + 1e-9 >= rule.threshold
    return VoteOutcome(
        passed,
        True,
        ratio,
        f"{votes_for}/{denominator} phiếu đồng ý ({ratio:.1%} {base}); cần {rule.threshold:.0%}: "
        + ("đạt" if passed else "không đạt"),
        f"{votes_for}/{denominator} in favour ({ratio:.1%}); {rule.threshold:.0%} needed: "
        + ("passed" if passed else "failed"),
    )
