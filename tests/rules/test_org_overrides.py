"""Per-organisation overrides of uncertain values (config/awards.yaml `organisations`)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest

from khenthuong.errors import InvalidDefinition
from khenthuong.rules.catalog import Catalog, QuotaRule, load_catalog, organisation_of
from khenthuong.rules.eligibility import CstdBoRule, LdttRule
from khenthuong.settings import PROJECT_ROOT

AWARDS = PROJECT_ROOT / "config" / "awards.yaml"
OVERRIDES = """
  BCY:
    name: "Ban Cơ yếu Chính phủ"
    awards:
      CSTD_BO:
        - effective_from: 2025-01-01
          source: "Quy chế TĐKT của Ban (ví dụ)"
          vote: {threshold: "80%", denominator: present_members, quorum: "2/3"}
          eligibility: {ends_before: 1, source: "Quy chế TĐKT của Ban (ví dụ)"}
      CO_CP:
        - {effective_from: 2024-01-01, source: "Quy chế (ví dụ)", quota: null}
      GIAY_KHEN:
        - {effective_from: 2024-01-01, source: "Luật TĐKT Điều 75(2)", eligibility: {rule: ldtt}}
      CSTDCS:
        - {effective_from: 2024-01-01, source: "Quy chế cũ", quota: {share: 0.15, of: LDTT}}
        - {effective_from: 2026-01-01, source: "Quy chế mới", quota: {count: 5}, uncertain: false}
