"""/api/delegations: create, list and revoke, with problem responses naming what is wrong."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient

from khenthuong.localtime import local_today
from khenthuong.runtime import Runtime
from khenthuong.services.actors import load_actor
from khenthuong.services.org import add_user
from khenthuong.storage.db import write_tx

Headers = Callable[[str], dict[str, str]]


def test_create_list_and_revoke_a_delegation(
    web_rt: Runtime, client: TestClient, token: Headers
) -> None:
    with write_tx(web_rt.engine) as conn:
        add_user(conn, "pt.bcy", "Đoàn Minh Phúc", "pt@bcy.example", "BCY", [], web_rt.roles)
    ends = (local_today() + timedelta(days=10)).strftime("%d/%m/%Y")
    body = {
        "delegator": "tb.bcy", "delegate": "pt.bcy", "unit": "BCY", "roles": ["minister"],
        "mode": "KT", "delegate_title": "Phó Trưởng ban", "ends_on": ends,
        "reason": "Trưởng ban đi công tác",
    }  # fmt: skip
    head = token("tb.bcy")
    made = client.post("/api/delegations", json=body, headers=head)
    assert made.status_code == 201, made.text
    out = made.json()
    assert (out["delegate_name"], out["mode_name"], out["delegate_title"], out["in_force"]) == (
        "Đoàn Minh Phúc", "Ký thay", "PHÓ TRƯỞNG BAN", True,
    )  # fmt: skip
    with web_rt.engine.connect() as conn:
        assert [g.on_behalf_of for g in load_actor(conn, "pt.bcy").grants] == ["tb.bcy"]
    listed = client.get("/api/delegations", headers=token("pt.bcy")).json()
    assert [d["id"] for d in listed["items"]] == [out["id"]] and listed["next_cursor"] is None
    assert client.get("/api/delegations", headers=token("cb.qd")).json()["items"] == []
    other = client.post(f"/api/delegations/{out['id']}/revoke", json={}, headers=token("cb.qd"))
    assert other.status_code == 403
    done = client.post(
        f"/api/delegations/{out['id']}/revoke", json={"reason": "Đã về"}, headers=head
    )
    assert done.status_code == 200 and done.json()["in_force"] is False
    with web_rt.engine.connect() as conn:
        assert load_actor(conn, "pt.bcy").grants == ()


def test_refusals_are_problems_naming_the_field(client: TestClient, token: Headers) -> None:
    ends = (local_today() + timedelta(days=10)).isoformat()
    base = {
        "delegator": "tb.bcy", "delegate": "cv.bcy", "unit": "BCY", "mode": "KT",
        "delegate_title": "Phó Trưởng ban", "ends_on": ends, "reason": "Đi công tác",
    }  # fmt: skip
    head = token("tb.bcy")
    r = client.post("/api/delegations", json={**base, "roles": ["unit_head"]}, headers=head)
    assert r.status_code == 403 and "không giữ vai trò Thủ trưởng đơn vị" in r.json()["detail"]
    assert r.json()["detail_en"].startswith("Ngô Văn Thành does not hold the role Head of unit")
    r = client.post("/api/delegations", json={**base, "delegate": "khong.co"}, headers=head)
    assert r.status_code == 404 and "khong.co" in r.json()["detail"]
    r = client.post("/api/delegations", json={**base, "ends_on": "31/02/2027"}, headers=head)
    assert r.status_code == 422 and "ends_on" in r.text
    r = client.post("/api/delegations", json={**base, "mode": "XY"}, headers=head)
    assert r.status_code == 422 and "Hình thức ký" in r.json()["detail"]


def test_the_page_delegates_lists_and_revokes_with_names(
    web_rt: Runtime, browser: Callable[[str], tuple[TestClient, str]]
) -> None:
    with write_tx(web_rt.engine) as conn:
        add_user(conn, "pt.bcy", "Đoàn Minh Phúc", "pt@bcy.example", "BCY", [], web_rt.roles)
    c, csrf = browser("tb.bcy")
    page = c.get("/delegations")
    assert page.status_code == 200 and "Chưa có ủy quyền nào." in page.text
    # the form offers the head's own role by its title (the code only as the value)
    assert (
        "Bộ trưởng, Thủ trưởng cơ quan trung ương" in page.text and 'value="minister"' in page.text
    )
    ends = (local_today() + timedelta(days=5)).strftime("%d/%m/%Y")
    bad = c.post(
        "/delegations",
        data={"csrf_token": csrf, "delegate": "pt.bcy", "unit": "BCY", "mode": "KT",
              "delegate_title": "Phó Trưởng ban", "ends_on": "32/13/2026", "reason": "Đi"},
    )  # fmt: skip
    assert bad.status_code == 422 and "Đến hết ngày" in bad.text
    made = c.post(
        "/delegations",
        data={"csrf_token": csrf, "delegate": "pt.bcy", "unit": "BCY", "mode": "KT",
              "roles": "minister", "delegate_title": "Phó Trưởng ban", "ends_on": ends,
              "reason": "Trưởng ban đi công tác"},
        follow_redirects=True,
    )  # fmt: skip
    assert made.status_code == 200 and "Đã lập ủy quyền." in made.text
    assert "Đoàn Minh Phúc" in made.text and "Ban Cơ yếu Chính phủ" in made.text
    assert "KT. Ký thay" in made.text and "Đang hiệu lực" in made.text
    with web_rt.engine.connect() as conn:
        assert [g.role for g in load_actor(conn, "pt.bcy").grants] == ["minister"]
    delegation_id = made.text.split('data-testid="delegation-', 1)[1].split('"', 1)[0]
    done = c.post(
        f"/delegations/{delegation_id}/revoke", data={"csrf_token": csrf, "reason": "Đã về"},
        follow_redirects=True,
    )  # fmt: skip
    assert "Đã thu hồi ủy quyền." in done.text and "Đã thu hồi" in done.text
    with web_rt.engine.connect() as conn:
        assert load_actor(conn, "pt.bcy").grants == ()
