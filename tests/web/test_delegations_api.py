"""/api/delegations: create, list and revoke, with problem responses naming what is wrong."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from khenthuong.errors import KhenthuongError
from khenthuong.localtime import local_today
from khenthuong.runtime import Runtime
from khenthuong.services import delegations
from khenthuong.services.actors import load_actor
from khenthuong.services.org import add_unit, add_user
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import UNITS
from khenthuong.web.ui_delegations import INDENT

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


UNIT_SELECT = re.compile(r'<select name="unit" id="delegation-unit"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="([^"]*)"\s*(selected)?>([^<]*)</option>')


def _unit_options(page: str) -> list[tuple[str, bool, str]]:
    """(value, selected, text) of the delegation form's unit list."""
    found = UNIT_SELECT.search(page)
    assert found is not None, page
    return [(v, bool(sel), html.unescape(text)) for v, sel, text in OPTION.findall(found[1])]


def _units(rt: Runtime) -> dict[str, str]:
    with rt.engine.connect() as conn:
        return {str(c): str(n) for c, n in conn.execute(select(UNITS.c.code, UNITS.c.name))}


def _accepted(rt: Runtime, actor: str, delegator: str) -> set[str]:
    """The units `delegations.create` accepts from `actor` for `delegator`, each tried in a
    transaction rolled back."""
    ends = local_today() + timedelta(days=3)
    delegate = "tt.qd" if delegator != "tt.qd" else "cb.qd"
    accepted: set[str] = set()
    for code in _units(rt):
        with rt.engine.connect() as conn, conn.begin() as tx:
            try:
                delegations.create(
                    conn, load_actor(conn, actor), delegator=delegator, delegate=delegate,
                    unit=code, roles=[], mode="KT", delegate_title="Phó", starts_on=local_today(),
                    ends_on=ends, reason="Thử",
                )  # fmt: skip
                accepted.add(code)
            except KhenthuongError:
                pass
            tx.rollback()
    return accepted


def test_the_unit_list_of_a_unit_officer_is_what_create_accepts_by_name_in_tree_order(
    web_rt: Runtime, browser: Callable[[str], tuple[TestClient, str]]
) -> None:
    c, _csrf = browser("cb.qd")
    options = _unit_options(c.get("/delegations").text)
    names = _units(web_rt)
    assert {v for v, _, _ in options} == _accepted(web_rt, "cb.qd", "cb.qd")
    # a unit, then the units under it (here the officer's own unit and those around it)
    assert options == [
        ("CP", False, "Chính phủ"),
        ("BCY", False, INDENT + "Ban Cơ yếu Chính phủ"),
        ("CCYQD", True, INDENT * 2 + "Cục Cơ yếu Quân đội"),
    ]
    for _, _, text in options:
        assert text.strip("\u00a0") in names.values() and text.strip("\u00a0") not in names


def test_the_unit_list_of_an_administrator_follows_the_delegator_chosen(
    web_rt: Runtime, browser: Callable[[str], tuple[TestClient, str]]
) -> None:
    c, _csrf = browser("admin")
    page = c.get("/delegations").text
    assert '<option value="admin" selected>' in page  # the administrator delegates as themself
    options = _unit_options(page)
    names = _units(web_rt)
    assert {v for v, _, _ in options} == _accepted(web_rt, "admin", "admin") == set(names)
    assert [t.strip("\u00a0") for _, _, t in options] == [names[v] for v, _, _ in options]
    assert [v for v, sel, _ in options if sel] == ["CP"]
    # choosing another delegator (htmx) lists that delegator's units
    for delegator in ("tt.ca", "cv.bca"):
        fragment = c.get("/delegations/units", params={"delegator": delegator}).text
        offered = {v for v, _, _ in _unit_options(fragment)}
        assert offered == _accepted(web_rt, "admin", delegator), delegator
    assert "C07" in offered and "CCYQD" not in offered  # cv.bca: Bộ Công an and below
    # anyone else gets their own list whatever they ask for
    other, _ = browser("tt.ca")
    fragment = other.get("/delegations/units", params={"delegator": "cv.bca"}).text
    assert {v for v, _, _ in _unit_options(fragment)} == {"CP", "BCY", "CCYCA"}


