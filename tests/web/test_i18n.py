"""The web UI's gettext catalogs (vi, en) are complete, consistent and compile; numbers, money,
percentages and dates follow each language's Babel format."""

from __future__ import annotations

import re
import string
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po
from jinja2.ext import babel_extract

from khenthuong import formats
from khenthuong.web import i18n

WEB = Path(i18n.__file__).parent
TEMPLATES = WEB / "templates"
CALL = re.compile(r"""translate\(\s*["']([a-z0-9_]+)["']\s*[,)]""")
FLASH = re.compile(r'(?:done|_back_to_bloc)\(\s*request,[^\n]*?,\s*"([a-z0-9_]+)"')


def _catalog(lang: str) -> dict[str, str]:
    with i18n.po_path(lang).open("rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle, locale=lang) if m.id}


def _used_keys() -> set[str]:
    """Every literal message key the templates (`_()`, `t()`) and the page modules use."""
    keys: set[str] = set()
    for template in TEMPLATES.glob("*.html"):
        with template.open("rb") as handle:
            found = babel_extract(
                handle, ("_", "t", "gettext"), [], {"extensions": "jinja2.ext.i18n"}
            )
            keys |= {msg for _, _, msg, _ in found if isinstance(msg, str)}
    for module in WEB.glob("*.py"):
        text = module.read_text(encoding="utf-8")
        keys |= set(CALL.findall(text)) | set(FLASH.findall(text))
    return keys


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_the_pages_use_is_in_both_catalogs() -> None:
    """A key used by a template or a page module has a non-empty text in vi and in en."""
    used = _used_keys()
    assert {"queue", "step_done", "confirm_step", "session_closed"} <= used  # the scan finds keys
    for lang in i18n.LANGS:
        catalog = _catalog(lang)
        missing = sorted(k for k in used if not catalog.get(k, "").strip())
        assert not missing, f"{lang}: {missing}"


def test_both_catalogs_hold_the_same_keys_and_placeholders() -> None:
    """vi and en translate the same keys, each with the same {placeholders}, in NFC."""
    vi, en = _catalog("vi"), _catalog("en")
    assert set(vi) == set(en), set(vi) ^ set(en)
    for key in vi:
        assert _fields(vi[key]) == _fields(en[key]), key
        assert unicodedata.is_normalized("NFC", vi[key]), key


def test_one_language_per_message() -> None:
    """No Vietnamese text carries an English gloss in parentheses, nor an English one Vietnamese."""
    vietnamese = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)
    for key, text in _catalog("en").items():
        if key == "lang":  # the switch to Vietnamese names it in Vietnamese
            continue
        assert not vietnamese.search(text.replace("vắng", "")), (key, text)
    for key, text in _catalog("vi").items():
        assert not re.search(r"\((not found|nothing|invalid|read-only|no file)", text), (key, text)


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_the_catalogs_compile_and_an_installed_mo_is_current(lang: str, tmp_path: Path) -> None:
    """Each .po is well formed (a syntax error fails here; Babel would only warn and drop the
    line), compiles to a .mo that reads back the same; a .mo built by the install script (when
    present) says what the .po says; without one the catalog compiles in memory."""
    with i18n.po_path(lang).open("rb") as handle:
        catalog = read_po(handle, locale=lang, abort_invalid=True)
    assert not list(catalog.check())
    out = tmp_path / "messages.mo"
    with out.open("wb") as handle:
        write_mo(handle, catalog)
    with out.open("rb") as handle:
        back = {m.id: m.string for m in read_mo(handle) if m.id}
    assert back == _catalog(lang)
    installed = i18n.po_path(lang).with_suffix(".mo")
    if installed.exists() and installed.stat().st_mtime >= i18n.po_path(lang).stat().st_mtime:
        with installed.open("rb") as handle:
            assert {m.id: m.string for m in read_mo(handle) if m.id} == back
    memory = i18n.compiled(lang)
    assert memory.gettext("queue") == back["queue"]


def test_translate_falls_back_to_strings_a_module_adds() -> None:
    """A key not in the catalogs comes from STRINGS; a catalog key wins over STRINGS."""
    i18n.STRINGS.update({"zz_test_only": ("Thử {n}", "Try {n}"), "queue": ("X", "Y")})
    try:
        assert i18n.translate("zz_test_only", "vi", n=2) == "Thử 2"
        assert i18n.translate("zz_test_only", "en", n=2) == "Try 2"
        assert i18n.translate("queue", "vi") == "Việc của tôi"
        assert i18n.translate("queue", "en") == "My work"
    finally:
        del i18n.STRINGS["zz_test_only"], i18n.STRINGS["queue"]


def test_numbers_money_percentages_and_dates_in_each_language() -> None:
    """Vietnamese writes 3.510.000, 0,3, 90,0 % (a no-break space: the sign never wraps to the
    next line) and 05/12/2026; English 3,510,000, 0.3, 90.0%."""
    assert formats.money(3_510_000, "vi") == "3.510.000 đồng"
    assert formats.money(3_510_000, "en") == "3,510,000 VND"
    assert formats.number(0.3, "vi") == "0,3"
    assert formats.number(0.3, "en") == "0.3"
    assert formats.percent(0.9, "vi") == "90,0\u00a0%"
    assert formats.percent(0.15, "vi", 0) == "15\u00a0%"
    assert formats.percent(0.9, "en") == "90.0%"
    assert formats.day(date(2026, 12, 5), "vi") == "05/12/2026"
    assert formats.day("2026-12-05", "en") == "05/12/2026"
    # 17:30 UTC is 00:30 the next day in Hà Nội
    assert formats.moment(datetime(2026, 12, 5, 17, 30, tzinfo=UTC), "vi") == "06/12/2026 00:30"
    assert formats.day(None) == "" and formats.money(None) == ""


def test_the_loader_answers_in_each_language() -> None:
    """The compiled catalogs answer in each language (the loader reads them once)."""
    assert i18n.translations("en").gettext("nominations") == "Nominations"
    assert i18n.translations("vi").gettext("nominations") == "Hồ sơ"
    assert i18n.translations("xx").gettext("nominations") == "Hồ sơ"  # unknown: Vietnamese
