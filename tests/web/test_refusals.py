"""Refusals found by the audit: read-only accounts change nothing, only the inspecting unit
files its report, lists keep to the caller's units, and every refusal is logged."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from khenthuong.errors import Forbidden
from khenthuong.localtime import local_date
from khenthuong.runtime import Runtime
from khenthuong.services import dossier, inspections
from khenthuong.services.actors import load_actor
from khenthuong.storage.db import write_tx
from khenthuong.storage.dossier import ATTACHMENTS
from tests.web.helpers import (
    Headers,
    add_visit,
    council_vote,
    denied,
    person_id,
    propose,
    to_council,
)
from tests.web.sheets import table, xlsx_sheet

Browser = Callable[[str], tuple[TestClient, str]]
PDF = ("x.pdf", b"%PDF-1.4 test", "application/pdf")


def attachments(rt: Runtime, nid: int) -> int:
    with rt.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(ATTACHMENTS)
                .where(ATTACHMENTS.c.nomination_id == nid)
            ).scalar_one()
        )


# --------------------------------------------------------------------------- gap 1


def test_auditor_cannot_attach_a_document_page_api_or_service(
    client: TestClient, token: Headers, browser: Browser, web_rt: Runtime
) -> None:
    officer = token("cb.qd")
    nid = propose(client, officer, person_id(client, officer, "Nguyễn Văn An"))["id"]
    auditor, csrf = browser("kiemtra")
    r = auditor.post(
        f"/nominations/{nid}/documents",
        data={"doc_type": "khac", "csrf_token": csrf},
        files={"file": PDF},
        follow_redirects=False,
    )
    assert r.status_code == 403 and "chỉ có quyền xem" in r.text
    assert ("kiemtra", f"/nominations/{nid}/documents") in [d[:2] for d in denied(web_rt)]
    api = client.post(
        f"/api/nominations/{nid}/documents",
        data={"doc_type": "khac"},
        files={"file": PDF},
        headers=token("kiemtra"),
    )
    assert api.status_code == 403 and "chỉ có quyền xem" in api.json()["detail"]
    assert ("kiemtra", f"/api/nominations/{nid}/documents") in [d[:2] for d in denied(web_rt)]
    # The service itself refuses: an auditor's grant covers every unit but changes nothing.
    with write_tx(web_rt.engine) as conn, pytest.raises(Forbidden, match="chỉ có quyền xem"):
        dossier.attach(
            conn, nid, doc_type="khac", filename="x.pdf", content=b"%PDF",
            actor=load_actor(conn, "kiemtra"), max_bytes=1000,
        )  # fmt: skip
    assert attachments(web_rt, nid) == 0
    # The officer of the unit still attaches.
    c, officer_csrf = browser("cb.qd")
    ok = c.post(
        f"/nominations/{nid}/documents",
        data={"doc_type": "khac", "csrf_token": officer_csrf},
        files={"file": PDF},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and attachments(web_rt, nid) == 1


def test_officer_of_another_unit_cannot_attach_through_the_page(
    client: TestClient, token: Headers, browser: Browser, web_rt: Runtime
) -> None:
    officer = token("cb.qd")
    nid = propose(client, officer, person_id(client, officer, "Nguyễn Văn An"))["id"]
    other, csrf = browser("cb.dcq")
    r = other.post(
        f"/nominations/{nid}/documents",
        data={"doc_type": "khac", "csrf_token": csrf},
        files={"file": PDF},
    )
    assert r.status_code == 403
    assert ("cb.dcq", f"/nominations/{nid}/documents") in [d[:2] for d in denied(web_rt)]
    assert attachments(web_rt, nid) == 0


# --------------------------------------------------------------------------- gap 2


def test_only_the_inspecting_unit_files_its_report(
    client: TestClient, token: Headers, browser: Browser, web_rt: Runtime
) -> None:
    today = date.today()
    vid = add_visit(web_rt, "CCYQD", "CCYDCQ", today, today)
    body = {"findings": "Đạt yêu cầu", "score": 80}
    # The ministry above the inspecting unit holds a grant covering it, but is not it.
    r = client.post(f"/api/inspections/visits/{vid}/report", json=body, headers=token("cv.bcy"))
    assert r.status_code == 403 and "CCYQD" in r.json()["detail"]
    r = client.post(f"/api/inspections/visits/{vid}/report", json=body, headers=token("kiemtra"))
    assert r.status_code == 403
    assert client.post(
        f"/api/inspections/visits/{vid}/report", json=body, headers=token("cb.dcq")
    ).status_code == 403  # fmt: skip
    logged = [d[:2] for d in denied(web_rt)]
    for who in ("cv.bcy", "kiemtra", "cb.dcq"):
        assert (who, f"/api/inspections/visits/{vid}/report") in logged
    # The pages refuse the same callers, and log it.
    form = {"findings": "x", "score": "50", "year": str(today.year)}
    for who in ("kiemtra", "cv.bcy"):
        c, csrf = browser(who)
        page = c.post(f"/blocs/KCY4/visits/{vid}/report", data=form | {"csrf_token": csrf})
        assert page.status_code == 403, who
        assert (who, f"/blocs/KCY4/visits/{vid}/report") in [d[:2] for d in denied(web_rt)]
    with web_rt.engine.connect() as conn:
        assert all(v.score is None for v in inspections.visits(conn, "KCY4", today.year))
    # The service refuses a higher unit's officer directly too.
    with write_tx(web_rt.engine) as conn, pytest.raises(Forbidden, match="CCYQD"):
        inspections.record_report(
            conn, vid, findings="x", score=1, actor=load_actor(conn, "cv.bcy")
        )
    # The inspecting unit's own officers file it.
    ok = client.post(f"/api/inspections/visits/{vid}/report", json=body, headers=token("cb.qd"))
    assert ok.status_code == 200, ok.text
    with web_rt.engine.connect() as conn:
        scores = [v.score for v in inspections.visits(conn, "KCY4", today.year) if v.id == vid]
    assert scores == [80.0]


# --------------------------------------------------------------------------- gap 3


def _signed(rt: Runtime, client: TestClient, token: Headers, number: str) -> int:
    """A Bằng khen of CCYQD decided by BCY under `number`; returns the nomination id."""
    nid = to_council(rt, client, token, "Nguyễn Văn An")
    council_vote(client, token("tk.bcy"), [nid], agree=7)
    r = client.post(
        "/api/decisions",
        json={"number": number, "decided_on": local_date(datetime.now(UTC)).isoformat(),
              "signer": "Trưởng Ban Cơ yếu Chính phủ", "authority": "BCY",
              "nomination_ids": [nid]},
        headers=token("tb.bcy"),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return nid


def test_decision_lists_keep_to_the_callers_units(
    client: TestClient, token: Headers, browser: Browser, web_rt: Runtime
) -> None:
    _signed(web_rt, client, token, "1/QĐ-BCY")
    assert client.get("/api/decisions", headers=token("cb.dcq")).json()["items"] == []
    for who in ("cb.qd", "cv.bcy", "tb.bcy", "kiemtra"):
        listed = client.get("/api/decisions", headers=token(who)).json()["items"]
        assert [d["number"] for d in listed] == ["1/QĐ-BCY"], who
    other, _ = browser("cb.dcq")
    assert "1/QĐ-BCY" not in other.get("/decisions").text
    assert table(xlsx_sheet(other.get("/decisions?format=xlsx")))[1] == []
    mine, _ = browser("cb.qd")
    assert "1/QĐ-BCY" in mine.get("/decisions").text
    assert client.get("/api/decisions/1/QĐ-BCY", headers=token("cb.dcq")).status_code == 403
    missing = client.get("/api/decisions/9/QĐ-KHONG", headers=token("kiemtra"))
    assert missing.status_code == 404 and "9/QĐ-KHONG" in missing.json()["detail"]


def test_a_second_decision_with_the_same_number_is_a_conflict_in_the_ui(
    client: TestClient, token: Headers, browser: Browser, web_rt: Runtime
) -> None:
    _signed(web_rt, client, token, "5/QĐ-BCY")
    nid = to_council(web_rt, client, token, "Trần Thị Bích")
    council_vote(client, token("tk.bcy"), [nid], agree=7)
    c, csrf = browser("tb.bcy")
    r = c.post("/decisions", data={"nomination_id": [str(nid)], "number": "5/QĐ-BCY",
               "authority": "BCY", "csrf_token": csrf})  # fmt: skip
    assert r.status_code == 409 and "đã được dùng" in r.text
    assert client.get(f"/api/nominations/{nid}", headers=token("kiemtra")).json()["state"] == (
        "minister_decision"
    )


# --------------------------------------------------------------------------- gap 4


def _open_bcy_session(client: TestClient, token: Headers) -> int:
    r = client.post(
        "/api/councils/sessions",
        json={"unit": "BCY", "title": "Phiên họp", "held_on": date.today().isoformat(),
              "members": [{"full_name": f"Ủy viên {i}"} for i in range(1, 6)]},
        headers=token("tk.bcy"),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_council_pages_refuse_with_a_logged_403(
    client: TestClient, token: Headers, browser: Browser, web_rt: Runtime
) -> None:
    sid = _open_bcy_session(client, token)
    other, other_csrf = browser("cb.dcq")
    page = other.get(f"/councils/{sid}")
    assert page.status_code == 403 and "ngoài phạm vi" in page.text
    assert "Ủy viên 1" not in page.text
    assert ("cb.dcq", f"/councils/{sid}") in [d[:2] for d in denied(web_rt)]
    assert other.get("/councils/999999").status_code == 404
    # Opening a session: an auditor and a non-secretary get 403, logged, and nothing opens.
    form = {"unit": "BCY", "title": "Phiên lạ", "held_on": date.today().isoformat(),
            "members": "A\nB"}  # fmt: skip
    auditor, csrf = browser("kiemtra")
    r = auditor.post("/councils", data=form | {"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 403 and "chỉ có quyền xem" in r.text
    assert ("kiemtra", "/councils") in [d[:2] for d in denied(web_rt)]
    officer, officer_csrf = browser("cv.bcy")
    r = officer.post("/councils", data=form | {"csrf_token": officer_csrf})
    assert r.status_code == 403 and "thư ký" in r.text
    assert ("cv.bcy", "/councils") in [d[:2] for d in denied(web_rt)]
    r = officer.post("/councils", data=form | {"csrf_token": officer_csrf, "held_on": "30/02"})
    assert r.status_code == 422
    assert "Phiên lạ" not in auditor.get("/councils").text
    # Agenda and tallies through the page, by an officer of another unit: one refused post,
    # one entry in the access log.
    r = other.post(f"/councils/{sid}/items", data={"nomination_id": "1", "csrf_token": other_csrf})
    assert r.status_code == 403 and "ngoài phạm vi" in r.text
    r = other.post(f"/councils/{sid}/tallies", data={"nomination_id": "1", "agree_1": "1",
                   "csrf_token": other_csrf})  # fmt: skip
    assert r.status_code == 403
    paths = [d[1] for d in denied(web_rt)]
    assert paths.count(f"/councils/{sid}/items") == 1
    assert paths.count(f"/councils/{sid}/tallies") == 1


def test_a_sign_in_post_without_the_form_token_is_logged(
    client: TestClient, web_rt: Runtime
) -> None:
    client.get("/login")
    r = client.post("/login", data={"username": "cb.qd", "password": "x", "login_token": "forged"})
    assert r.status_code == 403
    r = client.post("/login", data={"username": "tt.qd", "password": "x"})
    assert r.status_code == 403
    logged = denied(web_rt)
    assert ("cb.qd", "/login", "sign-in form token missing or wrong (CSRF)") in logged
    assert ("tt.qd", "/login", "sign-in form token missing or wrong (CSRF)") in logged
