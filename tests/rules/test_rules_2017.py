"""The law of the date back to NĐ 91/2017: rule sets of 2017-2023, base salaries from 2017,
the era setting that starts them, and the refusal of a date before the earliest rule set."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from khenthuong.errors import InvalidDefinition
from khenthuong.rules.catalog import Catalog, NoRulesInForce, QuotaRule, load_catalog
from khenthuong.rules.eligibility import History, judge_person
from khenthuong.rules.money import award_money
from khenthuong.settings import PROJECT_ROOT

AWARDS = PROJECT_ROOT / "config" / "awards.yaml"
CATALOG = load_catalog(AWARDS)
M = "cong_trang"
IN_2019 = date(2019, 12, 20)


def with_nd91_from(tmp_path: Path, start: str) -> Catalog:
    """The catalog with the era nd91 starting on `start` (the one setting)."""
    data = yaml.safe_load(AWARDS.read_text(encoding="utf-8"))
    data["eras"]["nd91"]["effective_from"] = start
    path = tmp_path / "awards.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return load_catalog(path)


def money(code: str, on: date, *, collective: bool = False) -> int:
    rule = CATALOG.rules_for(code, on)
    multiplier = CATALOG.award(code).collective_multiplier if collective else 1.0
    return award_money(
        rule.coefficient,
        CATALOG.base_salary_on(on),
        multiplier=multiplier,
        rounding_vnd=CATALOG.money_rounding_vnd,
    )


@pytest.mark.parametrize(
    ("code", "coefficient"),
    [("BK_TTG", 3.5), ("BK_BO", 1.0), ("GIAY_KHEN", 0.3), ("CSTDCS", 1.0), ("CSTD_BO", 3.0),
     ("CSTDTQ", 4.5), ("LDTT", 0.3), ("TTLDXS", 1.5), ("TTLDTT", 0.8), ("CO_CP", 12.0),
     ("CO_BO", 8.0)],
)  # fmt: skip
def test_a_2019_date_gets_the_nd91_rule_set_and_2024_the_nd98_one(
    code: str, coefficient: float
) -> None:
    """NĐ 91 Arts 69, 73 (DOMAIN-2 §5) in 2019; the NĐ 98 set from 01/01/2024."""
    old = CATALOG.rules_for(code, IN_2019)
    new = CATALOG.rules_for(code, date(2024, 3, 1))
    assert (old.coefficient, old.era, old.effective_from) == (
        coefficient,
        "nd91",
        date(2017, 10, 1),
    )
    assert old.source.startswith(("NĐ 91/2017", "Luật TĐKT 2003"))
    assert "Điều" in old.source
    assert new.effective_from == date(2024, 1, 1) and new.era is None
    assert "NĐ 91/2017/NĐ-CP, Điều" not in new.source


def test_the_last_day_of_nd91_and_the_first_of_nd98() -> None:
    """31/12/2023 is judged by NĐ 91 (the CSTĐCS cap), 01/01/2024 by NĐ 98 (no cap)."""
    assert CATALOG.rules_for("CSTDCS", date(2023, 12, 31)).quota is not None
    assert CATALOG.rules_for("CSTDCS", date(2024, 1, 1)).quota is None


def test_base_salaries_by_date_since_2017() -> None:
    """ND 47/2017, ND 72/2018 (uncertain), ND 38/2019 until 30/06/2023, then ND 24/2023."""
    assert CATALOG.base_salary_on(date(2017, 10, 1)) == 1_300_000
    assert CATALOG.base_salary_on(date(2018, 6, 30)) == 1_300_000
    assert CATALOG.base_salary_on(date(2018, 12, 1)) == 1_390_000
    assert CATALOG.base_salary_on(date(2019, 7, 1)) == 1_490_000
    assert CATALOG.base_salary_on(date(2023, 6, 30)) == 1_490_000
    assert CATALOG.base_salary_on(date(2023, 7, 1)) == 1_800_000
    sources = {b.effective_from.year: b.source for b in CATALOG.base_salary}
    assert "47/2017" in sources[2017] and "38/2019" in sources[2019]
    assert "72/2018" in sources[2018] and "chưa xác minh" in sources[2018]


def test_2019_award_money_uses_1_490_000() -> None:
    """Bằng khen cấp Bộ 1,490,000 (a collective 2,980,000), CSTĐ cấp Bộ 4,470,000, CSTĐCS
    1,490,000: the worked amounts of DOMAIN-2 §5 [T45]; a 2018 Bằng khen 1,390,000."""
    assert money("BK_BO", IN_2019) == 1_490_000
    assert money("BK_BO", IN_2019, collective=True) == 2_980_000
    assert money("CSTD_BO", IN_2019) == 4_470_000
    assert money("CSTDCS", IN_2019) == 1_490_000
    # 3.5 × 1,490,000 = 5,215,000 -> 5,220,000; a collective's 2× is taken before rounding.
    assert money("BK_TTG", IN_2019) == 5_220_000
    assert money("BK_TTG", IN_2019, collective=True) == 10_430_000
    assert money("BK_BO", date(2018, 12, 20)) == 1_390_000


@pytest.mark.parametrize(
    ("code", "worked", "rounded_up"),
    [("CSTDTQ", 6_705_000, 6_710_000), ("CSTD_BO", 4_470_000, 4_470_000),
     ("CSTDCS", 1_490_000, 1_490_000), ("LDTT", 447_000, 450_000),
     ("TTLDXS", 2_235_000, 2_240_000), ("TTLDTT", 1_192_000, 1_200_000),
     ("BK_TTG", 5_215_000, 5_220_000), ("BK_BO", 1_490_000, 1_490_000)],
)  # fmt: skip
def test_worked_amounts_are_the_exact_products_and_the_setting_rounds_them_up(
    code: str, worked: int, rounded_up: int
) -> None:
    """DOMAIN-2 §5's amounts at 1,490,000 are coefficient × salary unrounded; the catalog's
    rounding (up to 10,000, kept for the period since the brief gives no other) differs
    where the product is not a multiple of 10,000 (LĐTT 447,000 -> 450,000)."""
    rule = CATALOG.rules_for(code, IN_2019)
    assert award_money(rule.coefficient, 1_490_000, rounding_vnd=1_000) == worked
    assert money(code, IN_2019) == rounded_up


def test_a_date_before_the_earliest_rule_set_is_refused_naming_it() -> None:
    """30/09/2017 precedes NĐ 91's rule sets: the error names the award and 01/10/2017."""
    with pytest.raises(NoRulesInForce) as info:
        CATALOG.rules_for("BK_BO", date(2017, 9, 30))
    message = str(info.value)
    assert "Bằng khen cấp Bộ" in message and "BK_BO" not in message  # the name, not the code
    assert "ngày 30/09/2017" in message and "từ ngày 01/10/2017" in message
    assert info.value.earliest == date(2017, 10, 1)
    assert CATALOG.earliest() == date(2017, 10, 1)
    with pytest.raises(NoRulesInForce, match=r"mức lương cơ sở .* từ ngày 01/07/2017"):
        CATALOG.base_salary_on(date(2017, 6, 30))
    with pytest.raises(NoRulesInForce, match="từ ngày 01/07/2025"):
        CATALOG.rules_for("KNC_BO", date(2019, 1, 1))


