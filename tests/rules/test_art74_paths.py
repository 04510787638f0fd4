"""The points of Luật TĐKT 2022 Điều 74(1) as alternative grounds of the Bằng khen cấp Bộ
(pure): any one is enough; a refusal lists each with what it lacks."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from khenthuong.commendation import accepted_types, commendation_type_of
from khenthuong.errors import InvalidDefinition, Refusal
from khenthuong.rules.catalog import catalog_in, load_catalog
from khenthuong.rules.eligibility import AfterAwardRule, History, judge_person
from khenthuong.rules.paths import Claim, basis_label, judge_grounds
from tests.conftest import CONFIG

CATALOG = catalog_in(CONFIG)
LADDER = CATALOG.rules_for("BK_BO", date(2026, 3, 1)).eligibility
NOTHING = History()
"""No rating, title or initiative: point (d) cannot be met."""
ATTESTED = {
    "74.1.a": "xac_nhan_phong_trao",
    "74.1.b": "xac_nhan_thanh_tich_dot_xuat",
    "74.1.c": "xac_nhan_dong_gop",
}


def verdict(history: History, claim: Claim | None, present: set[str]) -> Refusal | None:
    """What the `eligible` guard decides for a 2026 Bằng khen cấp Bộ."""
    return judge_grounds(LADDER, judge_person(history, 2026, LADDER, "BK_BO"), claim, present)


def cstdcs(*years: int) -> tuple[tuple[str, int, str], ...]:
    return tuple(("CSTDCS", y, "cong_trang") for y in years)


def test_the_catalog_gives_the_four_points_of_article_74_1() -> None:
    """Points a-c are attested, each with its confirming document; d is judged from history."""
    assert [b for b, _ in CATALOG.grounds_of("BK_BO", date(2026, 3, 1))] == [
        "74.1.a",
        "74.1.b",
        "74.1.c",
        "74.1.d",
    ]
    assert {p.basis: p.documents for p in LADDER.paths} == {b: (d,) for b, d in ATTESTED.items()}
    assert LADDER.basis == "74.1.d"
    assert set(LADDER.applies_to) == {"cong_trang", "chuyen_de", "dot_xuat"}
    assert CATALOG.grounds_of("GIAY_KHEN", date(2026, 3, 1)) == []


@pytest.mark.parametrize("basis", sorted(ATTESTED))
def test_an_attested_point_passes_with_its_claim_statement_and_document(basis: str) -> None:
    """With no history at all, the claim of point a, b or c with a statement and the
    point's document is enough."""
    claim = Claim(basis, "Dẫn đầu phong trào thi đua 6 tháng đầu năm 2026")
    assert verdict(NOTHING, claim, {ATTESTED[basis]}) is None


def test_point_d_passes_from_history_alone() -> None:
    """2 consecutive CSTĐCS, or 2 excellent years with 2 initiatives, need no claim."""
    assert verdict(History(awards=cstdcs(2025, 2026)), None, set()) is None
    two_excellent = History(
        ratings={2025: "htxs", 2026: "htxs"},
        initiatives=((2025, "grassroots"), (2026, "grassroots")),
    )
    assert verdict(two_excellent, None, set()) is None


@pytest.mark.parametrize("basis", sorted(ATTESTED))
def test_an_attested_point_fails_without_its_document(basis: str) -> None:
    """Claimed and stated but without the confirming document: refused, and the line of the
    point names the missing document."""
    refusal = verdict(NOTHING, Claim(basis, "Thành tích"), {"to_trinh"})
    assert refusal is not None and refusal.code == "eligible"
    line = next(
        x for x in refusal.message_vi.splitlines() if x.startswith(f"- {basis_label(basis)}")
    )
    assert "thiếu Văn bản xác nhận" in line
    assert "chưa chọn" not in line
    assert refusal.details["grounds"][basis] == [line.split(": ", 1)[1]]


