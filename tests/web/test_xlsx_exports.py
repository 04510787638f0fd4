"""Every Excel export as an officer opens it: Vietnamese headers, names not codes, typed date
and number cells with Vietnamese formats, a frozen header with an autofilter, totals where
figures add up, and a decision's own heading above its list."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from khenthuong.localtime import local_date
from khenthuong.runtime import Runtime
from khenthuong.services.actors import load_actor
from khenthuong.services.inspections import plan_inspections
from khenthuong.storage.db import write_tx
from khenthuong.tabular import (
    DATE_FORMAT,
    DATETIME_FORMAT,
    Column,
    vn_integer_format,
    workbook_bytes,
)
from tests.web.helpers import (
    Headers,
    attach_dossier,
    council_vote,
    person_id,
    propose,
    step,
    to_council,
)
from tests.web.sheets import cells, header_row, table, total_row, xlsx_sheet

VN_INT = vn_integer_format()


def _decision(rt: Runtime, client: TestClient, token: Headers, number: str) -> int:
    nid = to_council(rt, client, token, "Nguyễn Văn An")
    council_vote(client, token("tk.bcy"), [nid], agree=7)
    r = client.post(
        "/api/decisions",
        json={"number": number, "decided_on": local_date(datetime.now(UTC)).isoformat(),
              "signer": "Trưởng Ban Cơ yếu Chính phủ", "authority": "BCY",
              "nomination_ids": [nid]},
        headers=token("tb.bcy"),
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return nid


def test_the_sheet_writer_types_cells_and_adds_up() -> None:
    """Dates are date cells, money a number with dots between thousands, live text stays
    text, the header is frozen and filtered and the total row adds up the money."""
    content = workbook_bytes(
        "Thử",
        [Column("Tên"), Column("Ngày", "date"), Column("Lúc", "datetime"),
         Column("Hệ số", "decimal"), Column("Số tiền (đồng)", "money", total=True)],
        [["=HYPERLINK(1)", date(2024, 12, 20), datetime(2026, 1, 2, 1, 30, tzinfo=UTC), 0.3,
          3_510_000],
         ["Bình", date(2025, 1, 5), None, 1.5, 1_234_567_890]],
        heading=["Tiêu đề", "Dòng hai"],
    )  # fmt: skip
    sheet = load_workbook(io.BytesIO(content)).active
    assert isinstance(sheet, Worksheet)
    assert sheet["A1"].value == "Tiêu đề" and sheet["A1"].font.b
    header, data = table(sheet)
    assert header_row(sheet) == 4 and header[0] == "Tên"
    name, day, at, coefficient, money = data[0]
    assert name.data_type == "s" and name.quotePrefix and name.value == "=HYPERLINK(1)"
    assert day.is_date and day.number_format == DATE_FORMAT
    assert at.value == datetime(2026, 1, 2, 8, 30) and at.number_format == DATETIME_FORMAT
    assert coefficient.data_type == "n" and coefficient.number_format.endswith("0.0##")
    assert money.data_type == "n" and money.number_format == VN_INT
    assert data[1][4].number_format == vn_integer_format(1_234_567_890)
    assert "#\\.###\\.###\\.##0" in data[1][4].number_format
    total = total_row(sheet)
    assert total[4].value == 3_510_000 + 1_234_567_890 and total[4].font.b


def test_vn_integer_format_covers_each_magnitude() -> None:
    """The format shows dots between thousands: three sections around the value's size."""
    assert VN_INT == "[>=1000000]#\\.###\\.##0;[>=1000]#\\.##0;0"
    assert vn_integer_format(10**12).startswith("[>=1000000000000]")


