"""Council secret-ballot tallies against a title's vote rule (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from khenthuong.errors import KhenthuongError
from khenthuong.formats import percent
from khenthuong.rules.catalog import VoteRule
from khenthuong.rules.shares import reaches, share_text


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
    recused_absent: int = 0,
) -> VoteOutcome:
    """Apply the rule: quorum on members present, then agree / denominator >= threshold.

    `members_total` is the council's whole membership and `present` its members present
    (recused ones included); `recused` and `recused_absent` are the members recused from
    this item (the nominee, or the head of the nominated unit) who are present or absent.
    The quorum is the session's: present / members_total >= quorum. With the rule's
    `recusal: exclude_recused` (default) recused members leave both the membership and the
    attendance of the item; with `keep` they stay in the denominator without a vote.
    Written votes of absent members count only when the rule says so. Every comparison is
    exact (fractions): 2 of 3 present meets a quorum of 2/3.
    """
    if (
        min(members_total, present, agree, disagree, abstain, written_agree) < 0
        or min(recused, recused_absent) < 0
    ):
        raise KhenthuongError(
            "Số liệu kiểm phiếu không được âm", en="Tally figures cannot be negative"
        )
    if present > members_total:
        raise KhenthuongError(
            f"Số thành viên có mặt {present} lớn hơn tổng số {members_total}",
            en="More present than members",
        )
    if recused > present or recused_absent > members_total - present:
        raise KhenthuongError(
            "Số thành viên miễn biểu quyết vượt số có mặt hoặc vắng mặt", en="Too many recused"
        )
    eligible_present = present - recused
    if agree + disagree + abstain > eligible_present:
        raise KhenthuongError(
            f"Tổng phiếu {agree + disagree + abstain} vượt số thành viên có mặt được bỏ phiếu "
            f"{eligible_present}",
            en="Ballots exceed members present",
        )
    absent = members_total - present - recused_absent
    if written_agree > absent:
        raise KhenthuongError(f"Phiếu bằng văn bản {written_agree} vượt số vắng mặt {absent}")
    quorum_met = reaches(present, members_total, rule.quorum)
    written = written_agree if rule.count_written_votes else 0
    votes_for = agree + written
    if rule.recusal == "keep":
        total, attending = members_total, present
    else:
        total, attending = members_total - recused - recused_absent, eligible_present
    denominator = total if rule.denominator == "total_members" else attending + written
    ratio = votes_for / denominator if denominator else 0.0
    base = "tổng số thành viên" if rule.denominator == "total_members" else "số thành viên có mặt"
    quorum, quorum_en = share_text(rule.quorum), share_text(rule.quorum, "en")
    if not quorum_met:
        return VoteOutcome(
            False,
            False,
            ratio,
            f"Không đủ số thành viên dự họp: {present}/{members_total}, cần {quorum}",
            f"no quorum: {present}/{members_total} present, {quorum_en} needed",
        )
    passed = reaches(votes_for, denominator, rule.threshold)
    threshold, threshold_en = share_text(rule.threshold), share_text(rule.threshold, "en")
    return VoteOutcome(
        passed,
        True,
        ratio,
        f"{votes_for}/{denominator} phiếu đồng ý ({percent(ratio)} {base}); cần {threshold}: "
        + ("đạt" if passed else "không đạt"),
        f"{votes_for}/{denominator} in favour ({percent(ratio, 'en')}); {threshold_en} needed: "
        + ("passed" if passed else "failed"),
    )