"""


def catalog_with(tmp_path: Path, overrides: str = OVERRIDES) -> tuple[Path, str]:
    text = AWARDS.read_text(encoding="utf-8")
    assert "\norganisations:\n" in text
    path = tmp_path / "awards.yaml"
    text = text.replace("\norganisations:\n", "\norganisations:\n" + overrides.lstrip("\n"), 1)
    path.write_text(text, encoding="utf-8")
    return path, text


def loaded(tmp_path: Path) -> Catalog:
    return load_catalog(catalog_with(tmp_path)[0])


def line_of(text: str, needle: str) -> int:
    """The line of `needle` in the organisations section."""
    lines = text.splitlines()
    start = lines.index("organisations:")
    return next(i for i, line in enumerate(lines[start:], start + 1) if needle in line)


def test_organisation_is_the_top_level_unit_of_the_proposing_unit() -> None:
    """/CP/BCY/CCYQD/ belongs to BCY; a ministry is its own organisation."""
    assert organisation_of("/CP/BCY/CCYQD/") == "BCY"
    assert organisation_of("/CP/BCA/") == "BCA"
    assert organisation_of("/CP/") == "CP"


def test_override_applies_to_its_organisation_from_its_date(tmp_path: Path) -> None:
    """BCY's vote and timing for CSTĐ cấp Bộ apply to BCY from 01/01/2025; other
    organisations and earlier dates keep the national rule; the streak length carries."""
    catalog = loaded(tmp_path)
    national = catalog.rules_for("CSTD_BO", date(2026, 3, 1))
    own = catalog.rules_for("CSTD_BO", date(2026, 3, 1), "BCY")
    assert own.vote is not None and own.vote.threshold == Fraction(4, 5)
    assert own.vote.denominator == "present_members"
    ladder = own.eligibility
    assert isinstance(ladder, CstdBoRule) and (ladder.streak, ladder.ends_before) == (3, 1)
    assert "BCY: Quy chế TĐKT của Ban" in own.source
    assert own.coefficient == national.coefficient
    assert catalog.rules_for("CSTD_BO", date(2026, 3, 1), "BCA") == national
    assert catalog.rules_for("CSTD_BO", date(2024, 12, 31), "BCY") == catalog.rules_for(
        "CSTD_BO", date(2024, 12, 31)
    )


def test_override_can_remove_add_and_replace(tmp_path: Path) -> None:
    """quota: null removes the bloc quota; a Giấy khen gets the LĐTT standard (each
    ministry sets Giấy khen criteria, Law Art 75(2)); dated CSTĐCS quotas follow each other."""
    catalog = loaded(tmp_path)
    on = date(2026, 3, 1)
    assert catalog.rules_for("CO_CP", on).quota is not None
    assert catalog.rules_for("CO_CP", on, "BCY").quota is None
    assert isinstance(catalog.rules_for("GIAY_KHEN", on, "BCY").eligibility, LdttRule)
    assert catalog.rules_for("GIAY_KHEN", on).eligibility is None
    assert catalog.rules_for("CSTDCS", date(2025, 6, 1), "BCY").quota == QuotaRule(
        share=0.15, of="LDTT"
    )
    newer = catalog.rules_for("CSTDCS", on, "BCY")
    assert newer.quota == QuotaRule(count=5) and newer.uncertain is False


def test_shipped_army_cap_is_ten_percent_of_strength() -> None:
    """BQP keeps CSTĐCS at ≤ 10% of unit strength (TT 151/2018/TT-BQP), marked uncertain."""
    rule = load_catalog(AWARDS).rules_for("CSTDCS", date(2026, 1, 1), "BQP")
    assert rule.quota == QuotaRule(share=0.10, of="staff")
    assert rule.uncertain and "TT 151/2018/TT-BQP" in rule.source


@pytest.mark.parametrize(
    ("overrides", "needle", "message"),
    [
        (
            '  BCY:\n    awards:\n      CSTD_XX:\n        - {effective_from: 2024-01-01, source: "x"}\n',
            "CSTD_XX:",
            "unknown award 'CSTD_XX'",
        ),
        (
            "  BCY:\n    awards:\n      CSTD_BO:\n"
            '        - {effective_from: 2024-01-01, source: "x", eligibility: {streek: 2}}\n',
            "streek",
            "unknown key 'streek'",
        ),
        (
            "  BCY:\n    awards:\n      CSTD_BO:\n"
            '        - {effective_from: 2024-01-01, source: "x", coefficient: 9}\n',
            "coefficient: 9",
            "unknown key 'coefficient'",
        ),
        (
            "  BCY:\n    awards:\n      TTLDXS:\n"
            '        - {effective_from: 2024-01-01, source: "x", eligibility: {rule: ldtt}}\n',
            "rule: ldtt",
            "'ldtt' judges individuals",
        ),
        (
            "  BCY:\n    awards:\n      CSTDCS:\n"
            '        - {effective_from: 2024-01-01, source: "x", quota: {share: 0.1, of: LDXX}}\n',
            "LDXX",
            "unknown award 'LDXX'",
        ),
        (
            '  bcy:\n    awards:\n      CSTDCS:\n        - {effective_from: 2024-01-01, source: "x"}\n',
            "  bcy:",
            "organisation code 'bcy' must look like BCY",
        ),
    ],
)
def test_override_errors_name_file_and_line(
    tmp_path: Path, overrides: str, needle: str, message: str
) -> None:
    """A bad override is reported at its own line."""
    path, text = catalog_with(tmp_path, overrides)
    with pytest.raises(InvalidDefinition) as info:
        load_catalog(path)
    assert [str(p) for p in info.value.problems] == [f"{path}:{line_of(text, needle)}: {message}"]


def test_unknown_organisation_is_refused_when_units_are_known(tmp_path: Path) -> None:
    """With the unit codes given, an override for a unit that does not exist is an error."""
    path, text = catalog_with(tmp_path)
    with pytest.raises(InvalidDefinition) as info:
        load_catalog(path, known_units={"CP", "BQP", "BCA"})
    assert [str(p) for p in info.value.problems] == [
        f"{path}:{line_of(text, '  BCY:')}: unknown unit 'BCY'"
    ]
    assert load_catalog(path, known_units={"CP", "BCY", "BQP", "BCA"}).organisations["BCY"]
