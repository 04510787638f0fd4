"""End to end in real headless Chromium against `khenthuong serve`.

An officer signs in, creates a nomination, attaches the dossier and submits it; the unit
head forwards it, the ministry appraises it, the council secretary holds the session and
enters the secret-ballot tally, the minister signs the decision; the timeline shows every
step and the list exports to XLSX. Screenshots go to $KHENTHUONG_TEST_ARTIFACTS (default:
the temporary folder's khenthuong-artifacts/), never into the checkout.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.live_server import LiveServer, live_server
from tests.service_guard import absent

CHROMIUM = Path(os.environ.get("KHENTHUONG_TEST_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(
    os.environ.get("KHENTHUONG_TEST_ARTIFACTS")
    or Path(tempfile.gettempdir()) / "khenthuong-artifacts"
)
"""Screenshots and downloads: outside the checkout (tests never write into it)."""
PASSWORD = "thidua2026"

if not CHROMIUM.exists():
    absent(
        "Debian's chromium is not installed (/usr/bin/chromium); `bash scripts/install --dev` "
        "installs it with apt-get when run as root"
    )
try:
    from playwright import sync_api
except ImportError:
    absent("Playwright for Python is not installed (`bash scripts/install --dev`)")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`khenthuong serve` on the embedded default (SQLite file, in-process jobs)."""
    year = date.today().year
    seed = (
        "from khenthuong.cli.walkthrough import _seed_cstdcs\n"
        "from khenthuong.runtime import open_runtime\n"
        f"_seed_cstdcs(open_runtime(), 1, [{year - 1}, {year}])\n"
    )
    with live_server(tmp_path_factory.mktemp("serve"), seed) as running:
        yield running


@pytest.fixture(scope="module")
def server(live: LiveServer) -> str:
    return live.base


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


def _shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def _sign_in(chromium: object, base: str, username: str) -> object:
    context = chromium.new_context(locale="vi-VN", accept_downloads=True)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=user]")
    assert page.inner_text("[data-testid=user]").startswith(username)
    return page


def _click_action(page: object, trigger: str) -> None:
    """Press an action button and wait until the step shows on the page, or its refusal does.

    With htmx the form posts over XHR and swaps the page in place (no navigation, and the
    network can look idle before the swap); without it the browser navigates. Either way the
    timeline gains the step's event, or an error appears.
    """
    before = page.inner_text("[data-testid=timeline]")  # type: ignore[attr-defined]
    page.click(f"button[data-trigger={trigger}]")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        """(before) => {
            const t = document.querySelector('[data-testid=timeline]');
            return document.querySelector('[data-testid=error]') || (t && t.innerText !== before);
        }""",
        arg=before,
    )


