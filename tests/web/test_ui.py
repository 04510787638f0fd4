"""The web UI over HTTP: sign-in, CSRF, throttling, pages, forms, exports, language."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from khenthuong.localtime import local_date
from khenthuong.rules.catalog import catalog_in
from khenthuong.runtime import Runtime
from khenthuong.services import new_nominations, stepping
from khenthuong.services import nominations as svc
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.grounds import claim_of
from khenthuong.storage.models import NOMINATIONS
from khenthuong.web.app import create_app
from tests.web.conftest import DEMO_PASSWORD, sign_in
from tests.web.helpers import Headers, denied, to_council
from tests.web.sheets import table, total_row, xlsx_sheet

Browser = Callable[[str], tuple[TestClient, str]]


def _login_post(c: TestClient, username: str, password: str, **extra: str) -> object:
    c.get("/login")
    data = {"username": username, "password": password, "login_token": c.cookies.get("kt_login")}
    return c.post("/login", data=data | extra, follow_redirects=False)


def test_pages_need_sign_in_and_cookie_flags(client: TestClient, web_rt: Runtime) -> None:
    r = client.get("/nominations?year=2026", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/nominations?year=2026"
    page = client.get("/login")
    assert "Đăng nhập" in page.text and 'name="login_token"' in page.text
    r = _login_post(client, "cb.qd", DEMO_PASSWORD, next="//evil.example/x")
    assert r.status_code == 303 and r.headers["location"] == "/queue"  # type: ignore[attr-defined]
    cookie = r.headers["set-cookie"]  # type: ignore[attr-defined]
    assert "kt_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie
    secure_rt = replace(
        web_rt, settings=web_rt.settings.model_copy(update={"base_url": "https://kt.example.vn"})
    )
    with TestClient(create_app(secure_rt), base_url="https://testserver") as c:
        r = _login_post(c, "cb.qd", DEMO_PASSWORD)
        assert "Secure" in r.headers["set-cookie"]  # type: ignore[attr-defined]


def test_wrong_password_is_refused_logged_and_throttled(
    client: TestClient, web_rt: Runtime
) -> None:
    r = _login_post(client, "cb.qd", "sai-mat-khau")
    assert r.status_code == 401 and "Sai tên đăng nhập" in r.text  # type: ignore[attr-defined]
    assert _login_post(client, "khong.co", DEMO_PASSWORD).status_code == 401  # type: ignore[attr-defined]
    for _ in range(web_rt.settings.login_max_failures - 1):
        _login_post(client, "cb.qd", "sai-mat-khau")
    r = _login_post(client, "cb.qd", DEMO_PASSWORD)
    assert r.status_code == 429  # type: ignore[attr-defined]
    assert int(r.headers["retry-after"]) > 0  # type: ignore[attr-defined]
    assert "chờ" in r.text  # type: ignore[attr-defined]
    reasons = [reason for _, _, reason in denied(web_rt)]
    assert reasons.count("wrong user name or password") == web_rt.settings.login_max_failures
    assert "sign-in throttled" in reasons
    # A form without the login token (cross-site post) is refused.
    r = client.post("/login", data={"username": "cb.qd", "password": DEMO_PASSWORD})
    assert r.status_code == 403


def _count(rt: Runtime) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(NOMINATIONS)).scalar_one())


def test_new_nomination_form_with_eligibility_feedback(browser: Browser, web_rt: Runtime) -> None:
    c, csrf = browser("cb.qd")
    form = c.get("/new")
    assert "Lập hồ sơ" in form.text and "Nguyễn Văn An" in form.text
    assert "Lê Hoàng Phúc" not in form.text  # a person of another unit
    found = re.search(r'value="(\d+)"[^>]*>Nguyễn Văn An', form.text)
    assert found is not None
    pid = found.group(1)
    feedback = c.get(
        "/new/check", params={"workflow": "bang_khen_bo", "person_id": pid, "year": 2026}
    )
    assert 'data-testid="eligibility"' in feedback.text and 'class="error"' in feedback.text
    assert "hồ sơ chưa chọn căn cứ 74.1.b" in feedback.text
    # With the type and the point chosen on the form, the preview judges that claim: only
    # the confirming document (attached after creation) is still missing for point b.
    claimed = c.get("/new/check", params={
        "workflow": "bang_khen_bo", "person_id": pid, "year": 2026,
        "commendation_type": "dot_xuat", "basis": "74.1.b", "attestation": "Xử lý sự cố"})  # fmt: skip
    assert "hồ sơ chưa chọn căn cứ 74.1.b" not in claimed.text
    assert "thiếu Văn bản xác nhận thành tích đặc biệt xuất sắc, đột xuất" in claimed.text
    data = {"workflow": "bang_khen_bo", "proposing_unit": "CCYQD", "person_id": pid,
            "year": "2026", "comment": "Hoàn thành xuất sắc nhiệm vụ"}  # fmt: skip
    before = _count(web_rt)
    refused = c.post("/new", data=data | {"csrf_token": "forged"})
    assert "tải lại trang" in refused.text and _count(web_rt) == before
    r = c.post("/new", data=data | {"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/nominations/")
    page = c.get(r.headers["location"])
    assert "Nguyễn Văn An" in page.text and 'data-testid="timeline"' in page.text
    assert "Hoàn thành xuất sắc nhiệm vụ" in page.text
    assert 'data-trigger="submit"' in page.text
    bad = c.post("/new", data=data | {"csrf_token": csrf, "proposing_unit": "CCYDCQ"})
    assert bad.status_code == 403 and "unit_officer" not in bad.text
    assert "Chỉ Cán bộ thi đua – khen thưởng đơn vị của Cục Cơ yếu Đảng" in bad.text


def test_new_nomination_form_sets_the_type_and_the_claimed_basis(
    browser: Browser, web_rt: Runtime
) -> None:
    """The form offers the types and the points of Art 74(1) in Vietnamese; the nomination
    is created with the chosen type and claim; a statement without the ticked box is
    refused and nothing is written."""
    c, csrf = browser("cb.qd")
    form = c.get("/new").text
    assert 'name="commendation_type"' in form and ">đột xuất</option>" in form
    assert ">theo đợt (chuyên đề)</option>" in form
    assert 'value="74.1.b"' in form and "Bằng khen cấp Bộ" in form
    data = {"workflow": "bang_khen_bo", "proposing_unit": "CCYQD", "person_id": "",
            "nominee_unit_code": "CCYQD", "year": "2026", "csrf_token": csrf,
            "commendation_type": "dot_xuat", "basis": "74.1.b",
            "attestation": "Bảo vệ an toàn hệ thống mật mã trong sự cố"}  # fmt: skip
    before = _count(web_rt)
    unticked = c.post("/new", data=data)
    assert unticked.status_code == 422 and "Cần đánh dấu ô xác nhận" in unticked.text
    assert _count(web_rt) == before
    r = c.post("/new", data=data | {"attested": "yes"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    nid = int(r.headers["location"].rsplit("/", 1)[1])
    with web_rt.engine.connect() as conn:
        ctype = conn.execute(
            select(NOMINATIONS.c.commendation_type).where(NOMINATIONS.c.id == nid)
        ).scalar_one()
        claim = claim_of(conn, nid)
    assert ctype == "dot_xuat"
    assert claim is not None and claim.basis == "74.1.b"
    page = c.get(r.headers["location"]).text
    assert 'data-testid="commendation-type">đột xuất<' in page
    assert "74.1.b — Bảo vệ an toàn hệ thống mật mã trong sự cố" in page
    bad = c.post("/new", data=data | {"attested": "yes", "commendation_type": "hang_nam"})
    assert bad.status_code == 422 and "thuong_xuyen/cong_trang" in bad.text


def test_advance_and_upload_through_forms(browser: Browser, web_rt: Runtime) -> None:
    c, csrf = browser("cb.qd")
    r = c.post(
        "/new",
        data={"workflow": "bang_khen_bo", "proposing_unit": "CCYQD", "person_id": "",
              "nominee_unit_code": "CCYQD", "year": "2026", "csrf_token": csrf},
        follow_redirects=False,
    )  # fmt: skip
    url = r.headers["location"]
    nid = int(url.rsplit("/", 1)[1])
    refused = c.post(f"{url}/advance", data={"trigger": "submit", "csrf_token": csrf})
    assert refused.status_code == 422 and "Hồ sơ còn thiếu" in refused.text
    for doc in ("to_trinh", "bao_cao_thanh_tich", "bien_ban_binh_xet"):
        up = c.post(
            f"{url}/documents",
            data={"doc_type": doc, "csrf_token": csrf},
            files={"file": (f"{doc}.pdf", b"%PDF-1.4", "application/pdf")},
            follow_redirects=False,
        )
        assert up.status_code == 303
    stale = c.post(f"{url}/advance", data={"trigger": "submit", "version": "9", "csrf_token": csrf})
    assert stale.status_code == 409 and "vừa được người khác xử lý" in stale.text
    ok = c.post(
        f"{url}/advance",
        data={"trigger": "submit", "version": "1", "csrf_token": csrf, "comment": "Trình"},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    head, head_csrf = browser("tt.qd")
    queue = head.get("/queue")
    assert f"/nominations/{nid}" in queue.text
    returned = head.post(
        f"{url}/advance",
        data={"trigger": "return_for_supplement", "f_reason": "Thiếu số liệu",
              "csrf_token": head_csrf},
    )  # fmt: skip
    assert "Thiếu số liệu" in returned.text
    other, _ = browser("cb.dcq")
    assert other.get(url).status_code == 403


def test_council_page_enters_tallies_for_many_at_once(
    client: TestClient, token: Headers, browser: Browser, web_rt: Runtime
) -> None:
    first = to_council(web_rt, client, token, "Nguyễn Văn An")
    second = to_council(web_rt, client, token, "Trần Thị Bích")
    c, csrf = browser("tk.bcy")
    assert "Mở phiên họp" in c.get("/councils").text
    members = "\n".join(
        ["Trần Văn Hùng,  Chủ tịch Hội đồng", "Lê Thị Thu, Ủy viên thường trực, Thư ký"]
        + [f"Ủy viên {i}" for i in range(3, 7)]
        + ["Ủy viên 7 (vắng)"]
    )
    r = c.post(
        "/councils",
        data={"unit": "BCY", "title": "Phiên họp tháng 11", "held_on": date.today().isoformat(),
              "members": members, "csrf_token": csrf},
        follow_redirects=False,
    )  # fmt: skip
    assert r.status_code == 303
    url = r.headers["location"]
    page = c.get(url)
    assert "7 thành viên, 6 có mặt" in page.text
    sid = url.rsplit("/", 1)[1]
    listed = client.get(f"/api/councils/sessions/{sid}", headers=token("kiemtra")).json()["members"]
    assert listed[:2] == [
        {"full_name": "Trần Văn Hùng", "position": "Chủ tịch Hội đồng", "present": True,
         "written_vote": False},
        {"full_name": "Lê Thị Thu", "position": "Ủy viên thường trực, Thư ký", "present": True,
         "written_vote": False},
    ]  # fmt: skip
    assert listed[6] == {"full_name": "Ủy viên 7", "position": None, "present": False,
                         "written_vote": False}  # fmt: skip
    assert f'value="{first}"' in page.text and f'value="{second}"' in page.text
    c.post(f"{url}/items", data={"nomination_id": [str(first), str(second)], "csrf_token": csrf})
    too_many = c.post(
        f"{url}/tallies",
        data={"nomination_id": [str(first), str(second)], f"agree_{first}": "7",
              f"disagree_{first}": "0", f"abstain_{first}": "0", f"agree_{second}": "1",
              f"disagree_{second}": "5", f"abstain_{second}": "0", "csrf_token": csrf},
    )  # fmt: skip
    assert too_many.status_code == 422
    done = c.post(
        f"{url}/tallies",
        data={"nomination_id": [str(first), str(second)], f"agree_{first}": "6",
              f"disagree_{first}": "0", f"abstain_{first}": "0", f"agree_{second}": "1",
              f"disagree_{second}": "5", f"abstain_{second}": "0", "close": "1",
              "csrf_token": csrf},
    )  # fmt: skip
    assert 'data-testid="minutes"' in done.text and "BIÊN BẢN" in done.text
    view = client.get(f"/api/councils/sessions/{sid}", headers=token("kiemtra")).json()
    award = catalog_in(web_rt.settings.config_dir).award(view["items"][0]["award_code"]).name.vi
    assert f"#{first} Nguyễn Văn An – {award}:" in view["minutes"]
    page = c.get(url).text
    assert f'<td data-label="Hình thức">{award}</td>' in page
    assert '<td data-label="Chức vụ trong Hội đồng">Chủ tịch Hội đồng</td>' in page
    assert '<td data-label="Tham dự">Vắng</td>' in page
    header, data = table(xlsx_sheet(c.get("/councils?format=xlsx")))
    assert header[3] == "Tên" and [r[3].value for r in data] == ["Phiên họp tháng 11"]
    states = {
        n: client.get(f"/api/nominations/{n}", headers=token("kiemtra")).json()["state"]
        for n in (first, second)
    }
    assert states == {first: "minister_decision", second: "rejected"}


def test_lists_export_workflow_counts_audit_and_language(
    client: TestClient, token: Headers, browser: Browser, web_rt: Runtime
) -> None:
    to_council(web_rt, client, token, "Nguyễn Văn An")
    c, _ = browser("cv.bcy")
    listing = c.get("/nominations", params={"q": "nguyen van"})
    assert "Nguyễn Văn An" in listing.text
    header, data = table(
        xlsx_sheet(c.get("/nominations", params={"q": "nguyen", "format": "xlsx"}))
    )
    assert header[:2] == ["Số hồ sơ", "Cá nhân, tập thể được đề nghị"]
    assert data[0][1].value == "Nguyễn Văn An"
    diagram = c.get("/workflows/bang_khen_bo")
    assert 'data-state="ministry_council">1<' in diagram.text
    assert '<svg xmlns="http://www.w3.org/2000/svg"' in diagram.text
    audit = c.get("/audit", params={"actor": "cb.qd"})
    assert "submit" in audit.text
    assert 'data-testid="verify-link"' not in audit.text
    refused = c.get("/audit", params={"verify": "1"})
    assert refused.status_code == 403 and "Nhật ký toàn vẹn" not in refused.text
    checker, _ = browser("kiemtra")
    assert 'data-testid="verify-link"' in checker.get("/audit").text
    assert "Nhật ký toàn vẹn" in checker.get("/audit", params={"verify": "1"}).text
    header, data = table(xlsx_sheet(c.get("/audit", params={"actor": "cb.qd", "format": "xlsx"})))
    assert header[:3] == ["Thời điểm", "Người thực hiện", "Tài khoản"]
    assert data and {r[2].value for r in data} == {"cb.qd"} and data[0][0].is_date
    c.get("/lang/en")
    assert "My work" in c.get("/queue").text
    auditor, _ = browser("kiemtra")
    page = auditor.get("/nominations")
    assert "Tài khoản chỉ xem" in page.text and 'href="/new"' not in page.text


def test_sign_out_ends_every_session_even_a_copied_cookie(
    browser: Browser, web_rt: Runtime
) -> None:
    c, csrf = browser("cb.qd")
    other, _ = browser("cb.qd")  # the same officer on a second device
    stolen = c.cookies.get("kt_session")
    assert c.post("/logout", data={"csrf_token": "x"}).status_code == 422
    r = c.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303
    assert c.get("/queue", follow_redirects=False).status_code == 303
    assert other.get("/queue", follow_redirects=False).status_code == 303
    with TestClient(create_app(web_rt)) as thief:
        thief.cookies.set("kt_session", stolen or "")
        assert thief.get("/queue", follow_redirects=False).status_code == 303
        assert thief.get("/api/me").status_code == 401


def test_password_change_ends_sessions_and_the_new_password_works(
    browser: Browser, web_rt: Runtime
) -> None:
    from khenthuong.services.accounts import set_password
    from khenthuong.storage.db import write_tx

    c, _ = browser("cb.qd")
    with write_tx(web_rt.engine) as conn:
        set_password(conn, "cb.qd", "mat-khau-moi-2026")
    assert c.get("/queue", follow_redirects=False).status_code == 303
    fresh = TestClient(create_app(web_rt))
    assert _login_post(fresh, "cb.qd", DEMO_PASSWORD).status_code == 401  # type: ignore[attr-defined]
    sign_in(fresh, "cb.qd", "mat-khau-moi-2026")
    assert "cb.qd" in fresh.get("/queue").text
    fresh.close()


def test_the_rows_escape_a_name_with_markup_characters(browser: Browser, web_rt: Runtime) -> None:
    """The list rows (built in Python, web/row_html.py) escape what a user typed: the name
    shows as text in the link and in the tick box's label, never as markup."""
    officer = load_actor_of(web_rt, "cb.qd")
    name = "Lê <b>Văn</b> \"An\" & 'Bình'"
    nid = new_nominations.create_nomination(
        web_rt.engine, web_rt.registry, workflow="giay_khen", proposing_unit="CCYQD",
        actor=officer, nominee_name=name, create_person=True, year=2026,
    )  # fmt: skip
    stepping.advance(web_rt.engine, web_rt.registry, nid, "submit", officer)
    c, _ = browser("tk.qd")
    page = c.get("/queue").text
    shown = "Lê &lt;b&gt;Văn&lt;/b&gt; &#34;An&#34; &amp; &#39;Bình&#39;"
    assert f'<a href="/nominations/{nid}">{shown}</a>' in page
    assert f'aria-label="Chọn hồ sơ #{nid} {shown}"' in page and "<b>Văn" not in page


