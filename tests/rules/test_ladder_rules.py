"""The ladder as dated, configurable rules: timing, reuse of a streak, the other paths of
Art 74(1)(d), the period since the last award of the same kind, collective prerequisites."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from khenthuong.errors import InvalidDefinition
from khenthuong.rules.catalog import load_catalog
from khenthuong.rules.eligibility import (
    AfterAwardRule,
    BkBoRule,
    BlocLeadRule,
    CstdBoRule,
    CstdtqRule,
    History,
    MembersRule,
    UnitFacts,
    at_least,
    bk_bo,
    bk_ttg,
    bloc_lead,
    cstd_bo,
    cstdtq,
    heavier,
    judge_person,
    members,
)
from khenthuong.settings import PROJECT_ROOT

AWARDS = PROJECT_ROOT / "config" / "awards.yaml"
CATALOG = load_catalog(AWARDS)
M = "cong_trang"


def cstdcs(*years: int) -> tuple[tuple[str, int, str], ...]:
    return tuple(("CSTDCS", y, M) for y in years)


def test_ladder_rules_are_part_of_the_dated_rule_sets() -> None:
    """CSTĐ cấp Bộ is judged by NĐ 91/2017 before 2024 and by Law Art 22 after; the
    timing parameter is marked uncertain with its source."""
    old = CATALOG.rules_for("CSTD_BO", date(2023, 6, 1)).eligibility
    new = CATALOG.rules_for("CSTD_BO", date(2024, 6, 1)).eligibility
    assert isinstance(old, CstdBoRule) and isinstance(new, CstdBoRule)
    assert old.source is not None and "NĐ 91/2017" in old.source and not old.uncertain
    assert new.source is not None and "Điều 22" in new.source and new.uncertain
    assert (new.streak, new.ends_before) == (3, 0)
    tq = CATALOG.rules_for("CSTDTQ", date(2026, 1, 1)).eligibility
    assert isinstance(tq, CstdtqRule) and (tq.streak, tq.ends_before) == (2, 1)
    assert tq.source is not None and "TT 07/2014" in tq.source and tq.uncertain


def test_a_later_rule_set_carries_over_what_it_leaves_out() -> None:
    """The NĐ 152 Bằng khen sets change the coefficient only: vote and ladder carry over."""
    before = CATALOG.rules_for("BK_TTG", date(2025, 6, 30))
    after = CATALOG.rules_for("BK_TTG", date(2025, 7, 1))
    assert after.source.startswith("NĐ 152/2025")
    assert after.vote == before.vote and after.eligibility == before.eligibility
    assert isinstance(CATALOG.rules_for("BK_BO", date(2026, 1, 1)).eligibility, BkBoRule)


def test_cstd_bo_timing_is_configurable() -> None:
    """CSTĐCS 2023–2025: not eligible for 2026 when the streak must end in the nomination
    year (ND 91 default), eligible when the organisation considers it a year later."""
    history = History(awards=cstdcs(2023, 2024, 2025), initiatives=((2025, "ministry"),))
    refusal = cstd_bo(history, 2026)
    assert refusal is not None and "2024, 2025, 2026" in refusal.message_vi
    assert cstd_bo(history, 2026, CstdBoRule(ends_before=1)) is None
    assert cstd_bo(history, 2026, CstdBoRule(streak=4)) is not None


def test_cstdtq_is_considered_the_year_after_the_second_cstd_bo_by_default() -> None:
    """CSTĐ cấp Bộ 2024 and 2025: CSTĐTQ 2026 by default (TT 07/2014); same-year timing
    needs 2025 and 2026."""
    history = History(
        awards=(("CSTD_BO", 2024, M), ("CSTD_BO", 2025, M)), initiatives=((2025, "national"),)
    )
    assert cstdtq(history, 2026) is None
    refusal = cstdtq(history, 2026, CstdtqRule(ends_before=0))
    assert refusal is not None and "2025, 2026" in refusal.message_vi


def test_a_cstdcs_streak_earns_one_bang_khen_not_two_in_consecutive_years() -> None:
    """CSTĐCS 2023–2026 and a Bằng khen cấp Bộ for 2025 (on 2024–2025): 2026 alone cannot
    earn another (Law Art 5); with CSTĐCS 2026–2027 the 2027 one can."""
    history = History(awards=(*cstdcs(2023, 2024, 2025, 2026), ("BK_BO", 2025, M)))
    refusal = bk_bo(history, 2026)
    assert refusal is not None and "sau Bằng khen năm 2025" in refusal.message_vi
    later = History(awards=(*cstdcs(2024, 2025, 2026, 2027), ("BK_BO", 2025, M)))
    assert bk_bo(later, 2027) is None
    # An ad-hoc Bằng khen does not use the streak.
    assert bk_bo(History(awards=(*cstdcs(2025, 2026), ("BK_BO", 2026, "dot_xuat"))), 2026) is None


def test_a_cstd_bo_streak_cannot_be_reused() -> None:
    """CSTĐ cấp Bộ 2024 on CSTĐCS 2022–2024: 2025 is refused naming the reuse, 2027 (on
    2025–2027) is eligible."""
    history = History(
        awards=(*cstdcs(2022, 2023, 2024, 2025, 2026, 2027), ("CSTD_BO", 2024, M)),
        initiatives=((2025, "ministry"), (2027, "ministry")),
    )
    refusal = cstd_bo(history, 2025)
    assert refusal is not None and "đã được tính cho CSTD_BO năm 2024" in refusal.message_vi
    assert cstd_bo(history, 2027) is None


def test_bang_khen_excellent_path_needs_initiatives_beyond_those_of_a_cstdcs() -> None:
    """Art 74(1)(d) second path: 2 excellent years with 2 initiatives; an initiative in a
    CSTĐCS year counts as used for that title (Bộ Nội vụ), so 2 more are needed."""
    ratings = {2025: "htxs", 2026: "htxs"}
    two = ((2025, "grassroots"), (2026, "grassroots"))
    assert bk_bo(History(ratings=ratings, initiatives=two), 2026) is None
    with_title = History(ratings=ratings, awards=cstdcs(2025), initiatives=two)
    assert bk_bo(with_title, 2026) is not None
    three = History(ratings=ratings, awards=cstdcs(2025), initiatives=(*two, (2026, "ministry")))
    assert bk_bo(three, 2026) is None
    assert bk_bo(with_title, 2026, BkBoRule(cstdcs_initiatives="below_excellent")) is None
    assert bk_bo(History(ratings={2026: "htxs"}, initiatives=two), 2026) is not None


def test_pm_certificate_window_starts_after_the_last_one() -> None:
    """A second Bằng khen TTg needs 5 good years with 3 CSTĐCS after the first."""
    ratings = dict.fromkeys(range(2015, 2027), "htt")
    awards = (("BK_BO", 2014, M), *cstdcs(2016, 2018, 2020, 2022, 2024, 2026), ("BK_TTG", 2022, M))
    refusal = bk_ttg(History(ratings=ratings, awards=awards), 2026)
    assert refusal is not None and "sau lần khen BK_TTG gần nhất năm 2022" in refusal.message_vi
    assert bk_ttg(History(ratings=ratings, awards=awards), 2027) is not None
    params = AfterAwardRule(rule="bk_ttg", prerequisite="BK_BO", good_years=4, cstdcs_times=2)
    assert bk_ttg(History(ratings=ratings, awards=awards), 2026, params) is None


def test_a_title_already_held_for_the_year_is_refused() -> None:
    """A second merit LĐTT for the same year is refused."""
    history = History(ratings={2026: "htt"}, awards=(("LDTT", 2026, M),))
    refusal = judge_person(
        history, 2026, CATALOG.rules_for("LDTT", date(2026, 1, 1)).eligibility, "LDTT"
    )
    assert refusal is not None and "Đã đạt LDTT năm 2026" in refusal.message_vi


def test_flag_needs_a_collective_that_led_its_bloc() -> None:
    """Cờ thi đua (Law Art 25, 26): first in a bloc's year-end vote; the ministry flag only
    for blocs the ministry organises."""
    first = UnitFacts(bloc_ranks=(("KCY4", "BCY", 1),), organisation="BCY")
    second = UnitFacts(bloc_ranks=(("KCY4", "BCY", 2),), organisation="BCY")
    assert bloc_lead(first, 2026) is None
    refusal = bloc_lead(second, 2026)
    assert refusal is not None and "KCY4: hạng 2" in refusal.message_vi
    assert bloc_lead(UnitFacts(), 2026) is not None
    other = UnitFacts(bloc_ranks=(("KNCTW", "BTDKTTW", 1),), organisation="BCA")
    assert bloc_lead(other, 2026, BlocLeadRule(organiser="own")) is not None
    assert bloc_lead(other, 2026) is None


def test_excellent_labour_collective_is_judged_on_its_members() -> None:
    """TTLĐXS defaults: all complete, ≥ 70% LĐTT, one CSTĐCS, nobody disciplined; TTLĐTT:
    more than half LĐTT."""
    good = UnitFacts(members=10, completed=10, ldtt=7, cstdcs=1)
    assert members(good, 2026) is None
    short = UnitFacts(members=10, completed=9, ldtt=6, cstdcs=0, discipline_levels=("canh_cao",))
    refusal = members(short, 2026)
    assert refusal is not None
    for part in ("9/10 cá nhân hoàn thành", "6/10", "Chiến sĩ thi đua cơ sở", "kỷ luật"):
        assert part in refusal.message_vi
    advanced = MembersRule(complete_share=0, ldtt_share=0.5, ldtt_share_strict=True, min_cstdcs=0)
    assert members(UnitFacts(members=10, completed=0, ldtt=5), 2026, advanced) is not None
    assert members(UnitFacts(members=10, completed=0, ldtt=6), 2026, advanced) is None
    assert members(UnitFacts(), 2026) is not None


def test_only_discipline_at_warning_or_above_disqualifies_a_collective() -> None:
    """A khiển trách (reprimand) alone leaves a TTLĐXS possible; a cảnh cáo (warning), a
    heavier measure or a record without a level does not; the threshold is a parameter."""
    base = {"members": 10, "completed": 10, "ldtt": 8, "cstdcs": 1}
    assert members(UnitFacts(**base, discipline_levels=("khien_trach",)), 2026) is None
    for levels in (("canh_cao",), ("cach_chuc",), (None,), ("khien_trach", "giang_chuc")):
        refusal = members(UnitFacts(**base, discipline_levels=levels), 2026)
        assert refusal is not None, levels
        assert "bị kỷ luật từ mức cảnh cáo trở lên" in refusal.message_vi
    strict = MembersRule(discipline_from="khien_trach")
    assert members(UnitFacts(**base, discipline_levels=("khien_trach",)), 2026, strict)
    assert heavier("khien_trach", "canh_cao") == "canh_cao"
    assert heavier("cach_chuc", None) is None
    assert at_least("ha_bac_luong", "canh_cao") and not at_least("khien_trach", "canh_cao")


def test_achievements_count_from_the_end_of_a_discipline() -> None:
    """NĐ 98 Art 4: CSTĐCS 2023-2025 make the streak for CSTĐ cấp Bộ 2025, but not when a
    discipline ended on 30/06/2024: 2023 and 2024 are left out, and the refusal says so; a
    discipline that ended before the streak changes nothing."""
    ladder = CstdBoRule()
    streak = {"awards": cstdcs(2023, 2024, 2025), "initiatives": ((2025, "ministry"),)}
    assert judge_person(History(**streak), 2025, ladder, "CSTD_BO") is None
    late = History(**streak, blockers=(("discipline", date(2024, 1, 2), date(2024, 6, 30)),))
    refusal = judge_person(late, 2025, ladder, "CSTD_BO")
    assert refusal is not None
    assert "chỉ có 1 năm liên tục (2025)" in refusal.message_vi
    assert "thành tích đến hết năm 2024 không được tính" in refusal.message_vi
    assert "chấm dứt ngày 30/06/2024" in refusal.message_vi
    early = History(**streak, blockers=(("discipline", date(2021, 3, 1), date(2022, 3, 1)),))
    assert judge_person(early, 2025, ladder, "CSTD_BO") is None
    other = History(**streak, blockers=(("complaint", date(2024, 1, 2), date(2024, 6, 30)),))
    assert judge_person(other, 2025, ladder, "CSTD_BO") is None
    rating = History(ratings={2025: "htt"}, blockers=late.blockers)
    assert judge_person(rating, 2025, CATALOG.rules_for("LDTT", date(2025, 6, 1)).eligibility,
                        "LDTT") is None  # fmt: skip
    same_year = History(ratings={2025: "htt"}, blockers=(("discipline", date(2025, 1, 2),
                        date(2025, 3, 31)),))  # fmt: skip
    ldtt_rule = CATALOG.rules_for("LDTT", date(2025, 6, 1)).eligibility
    refused = judge_person(same_year, 2025, ldtt_rule, "LDTT")
    assert refused is not None and "thành tích đến hết năm 2025" in refused.message_vi


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "          rule: hcld3\n          prerequisite: BK_TTG\n",
            "          rule: hcld3\n          prerequisite: BK_XYZ\n",
            "unknown award 'BK_XYZ'",
        ),
        (
            "          rule: members\n          complete_share: 1.0\n",
            "          rule: cstdcs\n          complete_share: 1.0\n",
            "unknown key 'complete_share'",
        ),
        (
            "          rule: bloc_lead\n          top: 1\n          organiser: own",
            "          rule: ldtt\n          top: 1\n          organiser: own",
            "unknown key 'top'",
        ),
    ],
)
def test_ladder_errors_name_file_and_line(tmp_path: Path, old: str, new: str, message: str) -> None:
    """A wrong ladder parameter or award reference is reported at its line."""
    text = AWARDS.read_text(encoding="utf-8")
    assert old in text
    bad = tmp_path / "awards.yaml"
    bad.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(InvalidDefinition) as info:
        load_catalog(bad)
    problems = [str(p) for p in info.value.problems]
    assert any(p.startswith(f"{bad}:") and message in p for p in problems), problems
    line = int(problems[0].split(":")[1])
    assert line > 1


def test_a_person_rule_on_a_collective_title_is_refused(tmp_path: Path) -> None:
    """The collective TTLĐXS cannot be judged by a person rule."""
    text = AWARDS.read_text(encoding="utf-8")
    old = (
        "          rule: members\n          complete_share: 1.0\n          ldtt_share: 0.7\n"
        "          min_cstdcs: 1\n          no_discipline: true\n"
    )
    assert old in text
    bad = tmp_path / "awards.yaml"
    bad.write_text(text.replace(old, "          rule: ldtt\n", 1), encoding="utf-8")
    with pytest.raises(InvalidDefinition, match="'ldtt' judges individuals"):
        load_catalog(bad)


def test_the_public_security_flag_is_modelled_once_as_the_ministrys_own_co_bo() -> None:
    """Cờ thi đua của Bộ Công an is the award CO_BCA alone (no BCA override of CO_BO): counted
    as CO_BO, proposed by a cluster the BCA organises in CO_BO's place, and within the first
    four of such a cluster (1 Government flag and 3 BCA flags for Cụm thi đua số 2, 2017)."""
    for on in (date(2017, 12, 31), date(2026, 12, 31)):
        assert CATALOG.rules_for("CO_BO", on, "BCA") == CATALOG.rules_for("CO_BO", on)
        assert CATALOG.own_version("CO_BO", "BCA", on) == "CO_BCA"
        assert CATALOG.own_version("CO_BO", "BCY", on) == "CO_BO"
        rule = CATALOG.rules_for("CO_BCA", on, "BCA").eligibility
        assert isinstance(rule, BlocLeadRule)
        fourth = UnitFacts(bloc_ranks=(("CUM2-BCA", "BCA", 4),), organisation="BCA")
        fifth = UnitFacts(bloc_ranks=(("CUM2-BCA", "BCA", 5),), organisation="BCA")
        elsewhere = UnitFacts(bloc_ranks=(("KCY4", "BCY", 1),), organisation="BCY")
        assert bloc_lead(fourth, on.year, rule) is None
        assert bloc_lead(fifth, on.year, rule) is not None
        assert bloc_lead(elsewhere, on.year, rule) is not None
    assert CATALOG.counted_as("CO_BO") == ["CO_BO", "CO_BCA"]
    assert CATALOG.counted_as("CO_CP") == ["CO_CP"]
