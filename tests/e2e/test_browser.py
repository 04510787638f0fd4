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
import re
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
    from playwright import sync_api  # noqa: F401 - conftest's `chromium` launches it
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


def _shot(page: object, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / name).parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


DIALOGS: list[str] = []
"""The confirmations the pages asked (each accepted), newest last."""


def _accept(dialog: object) -> None:
    DIALOGS.append(dialog.message)  # type: ignore[attr-defined]
    dialog.accept()  # type: ignore[attr-defined]


def _sign_in(
    chromium: object, base: str, username: str, viewport: dict[str, int] | None = None
) -> object:
    context = chromium.new_context(  # type: ignore[attr-defined]
        locale="vi-VN", accept_downloads=True, viewport=viewport or {"width": 1366, "height": 900}
    )
    page = context.new_page()
    page.on("dialog", _accept)
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=user]")
    # The officer's name shows; the user name only on hover.
    assert page.get_attribute("[data-testid=user]", "title") == username
    assert username not in page.inner_text("[data-testid=user]")
    return page


def _flash(page: object) -> str:
    """The message the last action left on the page."""
    page.wait_for_selector("[data-testid=flash]")  # type: ignore[attr-defined]
    return str(page.inner_text("[data-testid=flash]"))  # type: ignore[attr-defined]


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
    page.select_option("select[name=person_id]", label="Nguyễn Văn An — Cục Cơ yếu Quân đội")
    page.wait_for_selector("[data-testid=eligibility]")
    assert "Đủ điều kiện" in page.inner_text("[data-testid=eligibility]")
    page.fill("textarea[name=comment]", "Hoàn thành xuất sắc nhiệm vụ năm")
    _shot(page, "02-new-nomination")
    page.click("#new-form button[type=submit]")
    page.wait_for_selector("[data-testid=timeline]")
    url = page.url
    assert "/nominations/" in url
    assert _flash(page).startswith("Đã lập hồ sơ #")
    assert page.inner_text("[data-testid=unit]") == "Cục Cơ yếu Quân đội"
    for doc in ("to_trinh", "bao_cao_thanh_tich", "bien_ban_binh_xet"):
        page.select_option("select[name=doc_type]", doc)
        page.set_input_files(
            "input[type=file]",
            files=[{"name": f"{doc}.pdf", "mimeType": "application/pdf",
                    "buffer": f"%PDF-1.4 {doc}".encode()}],
        )  # fmt: skip
        page.click("form[enctype='multipart/form-data'] button[type=submit]")
        page.wait_for_selector(f"text={doc}.pdf")
        assert _flash(page) == f"Đã đính kèm tệp {doc}.pdf."
    _click_action(page, "submit")
    assert "Đã thực hiện «" in _flash(page)
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
        assert "Đã thực hiện «" in _flash(page)
        _shot(page, f"03-{trigger}")  # the officers' guide shows both (docs/huong-dan)
        page.context.close()

    # 4. The council secretary holds the session and enters the tally.
    page = _sign_in(chromium, server, "tk.bcy")
    page.click("a[href='/councils']")
    page.fill("textarea[name=members]", "\n".join(f"Ủy viên {i}" for i in range(1, 8)))
    page.click("form[action='/councils'] button[type=submit]")
    page.wait_for_selector("text=7 thành viên, 7 có mặt")
    assert _flash(page).startswith("Đã mở phiên họp")
    nid = url.rsplit("/", 1)[1]
    boxes = page.locator("form[action$='/items'] input[type=checkbox]")
    assert boxes.count() >= 1 and not any(b.is_checked() for b in boxes.all())  # none ticked
    page.check(f"form[action$='/items'] input[value='{nid}']")
    page.click("form[action$='/items'] button[type=submit]")
    page.wait_for_selector(f"input[name=agree_{nid}]")
    page.fill(f"input[name=agree_{nid}]", "7")
    page.fill(f"input[name=disagree_{nid}]", "0")
    page.fill(f"input[name=abstain_{nid}]", "0")
    _shot(page, "04-council-tally")
    page.click("button[name=close]")
    page.wait_for_selector("[data-testid=minutes]")
    assert DIALOGS[-1].startswith("Kết thúc phiên họp: kết quả bỏ phiếu được chốt, 1 hồ sơ")
    assert "BIÊN BẢN" in page.inner_text("[data-testid=minutes]")
    assert _flash(page).startswith("Đã kết thúc phiên họp: 1 hồ sơ")
    # The closed session's tallies are read-only: no inputs, no save buttons.
    assert page.locator("[data-testid=tallies-readonly] input").count() == 0
    assert page.locator("button[name=close]").count() == 0
    _shot(page, "04b-council-closed")
    page.context.close()

    # 5. The minister signs the decision.
    page = _sign_in(chromium, server, "tb.bcy")
    page.goto(url)
    page.fill("input[name=f_decision_number]", f"{nid}/QĐ-BCY")
    _click_action(page, "decide")
    assert (  # signing asked first, naming the outcome
        f"hồ sơ #{nid} (Nguyễn Văn An): hồ sơ sẽ chuyển sang «Đã có quyết định khen thưởng» "
        "và không thể hoàn tác" in DIALOGS[-1]
    ), DIALOGS
    assert page.inner_text("[data-testid=state]") == "Đã có quyết định khen thưởng", (
        page.inner_text("main")
    )
    assert _flash(page) == f"Đã ký quyết định {nid}/QĐ-BCY cho 1 hồ sơ."
    timeline = page.inner_text("[data-testid=timeline]")
    for trigger in ("create", "submit", "forward", "appraise", "council_approve", "decide"):
        assert trigger not in timeline  # steps by name; the code only on hover
        assert page.locator(f"[data-testid=timeline] [data-trigger={trigger}]").count() >= 1
    for title in ("Lập hồ sơ", "Nguyễn Thị Hoa", "Cán bộ thi đua – khen thưởng đơn vị"):
        assert title in timeline
    assert "cb.qd" not in timeline and "unit_officer" not in timeline
    assert f"{nid}/QĐ-BCY" in timeline
    money = page.inner_text("[data-testid=decision]")
    assert "đồng" in money and re.search(r"\d\.\d{3} đồng", money), money
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
    # The auditor reads the audit trail and verifies every chain (the officers' guide shows it).
    page = _sign_in(chromium, server, "kiemtra")
    page.goto(f"{server}/audit?verify=1")
    assert "error" not in str(page.get_attribute("[data-testid=verify]", "class"))
    _shot(page, "08-auditor-verify")
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


