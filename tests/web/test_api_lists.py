"""The work queue, list filters, council sessions, workflows and audit verification over the
API: success, ordering and scope, each with its refusal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from khenthuong.runtime import Runtime
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import NOMINATIONS
from tests.web.helpers import Headers, attach_dossier, step, to_council

PROBLEM = "application/problem+json"


def _submitted(c: TestClient, officer: dict[str, str], unit: str, name: str, **extra: str) -> int:
    """A nomination of `unit` submitted to its unit head; returns its id."""
    r = c.post(
        "/api/nominations",
        json={
            "workflow": "bang_khen_bo",
            "proposing_unit": unit,
            "nominee_name": name,
            "create_person": True,
        }
        | extra,
        headers=officer,
    )
    assert r.status_code == 201, r.text
    nid = int(r.json()["id"])
    attach_dossier(c, officer, nid)
    step(c, officer, nid, "submit")
    return nid


def _due(rt: Runtime, dues: dict[int, datetime | None]) -> None:
    with write_tx(rt.engine) as conn:
        for nid, due in dues.items():
            conn.execute(update(NOMINATIONS).where(NOMINATIONS.c.id == nid).values(due_at=due))


def test_queue_lists_the_callers_work_overdue_first_and_in_scope(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    officer = token("cb.qd")
    ids = [_submitted(client, officer, "CCYQD", f"Tập thể Phòng {i}") for i in range(4)]
    theirs = _submitted(client, token("cb.dcq"), "CCYDCQ", "Tập thể Phòng Đảng")
    now = datetime.now(UTC)
    _due(web_rt, {ids[0]: now + timedelta(days=10), ids[1]: None,
                  ids[2]: now - timedelta(days=5), ids[3]: now - timedelta(days=1),
                  theirs: now - timedelta(days=9)})  # fmt: skip
    r = client.get("/api/queue", headers=token("tt.qd"))
    assert r.status_code == 200
    queue = r.json()["items"]
    assert r.json()["next_cursor"] is None
    assert [i["id"] for i in queue] == [ids[2], ids[3], ids[0], ids[1]]
    assert [i["overdue"] for i in queue] == [True, True, False, False]
    assert queue[0]["working_days_left"] < 0 and queue[2]["working_days_left"] > 0
    assert queue[3]["due_at"] is None and queue[3]["working_days_left"] is None
    assert all(i["unit_code"] == "CCYQD" and "forward" in i["actions"] for i in queue)
    # Each unit head sees only their own unit's work; others see none of it.
    assert [i["id"] for i in client.get("/api/queue", headers=token("tt.dcq")).json()["items"]] == [
        theirs
    ]
    assert client.get("/api/queue", headers=token("kiemtra")).json()["items"] == []
    assert client.get("/api/queue", headers=officer).json()["items"] == []
    assert client.get("/api/queue", params={"limit": 0}, headers=officer).status_code == 422
    assert client.get("/api/queue").status_code == 401


def test_a_file_waits_for_the_role_its_state_names(client: TestClient, token: Headers) -> None:
    """A Giấy khen at the unit council waits for the council's secretary; once the council
    has passed it, it waits for the head of unit, and leaves the secretary's queue although
    the secretary may still return it for supplementation."""
    officer, secretary, head = token("cb.qd"), token("tk.qd"), token("tt.qd")
    r = client.post(
        "/api/nominations",
        json={
            "workflow": "giay_khen",
            "proposing_unit": "CCYQD",
            "nominee_name": "Tổ Năm",
            "create_person": True,
        },
        headers=officer,
    )
    nid = int(r.json()["id"])
    step(client, officer, nid, "submit")

    def queue(headers: dict[str, str]) -> list[int]:
        return [i["id"] for i in client.get("/api/queue", headers=headers).json()["items"]]

    assert nid in queue(secretary) and nid not in queue(head)
    step(client, secretary, nid, "council_approve")
    assert nid in queue(head) and nid not in queue(secretary)
    actions = client.get(f"/api/nominations/{nid}", headers=secretary).json()
    assert actions["state"] == "head_decision"
    returned = step(client, secretary, nid, "return_for_supplement", reason="Bổ sung")
    assert returned["to_state"] == "returned"


def test_list_filters_by_workflow_unit_and_overdue(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    officer = token("cb.qd")
    late = _submitted(client, officer, "CCYQD", "Tập thể Phòng Một")
    on_time = _submitted(client, officer, "CCYQD", "Tập thể Phòng Hai")
    other_unit = _submitted(client, token("cb.dcq"), "CCYDCQ", "Tập thể Phòng Ba")
    giay = client.post(
        "/api/nominations",
        json={
            "workflow": "giay_khen",
            "proposing_unit": "CCYQD",
            "nominee_name": "Tổ Bốn",
            "create_person": True,
        },
        headers=officer,
    ).json()["id"]
    now = datetime.now(UTC)
    _due(web_rt, {late: now - timedelta(days=3), on_time: now + timedelta(days=3)})
    auditor = token("kiemtra")

    def ids(headers: dict[str, str], **params: object) -> list[int]:
        r = client.get("/api/nominations", params=params, headers=headers)
        assert r.status_code == 200, r.text
        return [i["id"] for i in r.json()["items"]]

    assert ids(officer, workflow="giay_khen") == [giay]
    assert ids(officer, workflow="bang_khen_bo") == [on_time, late]
    assert ids(auditor, unit="CCYDCQ") == [other_unit]
    assert ids(auditor, unit="CCYQD", workflow="bang_khen_bo") == [on_time, late]
    assert ids(auditor, unit="BCY") == [giay, other_unit, on_time, late]  # the subtree
    assert ids(officer, unit="CCYDCQ") == []  # outside the officer's units: nothing
    overdue = client.get("/api/nominations", params={"overdue": True}, headers=officer).json()
    assert [i["id"] for i in overdue["items"]] == [late]
    assert overdue["items"][0]["overdue"] is True
    assert ids(officer, overdue=False) == [giay, on_time]
    assert ids(officer, state="unit_review", workflow="bang_khen_bo") == [on_time, late]


def test_council_session_read_and_changed_only_by_its_council(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    nid = to_council(web_rt, client, token, "Nguyễn Văn An")
    secretary = token("tk.bcy")
    r = client.post(
        "/api/councils/sessions",
        json={"unit": "BCY", "title": "Phiên họp quý IV", "held_on": date.today().isoformat(),
              "members": [{"full_name": "Ủy viên 1"}, {"full_name": "Ủy viên 2", "present": False}]},
        headers=secretary,
    )  # fmt: skip
    sid = r.json()["id"]
    for who in ("tk.bcy", "cv.bcy", "tb.bcy", "kiemtra"):
        shown = client.get(f"/api/councils/sessions/{sid}", headers=token(who))
        assert shown.status_code == 200, who
        body = shown.json()
        assert body["unit"] == "BCY" and body["title"] == "Phiên họp quý IV"
        assert body["status"] == "open" and body["items"] == []
        assert [m["present"] for m in body["members"]] == [True, False]
    for who in ("cb.qd", "cb.pccc"):  # a unit below the council, another ministry's unit
        r = client.get(f"/api/councils/sessions/{sid}", headers=token(who))
        assert r.status_code == 403, who
    items = {"nomination_ids": [nid]}
    tallies = {"tallies": [{"nomination_id": nid, "agree": 1, "disagree": 0, "abstain": 0}]}
    for who in ("tk.dcq", "cb.dcq", "tk.pccc", "kiemtra"):
        r = client.post(f"/api/councils/sessions/{sid}/items", json=items, headers=token(who))
        assert r.status_code == 403 and r.headers["content-type"] == PROBLEM, who
    assert client.get(f"/api/councils/sessions/{sid}", headers=secretary).json()["items"] == []
    r = client.post(f"/api/councils/sessions/{sid}/items", json=items, headers=secretary)
    assert r.status_code == 200 and [i["nomination_id"] for i in r.json()["items"]] == [nid]
    for who in ("tk.dcq", "cb.dcq", "tk.pccc", "kiemtra"):
        r = client.put(f"/api/councils/sessions/{sid}/tallies", json=tallies, headers=token(who))
        assert r.status_code == 403, who
    shown = client.get(f"/api/councils/sessions/{sid}", headers=secretary).json()
    assert shown["items"][0]["agree"] in (None, 0)
    r = client.put(f"/api/councils/sessions/{sid}/tallies", json=tallies, headers=secretary)
    assert r.status_code == 200 and r.json()["items"][0]["agree"] == 1


def test_workflow_list_names_every_registered_version(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    r = client.get("/api/workflows", headers=token("cb.qd"))
    assert r.status_code == 200
    listed = {(w["name"], w["version"]): w for w in r.json()["items"]}
    registered = {(w.definition.name, w.definition.version): w for w in web_rt.registry.all()}
    assert set(listed) == set(registered) and len(listed) >= 3
    for key, w in listed.items():
        d = registered[key].definition
        assert (w["title"], w["title_en"]) == (d.title.vi, d.title.en)
        assert w["legal_basis"] == d.legal_basis and w["subject"] == d.subject
    assert any(n == "bang_khen_bo" and w["title"].startswith("Bằng khen") for (n, _), w in
               listed.items())  # fmt: skip
    assert client.get("/api/workflows").status_code == 401