def test_the_queue_takes_one_step_on_the_ticked_nominations(
    browser: Browser, web_rt: Runtime
) -> None:
    """The council secretary ticks Giấy khen files in the queue and passes them in one go;
    a file another officer moved meanwhile is listed with its reason and the rest go ahead;
    an auditor gets no form, and a post without a step or a tick is refused clearly."""
    officer = load_actor_of(web_rt, "cb.qd")
    ids = []
    for i in range(3):
        nid = new_nominations.create_nomination(
            web_rt.engine, web_rt.registry, workflow="giay_khen", proposing_unit="CCYQD",
            actor=officer, nominee_name=f"Cán bộ lô {i}", create_person=True, year=2026,
        )  # fmt: skip
        stepping.advance(web_rt.engine, web_rt.registry, nid, "submit", officer)
        ids.append(nid)
    c, csrf = browser("tk.qd")
    page = c.get("/queue").text
    assert 'action="/queue/advance"' in page and '<option value="council_approve">' in page
    assert all(f'name="nomination_id" value="{nid}"' in page for nid in ids)
    stepping.advance(web_rt.engine, web_rt.registry, ids[0], "return_for_supplement",
                load_actor_of(web_rt, "tk.qd"), {"reason": "Thiếu biên bản"})  # fmt: skip
    r = c.post("/queue/advance", data={"trigger": "council_approve", "nomination_id": ids,
               "csrf_token": csrf})  # fmt: skip
    assert r.status_code == 422
    assert "Đã thực hiện 2 bước" in r.text and f"#{ids[0]}: Không thể thực hiện" in r.text
    with web_rt.engine.connect() as conn:
        states = [svc.get_row(conn, nid)["state"] for nid in ids]
    assert states == ["returned", "head_decision", "head_decision"]
    empty = c.post("/queue/advance", data={"trigger": "council_approve", "csrf_token": csrf})
    assert empty.status_code == 422 and "Chọn hồ sơ và bước" in empty.text
    auditor, auditor_csrf = browser("kiemtra")
    assert 'action="/queue/advance"' not in auditor.get("/queue").text
    r = auditor.post("/queue/advance", data={"trigger": "council_approve", "nomination_id": ids,
                     "csrf_token": auditor_csrf})  # fmt: skip
    assert r.status_code == 403