def test_cstdcs_cap_applies_in_2019_and_not_by_default_in_2025() -> None:
    """NĐ 91 Điều 9(3): ≤ 15% of the unit's LĐTT; none after it (DOMAIN §2.4), except the
    army's own 10% of strength (TT 151/2018, BQP's override from 2024)."""
    cap = CATALOG.rules_for("CSTDCS", IN_2019).quota
    assert cap is not None and (cap.share, cap.of, cap.per) == (0.15, "LDTT", "unit")
    assert cap.source is not None and "Điều 9(3)" in cap.source
    assert CATALOG.rules_for("CSTDCS", date(2025, 3, 1)).quota is None
    assert CATALOG.rules_for("CSTDCS", date(2025, 3, 1), "BCY").quota is None
    army = CATALOG.rules_for("CSTDCS", date(2025, 3, 1), "BQP").quota
    assert army == QuotaRule(share=0.10, of="staff", source=army.source if army else None)


def test_government_flag_cap_and_council_threshold_of_nd91() -> None:
    """Cờ thi đua CP ≤ 20% of the ministry's flags (Art 11); 90% of all members for CSTĐ cấp
    Bộ, CSTĐTQ and Anh hùng (Art 45(8))."""
    flag = CATALOG.rules_for("CO_CP", IN_2019).quota
    assert flag is not None and (flag.share, flag.of, flag.per, flag.bloc) == (
        0.20,
        "CO_BO",
        "organisation",
        False,
    )
    bloc = CATALOG.rules_for("CO_CP", date(2024, 6, 1)).quota
    assert bloc is not None and bloc.bloc and bloc.share is None
    for code in ("CSTD_BO", "CSTDTQ", "AHLD"):
        vote = CATALOG.rules_for(code, IN_2019).vote
        assert vote is not None
        assert (float(vote.threshold), vote.denominator) == (0.9, "total_members")
        assert "45(8)" in CATALOG.rules_for(code, IN_2019).source