AXE = Path(__file__).parent / "vendor" / "axe.min.js"
"""axe-core, put there by `scripts/fetch-axe` (pinned version and SHA-256)."""
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
CODES = re.compile(
    r"(?<![-/])\b(CCYQD|CCYDCQ|BCY|KCY4|cb\.qd|tk\.bcy|tb\.bcy|unit_officer|council_secretary"
    r"|minister|GIAY_KHEN|BANG_KHEN_BO|CSTD_BO|council_approve|unit_review|ministry_council)\b"
)
"""Codes an officer should never have to read on a page (a decision number's ký hiệu such
as 15/QĐ-BCY is the document's own number, hence the lookbehind)."""


def _axe(page: object) -> list[str]:
    """axe-core's violations on the page (every rule axe runs by default)."""
    page.add_script_tag(path=str(AXE))  # type: ignore[attr-defined]
    found = page.evaluate(  # type: ignore[attr-defined]
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' — '
                 + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | '))"""
    )
    return list(found)


def _first_link(page: object, base: str, path: str, prefix: str) -> str | None:
    page.goto(base + path)  # type: ignore[attr-defined]
    link = page.query_selector(f"main a[href^='{prefix}']")  # type: ignore[attr-defined]
    return str(link.get_attribute("href")) if link else None


