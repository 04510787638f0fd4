"""The Đợt đề nghị pages: upload a list, see each row's verdict, create on confirm, step the
batch; a bad list shows its FILE:ROW errors and creates nothing."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from khenthuong.runtime import Runtime
from khenthuong.storage.models import NOMINATIONS
from tests.web.test_api_proposals import PDF, XLSX, _list

Browser = Callable[[str], tuple[TestClient, str]]
REPORTS = [("reports", (f"bc{i}.pdf", PDF, "application/pdf")) for i in (1, 2)]


def _count(rt: Runtime) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(NOMINATIONS)).scalar_one())


def test_upload_preview_confirm_and_step(web_rt: Runtime, browser: Browser) -> None:
    c, csrf = browser("cb.qd")
    page = c.get("/proposals")
    assert page.status_code == 200 and "Nhập danh sách đề nghị" in page.text
    template = c.get("/proposals/template.xlsx")
    assert template.status_code == 200 and template.content[:2] == b"PK"

    form = {
        "csrf_token": csrf,
        "unit": "CCYQD",
        "title": "Sơ kết",
        "commendation_type": "cong_trang",
    }
    bad = c.post(
        "/proposals/preview",
        data=form,
        files=[("file", ("ds.xlsx", _list("Nguyễn Văn An", "Hồ Vô Danh"), XLSX)), *REPORTS],
    )
    assert bad.status_code == 422
    assert "ds.xlsx:3: không có cá nhân tên" in bad.text and _count(web_rt) == 0
    assert "persons add" not in bad.text and "--create-persons" not in bad.text

    shown = c.post(
        "/proposals/preview",
        data=form,
        files=[("file", ("ds.xlsx", _list("Nguyễn Văn An", "Trần Thị Bích"), XLSX)), *REPORTS],
    )
    assert shown.status_code == 200, shown.text
    assert 'data-testid="preview"' in shown.text and "Trần Thị Bích" in shown.text
    assert _count(web_rt) == 0
    token = re.search(r'name="token" value="([^"]+)"', shown.text)
    assert token is not None
    made = c.post(
        "/proposals",
        data={**form, "token": token.group(1), "filename": "ds.xlsx"},
        follow_redirects=False,
    )
    assert made.status_code == 303, made.text
    batch = c.get(made.headers["location"])
    assert "2 hồ sơ: Đơn vị lập hồ sơ đề nghị" in batch.text
    # The steps by name, the code only as the option's value; no free-text step field.
    assert (
        '<option value="submit">' in batch.text
        and 'name="trigger" required placeholder' not in batch.text
    )
    stepped = c.post(
        made.headers["location"] + "/advance", data={"csrf_token": csrf, "trigger": "submit"}
    )
    assert stepped.status_code == 200
    assert 'data-testid="refused"' in stepped.text and "Tờ trình" in stepped.text
    again = c.post("/proposals", data={**form, "token": token.group(1), "filename": "ds.xlsx"})
    assert "hết hạn" in again.text and _count(web_rt) == 2


def test_the_page_steps_one_member_alone(web_rt: Runtime, browser: Browser) -> None:
    """The step form offers every open member: withdrawing one leaves the other in its state;
    a member of no batch, or a code typed by hand, is refused on the page (no 500)."""
    c, csrf = browser("cb.qd")
    form = {"csrf_token": csrf, "unit": "CCYQD", "title": "Sơ kết",
            "commendation_type": "cong_trang"}  # fmt: skip
    shown = c.post(
        "/proposals/preview",
        data=form,
        files=[("file", ("ds.xlsx", _list("Nguyễn Văn An", "Trần Thị Bích"), XLSX)), *REPORTS],
    )
    token = re.search(r'name="token" value="([^"]+)"', shown.text)
    assert token is not None
    made = c.post("/proposals", data={**form, "token": token.group(1), "filename": "ds.xlsx"},
                  follow_redirects=False)  # fmt: skip
    where = made.headers["location"]
    with web_rt.engine.connect() as conn:
        first, second = conn.execute(select(NOMINATIONS.c.id).order_by(NOMINATIONS.c.id)).scalars()
    page = c.get(where).text
    assert f'<option value="{first}">#{first} Nguyễn Văn An' in page
    out = c.post(where + "/advance",
                 data={"csrf_token": csrf, "trigger": "withdraw", "member": str(first),
                       "reason": "Chưa đủ thành tích"})  # fmt: skip
    assert out.status_code == 200, out.text
    assert f"Đã chuyển hồ sơ #{first}: Đơn vị rút hồ sơ" in out.text
    assert "1 hồ sơ: Đơn vị rút hồ sơ; 1 hồ sơ: Đơn vị lập hồ sơ đề nghị" in out.text
    assert f'<option value="{first}">' not in out.text and f'<option value="{second}">' in out.text
    for member in ("999999", "abc"):
        bad = c.post(where + "/advance",
                     data={"csrf_token": csrf, "trigger": "withdraw", "member": member,
                           "reason": "x"})  # fmt: skip
        assert bad.status_code in (404, 422) and 'data-testid="error"' in bad.text