def test_cstdcs_needed_an_initiative_before_2024() -> None:
    """The 2003 law: an excellent year without an initiative is not a CSTĐCS; the 2022 law
    (Art 23) accepts it."""
    excellent = History(ratings={2019: "htxs", 2024: "htxs"})
    old = CATALOG.rules_for("CSTDCS", IN_2019).eligibility
    new = CATALOG.rules_for("CSTDCS", date(2024, 12, 1)).eligibility
    refusal = judge_person(excellent, 2019, old, "CSTDCS")
    assert refusal is not None and "sáng kiến" in refusal.message_vi
    assert judge_person(excellent, 2024, new, "CSTDCS") is None
    with_initiative = History(ratings={2019: "htt"}, initiatives=((2019, "grassroots"),))
    assert judge_person(with_initiative, 2019, old, "CSTDCS") is None


def test_a_2018_streak_is_judged_by_the_nd91_ladder() -> None:
    """CSTĐ cấp Bộ in 2019 under NĐ 91: considered in the year of the 3rd CSTĐCS."""
    history = History(
        awards=tuple(("CSTDCS", y, M) for y in (2017, 2018, 2019)),
        initiatives=((2019, "ministry"),),
    )
    rule = CATALOG.rules_for("CSTD_BO", date(2019, 11, 1))
    assert judge_person(history, 2019, rule.eligibility, "CSTD_BO") is None
    short = History(awards=(("CSTDCS", 2018, M), ("CSTDCS", 2019, M)))
    assert judge_person(short, 2019, rule.eligibility, "CSTD_BO") is not None


def test_the_era_setting_moves_every_nd91_rule_set(tmp_path: Path) -> None:
    """With nd91 from 31/07/2017 (DOMAIN.md's date) a 15/08/2017 decision has rules and the
    CSTĐ cấp Bộ set moves with the others; by default (01/10/2017) it is refused."""
    with pytest.raises(NoRulesInForce, match="01/10/2017"):
        CATALOG.rules_for("BK_TTG", date(2017, 8, 15))
    moved = with_nd91_from(tmp_path, "2017-07-31")
    assert moved.earliest() == date(2017, 7, 31)
    assert moved.rules_for("BK_TTG", date(2017, 8, 15)).coefficient == 3.5
    assert moved.rules_for("CSTD_BO", date(2017, 8, 15)).era == "nd91"
    assert moved.base_salary_on(date(2017, 8, 15)) == 1_300_000
    with pytest.raises(NoRulesInForce, match="từ ngày 31/07/2017"):
        moved.rules_for("BK_TTG", date(2017, 7, 30))
    assert moved.rules_for("BK_TTG", date(2024, 1, 1)) == CATALOG.rules_for(
        "BK_TTG", date(2024, 1, 1)
    )


def test_an_era_after_the_next_rule_set_or_unknown_is_refused_at_load(tmp_path: Path) -> None:
    """An era that starts after the 2024 rule sets breaks the date order; an unknown era
    name is reported at its line."""
    with pytest.raises(InvalidDefinition, match="increasing effective dates"):
        with_nd91_from(tmp_path, "2024-06-01")
    text = AWARDS.read_text(encoding="utf-8").replace("- era: nd91", "- era: nd92", 1)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidDefinition, match=r"bad\.yaml:\d+: unknown era 'nd92'"):
        load_catalog(bad)


def test_the_era_of_nd91_names_both_sources() -> None:
    """The start is a documented, uncertain setting: the 31/07 signing date and the 01/10
    entry into force are both named."""
    era = CATALOG.eras["nd91"]
    assert era.uncertain and era.effective_from == date(2017, 10, 1)
    assert "31/07/2017" in era.source and "01/10/2017" in era.source


@pytest.mark.parametrize(("start", "loads"), [("2024-01-01", True), ("2018-01-01", False)])
def test_an_override_is_checked_against_the_rule_sets_of_its_own_period(
    tmp_path: Path, start: str, loads: bool
) -> None:
    """A ladder parameter patched from 2024 meets only the 2024+ sets of Bằng khen cấp Bộ;
    from 2018 it also meets NĐ 91's set, which has no ladder to patch."""
    data = yaml.safe_load(AWARDS.read_text(encoding="utf-8"))
    patch = {"effective_from": start, "source": "Quy chế", "eligibility": {"cstdcs_streak": 3}}
    data["organisations"]["BCY"] = {"awards": {"BK_BO": [patch]}}
    path = tmp_path / "awards.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    if loads:
        catalog = load_catalog(path)
        rule = catalog.rules_for("BK_BO", date(2024, 6, 1), "BCY").eligibility
        assert rule is not None and rule.cstdcs_streak == 3
        assert catalog.rules_for("BK_BO", IN_2019, "BCY").eligibility is None
    else:
        with pytest.raises(InvalidDefinition, match="eligibility"):
            load_catalog(path)