@pytest.mark.parametrize("basis", sorted(ATTESTED))
def test_an_attested_point_fails_without_the_claim(basis: str) -> None:
    """The document alone is not enough: the officer must claim the point and attest it."""
    refusal = verdict(NOTHING, None, {ATTESTED[basis]})
    assert refusal is not None
    line = next(
        x for x in refusal.message_vi.splitlines() if x.startswith(f"- {basis_label(basis)}")
    )
    assert f"chưa chọn căn cứ {basis} và xác nhận thành tích" in line
    assert "thiếu" not in line
    empty = verdict(NOTHING, Claim(basis, "  "), {ATTESTED[basis]})
    assert empty is not None and "chưa có nội dung xác nhận thành tích" in empty.message_vi


def test_point_d_fails_when_the_streak_is_short() -> None:
    """One CSTĐCS: refused, and the line of point d says what the history lacks."""
    refusal = verdict(History(awards=cstdcs(2026)), None, set())
    assert refusal is not None
    lines = refusal.message_vi.splitlines()
    assert lines[0] == "Chưa đáp ứng căn cứ nào (chỉ cần một căn cứ):"
    assert [x.split(" (")[0] for x in lines[1:]] == [
        "- Điều 74(1)(a)",
        "- Điều 74(1)(b)",
        "- Điều 74(1)(c)",
        "- Điều 74(1)(d)",
    ]
    assert "Cần 2 năm liên tục đạt CSTĐCS đến năm 2026" in lines[4]


def test_a_claim_of_another_point_does_not_stand_in_for_the_one_documented() -> None:
    """Point a claimed, point b's document attached: neither point is met."""
    refusal = verdict(NOTHING, Claim("74.1.a", "Phong trào"), {"xac_nhan_thanh_tich_dot_xuat"})
    assert refusal is not None
    assert set(refusal.details["grounds"]) == {"74.1.a", "74.1.b", "74.1.c", "74.1.d"}
    unknown = verdict(NOTHING, Claim("74.1.e", "?"), set())
    assert unknown is not None and "Căn cứ đã chọn 74.1.e không thuộc" in unknown.message_vi


def test_a_rule_without_other_points_keeps_its_own_refusal() -> None:
    """Bằng khen TTg (Art 73(1)(b) only): the ladder's refusal is returned unchanged."""
    ladder = CATALOG.rules_for("BK_TTG", date(2026, 3, 1)).eligibility
    assert isinstance(ladder, AfterAwardRule) and ladder.basis == "73.1.b"
    own = judge_person(NOTHING, 2026, ladder, "BK_TTG")
    assert own is not None
    assert judge_grounds(ladder, own, Claim("73.1.b", "x"), set()) is own


def test_the_catalog_refuses_an_unknown_document_or_a_repeated_point(tmp_path: Path) -> None:
    text = (CONFIG / "awards.yaml").read_text(encoding="utf-8")
    bad_doc = tmp_path / "doc.yaml"
    bad_doc.write_text(text.replace("[xac_nhan_dong_gop]", "[giay_xac_nhan_la]"), encoding="utf-8")
    with pytest.raises(InvalidDefinition, match="unknown document type 'giay_xac_nhan_la'"):
        load_catalog(bad_doc)
    twice = tmp_path / "twice.yaml"
    twice.write_text(text.replace('basis: "74.1.c"', 'basis: "74.1.a"'), encoding="utf-8")
    with pytest.raises(InvalidDefinition, match=r"basis 74\.1\.a given twice"):
        load_catalog(twice)


def test_commendation_types_by_code_or_vietnamese_name() -> None:
    assert commendation_type_of("thường xuyên") == "cong_trang"
    assert commendation_type_of("thuong_xuyen") == "cong_trang"
    assert commendation_type_of("Theo đợt") == "chuyen_de"
    assert commendation_type_of("chuyên đề") == "chuyen_de"
    assert commendation_type_of("Đột xuất") == "dot_xuat"
    assert commendation_type_of("nien_han") == "nien_han"
    assert commendation_type_of("hang_nam") is None
    shown = accepted_types()
    assert "thuong_xuyen/cong_trang: thường xuyên" in shown
    assert "theo_dot/chuyen_de: theo đợt (chuyên đề)" in shown
    assert "dot_xuat: đột xuất" in shown
