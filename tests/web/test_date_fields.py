"""Date fields of the pages and the API take dd/mm/yyyy as well as ISO, and a bad date is a
422 naming the field (it was a 500 on the decision page)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from khenthuong.localtime import local_date
from khenthuong.runtime import Runtime
from tests.web.helpers import Headers, council_vote, to_council

Browser = Callable[[str], tuple[TestClient, str]]


def test_the_decision_page_takes_dd_mm_yyyy_and_names_a_bad_date(
    client: TestClient, token: Headers, browser: Browser, web_rt: Runtime
) -> None:
    nid = to_council(web_rt, client, token, "Nguyễn Văn An")
    council_vote(client, token("tk.bcy"), [nid], agree=7)
    c, csrf = browser("tb.bcy")
    form = {"nomination_id": [str(nid)], "number": "7/QĐ-BCY", "authority": "BCY",
            "csrf_token": csrf}  # fmt: skip
    bad = c.post("/decisions", data=form | {"decided_on": "31/02/2026"})
    assert bad.status_code == 422 and "Ngày &#39;31/02/2026&#39; không có trên lịch" in bad.text
    today = local_date(datetime.now(UTC))
    good = c.post("/decisions", data=form | {"decided_on": f"{today:%d/%m/%Y}"})
    assert good.status_code == 200, good.text
    decision = client.get("/api/decisions/7/QĐ-BCY", headers=token("kiemtra")).json()
    assert decision["decided_on"] == today.isoformat()


def test_api_dates_take_both_forms_and_name_the_field(client: TestClient, token: Headers) -> None:
    body = {"unit": "BCY", "title": "Phiên họp", "members": [{"full_name": "A"}]}
    today = local_date(datetime.now(UTC))
    r = client.post("/api/councils/sessions", json=body | {"held_on": f"{today:%d/%m/%Y}"},
                    headers=token("tk.bcy"))  # fmt: skip
    assert r.status_code == 201, r.text
    assert (
        client.get(f"/api/councils/sessions/{r.json()['id']}", headers=token("tk.bcy")).json()[
            "held_on"
        ]
        == today.isoformat()
    )
    r = client.post("/api/councils/sessions", json=body | {"held_on": "32/01/2027"},
                    headers=token("tk.bcy"))  # fmt: skip
    assert r.status_code == 422
    problem = r.json()
    assert "held_on" in problem["detail"]
    assert [e["field"] for e in problem["errors"]] == ["held_on"]
    assert "không có trên lịch" in problem["errors"][0]["message"]
