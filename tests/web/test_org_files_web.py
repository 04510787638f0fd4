"""The organisation files over HTTP: /api/org exports and imports for administrators only
(a bad row is a problem+json naming it), and the Tổ chức và cá nhân page's upload, preview
and apply."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select

from khenthuong.runtime import Runtime
from khenthuong.storage.models import EVENTS, PERSONS, UNITS, USERS
from tests.web.conftest import sign_in
from tests.web.helpers import Headers

Browser = Callable[[str], tuple[TestClient, str]]
UNITS_CSV = "Mã đơn vị,Tên đơn vị,Mã đơn vị cấp trên,Cấp\nP1,Phòng Một,CCYQD,unit\n"


def _events(rt: Runtime) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(EVENTS)).scalar_one())


def test_api_exports_and_imports_for_administrators_only(
    web_rt: Runtime, client: TestClient, token: Headers
) -> None:
    admin, officer = token("admin"), token("cb.qd")
    xlsx = client.get("/api/org/units.xlsx", headers=admin)
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sheet is not None
    assert [c.value for c in sheet[1]][:3] == ["Mã đơn vị", "Tên đơn vị", "Mã đơn vị cấp trên"]
    people = client.get("/api/org/persons.csv", headers=admin)
    assert people.status_code == 200
    assert next(csv.reader(io.StringIO(people.text.lstrip("\ufeff"))))[0] == "ID"
    assert client.get("/api/org/users.csv", headers=officer).status_code == 403

    files = {"file": ("don-vi.csv", UNITS_CSV.encode(), "text/csv")}
    denied = client.post("/api/org/units", files=files, headers=officer)
    assert denied.status_code == 403
    assert denied.headers["content-type"].startswith("application/problem+json")

    before = _events(web_rt)
    dry = client.post("/api/org/units", files=files, data={"dry_run": "true"}, headers=admin)
    assert dry.status_code == 200, dry.text
    body = dry.json()
    assert body["dry_run"] and body["counts"] == {"unit_added": 1}
    assert body["changes"][0]["row"] == 2 and "Phòng Một" in body["changes"][0]["text"]
    assert _events(web_rt) == before

    done = client.post("/api/org/units", files=files, headers=admin)
    assert done.status_code == 200 and not done.json()["dry_run"]
    assert _events(web_rt) == before + 2

    bad = "Mã cán bộ,Họ và tên,Năm sinh,Mã đơn vị\nA1,Nguyễn Văn A,1980,P1\nA2,Trần B,năm,P1\n"
    refused = client.post(
        "/api/org/persons", files={"file": ("ns.csv", bad.encode(), "text/csv")}, headers=admin
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert len(problem["errors"]) == 1
    assert problem["errors"][0].startswith("ns.csv:3: năm sinh 'năm' không hợp lệ")
    assert problem["rows"][0]["row"] == 3
    with web_rt.engine.connect() as conn:
        assert conn.execute(select(func.count()).where(PERSONS.c.staff_code == "A1")).scalar() == 0

    broken = client.post(
        "/api/org/units", files={"file": ("dv.xlsx", b"PK\x03\x04 hong", "text/csv")}, headers=admin
    )
    assert broken.status_code == 422
    assert broken.json()["errors"] == [
        "dv.xlsx:1: tệp .xlsx hỏng hoặc không phải bảng tính Excel; lưu lại bằng Excel"
    ]

    good = bad.replace("năm", "1985")
    made = client.post(
        "/api/org/persons",
        files={"file": ("ns.csv", good.encode(), "text/csv")},
        data={"effective": "01/02/2027"},
        headers=admin,
    )
    assert made.status_code == 200, made.text
    assert made.json()["counts"] == {"person_added": 2}
    assert made.json()["changes"][0]["details"]["from"] == "2027-02-01"


def test_the_page_previews_then_applies(web_rt: Runtime, browser: Browser) -> None:
    c, csrf = browser("admin")
    page = c.get("/admin/org")
    assert page.status_code == 200 and "Tổ chức và cá nhân" in page.text
    assert 'href="/admin/org"' in page.text

    accounts = (
        "Tên đăng nhập,Thư điện tử,Mã đơn vị,Vai trò\nmoi.b,moi.b@x.example,CCYQD,unit_officer\n"
    )
    files = {"file": ("tk.csv", accounts.encode(), "text/csv")}
    shown = c.post("/admin/org/users/preview", data={"csrf_token": csrf}, files=files)
    assert shown.status_code == 200, shown.text
    assert 'data-testid="org-changes"' in shown.text and "Thêm tài khoản moi.b" in shown.text
    assert "liên kết đặt mật khẩu dùng một lần (moi.b)" in shown.text
    assert "khenthuong users" not in shown.text  # the CLI's commands stay in the CLI
    with web_rt.engine.connect() as conn:
        assert conn.execute(select(func.count()).where(USERS.c.username == "moi.b")).scalar() == 0
    token = re.search(r'name="token" value="([^"]+)"', shown.text)
    assert token is not None
    form = {"csrf_token": csrf, "token": token.group(1), "filename": "tk.csv"}
    applied = c.post("/admin/org/users/import", data=form)
    assert applied.status_code == 200 and "Đã áp dụng" in applied.text
    with web_rt.engine.connect() as conn:
        user = conn.execute(select(USERS).where(USERS.c.username == "moi.b")).one()
        assert user.password_hash is None
    again = c.post("/admin/org/users/import", data=form)
    assert "hết hạn" in again.text

    loop = "Mã đơn vị,Tên đơn vị,Mã đơn vị cấp trên,Cấp\nX1,A,X2,unit\nX2,B,X1,unit\n"
    bad = c.post(
        "/admin/org/units/preview",
        data={"csrf_token": csrf},
        files={"file": ("dv.csv", loop.encode(), "text/csv")},
    )
    assert bad.status_code == 422 and "dv.csv:2: đơn vị cấp trên tạo vòng lặp" in bad.text
    with web_rt.engine.connect() as conn:
        assert conn.execute(select(func.count()).where(UNITS.c.code == "X1")).scalar() == 0


def test_the_page_is_for_administrators(web_rt: Runtime, browser: Browser) -> None:
    c, csrf = browser("cb.qd")
    assert c.get("/admin/org").status_code == 403
    assert 'href="/admin/org"' not in c.get("/queue").text
    refused = c.post(
        "/admin/org/units/preview",
        data={"csrf_token": csrf},
        files={"file": ("dv.csv", UNITS_CSV.encode(), "text/csv")},
    )
    assert refused.status_code == 403


def test_a_new_account_chooses_its_password_through_a_one_time_link(
    web_rt: Runtime, client: TestClient, token: Headers
) -> None:
    accounts = (
        "Tên đăng nhập,Thư điện tử,Mã đơn vị,Vai trò\nmoi.d,moi.d@x.example,CCYQD,unit_officer\n"
    )
    made = client.post(
        "/api/org/users",
        files={"file": ("tk.csv", accounts.encode(), "text/csv")},
        data={"password_links": "true"},
        headers=token("admin"),
    )
    assert made.status_code == 200, made.text
    [link] = made.json()["password_links"]
    assert link["username"] == "moi.d" and "/set-password?token=ktp_" in link["url"]
    path = link["url"][link["url"].index("/set-password") :]
    form = client.get(path)
    assert form.status_code == 200 and 'value="moi.d"' in form.text
    secret = path.split("token=", 1)[1]
    differ = client.post("/set-password", data={"token": secret, "password": "mat-khau-moi-1",
                                                "repeat": "mat-khau-moi-2"})  # fmt: skip
    assert differ.status_code == 422 and "không khớp" in differ.text
    done = client.post("/set-password", data={"token": secret, "password": "mat-khau-moi-1",
                                              "repeat": "mat-khau-moi-1"})  # fmt: skip
    assert done.status_code == 200 and 'data-testid="password-set"' in done.text
    again = client.get(path)
    assert again.status_code == 404 and "đã dùng hoặc đã hết hạn" in again.text
    sign_in(client, "moi.d", "mat-khau-moi-1")
    with web_rt.engine.connect() as conn:
        user_id = conn.execute(select(USERS.c.id).where(USERS.c.username == "moi.d")).scalar()
        triggers = conn.execute(
            select(EVENTS.c.trigger).where(EVENTS.c.stream == f"user:{user_id}").order_by(EVENTS.c.seq)
        ).scalars().all()  # fmt: skip
    assert triggers == ["account_added", "password_link_issued", "password_set_by_link"]
