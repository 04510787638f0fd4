"""config/issuers.yaml: the ký hiệu of each issuing authority and the form of its numbers."""

from __future__ import annotations

from pathlib import Path

import pytest

from khenthuong.errors import InvalidDefinition
from khenthuong.rules.issuers import issuers_in, load_issuers, number_fits, number_key
from tests.conftest import CONFIG


def test_shipped_issuers_by_role_and_by_unit() -> None:
    """The Prime Minister issues QĐ-TTg wherever the role is granted; a minister the ký hiệu
    of the unit; a unit not listed its own unit code."""
    issuers = issuers_in(CONFIG)
    pm = issuers.issuer("prime_minister", "CP", "Chính phủ")
    assert (pm.abbreviation, pm.name, pm.form) == ("TTg", "Thủ tướng Chính phủ", "<số>/QĐ-TTg")
    assert issuers.issuer("president", "CP", "Chính phủ").abbreviation == "CTN"
    assert issuers.issuer("minister", "BCA", "Bộ Công an").abbreviation == "BCA"
    assert issuers.issuer("minister", "VKSNDTC", "Viện").abbreviation == "VKSTC"
    head = issuers.issuer("unit_head", "CCYQD", "Cục Cơ yếu Quân đội")
    assert (head.abbreviation, head.name) == ("CCYQD", "Cục Cơ yếu Quân đội")


@pytest.mark.parametrize(
    ("number", "fits"),
    [
        ("1234/QĐ-TTg", True),
        (" 01/QĐ-TTg ", True),
        ("1234/QĐ-TTG", False),
        ("1234/qđ-TTg", False),
        ("1234/QD-TTg", False),
        ("1234/QĐ-BCY", False),
        ("1234/QĐ-TTg-VP", False),
        ("QĐ-TTg", False),
        ("1234567/QĐ-TTg", False),
    ],
)
def test_a_number_fits_its_issuer_in_the_official_case(number: str, fits: bool) -> None:
    pm = issuers_in(CONFIG).issuer("prime_minister", "CP", "Chính phủ")
    assert number_fits(number, pm) is fits


def test_uniqueness_key_ignores_case_and_spaces() -> None:
    assert number_key("12/qđ-bcy") == number_key(" 12/QĐ-BCY ") == "12/qđ-bcy"
    assert number_key("1234/QĐ-TTg") == "1234/qđ-ttg"


def test_a_bad_file_is_refused_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "issuers.yaml"
    path.write_text(
        "roles:\n  prime_minister: {abbreviation: TTg, name: Thủ tướng}\n"
        "units:\n  BCY: {abbreviation: 'B C Y', name: Ban Cơ yếu}\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidDefinition) as info:
        load_issuers(path)
    assert "issuers.yaml:4" in str(info.value) and "'B C Y'" in str(info.value)
    path.write_text("roles:\n  thu_tuong: {abbreviation: TTg, name: Thủ tướng}\n", "utf-8")
    with pytest.raises(InvalidDefinition, match="thu_tuong: no such role"):
        load_issuers(path, {"prime_minister"})


def test_without_a_file_every_unit_issues_under_its_code(tmp_path: Path) -> None:
    issuers = load_issuers(tmp_path / "issuers.yaml")
    assert issuers.issuer("prime_minister", "CP", "Chính phủ").abbreviation == "CP"
