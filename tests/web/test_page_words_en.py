"""In the English locale the pages' own refusals are English: a bad date or year named by the
field's label, a bloc's scoring rule; nothing of it left in Vietnamese."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from khenthuong.runtime import Runtime
from tests.architecture.test_one_language import VIETNAMESE

Browser = Callable[[str], tuple[TestClient, str]]


def _error(html: str) -> str:
    start = html.index('class="error" role="alert"')
    return html[html.index(">", start) + 1 : html.index("</", start)]


def test_page_refusals_speak_the_pages_language(web_rt: Runtime, browser: Browser) -> None:
    c, csrf = browser("tk.qd")
    c.cookies.set("kt_lang", "en")
    r = c.post("/councils", data={
        "csrf_token": csrf, "unit": "CCYQD", "title": "Phiên", "held_on": "31/02/2026",
        "members": "A\nB\nC",
    })  # fmt: skip
    assert r.status_code == 422
    assert _error(r.text) == "Date: &#39;31/02/2026&#39; is not a day of the calendar"
    r = c.get("/statistics?year=20x6")
    assert "From year: &#39;20x6&#39; is not a year" in r.text
    minister, minister_csrf = browser("tb.bcy")
    minister.cookies.set("kt_lang", "en")
    r = minister.post("/delegations", data={
        "csrf_token": minister_csrf, "delegate": "pt.bcy", "unit": "BCY", "mode": "KT",
        "delegate_title": "Phó Trưởng ban", "ends_on": "mai", "reason": "Công tác",
    })  # fmt: skip
    message = _error(r.text)
    assert message.startswith("Until: &#39;mai&#39; is not a date; write dd/mm/yyyy")
    assert not VIETNAMESE.search(message)
    c.cookies.set("kt_lang", "vi")
    r = c.get("/statistics?year=20x6")
    assert "Từ năm: &#39;20x6&#39; không phải một năm" in r.text


def test_a_blocs_scoring_rule_reads_in_english(web_rt: Runtime, browser: Browser) -> None:
    c, _ = browser("kiemtra")
    c.cookies.set("kt_lang", "en")
    page = c.get("/blocs/KCY4/years/2026").text
    assert "/ target met" in page and "Government emulation flags:" in page
    assert "chỉ tiêu đạt" not in page and "Cờ thi đua của Chính phủ:" not in page
