"""A rule or a service says what is wrong, never which command puts it right: the refusal
carries a detail code, the CLI adds its command and the pages point to their own page (in
the page's language). Awards are named, their codes kept in the details."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from khenthuong.cli.common import refusal_line as cli_line
from khenthuong.errors import BatchRefused, KhenthuongError, StepRefused
from khenthuong.rules.catalog import NoRulesInForce, catalog_in
from khenthuong.runtime import Runtime
from khenthuong.services import decisions, stepping
from khenthuong.settings import get_settings
from khenthuong.storage.db import write_tx
from khenthuong.web.i18n import translate
from khenthuong.web.ui_common import refusal_line as page_line
from tests.conftest import CONFIG
from tests.services.test_council_and_decision import who
from tests.services.test_decision_numbers_and_dates import decide, giay_khen_at_head


def _no_interface(text: str) -> None:
    assert "khenthuong " not in text and "/api/" not in text and "--" not in text, text


def test_a_nomination_without_an_award_is_refused_without_a_command(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The head signs a Giấy khen whose workflow the catalog no longer links to an award:
    the refusal says so; the CLI adds `decisions create --award`, the pages the catalog."""
    nid = giay_khen_at_head(rt, "Lò Văn Hai", date(2026, 3, 2), date(2026, 3, 9))
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config)
    awards = config / "awards.yaml"
    awards.write_text(
        awards.read_text(encoding="utf-8").replace(
            "    workflow: giay_khen\n    adhoc_workflow: giay_khen_dot_xuat\n",
            "    adhoc_workflow: giay_khen_dot_xuat\n",
        ),
        encoding="utf-8",
    )
    monkeypatch.setenv("KHENTHUONG_CONFIG_DIR", str(config))
    get_settings.cache_clear()
    with pytest.raises(StepRefused) as info:
        decide(rt, nid, "7/QĐ-CCYQD")
    (refusal,) = info.value.refusals
    assert refusal.details == {"no_award": "giay_khen"}
    _no_interface(refusal.message_vi)
    _no_interface(refusal.message_en)
    assert f"hồ sơ #{nid}" in refusal.message_vi
    assert cli_line(refusal).endswith(
        "(ký với hình thức đã chọn: khenthuong decisions create --award MÃ)"
    )
    for lang in ("vi", "en"):
        line = page_line(refusal, lang)
        assert line.endswith(translate("hint_award_catalog", lang)) and "khenthuong" not in line
    assert "danh mục khen thưởng" in page_line(refusal, "vi")
    assert "award catalog" in page_line(refusal, "en")


def test_signing_in_a_batch_points_to_where_decisions_are_signed(rt: Runtime) -> None:
    nid = giay_khen_at_head(rt, "Lò Thị Ba", date(2026, 3, 2), date(2026, 3, 9))
    with pytest.raises(BatchRefused) as info:
        stepping.advance_batch(rt.engine, rt.registry, [nid], "decide", who(rt, "tt.qd"))
    (refusal,) = info.value.failures[nid]
    assert "sign_apart" in refusal.details
    _no_interface(refusal.message_vi)
    _no_interface(refusal.message_en)
    assert cli_line(refusal).endswith("(ký quyết định: khenthuong decisions create)")
    assert page_line(refusal, "vi").endswith("(ký ở trang Quyết định, mục Ký quyết định)")
    assert page_line(refusal, "en").endswith(
        "(sign on the Decisions page, under Sign the decision)"
    )


def test_a_decision_for_another_award_names_both_awards(rt: Runtime) -> None:
    """Signing a Giấy khen into a decision of Bằng khen cấp Bộ is refused by the awards'
    names, in both languages, without their codes."""
    nid = giay_khen_at_head(rt, "Lò Văn Tư", date(2026, 3, 2), date(2026, 3, 9))
    with write_tx(rt.engine) as conn, pytest.raises(KhenthuongError) as info:
        decisions.create_decision(
            conn, rt.registry, catalog_in(CONFIG), number="8/QĐ-CCYQD",
            decided_on=date(2026, 3, 10), signer="Trưởng Ban", authority="BCY",
            award_code="BK_BO", nomination_ids=[nid], actor=who(rt, "tb.bcy"),
        )  # fmt: skip
    assert "đề nghị Giấy khen, không phải Bằng khen cấp Bộ" in str(info.value)
    assert info.value.en == (
        f"Nomination #{nid} is for Certificate of Commendation, not Ministry Certificate of Merit"
    )
    assert "GIAY_KHEN" not in str(info.value) and "BK_BO" not in str(info.value)


def test_no_rules_in_force_names_the_award() -> None:
    with pytest.raises(NoRulesInForce) as info:
        catalog_in(CONFIG).rules_for("GIAY_KHEN", date(1990, 1, 1))
    assert str(info.value).startswith("Chưa có quy định khen thưởng Giấy khen áp dụng ngày")
    assert info.value.message_en.startswith("no rules of Certificate of Commendation in force")
    assert "GIAY_KHEN" not in str(info.value) + info.value.message_en
