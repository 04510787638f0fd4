"""Documents of a cross-inspection report over HTTP: the inspecting unit attaches them (API
and the bloc page's report form); the two units, the bloc leader and auditors read them;
everyone else, bad files and unknown visits are refused with problem details."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from khenthuong.runtime import Runtime
from khenthuong.services import inspections
from khenthuong.services.actors import load_actor
from khenthuong.storage.blocs import INSPECTION_DOCUMENTS
from khenthuong.web.app import create_app
from tests.web.helpers import Headers, add_visit
from tests.web.test_refusals import denied

Browser = Callable[[str], tuple[TestClient, str]]
PROBLEM = "application/problem+json"
PDF = b"%PDF-1.4\n% bien ban kiem tra cheo\n"
NAME = "Biên bản kiểm tra.pdf"


def documents(rt: Runtime) -> int:
    with rt.engine.connect() as conn:
        return int(
            conn.execute(select(func.count()).select_from(INSPECTION_DOCUMENTS)).scalar_one()
        )


@pytest.fixture
def visit(web_rt: Runtime) -> int:
    """CCYQD inspects CCYDCQ today (bloc KCY4, organised by BCY, led by kt.cy)."""
    today = date.today()
    return add_visit(web_rt, "CCYQD", "CCYDCQ", today, today)


def upload(
    client: TestClient,
    headers: dict[str, str],
    vid: int,
    content: bytes = PDF,
    name: str = NAME,
    kind: str = "application/pdf",
) -> httpx.Response:
    return client.post(
        f"/api/inspections/visits/{vid}/documents",
        files={"file": (name, content, kind)},
        headers=headers,
    )


def test_the_inspecting_unit_attaches_and_the_parties_read(
    client: TestClient, token: Headers, web_rt: Runtime, visit: int
) -> None:
    r = client.post(
        f"/api/inspections/visits/{visit}/documents",
        files={"file": (NAME, PDF, "application/pdf")},
        headers=token("cb.qd"),
    )
    assert r.status_code == 201, r.text
    stored = r.json()
    assert stored == {
        "id": stored["id"],
        "visit_id": visit,
        "filename": NAME,
        "content_type": "application/pdf",
        "size": len(PDF),
        "sha256": hashlib.sha256(PDF).hexdigest(),
        "uploaded_by": "cb.qd",
    }
    photo = client.post(
        f"/api/inspections/visits/{visit}/documents",
        files={"file": ("anh.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png")},
        headers=token("tt.qd"),  # the unit's head files too
    )
    assert photo.status_code == 201, photo.text
    # The inspecting unit, the inspected unit, the ministry over both, the bloc leader and
    # an auditor read the list and download the file.
    for who in ("cb.qd", "tt.dcq", "cv.bcy", "kt.cy", "kiemtra"):
        listed = client.get(f"/api/inspections/visits/{visit}/documents", headers=token(who))
        assert listed.status_code == 200, (who, listed.text)
        assert [d["filename"] for d in listed.json()] == [NAME, "anh.png"], who
        got = client.get(f"/api/inspections/documents/{stored['id']}", headers=token(who))
        assert got.status_code == 200, (who, got.text)
        assert got.content == PDF and got.headers["content-type"] == "application/pdf"
        assert got.headers["x-content-sha256"] == stored["sha256"]
        disposition = got.headers["content-disposition"]
        assert disposition.startswith("attachment; ")
        assert f"filename*=UTF-8''{quote(NAME, safe='')}" in disposition
    with web_rt.engine.connect() as conn:
        stored_docs = inspections.report_documents(conn, visit, load_actor(conn, "kiemtra"))
    assert [d.filename for d in stored_docs] == [NAME, "anh.png"]


def test_report_documents_refusals(
    client: TestClient, token: Headers, web_rt: Runtime, visit: int
) -> None:
    # Read-only auditor: 403 before the file is looked at, logged.
    r = upload(client, token("kiemtra"), visit)
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM
    assert "chỉ có quyền xem" in r.json()["detail"]
    # The inspected unit, a member of the bloc outside the visit, and the ministry above
    # the inspecting unit do not attach: only the inspecting unit itself.
    for who in ("tt.dcq", "tt.ca", "cv.bcy"):
        r = upload(client, token(who), visit)
        assert r.status_code == 403, (who, r.text)
        assert "CCYQD" in r.json()["detail"]
    # Another unit is refused even with an oversized file (scope before size).
    big = PDF + b"x" * web_rt.settings.max_attachment_bytes
    assert upload(client, token("tt.ca"), visit, big).status_code == 403
    assert documents(web_rt) == 0
    ok = upload(client, token("cb.qd"), visit)
    assert ok.status_code == 201, ok.text
    doc_id = ok.json()["id"]
    # Other units read neither the list nor the file: the bloc's other members and a unit
    # outside the bloc.
    for who in ("tt.ca", "tt.ng", "cb.pccc"):
        r = client.get(f"/api/inspections/visits/{visit}/documents", headers=token(who))
        assert r.status_code == 403 and r.headers["content-type"] == PROBLEM, who
        assert "khối trưởng" in r.json()["detail"]
        r = client.get(f"/api/inspections/documents/{doc_id}", headers=token(who))
        assert r.status_code == 403, who
    logged = [d[:2] for d in denied(web_rt)]
    path = f"/api/inspections/visits/{visit}/documents"
    for who in ("kiemtra", "tt.dcq", "tt.ca", "cv.bcy", "tt.ng", "cb.pccc"):
        assert (who, path) in logged, who
    assert ("tt.ca", f"/api/inspections/documents/{doc_id}") in logged
    # Empty, an executable, no file at all: 422 naming the file field.
    r = upload(client, token("cb.qd"), visit, b"")
    assert r.status_code == 422 and r.json()["field"] == "file" and "rỗng" in r.json()["detail"]
    r = upload(client, token("cb.qd"), visit, b"MZ\x90\x00", "virus.exe", "application/x-msdos")
    assert r.status_code == 422 and r.json()["field"] == "file"
    assert "không được chấp nhận" in r.json()["detail"]
    r = client.post(f"/api/inspections/visits/{visit}/documents", headers=token("cb.qd"))
    assert r.status_code == 422 and "file" in r.json()["detail"]
    # Unknown visit and document: 404 problem details.
    for r in (
        upload(client, token("cb.qd"), 999_999),
        client.get("/api/inspections/visits/999999/documents", headers=token("cb.qd")),
        client.get("/api/inspections/documents/999999", headers=token("kiemtra")),
    ):
        assert r.status_code == 404 and r.headers["content-type"] == PROBLEM
    assert documents(web_rt) == 1


@pytest.fixture
def small_client(web_rt: Runtime) -> Iterator[TestClient]:
    """The app with a 64-byte attachment limit."""
    settings = web_rt.settings.model_copy(update={"max_attachment_bytes": 64})
    with TestClient(create_app(replace(web_rt, settings=settings))) as c:
        yield c


def test_a_file_over_the_limit_is_413(
    small_client: TestClient, token: Headers, web_rt: Runtime, visit: int
) -> None:
    r = upload(small_client, token("cb.qd"), visit, PDF + b"x" * 64)
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM
    assert r.json()["field"] == "file" and "64 byte" in r.json()["detail"]
    assert upload(small_client, token("cb.qd"), visit, PDF).status_code == 201
    assert documents(web_rt) == 1


def test_the_bloc_page_files_the_report_with_a_document_and_lists_it(
    browser: Browser, web_rt: Runtime, visit: int
) -> None:
    year = date.today().year
    page_url = f"/blocs/KCY4?year={year}"
    c, csrf = browser("cb.qd")
    page = c.get(page_url)
    assert f'action="/blocs/KCY4/visits/{visit}/report" enctype="multipart/form-data"' in page.text
    assert page.text.count('type="file" name="file"') == 1
    form = {"findings": "Đạt yêu cầu", "score": "85", "year": str(year), "csrf_token": csrf}
    # A refused file keeps the report unfiled too (one transaction).
    bad = c.post(f"/blocs/KCY4/visits/{visit}/report", data=form,
                 files={"file": ("x.exe", b"MZ", "application/x-msdos")})  # fmt: skip
    assert bad.status_code == 422 and "không được chấp nhận" in bad.text
    with web_rt.engine.connect() as conn:
        assert [v.score for v in inspections.visits(conn, "KCY4", year)] == [None]
    r = c.post(f"/blocs/KCY4/visits/{visit}/report", data=form,
               files={"file": (NAME, PDF, "application/pdf")}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text
    page = c.get(page_url)
    assert "85 điểm" in page.text
    links = re.findall(r'href="/inspections/documents/(\d+)"', page.text)
    assert len(links) == 1 and NAME in page.text
    got = c.get(f"/inspections/documents/{links[0]}")
    assert got.status_code == 200 and got.content == PDF
    # After the report, one more document through the page's upload form.
    assert f'action="/blocs/KCY4/visits/{visit}/documents"' in page.text
    more = c.post(f"/blocs/KCY4/visits/{visit}/documents",
                  data={"year": str(year), "csrf_token": csrf},
                  files={"file": ("anh.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "image/png")},
                  follow_redirects=False)  # fmt: skip
    assert more.status_code == 303, more.text
    assert len(re.findall(r'href="/inspections/documents/', c.get(page_url).text)) == 2
    none = c.post(f"/blocs/KCY4/visits/{visit}/documents",
                  data={"year": str(year), "csrf_token": csrf},
                  files={"file": ("", b"", "application/octet-stream")})  # fmt: skip
    assert none.status_code == 422 and "Chưa chọn tệp" in none.text
    # The inspected unit and an auditor see the list (no upload form); another member not.
    for who in ("tt.dcq", "kiemtra"):
        other, _ = browser(who)
        text = other.get(page_url).text
        assert len(re.findall(r'href="/inspections/documents/', text)) == 2, who
        assert f"/blocs/KCY4/visits/{visit}/documents" not in text, who
    outsider, outsider_csrf = browser("tt.ca")
    assert "/inspections/documents/" not in outsider.get(page_url).text
    assert outsider.get(f"/inspections/documents/{links[0]}").status_code == 403
    refused = outsider.post(f"/blocs/KCY4/visits/{visit}/documents",
                            data={"year": str(year), "csrf_token": outsider_csrf},
                            files={"file": ("x.pdf", PDF, "application/pdf")})  # fmt: skip
    assert refused.status_code == 403
    logged = [d[:2] for d in denied(web_rt)]
    assert ("tt.ca", f"/inspections/documents/{links[0]}") in logged
    assert ("tt.ca", f"/blocs/KCY4/visits/{visit}/documents") in logged
    assert documents(web_rt) == 2
