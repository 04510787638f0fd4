"""The Năm thi đua page and the unit-year API: registration and ratings by form and by file
(a bad file answers every FILE:ROW line and writes nothing), the year-end review by API."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from khenthuong.runtime import Runtime
from khenthuong.services import batches, year_review
from khenthuong.services.councils import MemberIn, open_session
from khenthuong.services.org import add_person
from khenthuong.services.year_review import ProposedEntry
from khenthuong.storage.db import write_tx
from khenthuong.storage.history import YEARLY_RATINGS
from tests.unit_year.helpers import catalog, propose_and_submit, who
from tests.unit_year.helpers import people as rated_people

Browser = Callable[[str], tuple[TestClient, str]]
Headers = Callable[[str], dict[str, str]]
YEAR = datetime.now(UTC).year
PDF = b"%PDF-1.4\n% test\n"


def people(rt: Runtime, *names: str) -> list[int]:
    with write_tx(rt.engine) as conn:
        return [add_person(conn, n, "CCYQD") for n in names]


def rated(rt: Runtime) -> int:
    with rt.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(YEARLY_RATINGS)).scalar_one())


def test_api_rating_import_answers_file_row_errors_then_rates(
    web_rt: Runtime, client: TestClient, token: Headers
) -> None:
    """POST /api/ratings/import: a CSV with a bad rating and an unknown person is a 422 whose
    `errors` name both rows; corrected, it rates both people; GET /api/ratings lists them."""
    people(web_rt, "Cao Văn Một", "Cao Thị Hai")
    headers = token("cb.qd")
    bad = "STT,Họ và tên,Xếp loại\n1,Cao Văn Một,Xuất sắc\n2,Ai Đó,htt\n"
    r = client.post(
        "/api/ratings/import", headers=headers, data={"unit": "CCYQD", "year": str(YEAR)},
        files={"file": ("xep-loai.csv", io.BytesIO(bad.encode()), "text/csv")},
    )  # fmt: skip
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert errors[0].startswith("xep-loai.csv:2: xếp loại 'Xuất sắc' không hợp lệ")
    assert errors[1].startswith("xep-loai.csv:3: không có cá nhân tên 'Ai Đó'")
    assert "khenthuong" not in errors[1]  # the CLI's commands stay in the CLI
    assert rated(web_rt) == 0
    good = "STT,Họ và tên,Xếp loại\n1,Cao Văn Một,Hoàn thành xuất sắc nhiệm vụ\n2,Cao Thị Hai,htt\n"
    r = client.post(
        "/api/ratings/import", headers=headers, data={"unit": "CCYQD", "year": str(YEAR)},
        files={"file": ("xep-loai.csv", io.BytesIO(good.encode()), "text/csv")},
    )  # fmt: skip
    assert r.status_code == 200 and r.json() == {"added": 2, "changed": 0, "unchanged": 0}
    listed = client.get(f"/api/ratings?unit=CCYQD&year={YEAR}", headers=headers).json()
    assert {p["full_name"]: p["rating"] for p in listed}["Cao Văn Một"] == "htxs"
    again = good.replace("Hoàn thành xuất sắc nhiệm vụ", "htt")
    r = client.post(
        "/api/ratings/import", headers=headers, data={"unit": "CCYQD", "year": str(YEAR)},
        files={"file": ("xep-loai.csv", io.BytesIO(again.encode()), "text/csv")},
    )  # fmt: skip
    assert r.status_code == 422 and r.json()["rated"] == ["xep-loai.csv:2"]
    assert r.json()["errors"][0].endswith("thì chọn sửa cả xếp loại đã có")  # no --replace
    r = client.post(
        "/api/ratings", headers=token("kiemtra"),
        json={"unit": "CCYQD", "year": YEAR, "ratings": [{"person_id": 1, "rating": "htt"}]},
    )  # fmt: skip
    assert r.status_code == 403


def test_api_registration_then_review_to_decisions(
    web_rt: Runtime, client: TestClient, token: Headers
) -> None:
    """Register by JSON, rate, propose the year, submit, vote per title with `close`, and
    sign one decision per title."""
    a, b, c = people(web_rt, "Chu Văn An", "Chu Văn Bình", "Chu Thị Cúc")
    officer = token("cb.qd")
    r = client.post("/api/registrations", headers=officer, json={
        "unit": "CCYQD", "year": YEAR, "targets": ["100% hoàn thành nhiệm vụ"],
        "entries": [{"award_code": "LDTT", "person_id": p} for p in (a, b, c)]
        + [{"award_code": "LDTT", "person_id": a}],
    })  # fmt: skip
    assert r.status_code == 422 and r.json()["errors"] == ["mục 4: trùng với mục 1"]
    r = client.post("/api/registrations", headers=officer, json={
        "unit": "CCYQD", "year": YEAR, "targets": ["100% hoàn thành nhiệm vụ"],
        "entries": [{"award_code": "LDTT", "person_id": p} for p in (a, b, c)],
    })  # fmt: skip
    assert r.status_code == 201 and len(r.json()["entries"]) == 3
    r = client.post("/api/ratings", headers=officer, json={
        "unit": "CCYQD", "year": YEAR,
        "ratings": [{"person_id": p, "rating": "htt"} for p in (a, b, c)],
    })  # fmt: skip
    assert r.json()["added"] == 3
    r = client.post(f"/api/year-review?unit=CCYQD&year={YEAR}", headers=officer)
    assert r.status_code == 201
    batch = r.json()["batch"]
    for doc in ("to_trinh", "bao_cao_thanh_tich"):
        r = client.post(
            f"/api/proposals/{batch}/documents", headers=officer, data={"doc_type": doc},
            files={"file": (f"{doc}.pdf", io.BytesIO(PDF), "application/pdf")},
        )  # fmt: skip
        assert r.status_code == 201, r.text
    r = client.post(f"/api/proposals/{batch}/advance", headers=officer, json={"trigger": "submit"})
    assert r.status_code == 200, r.text
    secretary = token("tk.qd")
    r = client.post("/api/councils/sessions", headers=secretary, json={
        "unit": "CCYQD", "title": "Bình xét", "held_on": datetime.now(UTC).date().isoformat(),
        "members": [{"full_name": f"UV {i}"} for i in range(3)],
    })  # fmt: skip
    assert r.status_code == 201, r.text
    session = r.json()["id"]
    r = client.post(f"/api/year-review/{batch}/tally", headers=secretary, json={
        "session": session, "votes": {"LDTT": {"agree": 3}}, "close": True,
    })  # fmt: skip
    assert r.status_code == 200, r.text
    assert "Lao động tiên tiến: 3 cá nhân" in r.json()["minutes"]
    r = client.post(f"/api/year-review/{batch}/decisions", headers=token("tt.qd"), json={
        "numbers": {"LDTT": "71/QĐ-CCYQD"}, "signer": "Trần Văn Hùng", "authority": "CCYQD",
    })  # fmt: skip
    assert r.status_code == 201, r.text
    assert len(r.json()["LDTT"]["lines"]) == 3


def test_page_rates_the_unit_and_shows_file_errors(web_rt: Runtime, browser: Browser) -> None:
    """The page lists every person with a rating select; saving rates them; a bad file shows
    its FILE:ROW lines."""
    (one,) = people(web_rt, "Kha Văn Một")
    c, csrf = browser("cb.qd")
    page = c.get(f"/unit-year?unit=CCYQD&year={YEAR}")
    assert (
        page.status_code == 200 and "Kha Văn Một" in page.text and "Xếp loại cuối năm" in page.text
    )
    r = c.post("/unit-year/ratings", data={
        "csrf_token": csrf, "unit": "CCYQD", "year": str(YEAR), f"rating_{one}": "htxs",
    })  # fmt: skip
    assert r.status_code == 200 and "Xếp loại: 1 mới" in r.text
    bad = "STT,Họ và tên,Xếp loại\n1,Không Ai,htt\n"
    r = c.post(
        "/unit-year/ratings/import", data={"csrf_token": csrf, "unit": "CCYQD", "year": str(YEAR)},
        files={"file": ("xl.csv", io.BytesIO(bad.encode()), "text/csv")},
    )  # fmt: skip
    assert r.status_code == 422 and "xl.csv:2: không có cá nhân tên" in r.text


def test_review_page_votes_per_title_closes_and_signs(web_rt: Runtime, browser: Browser) -> None:
    """On the review page the secretary enters one tally per title of an open session and
    closes it; the head (not the secretary, who is not offered the form) signs one decision
    per title."""

    ids = rated_people(web_rt, {"Lục Văn Một": "htt", "Lục Văn Hai": "htt"})

    batch, step = propose_and_submit(
        web_rt, [ProposedEntry("LDTT", person_id=p) for p in ids.values()]
    )
    assert not step.refused
    with write_tx(web_rt.engine) as conn:
        session = open_session(
            conn, "CCYQD", title="Bình xét", held_on=datetime.now(UTC).date(),
            members=[MemberIn(f"UV {i}") for i in range(3)], actor=who(web_rt, "tk.qd"),
        )  # fmt: skip
    c, csrf = browser("tk.qd")
    page = c.get(f"/unit-year/review/{batch}")
    assert page.status_code == 200 and "Lao động tiên tiến (2)" in page.text
    r = c.post(f"/unit-year/review/{batch}/tally", data={
        "csrf_token": csrf, "session": str(session), "agree_LDTT": "3",
    })  # fmt: skip
    assert r.status_code == 200 and "Đã ghi kết quả bỏ phiếu của 1 danh hiệu" in r.text
    r = c.post(
        f"/unit-year/review/{batch}/close", data={"csrf_token": csrf, "session": str(session)}
    )
    assert r.status_code == 200 and f"Đã kết thúc phiên họp #{session}" in r.text
    # The secretary cannot sign: no signing form for her, the head has it.
    assert 'id="decide-form"' not in r.text and "Ký quyết định theo danh hiệu" not in r.text
    head, head_csrf = browser("tt.qd")
    assert 'id="decide-form"' in head.get(f"/unit-year/review/{batch}").text
    r = head.post(f"/unit-year/review/{batch}/decide", data={
        "csrf_token": head_csrf, "authority": "CCYQD", "number_LDTT": "81/QĐ-CCYQD",
        "signer": "Trần Văn Hùng",
    })  # fmt: skip
    assert r.status_code == 200 and "Đã ký 81/QĐ-CCYQD" in r.text
    assert r.text.count("Đã có quyết định công nhận") == 2


def test_another_units_officer_cannot_read_the_units_year(
    web_rt: Runtime, browser: Browser
) -> None:
    """An officer of Cục Cơ yếu Đảng – Chính quyền is refused the year page of Cục Cơ yếu
    Quân đội; the auditor reads it."""
    people(web_rt, "Giàng A Páo")
    other, _ = browser("cb.dcq")
    r = other.get(f"/unit-year?unit=CCYQD&year={YEAR}")
    assert r.status_code == 403 and "Giàng A Páo" not in r.text
    auditor, _ = browser("kiemtra")
    r = auditor.get(f"/unit-year?unit=CCYQD&year={YEAR}")
    assert r.status_code == 200 and "Giàng A Páo" in r.text


def test_page_messages_follow_the_locale(web_rt: Runtime, browser: Browser) -> None:
    """What the page says after an action is Vietnamese, or English in the English locale."""
    (one,) = people(web_rt, "Mùa A Dính")
    c, csrf = browser("cb.qd")
    form = {"csrf_token": csrf, "unit": "CCYQD", "year": str(YEAR), "targets": "100%"}
    r = c.post("/unit-year/register", data=form)
    assert r.status_code == 200 and "Đã lưu đăng ký thi đua" in r.text
    c.cookies.set("kt_lang", "en")
    r = c.post("/unit-year/register", data=form)
    assert "Emulation registration saved" in r.text and "Đã lưu" not in r.text
    r = c.post("/unit-year/ratings", data={
        "csrf_token": csrf, "unit": "CCYQD", "year": str(YEAR), f"rating_{one}": "htt",
    })  # fmt: skip
    assert "Ratings: 1 new, 0 corrected, 0 unchanged" in r.text
    # No title registered yet: refused in English, pointing to this page, not the CLI.
    r = c.post("/unit-year/propose", data={"csrf_token": csrf, "unit": "CCYQD", "year": str(YEAR)})
    assert (
        f"No title to review in {YEAR} for Cục Cơ yếu Quân đội: no title is registered "
        "(register on the Emulation year page, under Emulation registration)"
    ) in r.text
    assert "registrations add" not in r.text and "bình xét" not in r.text


def test_a_missing_rating_points_to_the_ratings_page_not_the_cli(
    web_rt: Runtime, browser: Browser
) -> None:
    """Submitting the year's batch on its page, an unrated person is refused with where the
    page takes ratings (in the page's language), never a CLI command."""
    ids = rated_people(web_rt, {"Sùng A Chứ": None}, year=YEAR)
    officer = who(web_rt, "cb.qd")
    with write_tx(web_rt.engine) as conn:
        batch, _ = year_review.propose_in(
            conn, web_rt.registry, catalog(), unit="CCYQD", year=YEAR, actor=officer,
            title="Bình xét", entries=[ProposedEntry("CST", person_id=ids["Sùng A Chứ"])],
        )  # fmt: skip
        for doc in ("to_trinh", "bao_cao_thanh_tich"):
            batches.attach_in(
                conn, batch, doc_type=doc, filename=f"{doc}.pdf", content=PDF, actor=officer,
                max_bytes=10_000,
            )  # fmt: skip
    c, csrf = browser("cb.qd")
    c.cookies.set("kt_lang", "en")
    r = c.post(f"/proposals/{batch}/advance", data={"csrf_token": csrf, "trigger": "submit"})
    assert f"no rating recorded for {YEAR}" in r.text
    assert "on the Emulation year page, under Year-end ratings" in r.text
    assert "khenthuong ratings import" not in r.text and "Chưa có xếp loại" not in r.text