def test_every_page_is_accessible_and_shows_names_not_codes(server: str, chromium: object) -> None:
    """axe-core finds no violation on any page, at desktop and phone sizes; no page shows a
    unit, officer, role, award or step code as text; each page's screenshot is kept."""
    if not AXE.exists():
        absent("axe-core is not vendored (`bash scripts/fetch-axe`, run by scripts/install --dev)")
    problems: dict[str, list[str]] = {}
    for size, viewport in SIZES.items():
        pages: list[tuple[str, str | None]] = [("/login", None)]
        for user, paths in (
            ("cb.qd", ["/queue", "/nominations", "/new", "/proposals", "/persons/1",
                       "/workflows", "/workflows/bang_khen_bo", "/audit?actor=cb.qd", "/blocs",
                       "/blocs/KCY4?year=2019", "/khong-co-trang-nay"]),
            ("cb.qd", ["/unit-year", "/campaigns", "/statistics", "/delegations"]),
            ("tk.bcy", ["/councils"]),
            ("tb.bcy", ["/decisions"]),
            ("admin", ["/admin/org", "/admin/mail", "/delegations"]),
        ):  # fmt: skip
            pages += [(p, user) for p in paths]
        signed: dict[str, object] = {}
        for user in ("cb.qd", "tk.bcy", "tb.bcy", "admin"):
            signed[user] = _sign_in(chromium, server, user, viewport)
        for user, list_path, prefix in (
            ("cb.qd", "/nominations", "/nominations/"),
            ("tk.bcy", "/councils", "/councils/"),
            ("tb.bcy", "/decisions", "/decisions/"),
        ):
            found = _first_link(signed[user], server, list_path, prefix)
            if found:
                pages.append((found, user))
        anonymous = chromium.new_context(viewport=viewport)  # type: ignore[attr-defined]
        for path, user in pages:
            page = signed[user] if user else anonymous.new_page()
            page.goto(server + path)  # type: ignore[attr-defined]
            page.wait_for_load_state("load")  # type: ignore[attr-defined]
            name = re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-") or "home"
            _shot(page, f"pages/{size}-{name}")
            violations = _axe(page)
            if violations:
                problems[f"{size} {path}"] = violations
            text = str(page.inner_text("body"))  # type: ignore[attr-defined]
            codes = sorted(set(CODES.findall(text)))
            if codes:
                problems[f"{size} {path} codes"] = codes
        anonymous.close()
        for page in signed.values():
            page.context.close()  # type: ignore[attr-defined]
    assert not problems, "\n".join(f"{k}: {v}" for k, v in problems.items())


def test_the_delegation_form_lists_the_chosen_delegators_units_by_name(
    server: str, chromium: object
) -> None:
    """An administrator picks a delegator: the unit list becomes that delegator's units (by
    name, indented under the units above them), the officer's own unit is selected, and the
    roles and delegates offered become the delegator's."""
    page = _sign_in(chromium, server, "admin")
    page.goto(f"{server}/delegations")  # type: ignore[attr-defined]
    unit = "select[name=unit] option"
    assert page.locator(unit).count() > 10  # type: ignore[attr-defined]
    page.select_option("select[name=delegator]", "cb.qd")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => document.querySelectorAll('select[name=unit] option').length === 3"
    )
    texts = page.locator(unit).all_inner_texts()  # type: ignore[attr-defined]
    assert [t.replace("\u00a0", " ").strip() for t in texts] == [
        "Chính phủ", "Ban Cơ yếu Chính phủ", "Cục Cơ yếu Quân đội",
    ]  # fmt: skip
    assert page.input_value("select[name=unit]") == "CCYQD"  # type: ignore[attr-defined]
    # the roles offered and the delegates follow too: cb.qd's own role, cb.qd not a delegate
    roles = page.locator("#delegation-roles label").all_inner_texts()  # type: ignore[attr-defined]
    assert [r.strip() for r in roles] == ["Cán bộ thi đua – khen thưởng đơn vị"]
    delegates = page.locator("select[name=delegate] option")  # type: ignore[attr-defined]
    values = [delegates.nth(i).get_attribute("value") for i in range(delegates.count())]
    assert "cb.qd" not in values and "admin" in values
    _shot(page, "delegations-admin-chose-cb-qd")
    page.context.close()  # type: ignore[attr-defined]
