"""The API and the form resolve typed names against the register and store the subject
(issue 11)."""

from __future__ import annotations

import html
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from khenthuong.runtime import Runtime
from khenthuong.storage.models import NOMINATIONS, PERSONS
from tests.web.helpers import Headers

Browser = Callable[[str], tuple[TestClient, str]]
NEW = {"workflow": "giay_khen", "proposing_unit": "CCYQD"}


def test_the_api_refuses_an_unknown_name_and_creates_on_request(
    client: TestClient, token: Headers
) -> None:
    officer = token("cb.qd")
    r = client.post("/api/nominations", json=NEW | {"nominee_name": "Lò Văn Pá"}, headers=officer)
    assert r.status_code == 422
    refusal = r.json()["refusals"][0]
    assert refusal["code"] == "nominee_unknown"
    assert refusal["api"] == "POST /api/persons" and "command" not in refusal
    assert refusal["unlisted"] == "Lò Văn Pá" and refusal["unit"] == "CCYQD"
    assert "khenthuong" not in r.text  # no CLI command in the API's answer
    made = client.post(
        "/api/nominations",
        json=NEW | {"nominee_name": "Lò Văn Pá", "create_person": True},
        headers=officer,
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["nominee_kind"] == "individual" and body["nominee_person_id"]
    found = client.get("/api/persons", params={"q": "Lò Văn Pá"}, headers=officer).json()["items"]
    assert [p["id"] for p in found] == [body["nominee_person_id"]]
    collective = client.post(
        "/api/nominations", json=NEW | {"nominee_unit_code": "CCYQD"}, headers=officer
    ).json()
    assert collective["nominee_kind"] == "collective" and collective["nominee_person_id"] is None
    bad = client.post(
        "/api/nominations",
        json=NEW | {"nominee_kind": "group", "nominee_name": "A"},
        headers=officer,
    )
    assert bad.status_code == 422


def test_the_api_lists_namesakes_with_their_year_of_birth(
    client: TestClient, token: Headers
) -> None:
    officer = token("cb.qd")
    ids = []
    for year in (1971, 1993):
        r = client.post(
            "/api/persons",
            json={"full_name": "Đỗ  Văn Tư", "unit_code": "CCYQD", "birth_year": year},
            headers=officer,
        )
        assert r.status_code == 201 and r.json()["full_name"] == "Đỗ Văn Tư"
        ids.append(r.json()["id"])
    r = client.post("/api/nominations", json=NEW | {"nominee_name": "đỗ văn tư"}, headers=officer)
    assert r.status_code == 422
    refusal = r.json()["refusals"][0]
    assert refusal["code"] == "nominee_ambiguous"
    assert refusal["candidates"] == [
        {"id": ids[0], "unit": "CCYQD", "birth_year": 1971},
        {"id": ids[1], "unit": "CCYQD", "birth_year": 1993},
    ]


def test_the_form_takes_a_typed_name_and_the_register_box(
    browser: Browser, web_rt: Runtime
) -> None:
    c, csrf = browser("cb.qd")
    form = c.get("/new")
    assert 'name="nominee_name"' in form.text and 'name="create_person"' in form.text
    data = NEW | {"year": "2026", "csrf_token": csrf, "nominee_name": "Mai Văn Gõ"}
    refused = c.post("/new", data=data)
    assert refused.status_code == 422
    shown = html.unescape(refused.text)
    assert "Không có cá nhân tên 'Mai Văn Gõ'" in shown
    assert "đánh dấu ô “Thêm vào danh sách cá nhân nếu chưa có” rồi gửi lại" in shown
    assert "persons add" not in shown and "--create-person" not in shown
    r = c.post("/new", data=data | {"create_person": "1"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    nid = int(r.headers["location"].rsplit("/", 1)[1])
    with web_rt.engine.connect() as conn:
        row = conn.execute(select(NOMINATIONS).where(NOMINATIONS.c.id == nid)).mappings().one()
        name = conn.execute(
            select(PERSONS.c.full_name).where(PERSONS.c.id == row["nominee_person_id"])
        ).scalar_one()
    assert name == "Mai Văn Gõ" and row["nominee_kind"] == "individual"
