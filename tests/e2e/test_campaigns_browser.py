"""In headless Chromium: a ministry officer launches a campaign with its plan from the
Phong trào thi đua page, opens it, then reads the Thống kê page of Ban Cơ yếu."""

from __future__ import annotations

from datetime import date

from tests.e2e.test_browser import _shot, _sign_in, live, server

__all__ = ["live", "server"]  # the module-scoped fixtures, used here too


def test_launch_a_campaign_and_read_the_statistics_in_chromium(
    server: str, chromium: object
) -> None:
    page = _sign_in(chromium, server, "cv.bcy")
    page.click("nav a[href='/campaigns']")
    page.wait_for_selector("#campaign-form")
    page.fill("input[name=title]", "Thi đua chào mừng 80 năm ngày truyền thống ngành Cơ yếu")
    page.select_option("select[name=kind]", "theo_dot")
    page.fill("input[name=starts_on]", "01/03/2026")
    page.fill("input[name=ends_on]", "12/09/2026")
    page.fill("textarea[name=targets]", "100% đơn vị đăng ký thi đua\nMỗi cục một mô hình mới")
    page.fill("input[name=plan_number]", "12/KH-BCY")
    page.set_input_files(
        "#campaign-form input[type=file]",
        files=[{"name": "ke-hoach.pdf", "mimeType": "application/pdf",
                "buffer": b"%PDF-1.4 ke hoach phat dong"}],
    )  # fmt: skip
    _shot(page, "21-campaign-new")
    page.click("#campaign-form button[type=submit]")
    page.wait_for_selector("[data-testid=campaign]")
    assert "Phong trào thi đua theo đợt" in page.inner_text("[data-testid=campaign]")
    assert "Mỗi cục một mô hình mới" in page.inner_text("[data-testid=targets]")
    assert "ke-hoach.pdf" in page.inner_text("[data-testid=documents]")
    _shot(page, "22-campaign")
    page.click("nav a[href='/statistics']")
    page.wait_for_selector("#stats-form")
    page.fill("input[name=year]", str(date.today().year - 1))
    page.click("#stats-form button[type=submit]")
    page.wait_for_selector("[data-testid=stats-title]")
    assert "Ban Cơ yếu Chính phủ" in page.inner_text("[data-testid=stats-title]")
    assert "Cục Cơ yếu Quân đội" in page.inner_text("[data-testid=stats-unit-table]")
    _shot(page, "23-statistics")
    page.context.close()  # type: ignore[attr-defined]
