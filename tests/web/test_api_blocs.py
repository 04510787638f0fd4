"""/api/blocs: a bloc's year through the API, refusals as problem+json, and the OpenAPI
document listing every endpoint with its problem responses."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.web.helpers import Headers

YEAR = "/api/blocs/KCY4/years/2019"
TARGETS = [
    {"code": "hoan_thanh", "description": "100% cán bộ, đảng viên hoàn thành nhiệm vụ",
     "kind": "at_least", "threshold": 100, "points": 40},
    {"code": "dang_vien_tot", "description": "Trên 80% đảng viên hoàn thành tốt, xuất sắc",
     "kind": "more_than", "threshold": 80, "points": 30},
    {"code": "suy_thoai", "description": "Không có cán bộ suy thoái", "kind": "zero_cases",
     "points": 30},
]  # fmt: skip
HEADS = {"CCYQD": "tt.qd", "CCYDCQ": "tt.dcq", "CCYCA": "tt.ca", "CCYNG": "tt.ng"}


def _problem(r: object, status: int, needle: str) -> None:
    assert r.status_code == status, r.text  # type: ignore[attr-defined]
    assert r.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    assert needle in r.json()["detail"], r.json()  # type: ignore[attr-defined]


def test_a_bloc_year_through_the_api(client: TestClient, token: Headers) -> None:
    """Launch by the 2019 leader (the 2018 leader refused), four signatures (a wrong signer
    refused), reports (a value out of range refused), scores with their computation, the
    vote and its proposals."""
    launch = {"theme": "Đoàn kết, sáng tạo", "launched_on": "2019-03-07", "targets": TARGETS}
    r = client.post(f"{YEAR}/covenant", json=launch, headers=token("cb.qd"))
    _problem(r, 403, "Cục Cơ yếu Đảng – Chính quyền")
    r = client.post(f"{YEAR}/covenant", json=launch, headers=token("cb.dcq"))
    assert r.status_code == 201, r.text
    year = r.json()
    assert year["leader"] == "CCYDCQ" and year["leader_title"] == "Khối trưởng"
    assert [t["condition"] for t in year["covenant"]["targets"]] == [
        "ít nhất 100\u00a0%", "trên 80\u00a0%", "không có trường hợp nào",
    ]  # fmt: skip
    r = client.post(
        f"{YEAR}/signatures", json={"unit": "CCYCA", "signed_on": "2019-03-07"},
        headers=token("cb.qd"),
    )  # fmt: skip
    _problem(r, 403, "không được ký giao ước thay đơn vị")
    for unit, head in HEADS.items():
        r = client.post(
            f"{YEAR}/signatures", json={"unit": unit, "signed_on": "2019-03-07"},
            headers=token(head),
        )  # fmt: skip
        assert r.status_code == 200, r.text
    assert all(s["signed_by"] for s in r.json()["covenant"]["signatures"])
    bad = {"unit": "CCYQD", "values": {"hoan_thanh": 100, "dang_vien_tot": 250, "suy_thoai": 0}}
    _problem(client.post(f"{YEAR}/reports/so_ket", json=bad, headers=token("tt.qd")), 422,
             "250 % ngoài khoảng 0–100 %")  # fmt: skip
    values = {
        "CCYQD": (100, 90, 0), "CCYDCQ": (100, 85, 0), "CCYCA": (100, 70, 0), "CCYNG": (95, 60, 1),
    }  # fmt: skip
    for round_ in ("so_ket", "tong_ket"):
        for unit, (a, b, c) in values.items():
            body = {"unit": unit, "values": {"hoan_thanh": a, "dang_vien_tot": b, "suy_thoai": c}}
            r = client.post(f"{YEAR}/reports/{round_}", json=body, headers=token(HEADS[unit]))
            assert r.status_code == 200, r.text
    assert r.json()["total"] == 0 and not r.json()["met_all"]
    table = client.get(f"{YEAR}/scores/tong_ket", headers=token("tt.ng")).json()
    assert [(x["unit"], x["total"], x["rank"]) for x in table] == [
        ("CCYDCQ", 100, 1), ("CCYQD", 100, 2), ("CCYCA", 70, 3), ("CCYNG", 0, 4),
    ]  # fmt: skip
    assert "dang_vien_tot: không đạt (70; trên 80\u00a0%) → 0" in table[2]["explanation"]
    vote = {"voters": 4, "votes": {"CCYQD": 3, "CCYDCQ": 4, "CCYCA": 1}}
    _problem(client.post(f"{YEAR}/vote", json=vote, headers=token("tt.qd")), 403, "khối trưởng")
    r = client.post(f"{YEAR}/vote", json=vote, headers=token("tt.dcq"))
    assert r.status_code == 200, r.text
    assert [(p["unit"], p["award"]) for p in r.json()] == [
        ("CCYDCQ", "Cờ thi đua của Chính phủ"),
        ("CCYQD", "Cờ thi đua của Ban Cơ yếu Chính phủ"),
        ("CCYCA", ""),
        ("CCYNG", ""),
    ]
    assert client.get(f"{YEAR}/proposals", headers=token("cb.qd")).json() == r.json()
    doc = client.get(
        "/api/generated/bao-cao-tong-ket", params={"key": "KCY4:2019", "format": "docx"},
        headers=token("tt.ca"),
    )  # fmt: skip
    assert doc.status_code == 200 and doc.content[:2] == b"PK"


def test_blocs_are_managed_through_the_api(client: TestClient, token: Headers) -> None:
    """The organiser's office creates a cluster, adds and ends memberships, sets the year's
    leader (labels follow the kind); an unchosen leader is null; others are refused."""
    office = token("cv.bca")
    body = {"code": "CUM7", "name": "Cụm thi đua số 7", "kind": "cum", "organiser": "BCA",
            "since": 2025, "scoring": {"ministry_flags": 2,
                                       "ministry_flag_name": "Cờ thi đua của Bộ Công an"}}  # fmt: skip
    _problem(client.post("/api/blocs", json=body, headers=token("cb.pccc")), 403, "BCA")
    assert client.post("/api/blocs", json=body, headers=office).status_code == 201
    for unit in ("C07", "K02", "C08"):
        r = client.post(
            "/api/blocs/CUM7/members", json={"unit": unit, "from_date": "2025-01-01"},
            headers=office,
        )  # fmt: skip
        assert r.status_code == 201, r.text
    r = client.post("/api/blocs/CUM7/members/C08/end", json={"until": "2025-12-31"}, headers=office)
    assert [m["to_date"] for m in r.json()] == [None, None, "2025-12-31"]
    year = client.get("/api/blocs/CUM7/years/2026", headers=office).json()
    assert year["leader"] is None and year["leader_title"] == "Cụm trưởng"
    assert [m[0] for m in year["members"]] == ["C07", "K02"]
    _problem(
        client.put("/api/blocs/CUM7/years/2026/leader", json={"leader": "C08"}, headers=office),
        422, "không phải thành viên",
    )  # fmt: skip
    r = client.put(
        "/api/blocs/CUM7/years/2026/leader",
        json={"leader": "K02", "deputy": "C07", "source": "set"}, headers=office,
    )  # fmt: skip
    assert r.status_code == 200, r.text
    assert (r.json()["leader_name"], r.json()["leader_source"]) == ("Bộ Tư lệnh Cảnh vệ", "set")
    assert r.json()["scoring"]["ministry_flags"] == 2
    _problem(client.get("/api/blocs/NOPE/years/2026", headers=office), 404, "NOPE")


def test_openapi_lists_the_bloc_endpoints_with_problem_responses(
    client: TestClient, token: Headers
) -> None:
    """Every /api/blocs write endpoint documents its 403/404/422 problem+json responses."""
    spec = client.get("/openapi.json").json()
    paths = {p: ops for p, ops in spec["paths"].items() if p.startswith("/api/blocs/{code}")}
    expected = {
        ("post", "/api/blocs/{code}/years/{year}/covenant"),
        ("post", "/api/blocs/{code}/years/{year}/signatures"),
        ("post", "/api/blocs/{code}/years/{year}/reports/{round_}"),
        ("put", "/api/blocs/{code}/years/{year}/deductions/{round_}"),
        ("post", "/api/blocs/{code}/years/{year}/vote"),
        ("put", "/api/blocs/{code}/years/{year}/leader"),
        ("post", "/api/blocs/{code}/members"),
        ("post", "/api/blocs/{code}/members/{unit}/end"),
    }
    for method, path in expected:
        responses = paths[path][method]["responses"]
        for status in ("403", "404", "422"):
            assert "application/problem+json" in responses[status]["content"], (path, status)
    assert "get" in paths["/api/blocs/{code}/years/{year}/scores/{round_}"]
    assert "get" in paths["/api/blocs/{code}/years/{year}/proposals"]
    assert "post" in spec["paths"]["/api/blocs"]
