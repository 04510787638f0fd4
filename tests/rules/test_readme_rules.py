"""The rule table of the docs (docs/reference/award-catalog.md, section "Award rules by date",
once the README's) lists every rule set of config/awards.yaml, old and new, with its effective
date, coefficient and legal basis (article)."""

from __future__ import annotations

import re

from khenthuong.rules.catalog import load_catalog
from khenthuong.settings import PROJECT_ROOT

CATALOG = load_catalog(PROJECT_ROOT / "config" / "awards.yaml")
PAGE = (PROJECT_ROOT / "docs" / "reference" / "award-catalog.md").read_text(encoding="utf-8")
ROW = re.compile(r"^\| `(?P<code>[A-Z0-9_]+)` \| (?P<on>\d\d/\d\d/\d{4})[^|]* \| (?P<coef>[\d.]+)")


def section(title: str) -> str:
    start = PAGE.index(f"## {title}")
    end = PAGE.find("\n## ", start + 1)
    return PAGE[start : end if end != -1 else None]


def rows() -> list[str]:
    return [line for line in section("Award rules by date").splitlines() if ROW.match(line)]


def test_every_rule_set_has_a_row_with_its_date_and_coefficient() -> None:
    """One row per rule set, from 01/10/2017 (NĐ 91) to NĐ 152, none missing or extra."""
    listed = set()
    for line in rows():
        found = ROW.match(line)
        assert found is not None
        listed.add((found["code"], found["on"], float(found["coef"])))
    expected = {
        (code, f"{rule.effective_from:%d/%m/%Y}", rule.coefficient)
        for code, award in CATALOG.awards.items()
        for rule in award.rules
    }
    assert listed == expected
    assert len(rows()) == len(expected)
    assert any(on == "01/10/2017" for _, on, _ in listed)


def test_every_row_cites_an_article_or_says_none_was_retrieved() -> None:
    for line in rows():
        basis = line.rstrip(" |").rsplit(" | ", 1)[-1]
        assert "Điều" in basis or "article not retrieved" in basis, line


def test_base_salaries_are_listed_with_their_decrees() -> None:
    text = section("Award rules by date")
    for salary in CATALOG.base_salary:
        amount = f"{salary.vnd:,}"
        assert re.search(
            rf"\| {salary.effective_from:%d/%m/%Y} \| {amount} \| NĐ \d+/\d{{4}}", text
        )
