"""The JSON API: success and refusal paths of every endpoint, including cross-unit access."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from khenthuong.localtime import local_date
from khenthuong.runtime import Runtime
from khenthuong.services.accounts import create_token, revoke_token
from khenthuong.services.grounds import claim_of
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import NOMINATIONS, USERS
from tests.web.helpers import (
    Headers,
    add_visit,
    attach_dossier,
    council_vote,
    denied,
    person_id,
    propose,
    step,
    to_council,
)

PROBLEM = "application/problem+json"


def denied_events(rt: Runtime) -> list[str]:
    return [reason for _, _, reason in denied(rt)]


def test_authentication_is_required_and_tokens_are_checked(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    r = client.get("/api/nominations")
    assert r.status_code == 401
    assert r.headers["content-type"] == PROBLEM
    assert r.headers["www-authenticate"] == "Bearer"
    assert r.json()["status"] == 401 and "đăng nhập" in r.json()["detail"]

    assert client.get("/api/me", headers={"Authorization": "Basic abc"}).status_code == 401
    bad = client.get("/api/me", headers={"Authorization": "Bearer kt_not-a-token"})
    assert bad.status_code == 401 and "thu hồi" in bad.json()["detail"]
    assert "invalid or revoked API token" in denied_events(web_rt)

    with write_tx(web_rt.engine) as conn:
        token_id, value = create_token(conn, "cb.qd", "script")
    headers = {"Authorization": f"Bearer {value}"}
    me = client.get("/api/me", headers=headers).json()
    assert me["username"] == "cb.qd"
    assert me["grants"] == [{"role": "unit_officer", "scope": "CCYQD"}]
    with write_tx(web_rt.engine) as conn:
        revoke_token(conn, token_id)
    assert client.get("/api/me", headers=headers).status_code == 401


def test_create_and_read_nomination_within_scope_only(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    officer = token("cb.qd")
    pid = person_id(client, officer, "Nguyễn Văn An")
    created = propose(client, officer, pid, year=2026, comment="Thành tích xuất sắc")
    nid = created["id"]
    assert created["state"] == "draft" and created["nominee_name"] == "Nguyễn Văn An"
    assert created["unit_code"] == "CCYQD"

    shown = client.get(f"/api/nominations/{nid}", headers=officer).json()
    assert shown["version"] == 1 and shown["unit_code"] == "CCYQD"
    # An officer of another unit (CCYDCQ) can neither read nor propose for CCYQD.
    other = token("cb.dcq")
    r = client.get(f"/api/nominations/{nid}", headers=other)
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
    assert f"#{nid}" in r.json()["detail"]
    r = client.post(
        "/api/nominations",
        json={"workflow": "bang_khen_bo", "proposing_unit": "CCYQD", "nominee_person_id": pid},
        headers=other,
    )
    assert r.status_code == 403
    assert r.json()["refusals"][0]["code"] == "role"
    assert any("được lập đề nghị" in (c or "") for c in denied_events(web_rt))
    for path in ("history", "documents", "actions"):
        assert client.get(f"/api/nominations/{nid}/{path}", headers=other).status_code == 403
    assert any("ngoài phạm vi" in (c or "") for c in denied_events(web_rt))
    # The ministry above (BCY) and the auditor see it; the auditor can't change it.
    assert client.get(f"/api/nominations/{nid}", headers=token("cv.bcy")).status_code == 200
    auditor = token("kiemtra")
    assert client.get(f"/api/nominations/{nid}", headers=auditor).status_code == 200
    assert client.get(f"/api/nominations/{nid}/actions", headers=auditor).json() == []
    r = client.post(f"/api/nominations/{nid}/advance", json={"trigger": "submit"}, headers=auditor)
    assert r.status_code == 403 and "chỉ có quyền xem" in r.json()["detail"]
    assert client.get("/api/nominations/999999", headers=officer).status_code == 404


def test_an_advance_outside_the_callers_units_is_refused_recorded_and_writes_nothing(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    """The scope is checked on the step's own read, in its transaction: 403 naming the file,
    the refusal in the audit trail, the nomination as it was; a missing one is 404."""
    officer = token("cb.qd")
    nid = propose(client, officer, person_id(client, officer, "Nguyễn Văn An"), year=2026)["id"]
    before = len(denied_events(web_rt))
    r = client.post(
        f"/api/nominations/{nid}/advance", json={"trigger": "submit"}, headers=token("cb.dcq")
    )
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
    assert f"#{nid}" in r.json()["detail"] and "ngoài phạm vi" in r.json()["detail"]
    assert len(denied_events(web_rt)) == before + 1
    shown = client.get(f"/api/nominations/{nid}", headers=officer).json()
    assert (shown["state"], shown["version"]) == ("draft", 1)
    missing = client.post("/api/nominations/999999/advance", json={"trigger": "submit"},
                          headers=officer)  # fmt: skip
    assert missing.status_code == 404 and "#999999" in missing.json()["detail"]
    attach_dossier(client, officer, nid)
    done = client.post(f"/api/nominations/{nid}/advance", json={"trigger": "submit"},
                       headers=officer)  # fmt: skip
    assert done.status_code == 200 and done.json()["to_state"] != "draft"


def test_invalid_input_names_the_field(client: TestClient, token: Headers) -> None:
    officer = token("cb.qd")
    r = client.post("/api/nominations", json={"proposing_unit": "CCYQD"}, headers=officer)
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM
    assert [e["field"] for e in r.json()["errors"]] == ["workflow"]
    assert "workflow" in r.json()["detail"]
    r = client.post(
        "/api/nominations",
        json={"workflow": "bang_khen_bo", "proposing_unit": "CCYQD", "year": 1800},
        headers=officer,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "year"
    r = client.post(
        "/api/nominations",
        json={"workflow": "bang_khen_bo", "proposing_unit": "CCYQD"},
        headers=officer,
    )
    assert r.status_code == 422
    assert r.json()["refusals"][0]["code"] == "field:nominee"
    r = client.post(
        "/api/nominations",
        json={"workflow": "khong_co", "proposing_unit": "CCYQD", "nominee_name": "A"},
        headers=officer,
    )
    assert r.status_code == 404
    assert client.get("/api/nominations?limit=0", headers=officer).status_code == 422


def test_commendation_type_and_basis_are_checked_fields(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    """A type outside Law Art 8 and a malformed basis are field errors; a claimed point is
    checked against the award and recorded with the nomination."""
    officer = token("cb.qd")
    body = {"workflow": "bang_khen_bo", "proposing_unit": "CCYQD", "nominee_unit_code": "CCYQD"}
    for field, value in (("commendation_type", "hang_nam"), ("basis", "điểm a")):
        r = client.post("/api/nominations", json=body | {field: value}, headers=officer)
        assert r.status_code == 422 and [e["field"] for e in r.json()["errors"]] == [field]
    r = client.post("/api/nominations", json=body | {"basis": "74.1.e"}, headers=officer)
    assert r.status_code == 422 and r.json()["refusals"][0]["code"] == "field:basis"
    claimed = body | {"commendation_type": "chuyen_de", "basis": "74.1.a", "attestation": "Dẫn đầu"}
    r = client.post("/api/nominations", json=claimed, headers=officer)
    assert r.status_code == 201, r.text
    with web_rt.engine.connect() as conn:
        nid = r.json()["id"]
        ctype = conn.execute(
            select(NOMINATIONS.c.commendation_type).where(NOMINATIONS.c.id == nid)
        ).scalar_one()
        claim = claim_of(conn, nid)
    assert ctype == "chuyen_de" and claim is not None and claim.statement == "Dẫn đầu"


def test_list_filters_accent_blind_search_and_keyset_pages(
    client: TestClient, token: Headers
) -> None:
    officer = token("cb.qd")
    names = ["Nguyễn Văn An", "Trần Thị Bích", "Đặng Thùy Trâm", "Nguyễn Thị Ánh", "Lê Văn Lợi"]
    ids = [
        client.post(
            "/api/nominations",
            json={"workflow": "bang_khen_bo", "proposing_unit": "CCYQD", "nominee_name": n,
                  "create_person": True, "year": 2025 + i % 2},
            headers=officer,
        ).json()["id"]
        for i, n in enumerate(names)
    ]  # fmt: skip
    pages, after = [], None
    while True:
        params: dict[str, object] = {"limit": 2}
        if after is not None:
            params["cursor"] = after
        page = client.get("/api/nominations", params=params, headers=officer).json()
        pages.append([i["id"] for i in page["items"]])
        after = page["next_cursor"]
        if after is None:
            break
    assert [n for p in pages for n in p] == sorted(ids, reverse=True)
    assert [len(p) for p in pages] == [2, 2, 1]

    def search(q: str) -> list[str]:
        page = client.get("/api/nominations", params={"q": q}, headers=officer).json()
        return sorted(i["nominee_name"] for i in page["items"])

    assert search("nguyen") == ["Nguyễn Thị Ánh", "Nguyễn Văn An"]
    assert search("dang thuy tram") == ["Đặng Thùy Trâm"]
    assert search(unicodedata.normalize("NFD", "Trâm")) == ["Đặng Thùy Trâm"]
    assert search("LOI") == ["Lê Văn Lợi"]
    by_year = client.get("/api/nominations", params={"year": 2026}, headers=officer).json()
    assert len(by_year["items"]) == 2
    wrong_state = client.get("/api/nominations", params={"state": "decided"}, headers=officer)
    assert wrong_state.json()["items"] == []
    assert (
        client.get("/api/nominations", params={"overdue": True}, headers=officer).json()["items"]
        == []
    )
    # Another unit sees none of them.
    assert client.get("/api/nominations", headers=token("cb.dcq")).json()["items"] == []
    assert len(client.get("/api/nominations", headers=token("kiemtra")).json()["items"]) == 5


def test_advance_conflicts_refusals_and_queue(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    officer, head = token("cb.qd"), token("tt.qd")
    pid = person_id(client, officer, "Trần Thị Bích")
    nid = propose(client, officer, pid)["id"]
    actions = client.get(f"/api/nominations/{nid}/actions", headers=officer).json()
    assert {a["trigger"] for a in actions} == {"submit", "withdraw"}
    submit = next(a for a in actions if a["trigger"] == "submit")
    assert submit["guards"] == ["not_blocked", "dossier_complete"]
    # Guard refusal: the dossier is empty.
    r = client.post(f"/api/nominations/{nid}/advance", json={"trigger": "submit"}, headers=officer)
    assert r.status_code == 422
    assert r.json()["refusals"][0]["code"] == "dossier_complete"
    attach_dossier(client, officer, nid)
    # Stale expected_version: 409 naming the current state.
    r = client.post(
        f"/api/nominations/{nid}/advance",
        json={"trigger": "submit", "expected_version": 7},
        headers=officer,
    )
    assert r.status_code == 409
    assert r.json()["current_state"] == "draft" and r.json()["current_version"] == 1
    done = client.post(
        f"/api/nominations/{nid}/advance",
        json={"trigger": "submit", "expected_version": 1},
        headers=officer,
    )
    assert done.status_code == 200 and done.json()["to_state"] == "unit_review"
    # The same step again: wrong state is a conflict too.
    r = client.post(f"/api/nominations/{nid}/advance", json={"trigger": "submit"}, headers=officer)
    assert r.status_code == 409 and r.json()["refusals"][0]["code"] == "state"
    # The unit head's queue holds it; the officer's does not.
    queue = client.get("/api/queue", headers=head).json()["items"]
    assert [i["id"] for i in queue] == [nid]
    assert queue[0]["actions"] and "forward" in queue[0]["actions"]
    assert queue[0]["working_days_left"] is not None
    assert client.get("/api/queue", headers=officer).json()["items"] == []
    # A return needs its reason; the field is named.
    r = client.post(
        f"/api/nominations/{nid}/advance",
        json={"trigger": "return_for_supplement"},
        headers=head,
    )
    assert r.status_code == 422 and r.json()["refusals"][0]["code"] == "field:reason"
    r = client.post(
        f"/api/nominations/{nid}/advance",
        json={"trigger": "return_for_supplement", "payload": {"reason": "Bổ sung báo cáo"}},
        headers=head,
    )
    assert r.status_code == 200 and r.json()["to_state"] == "returned_to_unit"
    # Someone outside the unit cannot step it, and it is logged.
    r = client.post(
        f"/api/nominations/{nid}/advance", json={"trigger": "submit"}, headers=token("cb.dcq")
    )
    assert r.status_code == 403
    history = client.get(f"/api/nominations/{nid}/history", headers=officer).json()
    assert [e["trigger"] for e in history] == ["create", "submit", "return_for_supplement"]
    assert history[-1]["payload"]["reason"] == "Bổ sung báo cáo"


def test_batch_advance_is_all_or_nothing_unless_partial(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    officer = token("cb.qd")
    ready = []
    for name in ("Nguyễn Văn An", "Trần Thị Bích"):
        nid = propose(client, officer, person_id(client, officer, name))["id"]
        attach_dossier(client, officer, nid)
        ready.append(nid)
    bare = propose(client, officer, person_id(client, officer, "Nguyễn Văn An"))["id"]
    body = {"nomination_ids": [*ready, bare], "trigger": "submit"}
    r = client.post("/api/nominations/batch-advance", json=body, headers=officer)
    assert r.status_code == 422
    assert list(r.json()["failures"]) == [str(bare)]
    with web_rt.engine.connect() as conn:
        states = set(
            conn.execute(
                select(NOMINATIONS.c.state).where(NOMINATIONS.c.id.in_([*ready, bare]))
            ).scalars()
        )
    assert states == {"draft"}
    r = client.post(
        "/api/nominations/batch-advance", json=body | {"partial": True}, headers=officer
    )
    assert r.status_code == 200
    assert sorted(a["nomination_id"] for a in r.json()["advanced"]) == sorted(ready)
    assert list(r.json()["refused"]) == [str(bare)]
    # Cross-unit ids in a batch are refused before anything runs.
    r = client.post(
        "/api/nominations/batch-advance",
        json={"nomination_ids": [bare], "trigger": "submit"},
        headers=token("cb.dcq"),
    )
    assert r.status_code == 403


def test_documents_upload_download_and_limits(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    officer = token("cb.qd")
    nid = propose(client, officer, person_id(client, officer, "Nguyễn Văn An"))["id"]
    content = "%PDF-1.4\n% Báo cáo thành tích năm 2026".encode()
    r = client.post(
        f"/api/nominations/{nid}/documents",
        data={"doc_type": "bao_cao_thanh_tich"},
        files={"file": ("..\\..\\Báo cáo.pdf", content, "application/pdf")},
        headers=officer,
    )
    assert r.status_code == 201
    doc = r.json()
    assert doc["filename"] == "Báo cáo.pdf"  # folders of either kind stripped
    assert doc["size"] == len(content) and len(doc["sha256"]) == 64
    listed = client.get(f"/api/nominations/{nid}/documents", headers=officer).json()
    assert [d["id"] for d in listed] == [doc["id"]]
    got = client.get(f"/api/documents/{doc['id']}", headers=officer)
    assert got.status_code == 200 and got.content == content
    assert got.headers["x-content-sha256"] == doc["sha256"]
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"B_o c_o.pdf\"; filename*=UTF-8''B%C3%A1o%20c%C3%A1o.pdf"
    )
    # A program renamed .pdf is refused by its content, whatever type the client declares.
    program = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 64
    r = client.post(
        f"/api/nominations/{nid}/documents",
        data={"doc_type": "khac"},
        files={"file": ("hoa-don.pdf", program, "application/pdf")},
        headers=officer,
    )
    assert r.status_code == 422
    assert r.json()["detail"] == (
        "Tệp 'hoa-don.pdf': nội dung không phải tệp PDF như phần mở rộng .pdf cho biết; "
        "hãy tải lên đúng tệp"
    )
    assert client.get(f"/api/documents/{doc['id']}", headers=token("cb.dcq")).status_code == 403
    assert client.get("/api/documents/99999", headers=officer).status_code == 404
    r = client.post(
        f"/api/nominations/{nid}/documents",
        data={"doc_type": "khong_ro"},
        files={"file": ("x.pdf", b"%PDF", "application/pdf")},
        headers=officer,
    )
    assert r.status_code == 422 and "khong_ro" in r.json()["detail"]
    limit = web_rt.settings.max_attachment_bytes
    r = client.post(
        f"/api/nominations/{nid}/documents",
        data={"doc_type": "khac"},
        files={"file": ("big.pdf", b"0" * (limit + 1), "application/pdf")},
        headers=officer,
    )
    assert r.status_code == 413 and r.json()["field"] == "file"
    assert len(client.get(f"/api/nominations/{nid}/documents", headers=officer).json()) == 1
    r = client.post(
        f"/api/nominations/{nid}/documents",
        data={"doc_type": "khac"},
        files={"file": ("x.pdf", b"%PDF", "application/pdf")},
        headers=token("cb.dcq"),
    )
    assert r.status_code == 403


def test_council_session_and_decision_over_the_api(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    nid = to_council(web_rt, client, token, "Nguyễn Văn An")
    secretary = token("tk.bcy")
    # Only the council's secretary opens a session; a tally beyond attendance is refused.
    r = client.post(
        "/api/councils/sessions",
        json={"unit": "BCY", "title": "X", "held_on": date.today().isoformat(),
              "members": [{"full_name": "A"}]},
        headers=token("cv.bcy"),
    )  # fmt: skip
    assert r.status_code == 403
    r = client.post(
        "/api/councils/sessions",
        json={"unit": "BCY", "title": "Phiên 1", "held_on": date.today().isoformat(),
              "members": [{"full_name": f"Ủy viên {i}"} for i in range(5)]},
        headers=secretary,
    )  # fmt: skip
    sid = r.json()["id"]
    client.post(f"/api/councils/sessions/{sid}/items", json={"nomination_ids": [nid]},
                headers=secretary)  # fmt: skip
    r = client.put(
        f"/api/councils/sessions/{sid}/tallies",
        json={"tallies": [{"nomination_id": nid, "agree": 6, "disagree": 0, "abstain": 0}]},
        headers=secretary,
    )
    assert r.status_code == 422, r.text
    other_session = client.get(f"/api/councils/sessions/{sid}", headers=token("cb.dcq"))
    assert other_session.status_code == 403
    # The same item twice on one agenda is refused, clearly.
    r = client.post(f"/api/councils/sessions/{sid}/items", json={"nomination_ids": [nid]},
                    headers=secretary)  # fmt: skip
    assert r.status_code == 422 and "đã có trong chương trình" in r.json()["detail"]
    r = client.put(
        f"/api/councils/sessions/{sid}/tallies",
        json={"tallies": [{"nomination_id": nid, "agree": 5, "disagree": 0, "abstain": 0}]},
        headers=secretary,
    )
    assert r.status_code == 200
    closed = client.post(f"/api/councils/sessions/{sid}/close", headers=secretary).json()
    assert closed["status"] == "closed" and "BIÊN BẢN" in closed["minutes"]
    assert closed["items"][0]["result"] == "passed"
    assert client.get(f"/api/nominations/{nid}", headers=secretary).json()["state"] == (
        "minister_decision"
    )
    minister = token("tb.bcy")
    decision = {
        "number": f"{nid}/QĐ-BCY",
        "decided_on": local_date(datetime.now(UTC)).isoformat(),
        "signer": "Trưởng Ban Cơ yếu Chính phủ",
        "authority": "BCY",
        "nomination_ids": [nid],
    }
    assert client.post("/api/decisions", json=decision, headers=token("cv.bcy")).status_code == 403
    tomorrow = local_date(datetime.now(UTC)) + timedelta(days=1)
    future = client.post(
        "/api/decisions", json=decision | {"decided_on": tomorrow.isoformat()}, headers=minister
    )
    assert future.status_code == 422
    assert future.json()["refusals"][0]["latest"] == local_date(datetime.now(UTC)).isoformat()
    pm_form = client.post(
        "/api/decisions", json=decision | {"number": "9/QĐ-TTg"}, headers=minister
    )
    assert pm_form.status_code == 422 and "<số>/QĐ-BCY (Ban Cơ yếu Chính phủ)" in pm_form.text
    r = client.post("/api/decisions", json=decision, headers=minister)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["lines"][0]["nomination_id"] == nid and body["total_vnd"] > 0
    again = client.post("/api/decisions", json=decision, headers=minister)
    assert again.status_code == 409 and again.headers["content-type"] == PROBLEM
    assert again.json()["field"] == "number" and "đã được dùng" in again.json()["detail"]
    shown = client.get(f"/api/decisions/{nid}/qđ-bcy", headers=token("kiemtra"))
    assert shown.status_code == 200 and shown.json()["award_code"] == body["award_code"]
    year = local_date(datetime.now(UTC)).year
    assert (
        client.get(
            f"/api/decisions/{nid}/QĐ-BCY", params={"year": year - 1}, headers=token("kiemtra")
        ).status_code
        == 404
    )
    assert client.get(f"/api/decisions/{nid}/QĐ-BCY", headers=token("cb.dcq")).status_code == 403
    listed = client.get("/api/decisions", headers=minister).json()["items"]
    assert f"{nid}/QĐ-BCY" in [d["number"] for d in listed]
    assert client.get(f"/api/nominations/{nid}", headers=minister).json()["state"] == "decided"


def test_council_vote_below_threshold_rejects(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    nid = to_council(web_rt, client, token, "Trần Thị Bích")
    view = council_vote(client, token("tk.bcy"), [nid], agree=2)
    assert view["items"][0]["result"] == "failed"
    assert client.get(f"/api/nominations/{nid}", headers=token("cb.qd")).json()["state"] == (
        "rejected"
    )


def test_reference_endpoints_and_scopes(client: TestClient, token: Headers) -> None:
    officer = token("cb.qd")
    units = client.get("/api/units", headers=officer).json()["items"]
    assert [u["code"] for u in units] == ["CCYQD"]
    assert client.get("/api/units/CCYQD", headers=officer).json()["parent"] == "BCY"
    assert client.get("/api/units/BCA", headers=officer).status_code == 403
    assert client.get("/api/units/NOPE", headers=officer).status_code == 404
    assert len(client.get("/api/units", headers=token("kiemtra")).json()["items"]) > 10
    assert client.get("/api/persons", params={"q": "phuc"}, headers=officer).json()["items"] == []
    r = client.post(
        "/api/persons",
        json={"full_name": "Hoàng Thị Mai", "unit_code": "CCYQD", "gender": "nữ"},
        headers=officer,
    )
    assert r.status_code == 201 and r.json()["id"] > 0
    assert (
        client.get("/api/persons", params={"q": "hoang mai"}, headers=officer).json()["items"][0][
            "full_name"
        ]
        == "Hoàng Thị Mai"
    )
    r = client.post("/api/persons", json={"full_name": "X", "unit_code": "C07"}, headers=officer)
    assert r.status_code == 403
    r = client.post(
        "/api/persons", json={"full_name": "X", "unit_code": "CCYQD"}, headers=token("kiemtra")
    )
    assert r.status_code == 403
    r = client.post("/api/persons", json={"full_name": "", "unit_code": "CCYQD"}, headers=officer)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "full_name"

    names = {w["name"] for w in client.get("/api/workflows", headers=officer).json()["items"]}
    assert {"bang_khen_bo", "giay_khen", "huan_chuong_lao_dong"} <= names
    definition = client.get("/api/workflows/bang_khen_bo", headers=officer).json()
    assert definition["initial"] == "draft"
    assert client.get("/api/workflows/nope", headers=officer).status_code == 404
    diagram = client.get("/api/workflows/bang_khen_bo/diagram", headers=officer).json()
    assert diagram["mermaid"].startswith("stateDiagram-v2") and "digraph" in diagram["dot"]
    assert diagram["counts"] == {}

    assert "KCY4" in [b["code"] for b in client.get("/api/blocs", headers=officer).json()["items"]]
    bloc = client.get("/api/blocs/KCY4", params={"year": 2019}, headers=officer).json()
    assert bloc["leader"] == "CCYDCQ"
    assert client.get("/api/blocs/NOPE", headers=officer).status_code == 404
    assert client.get("/api/blocs/KCY4/inspections", headers=officer).status_code == 422


def test_audit_query_verify_and_csv(client: TestClient, token: Headers) -> None:
    officer = token("cb.qd")
    nid = propose(client, officer, person_id(client, officer, "Nguyễn Văn An"))["id"]
    mine = client.get("/api/audit/events", params={"actor": "cb.qd"}, headers=officer).json()[
        "items"
    ]
    assert [e["nomination_id"] for e in mine] == [nid]
    assert client.get("/api/audit/events", headers=token("cb.dcq")).json()["items"] == []
    everything = client.get("/api/audit/events", headers=token("kiemtra")).json()["items"]
    created = [e for e in everything if e["nomination_id"] == nid]
    assert [(e["trigger"], e["actor"], e["to_state"]) for e in created] == [
        ("create", "cb.qd", "draft")
    ]
    csv_text = client.get(
        "/api/audit/events", params={"trigger": "create", "format": "csv"}, headers=officer
    ).text
    assert csv_text.splitlines()[0].startswith("stream,seq,nomination_id")
    assert "Nguyễn Văn An" in csv_text
    # Verifying spans every unit's trail: auditors and administrators only.
    refused = client.get("/api/audit/verify", headers=officer)
    assert refused.status_code == 403 and refused.headers["content-type"] == PROBLEM
    assert "kiểm tra viên" in refused.json()["detail"].lower()
    for who in ("kiemtra", "admin"):
        verify = client.get("/api/audit/verify", headers=token(who)).json()
        assert verify["ok"] is True and verify["events"] >= 2 and verify["problem"] is None


def test_cookie_session_needs_csrf_header_for_changes(browser: object, client: TestClient) -> None:
    make = browser  # signed-in TestClient factory
    c, csrf = make("cb.qd")  # type: ignore[operator]
    assert c.get("/api/me").json()["username"] == "cb.qd"
    body = {
        "workflow": "bang_khen_bo",
        "proposing_unit": "CCYQD",
        "nominee_name": "Lò Văn Pá",
        "create_person": True,
    }
    assert c.post("/api/nominations", json=body).status_code == 403
    r = c.post("/api/nominations", json=body, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201


def test_inspectors_read_the_inspected_unit_during_their_window_only(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    from datetime import timedelta

    officer = token("cb.qd")
    nid = propose(client, officer, person_id(client, officer, "Nguyễn Văn An"))["id"]
    inspector = token("cb.dcq")
    today = date.today()
    add_visit(web_rt, "CCYDCQ", "CCYQD", today - timedelta(days=10), today - timedelta(days=1))
    assert client.get(f"/api/nominations/{nid}", headers=inspector).status_code == 403
    add_visit(web_rt, "CCYDCQ", "CCYQD", today - timedelta(days=1), today + timedelta(days=3))
    assert client.get("/api/me", headers=inspector).json()["inspecting"] == ["/CP/BCY/CCYQD/"]
    assert client.get(f"/api/nominations/{nid}", headers=inspector).status_code == 200
    listed = client.get("/api/nominations", headers=inspector).json()["items"]
    assert [i["id"] for i in listed] == [nid]
    # Reading is all the window gives: no step, no document.
    r = client.post(
        f"/api/nominations/{nid}/advance", json={"trigger": "withdraw",
        "payload": {"reason": "x"}}, headers=inspector,
    )  # fmt: skip
    assert r.status_code == 403
    # The inspected unit does not read the inspector's records in return.
    assert client.get("/api/units/CCYDCQ", headers=officer).status_code == 403


def test_users_listed_within_scope_and_created_by_admins_only(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    officer = token("cb.qd")
    names = [u["username"] for u in client.get("/api/users", headers=officer).json()["items"]]
    assert set(names) == {"cb.qd", "tt.qd", "tk.qd"}  # home unit CCYQD
    every = client.get("/api/users", headers=token("kiemtra")).json()["items"]
    assert len(every) >= 20
    body = {
        "username": "cb.moi",
        "full_name": "Nguyễn Thị Mới",
        "email": "cb.moi@bcy.example",
        "unit_code": "CCYQD",
        "grants": [{"role": "unit_officer", "scope": "CCYQD"}],
    }
    assert client.post("/api/users", json=body, headers=officer).status_code == 403
    created = client.post("/api/users", json=body, headers=token("admin"))
    assert created.status_code == 201, created.text
    assert created.json()["grants"] == [{"role": "unit_officer", "scope": "CCYQD"}]
    again = client.post("/api/users", json=body, headers=token("admin"))
    assert again.status_code == 422 and "đã tồn tại" in again.json()["detail"]
    bad_role = body | {"username": "cb.khac", "grants": [{"role": "vua", "scope": "CCYQD"}]}
    assert client.post("/api/users", json=bad_role, headers=token("admin")).status_code == 422
    bad_mail = body | {"username": "cb.khac2", "email": "khong-phai-email"}
    r = client.post("/api/users", json=bad_mail, headers=token("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "email"
    with web_rt.engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count()).select_from(USERS).where(USERS.c.username.like("cb.khac%"))
            ).scalar_one()
            == 0
        )


def test_more_refusals_and_a_stored_inspection_plan(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    from khenthuong.services.actors import load_actor
    from khenthuong.services.inspections import plan_inspections

    secretary = token("tk.bcy")
    r = client.post(
        "/api/councils/sessions",
        json={"unit": "BCY", "title": "Trống", "held_on": date.today().isoformat(),
              "members": [{"full_name": "Ủy viên 1"}]},
        headers=secretary,
    )  # fmt: skip
    sid = r.json()["id"]
    assert (
        client.post(f"/api/councils/sessions/{sid}/close", headers=token("cv.bcy")).status_code
        == 403
    )
    empty = client.post(f"/api/councils/sessions/{sid}/close", headers=secretary)
    assert empty.status_code == 422 and "chưa có hồ sơ" in empty.json()["detail"]
    assert client.get("/api/councils/sessions/999999", headers=secretary).status_code == 404
    assert client.get("/api/workflows/nope/diagram", headers=secretary).status_code == 404
    with write_tx(web_rt.engine) as conn:
        plan_inspections(conn, "KCY4", 2019, actor=load_actor(conn, "kt.cy"), seed=7)
    visits = client.get(
        "/api/blocs/KCY4/inspections", params={"year": 2019}, headers=secretary
    ).json()["items"]
    # A bloc of four starts its rotation with one directed triangle (see inspection_plan).
    assert len(visits) == 3 and len({v["inspector"] for v in visits}) == 3
    assert {v["inspector"] for v in visits} == {v["inspected"] for v in visits}
    assert all(v["inspector"] != v["inspected"] for v in visits)
    assert client.get("/health").json()["status"] == "ok"
    assert client.get("/api/status").json()["mode"] == "embedded"


def test_giay_khen_refuses_a_person_under_discipline(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    from datetime import timedelta

    from sqlalchemy import insert

    from khenthuong.storage.history import BLOCKERS

    officer = token("cb.qd")
    pid = person_id(client, officer, "Trần Thị Bích")
    with write_tx(web_rt.engine) as conn:
        conn.execute(
            insert(BLOCKERS).values(
                person_id=pid, kind="discipline", starts_on=date.today() - timedelta(days=30),
                ends_on=date.today() + timedelta(days=300), note="Khiển trách",
            )
        )  # fmt: skip
    nid = client.post(
        "/api/nominations",
        json={"workflow": "giay_khen", "proposing_unit": "CCYQD", "nominee_person_id": pid},
        headers=officer,
    ).json()["id"]
    r = client.post(f"/api/nominations/{nid}/advance", json={"trigger": "submit"}, headers=officer)
    assert r.status_code == 422
    assert r.json()["refusals"][0]["code"] == "not_blocked"
    assert "kỷ luật" in r.json()["refusals"][0]["message"]
    other = client.post(
        "/api/nominations",
        json={"workflow": "giay_khen", "proposing_unit": "CCYQD",
              "nominee_person_id": person_id(client, officer, "Nguyễn Văn An")},
        headers=officer,
    ).json()["id"]  # fmt: skip
    ok = client.post(
        f"/api/nominations/{other}/advance", json={"trigger": "submit"}, headers=officer
    )
    assert ok.status_code == 200 and ok.json()["to_state"] == "unit_council"


def test_history_entries_feed_the_eligibility_check(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    officer = token("cb.qd")
    pid = person_id(client, officer, "Trần Thị Bích")
    year = date.today().year
    for past in (year - 1, year):
        r = client.post(
            "/api/history",
            json={"record": "award", "unit_code": "CCYQD", "person": "Trần Thị Bích",
                  "year": past, "code": "CSTDCS", "decision_number": f"{past}/QĐ-CCYQD",
                  "decision_date": f"{past}-12-20"},
            headers=officer,
        )  # fmt: skip
        assert r.status_code == 201, r.text
    bad = client.post(
        "/api/history",
        json={"record": "rating", "unit_code": "CCYQD", "person": "Trần Thị Bích",
              "year": year, "code": "gioi"},
        headers=officer,
    )  # fmt: skip
    assert bad.status_code == 422 and "rating 'gioi'" in bad.json()["detail"]
    outside = client.post(
        "/api/history",
        json={"record": "rating", "unit_code": "CCYQD", "person": "X", "year": year,
              "code": "htt"},
        headers=token("cb.dcq"),
    )  # fmt: skip
    assert outside.status_code == 403
    assert client.post(
        "/api/history",
        json={"record": "rating", "unit_code": "CCYQD", "person": "X", "year": year,
              "code": "htt"},
        headers=token("kiemtra"),
    ).status_code == 403  # fmt: skip
    history = client.get(f"/api/persons/{pid}/history", headers=officer).json()
    assert [a["year"] for a in history["awards"]] == [year, year - 1]
    assert history["ratings"] == [] and history["blockers"] == []
    assert client.get(f"/api/persons/{pid}/history", headers=token("cb.dcq")).status_code == 403
    assert client.get("/api/persons/999999/history", headers=officer).status_code == 404
    # With two years of CSTĐCS the appraisal's eligibility check passes.
    nid = propose(client, officer, pid)["id"]
    attach_dossier(client, officer, nid)
    step(client, officer, nid, "submit")
    step(client, token("tt.qd"), nid, "forward")
    assert step(client, token("cv.bcy"), nid, "appraise")["to_state"] == "ministry_council"
    # A discipline is recorded with its measure, by code or by its Vietnamese name.
    warned = client.post(
        "/api/history",
        json={"record": "blocker", "unit_code": "CCYQD", "person": "Trần Thị Bích",
              "code": "discipline", "decision_date": f"{year}-01-05",
              "ends_on": f"{year}-02-05", "level": "Cảnh cáo"},
        headers=officer,
    )  # fmt: skip
    assert warned.status_code == 201, warned.text
    unknown = client.post(
        "/api/history",
        json={"record": "blocker", "unit_code": "CCYQD", "person": "Trần Thị Bích",
              "code": "discipline", "decision_date": f"{year}-03-05", "level": "nhắc nhở"},
        headers=officer,
    )  # fmt: skip
    assert unknown.status_code == 422 and "level 'nhắc nhở'" in unknown.json()["detail"]
    blockers = client.get(f"/api/persons/{pid}/history", headers=officer).json()["blockers"]
    assert [(b["kind"], b["level"], b["ends_on"]) for b in blockers] == [
        ("discipline", "canh_cao", f"{year}-02-05")
    ]


def test_every_api_operation_refuses_anonymous_callers(client: TestClient) -> None:
    """Each operation in /openapi.json answers 401 problem details without credentials."""
    import re

    open_routes = {"/health", "/api/status"}
    spec = client.get("/openapi.json").json()
    checked = 0
    for path, operations in spec["paths"].items():
        if path in open_routes:
            continue
        url = re.sub(r"\{[^}]+\}", "1", path)
        for method in operations:
            r = client.request(method.upper(), url)
            assert r.status_code == 401, (method, path, r.status_code)
            assert r.headers["content-type"] == PROBLEM
            checked += 1
    assert checked >= 30


def test_queue_pages_follow_the_due_order_without_gaps_or_repeats(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    officer, head = token("cb.qd"), token("tt.qd")
    pid = person_id(client, officer, "Nguyễn Văn An")
    ids = []
    for _ in range(7):
        nid = propose(client, officer, pid)["id"]
        attach_dossier(client, officer, nid)
        step(client, officer, nid, "submit")
        ids.append(nid)
    base = datetime(2026, 12, 1, tzinfo=UTC)
    with write_tx(web_rt.engine) as conn:  # two undated, five dated (one shared due date)
        for i, nid in enumerate(ids):
            due = None if i < 2 else base + timedelta(days=(i // 2))
            conn.execute(update(NOMINATIONS).where(NOMINATIONS.c.id == nid).values(due_at=due))
    seen: list[int] = []
    params: dict[str, object] = {"limit": 2}
    while True:
        page = client.get("/api/queue", params=params, headers=head).json()
        seen += [i["id"] for i in page["items"]]
        if page["next_cursor"] is None:
            break
        params = {"limit": 2, "cursor": page["next_cursor"]}
    assert sorted(seen) == sorted(ids) and len(seen) == len(ids)
    assert seen[-2:] == ids[:2]  # undated last, by id
    # The former cursor (after_id, after_due) still reads the same next page.
    first = client.get("/api/queue", params={"limit": 2}, headers=head).json()["items"]
    old = client.get("/api/queue", headers=head,
                     params={"limit": 2, "after_id": first[-1]["id"],
                             "after_due": first[-1]["due_at"]}).json()["items"]  # fmt: skip
    assert [i["id"] for i in old] == seen[2:4]
    bad = client.get("/api/queue", params={"cursor": "not-a-cursor"}, headers=head)
    assert bad.status_code == 422 and bad.json()["field"] == "cursor"


def test_docs_work_offline_and_the_api_declares_its_authentication(client: TestClient) -> None:
    """/docs loads Swagger UI from the server itself (no CDN); the OpenAPI document names the
    bearer token and the session cookie, and every /api/ operation but the status requires one."""
    page = client.get("/docs")
    assert page.status_code == 200
    assets = ("/static/swagger/swagger-ui-bundle.js", "/static/swagger/swagger-ui.css")
    for asset in assets:
        assert asset in page.text
        served = client.get(asset)
        assert served.status_code == 200 and len(served.content) > 10_000
    assert "cdn.jsdelivr" not in page.text and "https://" not in page.text.split("<body>")[0]
    spec = client.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearerAuth"]["description"],
    }
    assert schemes["sessionCookie"]["in"] == "cookie"
    for path, operations in spec["paths"].items():
        for operation in operations.values():
            secured = "security" in operation
            assert secured == (path.startswith("/api/") and path != "/api/status"), path
    assert client.get("/redoc").status_code == 404