def test_nomination_from_proposal_to_decision_in_chromium(server: str, chromium: object) -> None:
    # 1. The unit officer proposes a Bằng khen cấp Bộ and attaches the dossier.
    page = _sign_in(chromium, server, "cb.qd")
    _shot(page, "01-queue")
    page.click("a[href='/new']")
    page.wait_for_selector("#new-form")
    page.select_option("select[name=workflow]", "bang_khen_bo")
    page.select_option("select[name=proposing_unit]", "CCYQD")
    page.select_option("select[name=person_id]", label="Nguyễn Văn An (CCYQD)")
    page.wait_for_selector("[data-testid=eligibility]")
    assert "Đủ điều kiện" in page.inner_text("[data-testid=eligibility]")
    page.fill("textarea[name=comment]", "Hoàn thành xuất sắc nhiệm vụ năm")
    _shot(page, "02-new-nomination")
    page.click("#new-form button[type=submit]")
    page.wait_for_selector("[data-testid=timeline]")
    url = page.url
    assert "/nominations/" in url
    for doc in ("to_trinh", "bao_cao_thanh_tich", "bien_ban_binh_xet"):
        page.select_option("select[name=doc_type]", doc)
        page.set_input_files(
            "input[type=file]",
            files=[{"name": f"{doc}.pdf", "mimeType": "application/pdf",
                    "buffer": f"%PDF-1.4 {doc}".encode()}],
        )  # fmt: skip
        page.click("form[enctype='multipart/form-data'] button[type=submit]")
        page.wait_for_selector(f"text={doc}.pdf")
    _click_action(page, "submit")
    assert page.inner_text("[data-testid=state]") == "Thủ trưởng đơn vị ký tờ trình", (
        page.inner_text("main")
    )
    _shot(page, "03-submitted")
    page.context.close()

    # 2. The unit head finds it in "Việc của tôi" and forwards it; 3. the ministry appraises.
    for username, trigger in (("tt.qd", "forward"), ("cv.bcy", "appraise")):
        page = _sign_in(chromium, server, username)
        page.click(f"a[href='{url.removeprefix(server)}']")
        page.wait_for_selector("[data-testid=timeline]")
        _click_action(page, trigger)
        assert not page.query_selector("[data-testid=error]"), page.inner_text("main")
        page.context.close()

    # 4. The council secretary holds the session and enters the tally.
    page = _sign_in(chromium, server, "tk.bcy")
    page.click("a[href='/councils']")
    page.fill("textarea[name=members]", "\n".join(f"Ủy viên {i}" for i in range(1, 8)))
    page.click("form[action='/councils'] button[type=submit]")
    page.wait_for_selector("text=7 thành viên, 7 có mặt")
    page.click("form[action$='/items'] button[type=submit]")
    nid = url.rsplit("/", 1)[1]
    page.wait_for_selector(f"input[name=agree_{nid}]")
    page.fill(f"input[name=agree_{nid}]", "7")
    page.fill(f"input[name=disagree_{nid}]", "0")
    page.fill(f"input[name=abstain_{nid}]", "0")
    _shot(page, "04-council-tally")
    page.click("button[name=close]")
    page.wait_for_selector("[data-testid=minutes]")
    assert "BIÊN BẢN" in page.inner_text("[data-testid=minutes]")
    page.context.close()

    # 5. The minister signs the decision.
    page = _sign_in(chromium, server, "tb.bcy")
    page.goto(url)
    page.fill("input[name=f_decision_number]", f"{nid}/QĐ-BCY")
    _click_action(page, "decide")
    assert page.inner_text("[data-testid=state]") == "Đã có quyết định khen thưởng", (
        page.inner_text("main")
    )
    timeline = page.inner_text("[data-testid=timeline]")
    for trigger in ("create", "submit", "forward", "appraise", "council_approve", "decide"):
        assert trigger in timeline
    assert f"{nid}/QĐ-BCY" in timeline
    assert "đồng" in page.inner_text("[data-testid=decision]")
    _shot(page, "05-decided-timeline")

    # The workflow diagram counts the decided nomination.
    page.goto(f"{server}/workflows/bang_khen_bo")
    badge = page.locator("svg a[data-state=decided] text").last
    assert int(badge.text_content() or "0") >= 1
    _shot(page, "05b-workflow-diagram")

    # 6. The list exports to XLSX.
    page.click("a[href='/nominations']")
    page.wait_for_selector("[data-testid=export]")
    with page.expect_download() as info:
        page.click("[data-testid=export]")
    path = ARTIFACTS / "ho-so.xlsx"
    info.value.save_as(str(path))
    rows = list(load_workbook(io.BytesIO(path.read_bytes())).active.iter_rows(values_only=True))
    assert any(r[1] == "Nguyễn Văn An" for r in rows[1:])

    # The pages fit a phone screen (wide content scrolls inside its own box).
    page.set_viewport_size({"width": 390, "height": 844})
    for path in (url.removeprefix(server), "/queue", "/nominations", "/new", "/councils",
                 "/decisions", "/audit?actor=cb.qd", "/workflows/bang_khen_bo", "/persons/1",
                 "/blocs", "/blocs/KCY4?year=2019"):  # fmt: skip
        page.goto(server + path)
        too_wide = page.evaluate(
            """() => [...document.querySelectorAll('body *')]
                .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                             && !e.closest('.svg-wrap'))
                .map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').slice(0, 40))
                .slice(0, 5)"""
        )
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (
            path,
            too_wide,
        )
    page.goto(url)
    _shot(page, "06-phone")
    page.context.close()


def test_wrong_password_and_cross_unit_page_in_chromium(server: str, chromium: object) -> None:
    context = chromium.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(f"{server}/login")
    page.fill("input[name=username]", "cb.dcq")
    page.fill("input[name=password]", "sai-mat-khau")
    page.click("button[type=submit]")
    page.wait_for_selector("[role=alert]")
    assert "Sai tên đăng nhập" in page.inner_text("[role=alert]")
    context.close()
    page = _sign_in(chromium, server, "cb.dcq")
    response = page.goto(f"{server}/nominations/1")
    assert response is not None and response.status == 403
    missing = page.goto(f"{server}/khong-co-trang-nay")
    assert missing is not None and missing.status == 404
    assert "Không tìm thấy" in page.inner_text("main")
    _shot(page, "07-forbidden")
    page.context.close()


def test_the_council_secretary_passes_ticked_files_from_the_queue(
    live: LiveServer, chromium: object
) -> None:
    """Two Giấy khen files at the unit council: the secretary ticks both in Việc của tôi,
    picks the council's step and applies it; the page says both were done and both files
    are then with the head of unit."""
    ids = []
    for name in ("Đào Văn Lô", "Mai Thị Lô"):
        nid = live.cli("nominate", "giay_khen", "--nominee", name, "--create-person",
                       "--unit", "CCYQD",
                       "--as", "cb.qd").strip()  # fmt: skip
        live.cli("advance", nid, "submit", "--as", "cb.qd")
        ids.append(nid)
    page = _sign_in(chromium, live.base, "tk.qd")
    page.goto(f"{live.base}/queue")  # type: ignore[attr-defined]
    for nid in ids:
        page.check(f"input[name=nomination_id][value='{nid}']")  # type: ignore[attr-defined]
    page.select_option("select[name=trigger]", "council_approve")  # type: ignore[attr-defined]
    page.click("#batch-form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("[data-testid=batch-result], [data-testid=error]")  # type: ignore[attr-defined]
    _shot(page, "queue-batch")
    assert "Đã thực hiện 2 bước" in page.inner_text("[data-testid=batch-result]")  # type: ignore[attr-defined]
    for nid in ids:
        assert "head_decision" in live.cli("show", nid)