def test_decision_export_has_its_heading_names_and_total(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    """A decision's workbook starts with its number and date, authority, award and signer
    (title and the officer's name), lists each awardee with unit name, coefficient, base
    salary and money as numbers, and totals the money."""
    nid = _decision(web_rt, client, token, "7/QĐ-BCY")
    sheet = xlsx_sheet(client.get("/api/decisions/7/QĐ-BCY", params={"format": "xlsx"},
                              headers=token("kiemtra")))  # fmt: skip
    today = local_date(datetime.now(UTC)).strftime("%d/%m/%Y")
    heading = [sheet.cell(r, 1).value for r in range(1, header_row(sheet) - 1)]
    assert heading[0] == f"QUYẾT ĐỊNH KHEN THƯỞNG số 7/QĐ-BCY ngày {today}"
    assert heading[1] == "Cơ quan quyết định: Ban Cơ yếu Chính phủ"
    assert heading[2].startswith("Hình thức khen thưởng: Bằng khen")
    assert heading[3].startswith("Người ký: Trưởng Ban Cơ yếu Chính phủ – ")
    assert "tb.bcy" not in heading[3]
    header, data = table(sheet)
    assert header == ["STT", "Số hồ sơ", "Cá nhân, tập thể được đề nghị", "Đơn vị đề nghị",
                      "Hệ số", "Mức lương cơ sở (đồng)", "Số tiền thưởng (đồng)"]  # fmt: skip
    (row,) = data
    assert [c.value for c in row[:4]] == [1, nid, "Nguyễn Văn An", "Cục Cơ yếu Quân đội"]
    assert all(c.data_type == "n" for c in row[4:])
    assert row[5].number_format == VN_INT and row[6].number_format == VN_INT
    assert total_row(sheet)[6].value == row[6].value > 0


def test_list_exports_name_things_and_type_their_cells(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    """Nominations, councils, decisions, audit events, workflows, blocs and an inspection plan:
    Vietnamese headers, names beside codes, typed cells, totals where figures add up."""
    nid = _decision(web_rt, client, token, "8/QĐ-BCY")
    auditor = token("kiemtra")

    def get(path: str, **params: Any) -> Worksheet:
        return xlsx_sheet(client.get(path, params={"format": "xlsx", **params}, headers=auditor))

    header, data = table(get("/api/nominations"))
    assert header[:5] == ["Số hồ sơ", "Cá nhân, tập thể được đề nghị", "Hình thức khen thưởng",
                          "Trạng thái", "Đơn vị đề nghị"]  # fmt: skip
    row = next(r for r in data if r[0].value == nid)
    assert row[2].value.startswith("Bằng khen") and row[3].value == "Đã có quyết định khen thưởng"
    assert (row[4].value, row[5].value) == ("Cục Cơ yếu Quân đội", "CCYQD")
    assert row[0].data_type == "n"

    sheet = get("/api/councils")
    header, data = table(sheet)
    assert header == ["Phiên họp", "Hội đồng của đơn vị", "Mã đơn vị", "Tên", "Ngày họp",
                      "Trạng thái", "Số hồ sơ xét"]  # fmt: skip
    assert data and data[0][1].value == "Ban Cơ yếu Chính phủ" and data[0][4].is_date
    assert data[0][5].value == "Đã kết thúc" and data[0][4].number_format == DATE_FORMAT
    assert total_row(sheet)[6].value == sum(r[6].value for r in data) >= 1

    sheet = get("/api/decisions")
    header, data = table(sheet)
    assert header == ["Số quyết định", "Ngày ký", "Người ký", "Cơ quan quyết định", "Mã đơn vị",
                      "Hình thức khen thưởng", "Mã hình thức", "Số cá nhân, tập thể",
                      "Số tiền thưởng (đồng)"]  # fmt: skip
    (row,) = data
    assert row[0].value == "8/QĐ-BCY" and row[1].is_date and row[3].value == "Ban Cơ yếu Chính phủ"
    assert row[5].value.startswith("Bằng khen") and row[8].number_format == VN_INT
    assert total_row(sheet)[8].value == row[8].value and total_row(sheet)[7].value == 1

    sheet = get("/api/audit/events", nomination_id=nid)
    header, data = table(sheet)
    assert header[:6] == ["Thời điểm", "Người thực hiện", "Tài khoản", "Vai trò", "Đơn vị", "Bước"]
    created = data[0]
    assert created[0].is_date and created[0].number_format == DATETIME_FORMAT
    assert created[2].value == "cb.qd" and created[1].value != "cb.qd"
    assert (
        created[4].value == "Cục Cơ yếu Quân đội" and created[7].value == "Đơn vị lập hồ sơ đề nghị"
    )
    assert total_row(sheet)[1].value == len(data)

    header, data = table(get("/api/workflows"))
    assert header == ["Tên", "Mã", "Phiên bản", "Đối tượng", "Căn cứ pháp lý"]
    assert any(r[1].value == "bang_khen_bo" and r[0].value.startswith("Bằng khen") for r in data)

    sheet = get("/api/blocs", year=2019)
    header, data = table(sheet)
    assert header == ["Khối, cụm", "Mã", "Khối trưởng", "Khối phó", "Thành viên", "Số thành viên"]
    kcy4 = next(r for r in data if r[1].value == "KCY4")
    assert (
        kcy4[2].value == "Cục Cơ yếu Đảng – Chính quyền" and "Cục Cơ yếu Quân đội" in kcy4[4].value
    )
    assert total_row(sheet)[5].value == sum(r[5].value for r in data)

    with write_tx(web_rt.engine) as conn:
        plan_inspections(conn, "KCY4", 2019, actor=load_actor(conn, "kt.cy"), seed=3)
    header, data = table(get("/api/blocs/KCY4/inspections", year=2019))
    assert header[:3] == ["Đơn vị kiểm tra", "Mã đơn vị", "Đơn vị được kiểm tra"]
    assert len(data) == 3 and all(r[4].is_date and r[6].is_date for r in data)
    assert data[0][0].value.startswith("Cục Cơ yếu")


def test_english_export_and_scope(client: TestClient, token: Headers, web_rt: Runtime) -> None:
    """lang=en gives English headers; another unit's officer exports none of the rows."""
    _decision(web_rt, client, token, "9/QĐ-BCY")
    r = client.get("/api/decisions", params={"format": "xlsx", "lang": "en"},
                   headers=token("kiemtra"))  # fmt: skip
    header, data = table(xlsx_sheet(r))
    assert header[:3] == ["Decision number", "Signed on", "Signed by"] and len(data) == 1
    other = xlsx_sheet(
        client.get("/api/decisions", params={"format": "xlsx"}, headers=token("cb.dcq"))
    )
    assert table(other)[1] == []
    denied = client.get("/api/decisions/9/QĐ-BCY", params={"format": "xlsx"},
                        headers=token("cb.dcq"))  # fmt: skip
    assert denied.status_code == 403


def test_page_exports_are_the_api_workbooks(
    client: TestClient, token: Headers, browser: Any, web_rt: Runtime
) -> None:
    """Every "Tải XLSX" link of a page gives the workbook its API export gives, cell for cell
    (value, type, number format, bold), with the same frozen header and filter: Vietnamese
    headers, names, typed cells, totals; in English when the page is in English."""
    nid = _decision(web_rt, client, token, "10/QĐ-BCY")
    officer = token("cb.qd")
    waiting = propose(client, officer, person_id(client, officer, "Trần Thị Bích"))["id"]
    attach_dossier(client, officer, waiting)
    step(client, officer, waiting, "submit")
    with write_tx(web_rt.engine) as conn:
        plan_inspections(conn, "KCY4", 2019, actor=load_actor(conn, "kt.cy"), seed=3)

    def same(who: str, page: str, api: str, **params: Any) -> Worksheet:
        c, _ = browser(who)
        mine = xlsx_sheet(c.get(page, params={**params, "format": "xlsx"}))
        theirs = xlsx_sheet(client.get(api, params={**params, "format": "xlsx"},
                                       headers=token(who)))  # fmt: skip
        assert mine.title == theirs.title, page
        assert cells(mine) == cells(theirs), page
        return mine

    sheet = same("tt.qd", "/queue", "/api/queue")
    header, data = table(sheet)
    assert header[:4] == ["Số hồ sơ", "Cá nhân, tập thể được đề nghị", "Hình thức khen thưởng",
                          "Trạng thái"]  # fmt: skip
    assert [r[0].value for r in data] == [waiting] and data[0][4].value == "Cục Cơ yếu Quân đội"
    assert data[0][0].data_type == "n" and total_row(sheet)[1].value == 1
    header, data = table(same("kiemtra", "/nominations", "/api/nominations"))
    assert {nid, waiting} <= {r[0].value for r in data} and header[5] == "Mã đơn vị"
    header, data = table(same("kiemtra", "/councils", "/api/councils"))
    assert header[1] == "Hội đồng của đơn vị" and data[0][4].number_format == DATE_FORMAT
    sheet = same("kiemtra", "/decisions", "/api/decisions")
    header, data = table(sheet)
    assert header[0] == "Số quyết định" and data[0][1].is_date
    assert data[0][8].number_format == VN_INT and total_row(sheet)[8].value == data[0][8].value
    sheet = same("kiemtra", "/decisions/10/QĐ-BCY", "/api/decisions/10/QĐ-BCY")
    assert str(sheet["A1"].value).startswith("QUYẾT ĐỊNH KHEN THƯỞNG số 10/QĐ-BCY ngày ")
    header, data = table(sheet)
    assert header[4:] == ["Hệ số", "Mức lương cơ sở (đồng)", "Số tiền thưởng (đồng)"]
    assert data[0][6].number_format == VN_INT and data[0][4].data_type == "n"
    header, data = table(same("kiemtra", "/audit", "/api/audit/events", nomination_id=nid))
    assert header[:2] == ["Thời điểm", "Người thực hiện"] and data[0][0].is_date
    assert data[0][0].number_format == DATETIME_FORMAT and data[0][2].value == "cb.qd"
    header, _ = table(same("cb.qd", "/workflows", "/api/workflows"))
    assert header == ["Tên", "Mã", "Phiên bản", "Đối tượng", "Căn cứ pháp lý"]
    header, _ = table(same("cb.qd", "/blocs", "/api/blocs"))
    assert header[:3] == ["Khối, cụm", "Mã", "Khối trưởng"]
    header, data = table(same("cb.qd", "/blocs/KCY4", "/api/blocs/KCY4/inspections", year=2019))
    assert header[:3] == ["Đơn vị kiểm tra", "Mã đơn vị", "Đơn vị được kiểm tra"]
    assert len(data) == 3 and all(r[4].number_format == DATE_FORMAT for r in data)

    english, _ = browser("kiemtra")
    english.get("/lang/en")
    mine = xlsx_sheet(english.get("/decisions", params={"format": "xlsx"}))
    theirs = xlsx_sheet(client.get("/api/decisions", params={"format": "xlsx", "lang": "en"},
                                   headers=token("kiemtra")))  # fmt: skip
    assert cells(mine) == cells(theirs) and table(mine)[0][:2] == ["Decision number", "Signed on"]