def test_a_unit_posted_is_delegated_and_one_outside_the_list_refused_naming_the_field(
    web_rt: Runtime, browser: Callable[[str], tuple[TestClient, str]]
) -> None:
    c, csrf = browser("cb.qd")
    ends = (local_today() + timedelta(days=5)).strftime("%d/%m/%Y")
    base = {
        "csrf_token": csrf, "delegate": "tk.qd", "mode": "KT",
        "delegate_title": "Cán bộ", "ends_on": ends, "reason": "Đi học",
    }  # fmt: skip
    refused = c.post("/delegations", data={**base, "unit": "CCYCA"})
    assert refused.status_code == 403
    assert (
        "Trong phạm vi đơn vị: Nguyễn Thị Hoa không giữ vai trò nào đối với Cục Cơ yếu Công an"
        in refused.text
    )
    unknown = c.post("/delegations", data={**base, "unit": "KHONGCO"})
    assert unknown.status_code == 404
    assert "Trong phạm vi đơn vị: không có đơn vị &#39;KHONGCO&#39;." in unknown.text
    empty = c.post("/delegations", data={**base, "unit": ""})
    assert empty.status_code == 422 and "Trong phạm vi đơn vị: chưa chọn đơn vị." in empty.text
    # a form refused for another field keeps the unit chosen
    kept = c.post("/delegations", data={**base, "unit": "BCY", "ends_on": "31/02/2027"})
    assert kept.status_code == 422
    assert [v for v, sel, _ in _unit_options(kept.text) if sel] == ["BCY"]
    made = c.post("/delegations", data={**base, "unit": "BCY"}, follow_redirects=True)
    assert made.status_code == 200 and "Đã lập ủy quyền." in made.text
    with web_rt.engine.connect() as conn:
        grants = load_actor(conn, "tk.qd").grants
    # over the ministry, the delegate gets the officer's role over the officer's own unit
    assert [(g.role, g.scope_code, g.on_behalf_of) for g in grants if g.on_behalf_of] == [
        ("unit_officer", "CCYQD", "cb.qd")
    ]


def test_units_of_the_same_name_are_told_apart_by_the_units_above_them(
    web_rt: Runtime, browser: Callable[[str], tuple[TestClient, str]]
) -> None:
    with write_tx(web_rt.engine) as conn:
        add_unit(conn, "QD_TC", "Phòng Tổ chức", "unit", "CCYQD")
        add_unit(conn, "CA_TC", "Phòng Tổ chức", "unit", "CCYCA")
        add_unit(conn, "CA_TC_1", "Tổ 1", "unit", "CA_TC")
        add_unit(conn, "CA_TC_2", "Tổ 1", "unit", "CA_TC")
    c, _csrf = browser("tb.bcy")
    texts = {v: t.strip("\u00a0") for v, _, t in _unit_options(c.get("/delegations").text)}
    assert texts["QD_TC"] == "Phòng Tổ chức (Cục Cơ yếu Quân đội)"
    assert texts["CA_TC"] == "Phòng Tổ chức (Cục Cơ yếu Công an)"
    assert texts["CA_TC_1"].startswith("Tổ 1 (Phòng Tổ chức, Cục Cơ yếu Công an, ")
    assert texts["CA_TC_1"] != texts["CA_TC_2"]
    assert texts["CCYNG"] == "Cục Cơ yếu Ngoại giao"


def _roles_offered(page: str) -> list[tuple[str, bool]]:
    box = re.search(r'<fieldset id="delegation-roles"[^>]*>(.*?)</fieldset>', page, re.S)
    assert box is not None
    found = re.findall(r'<input type="checkbox" name="roles" value="([^"]+)"( checked)?>', box[1])
    return [(role, bool(checked)) for role, checked in found]


def _delegates(page: str) -> set[str]:
    box = re.search(
        r'<select name="delegate" id="delegation-delegate"[^>]*>(.*?)</select>', page, re.S
    )
    assert box is not None
    return set(re.findall(r'<option value="([^"]+)"', box[1]))


def test_the_roles_and_delegates_offered_follow_the_delegator_chosen(
    web_rt: Runtime, browser: Callable[[str], tuple[TestClient, str]]
) -> None:
    """The roles are the delegator's own (what `create` lets a delegation carry), and the
    delegator is not offered as their own delegate; for an administrator both follow the
    delegator picked, swapped in by id with the unit list."""
    c, _csrf = browser("admin")
    page = c.get("/delegations").text
    assert _roles_offered(page) == [("admin", False)]
    assert "admin" not in _delegates(page) and "tt.ca" in _delegates(page)
    fragment = c.get("/delegations/units", params={"delegator": "tt.ca"}).text
    assert 'id="delegation-roles" hx-swap-oob="true"' in fragment
    assert 'id="delegation-delegate" required hx-swap-oob="true"' in fragment
    assert _roles_offered(fragment) == [("unit_head", False)]
    assert "Thủ trưởng" in fragment and ">unit_head<" not in fragment  # the role's title
    assert "tt.ca" not in _delegates(fragment) and "admin" in _delegates(fragment)
    officer, _ = browser("cb.qd")
    assert _roles_offered(officer.get("/delegations").text) == [("unit_officer", False)]


def test_a_refused_form_keeps_the_roles_ticked(
    web_rt: Runtime, browser: Callable[[str], tuple[TestClient, str]]
) -> None:
    c, csrf = browser("cv.tw")
    roles = [r for r, _ in _roles_offered(c.get("/delegations").text)]
    assert roles == ["central_officer", "council_secretary"]
    refused = c.post("/delegations", data={
        "csrf_token": csrf, "delegate": "tk.qd", "mode": "KT", "unit": "CP", "roles": roles[1:],
        "delegate_title": "Cán bộ", "ends_on": "31/02/2027", "reason": "Đi học",
    })  # fmt: skip
    assert refused.status_code == 422
    assert _roles_offered(refused.text) == [("central_officer", False), ("council_secretary", True)]