def load_actor_of(rt: Runtime, username: str) -> Actor:
    with rt.engine.connect() as conn:
        return load_actor(conn, username)


def test_person_page_shows_history_and_records_entries(browser: Browser, web_rt: Runtime) -> None:
    c, csrf = browser("cb.qd")
    form = c.get("/new")
    found = re.search(r'value="(\d+)"[^>]*>Trần Thị Bích', form.text)
    assert found is not None
    pid = found.group(1)
    check = c.get("/new/check", params={"workflow": "bang_khen_bo", "person_id": pid,
                                        "year": 2026})  # fmt: skip
    assert f'href="/persons/{pid}"' in check.text
    page = c.get(f"/persons/{pid}")
    assert "Lịch sử thi đua, khen thưởng" in page.text and 'id="history-form"' in page.text
    r = c.post(f"/persons/{pid}/history", data={"record": "rating", "year": "2025",
               "code": "htxs", "csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert "Hoàn thành xuất sắc nhiệm vụ" in c.get(f"/persons/{pid}").text
    again = c.post(f"/persons/{pid}/history", data={"record": "rating", "year": "2025",
                   "code": "htt", "csrf_token": csrf})  # fmt: skip
    assert again.status_code == 422 and "đã có xếp loại năm 2025" in again.text
    bad = c.post(f"/persons/{pid}/history", data={"record": "blocker", "code": "discipline",
                 "decision_date": "", "csrf_token": csrf})  # fmt: skip
    assert bad.status_code == 422 and "decision_date" in bad.text
    other, other_csrf = browser("cb.dcq")
    assert other.get(f"/persons/{pid}").status_code == 403
    r = other.post(f"/persons/{pid}/history", data={"record": "rating", "year": "2024",
                   "code": "htt", "csrf_token": other_csrf})  # fmt: skip
    assert r.status_code == 403
    # One refused post, one entry in the access log (not one more for the page shown again).
    assert [d[1] for d in denied(web_rt)].count(f"/persons/{pid}/history") == 1
    auditor, _ = browser("kiemtra")
    page = auditor.get(f"/persons/{pid}")
    assert page.status_code == 200 and 'id="history-form"' not in page.text


def test_one_decision_signed_for_many_nominations_in_the_ui(
    client: TestClient, token: Headers, browser: Browser, web_rt: Runtime
) -> None:
    from tests.web.helpers import council_vote

    first = to_council(web_rt, client, token, "Nguyễn Văn An")
    second = to_council(web_rt, client, token, "Trần Thị Bích")
    council_vote(client, token("tk.bcy"), [first, second], agree=7)
    officer, officer_csrf = browser("cv.bcy")
    assert 'id="sign-form"' not in officer.get("/decisions").text
    refused = officer.post("/decisions", data={"nomination_id": [str(first)],
                           "number": "9/QĐ-BCY", "csrf_token": officer_csrf})  # fmt: skip
    assert refused.status_code == 403
    c, csrf = browser("tb.bcy")
    today = local_date(datetime.now(UTC))
    step_form = c.get(f"/nominations/{first}").text
    assert 'name="f_decision_date"' in step_form and f'value="{today:%d/%m/%Y}"' in step_form
    early = c.post(f"/nominations/{first}/advance", data={
        "trigger": "decide", "f_decision_number": "9/QĐ-BCY", "csrf_token": csrf,
        "f_decision_date": (today - timedelta(days=1)).isoformat()})  # fmt: skip
    assert early.status_code == 422 and f"trước ngày {today:%d/%m/%Y}" in early.text
    page = c.get("/decisions")
    assert f'value="{first}"' in page.text and f'value="{second}"' in page.text
    bad = c.post("/decisions", data={"nomination_id": [str(first)], "number": "so-sai",
                 "csrf_token": csrf, "authority": "BCY"})  # fmt: skip
    assert bad.status_code == 422 and "123/QĐ-BCY" in bad.text
    r = c.post(
        "/decisions",
        data={"nomination_id": [str(first), str(second)], "number": "77/QĐ-BCY",
              "decided_on": local_date(datetime.now(UTC)).isoformat(),
              "signer": "Trưởng Ban Cơ yếu Chính phủ",
              "authority": "BCY", "csrf_token": csrf},
        follow_redirects=True,
    )  # fmt: skip
    assert r.status_code == 200 and 'data-testid="decision-lines"' in r.text
    assert "Nguyễn Văn An" in r.text and "Trần Thị Bích" in r.text
    listing = c.get("/decisions")
    assert "77/QĐ-BCY" in listing.text and 'id="sign-form"' not in listing.text
    sheet = xlsx_sheet(c.get("/decisions/77/QĐ-BCY?format=xlsx"))
    assert str(sheet["A1"].value).startswith("QUYẾT ĐỊNH KHEN THƯỞNG số 77/QĐ-BCY")
    amounts = [row[6].value for row in table(sheet)[1]]
    assert len(amounts) == 2 and all(a > 0 for a in amounts)
    assert total_row(sheet)[6].value == sum(amounts)
    other, _ = browser("cb.dcq")
    assert other.get("/decisions/77/QĐ-BCY").status_code == 403
    assert c.get("/decisions/1/QĐ-KHONG").status_code == 404


def test_bloc_page_shows_the_plan_and_takes_the_inspectors_report(
    client: TestClient, token: Headers, browser: Browser, web_rt: Runtime
) -> None:
    from khenthuong.services.actors import load_actor
    from khenthuong.services.inspections import plan_inspections
    from khenthuong.storage.db import write_tx

    with write_tx(web_rt.engine) as conn:
        plan_inspections(conn, "KCY4", 2019, actor=load_actor(conn, "kt.cy"), seed=3)
    visits = client.get("/api/blocs/KCY4/inspections", params={"year": 2019},
                        headers=token("cb.qd")).json()["items"]  # fmt: skip
    mine = next(v for v in visits if v["inspector"] == "CCYQD")
    other = next(v for v in visits if v["inspector"] != "CCYQD")
    c, csrf = browser("cb.qd")
    assert "Khối thi đua 4 Hệ Cơ yếu" in c.get("/blocs").text
    page = c.get("/blocs/KCY4", params={"year": 2019})
    assert page.text.count('name="findings"') == 1  # only the visit CCYQD makes
    bad = c.post(f"/blocs/KCY4/visits/{mine['id']}/report",
                 data={"findings": "Tốt", "score": "120", "year": "2019", "csrf_token": csrf})  # fmt: skip
    assert bad.status_code == 422 and "0 đến 100" in bad.text
    r = c.post(f"/blocs/KCY4/visits/{mine['id']}/report",
               data={"findings": "Đơn vị thực hiện tốt giao ước", "score": "92,5",
                     "year": "2019", "csrf_token": csrf}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303
    assert "92,5 điểm" in c.get("/blocs/KCY4", params={"year": 2019}).text
    refused = c.post(f"/blocs/KCY4/visits/{other['id']}/report",
                     data={"findings": "x", "score": "50", "csrf_token": csrf})  # fmt: skip
    assert refused.status_code == 403
    api = client.post(f"/api/inspections/visits/{other['id']}/report",
                      json={"findings": "x", "score": 50}, headers=token("cb.qd"))  # fmt: skip
    assert api.status_code == 403
    # The other visit's own inspecting unit files it (a bloc of four plans a triangle at first).
    officer_of = {"CCYDCQ": "cb.dcq", "CCYCA": "tt.ca", "CCYNG": "tt.ng"}
    ok = client.post(
        f"/api/inspections/visits/{other['id']}/report",
        json={"findings": "Đạt yêu cầu", "score": 80},
        headers=token(officer_of[other["inspector"]]),
    )
    assert ok.status_code == 200, ok.text
    assert "80 điểm" in c.get("/blocs/KCY4", params={"year": 2019}).text
    header, data = table(xlsx_sheet(c.get("/blocs/KCY4", params={"year": 2019, "format": "xlsx"})))
    assert header[0] == "Đơn vị kiểm tra" and len(data) == len(visits)
    assert 80 in [r[7].value for r in data]
    assert c.get("/blocs/NOPE").status_code == 404


def test_the_audit_filter_offers_names_and_sends_codes(
    client: TestClient, token: Headers, browser: Browser, web_rt: Runtime
) -> None:
    """Officers pick an officer, a unit, a kind of event and a state by name; the choice
    sends the code and the search finds the events by it."""
    to_council(web_rt, client, token, "Nguyễn Văn An")
    c, _ = browser("kiemtra")
    page = c.get("/audit").text
    wf = web_rt.registry.get("bang_khen_bo").definition
    submit = next(t for t in wf.transitions if t.trigger == "submit")
    assert '<option value="CCYQD" >Cục Cơ yếu Quân đội</option>' in page
    assert f'<option value="submit" >{submit.title.vi}</option>' in page
    assert '<input name="unit"' not in page and '<input name="trigger"' not in page
    assert '<option value="attach" >Đính kèm tài liệu</option>' in page  # beyond the paths
    found = c.get("/audit", params={"unit": "CCYQD", "trigger": "submit"}).text
    assert (
        '<option value="CCYQD" selected>' in found and '<option value="submit" selected>' in found
    )
    assert submit.title.vi in found.split("<tbody>", 1)[1]
    c.get("/lang/en")
    assert f'<option value="submit" >{submit.title.en}</option>' in c.get("/audit").text
