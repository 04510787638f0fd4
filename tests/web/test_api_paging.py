"""Every /api list pages one way ({items, next_cursor} with limit and cursor), the council
sessions list, and the problem answers the OpenAPI document declares."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from tests.web.helpers import Headers

PER_OBJECT_LISTS = {
    "/api/nominations/{nomination_id}/actions",
    "/api/nominations/{nomination_id}/history",
    "/api/nominations/{nomination_id}/documents",
    "/api/inspections/visits/{visit_id}/documents",
    "/api/blocs/{code}/members",
    "/api/blocs/{code}/years/{year}/scores/{round_}",
    "/api/blocs/{code}/years/{year}/proposals",
}
"""Lists that belong to one object and come whole (its steps, timeline, documents; a bloc's
members, one round's score table, one year's flag proposals)."""


def _walk(c: TestClient, path: str, headers: dict[str, str], **params: Any) -> list[list[Any]]:
    """Every page of a list, following next_cursor."""
    pages: list[list[Any]] = []
    cursor = None
    while True:
        r = c.get(path, params=params | ({"cursor": cursor} if cursor else {}), headers=headers)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"items", "next_cursor"}
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            return pages


def test_every_list_operation_pages_with_limit_and_cursor(client: TestClient) -> None:
    """In the OpenAPI document each GET /api list answers a page and takes limit and cursor;
    only the lists of one object come whole."""
    doc = client.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    paged, arrays = set(), set()
    for path, operations in doc["paths"].items():
        get = operations.get("get")
        if not path.startswith("/api/") or get is None:
            continue
        ok = get["responses"]["200"].get("content", {}).get("application/json", {})
        schema = ok.get("schema", {})
        if schema.get("type") == "array":
            arrays.add(path)
        ref = schema.get("$ref", "").rsplit("/", 1)[-1]
        if ref.startswith("Page_"):
            assert set(schemas[ref]["properties"]) == {"items", "next_cursor"}
            names = {p["name"] for p in get.get("parameters", [])}
            assert {"limit", "cursor"} <= names, path
            paged.add(path)
    assert arrays == PER_OBJECT_LISTS
    assert {"/api/nominations", "/api/queue", "/api/users", "/api/units", "/api/persons",
            "/api/workflows", "/api/audit/events", "/api/blocs", "/api/decisions",
            "/api/councils", "/api/blocs/{code}/inspections"} <= paged  # fmt: skip


def test_pages_cover_a_list_once_in_order(client: TestClient, token: Headers) -> None:
    """Walking units, users, workflows and audit events three at a time gives the whole list,
    each item once, in the list's order; a cursor the API did not write is a 422 on cursor."""
    auditor = token("kiemtra")
    for path, key in (("/api/units", "path"), ("/api/users", "username"),
                      ("/api/workflows", "name"), ("/api/audit/events", "hash")):  # fmt: skip
        whole = client.get(path, params={"limit": 500}, headers=auditor).json()
        assert whole["next_cursor"] is None and len(whole["items"]) > 3, path
        pages = _walk(client, path, auditor, limit=3)
        assert all(len(p) == 3 for p in pages[:-1]) and len(pages) > 1, path
        assert [i[key] for p in pages for i in p] == [i[key] for i in whole["items"]], path
    bad = client.get("/api/units", params={"cursor": "eyJ4Ijo"}, headers=auditor)
    assert bad.status_code == 422 and bad.json()["field"] == "cursor"
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert client.get("/api/units", params={"limit": 0}, headers=auditor).status_code == 422


def _session(c: TestClient, headers: dict[str, str], unit: str, held_on: str) -> int:
    r = c.post(
        "/api/councils/sessions",
        json={"unit": unit, "title": f"Phiên họp {unit} {held_on}", "held_on": held_on,
              "members": [{"full_name": "Ủy viên 1"}, {"full_name": "Ủy viên 2"}]},
        headers=headers,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return int(r.json()["id"])


def test_council_sessions_list_by_unit_year_and_status(client: TestClient, token: Headers) -> None:
    """GET /api/councils lists the sessions of the caller's units, newest first, with the
    unit's name, filtered by unit (its subtree), year and status, one page at a time."""
    today = date.today().isoformat()
    ministry = _session(client, token("tk.bcy"), "BCY", today)
    unit_old = _session(client, token("tk.qd"), "CCYQD", "2024-12-20")
    unit_new = _session(client, token("tk.qd"), "CCYQD", today)
    auditor = token("kiemtra")

    def ids(headers: dict[str, str], **params: Any) -> list[int]:
        return [s["id"] for p in _walk(client, "/api/councils", headers, **params) for s in p]

    assert ids(auditor) == [unit_new, unit_old, ministry]
    assert ids(auditor, limit=1) == [unit_new, unit_old, ministry]
    assert ids(auditor, unit="CCYQD") == [unit_new, unit_old]
    assert ids(auditor, unit="BCY") == [unit_new, unit_old, ministry]  # the subtree
    assert ids(auditor, year=2024) == [unit_old]
    assert ids(auditor, status="closed") == []
    assert ids(auditor, status="open", unit="CCYQD", year=2024) == [unit_old]
    assert ids(token("cb.dcq")) == []  # another unit's officer sees none of them
    assert ids(token("cb.qd")) == [unit_new, unit_old]
    first = client.get("/api/councils", params={"unit": "CCYQD"}, headers=auditor).json()
    item = first["items"][0]
    assert item["unit"] == "CCYQD" and item["unit_name"] == "Cục Cơ yếu Quân đội"
    assert item["status"] == "open" and item["items"] == 0 and item["held_on"] == today
    assert client.get("/api/councils", params={"status": "x"}, headers=auditor).status_code == 422
    assert client.get("/api/councils").status_code == 401


def test_openapi_declares_problem_answers(client: TestClient) -> None:
    """Each secured /api operation declares 401, 403 and 422 as problem+json (and 404 when
    its path names an object); the status endpoint needs no credentials."""
    doc = client.get("/openapi.json").json()
    assert doc["components"]["schemas"]["Problem"]["required"] == [
        "type", "title", "status", "detail"
    ]  # fmt: skip
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    for path, operations in doc["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, op in operations.items():
            wanted = {"422"} | ({"401", "403"} if path != "/api/status" else set())
            wanted |= {"404"} if "{" in path else set()
            assert wanted <= set(op["responses"]), (method, path)
            for status in wanted:
                content = op["responses"][status]["content"]
                assert content == {"application/problem+json": problem}, (method, path, status)
    sign = doc["paths"]["/api/decisions"]["post"]["responses"]["409"]
    assert "application/problem+json" in sign["content"]
