"""The officer's feedback on the pages: a message after each action, a confirmation naming the
outcome before a step that ends or signs a file, nothing ticked by default, names instead of
codes, Vietnamese number formats, and error pages in HTML for a browser (problem+json for /api)."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from khenthuong.runtime import Runtime

Browser = Callable[[str], tuple[TestClient, str]]
PAGE = {"Accept": "text/html,application/xhtml+xml"}


def _new(c: TestClient, csrf: str) -> str:
    form = c.get("/new").text
    found = re.search(r'value="(\d+)"[^>]*>Nguyễn Văn An', form)
    assert found is not None
    r = c.post("/new", data={"workflow": "giay_khen", "proposing_unit": "CCYQD",
                             "person_id": found.group(1), "year": "2026", "csrf_token": csrf},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


def _csrf_of(c: TestClient) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/queue").text)
    assert found is not None
    return found.group(1)


def _flash(page: str) -> str:
    found = re.search(r'data-testid="flash">([^<]*)<', page)
    return found.group(1) if found else ""


def test_each_action_leaves_a_message_shown_once(browser: Browser) -> None:
    """Creating a file and taking a step each say what was done, once (the next page is plain)."""
    c, csrf = browser("cb.qd")
    url = _new(c, csrf)
    nid = url.rsplit("/", 1)[1]
    page = c.get(url).text
    assert _flash(page) == f"Đã lập hồ sơ #{nid}. Đính kèm tài liệu rồi trình hồ sơ."
    assert _flash(c.get(url).text) == ""  # read once
    r = c.post(f"{url}/advance", data={"trigger": "submit", "csrf_token": csrf})
    assert r.status_code == 200
    assert re.search(rf"Đã thực hiện «[^»]+» cho hồ sơ #{nid}; trạng thái hiện tại: ", r.text)
    assert "submit" not in _flash(r.text)
    # In English the same message is English only.
    c.cookies.set("kt_lang", "en")
    r = c.post(
        f"{url}/advance", data={"trigger": "withdraw", "csrf_token": csrf, "f_reason": "Rút"}
    )
    assert _flash(r.text).startswith("Done: ") and "Đã" not in _flash(r.text)


def test_a_forged_flash_cookie_shows_nothing(browser: Browser) -> None:
    """Only a message the server sealed is shown."""
    c, _ = browser("cb.qd")
    c.cookies.set("kt_flash", "eyJrIjoicXVldWUifQ.forged.sig")
    assert _flash(c.get("/queue").text) == ""


def test_steps_that_end_or_sign_a_file_ask_first(browser: Browser) -> None:
    """Withdraw names its outcome in a confirmation; an ordinary step does not ask."""
    c, csrf = browser("cb.qd")
    url = _new(c, csrf)
    page = c.get(url).text
    withdraw = re.search(r'<button[^>]*data-trigger="withdraw"[^>]*>', page)
    assert withdraw is not None
    assert "data-confirm=" in withdraw.group(0) and "không thể hoàn tác" in withdraw.group(0)
    submit = re.search(r'<button[^>]*data-trigger="submit"[^>]*>', page)
    assert submit is not None and "data-confirm" not in submit.group(0)


def test_names_not_codes_on_the_nomination_page(browser: Browser) -> None:
    """The unit, the officer, the role and the step show as names; codes only in a title."""
    c, csrf = browser("cb.qd")
    url = _new(c, csrf)
    c.post(f"{url}/advance", data={"trigger": "submit", "csrf_token": csrf})
    page = c.get(url).text
    unit = re.search(r'data-testid="unit" title="CCYQD">([^<]+)<', page)
    assert unit is not None and unit.group(1) == "Cục Cơ yếu Quân đội"
    timeline = page[page.index('data-testid="timeline"') :]
    visible = re.sub(r"<[^>]+>", " ", timeline)
    for code in ("cb.qd", "unit_officer", "(submit)", "(create)"):
        assert code not in visible, code
    assert "Cán bộ thi đua – khen thưởng đơn vị" in visible


def test_council_and_signing_forms_tick_nothing_by_default(browser: Browser) -> None:
    """The agenda and decision forms list the waiting files unticked."""
    for user, path in (("tk.qd", "/councils"), ("tt.qd", "/decisions")):
        c, _ = browser(user)
        page = c.get(path).text
        assert not re.search(r'type="checkbox" name="nomination_id"[^>]*checked', page), user


def test_error_pages_are_html_for_a_browser_and_problems_for_the_api(
    browser: Browser, web_rt: Runtime
) -> None:
    """A missing file is a Vietnamese page for a browser, problem+json on /api."""
    c, _ = browser("cb.qd")
    page = c.get("/nominations/999999", headers=PAGE)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "<h1>Không tìm thấy</h1>" in page.text and "(not found)" not in page.text
    assert "Không có hồ sơ #999999" in page.text and "(no nomination" not in page.text
    missing = c.get("/khong-co-trang-nay", headers=PAGE)
    assert missing.status_code == 404 and "Không tìm thấy" in missing.text
    bad = c.get("/nominations/abc", headers=PAGE)
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("text/html")
    api = c.get("/api/nominations/999999", headers=PAGE)
    assert api.status_code == 404
    assert api.headers["content-type"].startswith("application/problem+json")
    body = api.json()  # one language per field: Vietnamese, and its English apart
    assert (body["title"], body["detail"]) == ("Không tìm thấy", "Không có hồ sơ #999999")
    assert body["detail_en"] == "No nomination #999999"
    other, _ = browser("cb.dcq")
    refused = other.get(_new(c, _csrf_of(c)), headers=PAGE)
    assert refused.status_code == 403 and "<h1>Không có quyền</h1>" in refused.text
    c.cookies.set("kt_lang", "en")
    english = c.get("/nominations/999999", headers=PAGE)
    assert "<h1>Not found</h1>" in english.text and "No nomination #999999" in english.text
    assert "Không có hồ sơ" not in english.text


def test_money_and_coefficients_in_vietnamese_format(browser: Browser) -> None:
    """A decided file shows its award money as 3.510.000 đồng-style, never 3,510,000."""
    c, csrf = browser("cb.qd")
    url = _new(c, csrf)
    for user, trigger, extra in (("cb.qd", "submit", {}), ("tk.qd", "council_approve", {}),
                                 ("tt.qd", "decide", {"f_decision_number": "77/QĐ-CCYQD"})):  # fmt: skip
        who, token = browser(user)
        r = who.post(f"{url}/advance", data={"trigger": trigger, "csrf_token": token, **extra})
        assert 'data-testid="error"' not in r.text, r.text[-2000:]
    page = c.get(url).text
    decision = re.search(r'data-testid="decision">([^<]*)<', page)
    assert decision is not None
    assert re.search(r"\d{1,3}(\.\d{3})+ đồng", decision.group(1)), decision.group(1)
    assert not re.search(r"\d,\d{3}", decision.group(1))


def test_english_pages_carry_no_vietnamese_ui_text(browser: Browser) -> None:
    """In English the menus, headings, labels, steps and states are English (unit and person
    names stay as they are)."""
    c, csrf = browser("cb.qd")
    url = _new(c, csrf)
    c.post(f"{url}/advance", data={"trigger": "submit", "csrf_token": csrf})
    c.cookies.set("kt_lang", "en")
    ui_words = re.compile(
        r"Hồ sơ|Trạng thái|Thao tác|Lập hồ sơ|Tải |ngày làm việc|Việc của tôi|Quyết định|"
        r"Hội đồng|Nhật ký|Xuất Excel|Đăng xuất|Tài liệu|Lịch sử|Người thực hiện"
    )
    for path in (url, "/queue", "/nominations", "/new", "/councils", "/decisions", "/workflows",
                 "/workflows/giay_khen", "/audit?actor=cb.qd", "/blocs", "/persons/1"):  # fmt: skip
        page = c.get(path)
        assert page.status_code == 200, path
        body = page.text[page.text.index("<body") :]
        body = re.sub(r'<small lang="vi">.*?</small>', "", body)  # cited Vietnamese law
        visible = re.sub(r"<[^>]+>", " ", re.sub(r"<(script|style)[^>]*>.*?</\1>", "", body))
        found = sorted(set(ui_words.findall(visible)))
        assert not found, (
            path,
            found,
            [visible[max(0, m.start() - 80) : m.end() + 20] for m in ui_words.finditer(visible)][
                :3
            ],
        )


def test_a_service_message_with_an_english_gloss_shows_in_one_language() -> None:
    """ "Vietnamese (English gloss)" shows as the Vietnamese part, or in English the gloss; a
    parenthesis that is not a gloss (a code, a point of law) stays."""
    from khenthuong.web.ui_common import one_language

    text = "Không có đơn vị 'X' (no such unit)"
    assert one_language(text, "vi") == "Không có đơn vị 'X'"
    assert one_language(text, "en") == "No such unit"
    assert one_language("Căn cứ (74.1.b)", "vi") == "Căn cứ (74.1.b)"
    assert one_language("Biểu mẫu không hợp lệ (CSRF)", "en") == "Biểu mẫu không hợp lệ (CSRF)"
