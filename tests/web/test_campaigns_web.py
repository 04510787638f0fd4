"""The Phong trào thi đua and Thống kê pages and their API: launch a campaign with its plan,
nominate for it from the new-nomination form, link by number; the statistics of a unit on
the page, as XLSX and as JSON, for those who may read it."""

from __future__ import annotations

import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from khenthuong.runtime import Runtime
from khenthuong.services import campaigns
from tests.services.test_statistics import _ledger

Browser = Callable[[str], tuple[TestClient, str]]
Token = Callable[[str], dict[str, str]]
PDF = b"%PDF-1.4\n% ke hoach\n"


def test_launch_a_campaign_and_nominate_for_it(web_rt: Runtime, browser: Browser) -> None:
    c, csrf = browser("cv.bcy")
    form = {
        "csrf_token": csrf, "unit": "BCY", "title": "Thi đua chào mừng 80 năm ngành Cơ yếu",
        "kind": "theo_dot", "starts_on": "01/03/2026", "ends_on": "12/09/2026",
        "targets": "100% đơn vị đăng ký\nMỗi cục một mô hình mới", "plan_number": "12/KH-BCY",
    }  # fmt: skip
    bad = c.post("/campaigns", data={**form, "ends_on": "31/02/2026"})
    assert (
        bad.status_code == 422
        and "Đến ngày: Ngày &#39;31/02/2026&#39; không có trên lịch" in bad.text
    )
    made = c.post(
        "/campaigns", data=form, files={"file": ("ke-hoach.pdf", PDF, "application/pdf")},
        follow_redirects=False,
    )  # fmt: skip
    assert made.status_code == 303, made.text
    url = made.headers["location"]
    cid = int(url.rsplit("/", 1)[1])
    page = c.get(url)
    assert "Thi đua chào mừng 80 năm ngành Cơ yếu" in page.text
    assert "Phong trào thi đua theo đợt" in page.text and "Mỗi cục một mô hình mới" in page.text
    plan = c.get(f"/campaigns/{cid}/documents/1")
    assert plan.status_code == 200 and plan.content == PDF

    officer, officer_csrf = browser("cb.qd")
    new = officer.get("/new")
    assert f'<option value="{cid}"' in new.text  # the campaign covers Cục Cơ yếu Quân đội
    created = officer.post(
        "/new",
        data={
            "csrf_token": officer_csrf, "workflow": "bang_khen_bo", "proposing_unit": "CCYQD",
            "person_id": "2", "year": "2026", "commendation_type": "chuyen_de",
            "campaign": str(cid),
        },
        follow_redirects=False,
    )  # fmt: skip
    assert created.status_code == 303, created.text
    nid = int(created.headers["location"].rsplit("/", 1)[1])
    merit = officer.post(
        "/new",
        data={
            "csrf_token": officer_csrf, "workflow": "giay_khen", "proposing_unit": "CCYQD",
            "person_id": "1", "year": "2026", "commendation_type": "cong_trang",
        },
        follow_redirects=False,
    )  # fmt: skip
    merit_id = int(merit.headers["location"].rsplit("/", 1)[1])
    refused = officer.post(
        f"/campaigns/{cid}/link", data={"csrf_token": officer_csrf, "nominations": str(merit_id)}
    )
    assert refused.status_code == 422 and "khen thưởng thường xuyên" in refused.text
    listing = officer.get("/campaigns")
    assert "Thi đua chào mừng 80 năm ngành Cơ yếu" in listing.text
    page = officer.get(url)
    assert f'href="/nominations/{nid}"' in page.text
    assert f'href="/nominations/{merit_id}"' not in page.text
    with web_rt.engine.connect() as conn:
        assert [n.nomination_id for n in campaigns.view_campaign(conn, cid).nominations] == [nid]


def test_the_campaign_api(client: TestClient, token: Token) -> None:
    writer = token("cv.bcy")
    bad = client.post(
        "/api/campaigns", headers=writer,
        json={"unit": "BCY", "title": "X", "kind": "hàng tuần", "starts_on": "01/01/2026"},
    )  # fmt: skip
    assert bad.status_code == 422 and "Loại phong trào" in bad.json()["detail"]
    made = client.post(
        "/api/campaigns", headers=writer,
        json={"unit": "BCY", "title": "Phong trào thi đua thường xuyên năm 2026",
              "kind": "thuong_xuyen", "starts_on": "2026-01-01", "targets": ["100% HTNV"]},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    assert made.json()["kind_name"] == "Phong trào thi đua thường xuyên"
    officer = token("cb.qd")
    nomination = client.post(
        "/api/nominations", headers=officer,
        json={"workflow": "giay_khen", "proposing_unit": "CCYQD", "nominee_person_id": 1},
    )  # fmt: skip
    assert nomination.status_code == 201, nomination.text
    nid = nomination.json()["id"]
    linked = client.post(
        f"/api/campaigns/{cid}/nominations", headers=officer, json={"nominations": [nid]}
    )
    assert linked.status_code == 200, linked.text
    assert [n["nomination_id"] for n in linked.json()["nominations"]] == [nid]
    again = client.post(
        f"/api/campaigns/{cid}/nominations", headers=officer, json={"nominations": [nid]}
    )
    assert again.status_code == 422 and "đã thuộc phong trào" in again.json()["detail"]
    plan = client.post(
        f"/api/campaigns/{cid}/documents", headers=writer,
        files={"file": ("ke-hoach.pdf", PDF, "application/pdf")},
    )  # fmt: skip
    assert plan.status_code == 201 and plan.json()["doc_type"] == "ke_hoach_phat_dong"
    listed = client.get("/api/campaigns", headers=officer, params={"year": 2026})
    items = listed.json()["items"]
    assert [c["id"] for c in items] == [cid] and items[0]["nominations"] == 1


def test_the_statistics_page_workbook_and_api(
    web_rt: Runtime, browser: Browser, client: TestClient, token: Token
) -> None:
    _ledger(web_rt)
    c, _ = browser("cv.bcy")
    page = c.get("/statistics", params={"year": "2025"})
    assert page.status_code == 200, page.text
    assert "Ban Cơ yếu Chính phủ, năm 2025" in page.text  # the widest readable unit
    assert 'data-testid="stats-unit-table"' in page.text and "Cục Cơ yếu Quân đội" in page.text
    bad = c.get("/statistics", params={"year": "hai nghìn"})
    assert bad.status_code == 422 and "không phải một năm" in bad.text
    sheet = c.get("/statistics.xlsx", params={"year": "2025", "unit": "BCY"})
    assert sheet.status_code == 200
    book = load_workbook(io.BytesIO(sheet.content))
    assert book["Biểu thống kê"]["A2"].value == "Ban Cơ yếu Chính phủ — năm 2025"
    data = client.get(
        "/api/statistics", headers=token("cv.bcy"), params={"year": 2025, "unit": "BCY"}
    )
    assert data.status_code == 200 and data.json()["total"]["total"] == 7
    refused = client.get(
        "/api/statistics", headers=token("cb.qd"), params={"year": 2025, "unit": "BCY"}
    )
    assert refused.status_code == 403
    own = client.get(
        "/api/statistics", headers=token("cb.qd"),
        params={"year": 2025, "unit": "CCYQD", "format": "xlsx"},
    )  # fmt: skip
    assert own.status_code == 200 and own.content[:2] == b"PK"
