"""/api/proposals: a danh sách uploaded (multipart) becomes one batch; a bad row is a 422
naming FILE:ROW and creates nothing; the batch is read and stepped as a whole or per member."""

from __future__ import annotations

import io

import httpx
from fastapi.testclient import TestClient
from openpyxl import Workbook
from sqlalchemy import func, select

from khenthuong.runtime import Runtime
from khenthuong.services.proposal_import import TEMPLATE_HEADERS
from khenthuong.storage.models import NOMINATIONS
from tests.web.helpers import Headers

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = b"%PDF-1.4\n% bao cao\n"


def _list(*names: str) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(TEMPLATE_HEADERS)
    for i, name in enumerate(names, start=1):
        sheet.append([str(i), name, "Cá nhân", "", "CCYQD", "BK_BO", "", "", "", f"bc{i}.pdf"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(
    c: TestClient, headers: dict[str, str], content: bytes, **fields: str
) -> httpx.Response:
    files = [("file", ("danh-sách.xlsx", content, XLSX))] + [
        ("reports", (f"bc{i}.pdf", PDF, "application/pdf")) for i in (1, 2)
    ]
    return c.post("/api/proposals", data={"unit": "CCYQD", **fields}, files=files, headers=headers)


def test_upload_preview_create_show_and_step(
    web_rt: Runtime, client: TestClient, token: Headers
) -> None:
    officer = token("cb.qd")
    preview = _upload(client, officer, _list("Nguyễn Văn An", "Trần Thị Bích"), dry_run="true")
    assert preview.status_code == 200, preview.text
    rows = preview.json()["rows"]
    assert [r["name"] for r in rows] == ["Nguyễn Văn An", "Trần Thị Bích"]
    assert all(r["verdict"] for r in rows)
    with web_rt.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(NOMINATIONS)).scalar() == 0

    bad = _upload(client, officer, _list("Nguyễn Văn An", "Hồ Vô Danh"))
    assert bad.status_code == 422
    errors = bad.json()["errors"]
    assert errors[0].startswith("danh-sách.xlsx:3: không có cá nhân tên 'Hồ Vô Danh'")
    assert "khenthuong" not in errors[0] and "--create-persons" not in errors[0]
    assert bad.json()["unlisted_person"] == [3] and bad.json()["create_persons"] is True

    made = _upload(client, officer, _list("Nguyễn Văn An", "Trần Thị Bích"), title="Sơ kết")
    assert made.status_code == 201, made.text
    batch = made.json()
    assert batch["state"] == "2 hồ sơ: Đơn vị lập hồ sơ đề nghị"
    assert [d["doc_type"] for d in batch["documents"]] == ["danh_sach"]
    bid = batch["id"]
    for doc in ("to_trinh", "bien_ban_binh_xet"):
        r = client.post(
            f"/api/proposals/{bid}/documents",
            data={"doc_type": doc},
            files={"file": (f"{doc}.pdf", PDF, "application/pdf")},
            headers=officer,
        )
        assert r.status_code == 201, r.text
    step = client.post(f"/api/proposals/{bid}/advance", json={"trigger": "submit"}, headers=officer)
    assert step.status_code == 200, step.text
    assert len(step.json()["done"]) == 2 and step.json()["refused"] == {}
    head = token("tt.qd")
    one = batch["members"][0]["nomination_id"]
    back = client.post(
        f"/api/proposals/{bid}/advance",
        json={"trigger": "return_for_supplement", "member": one, "payload": {"reason": "Bổ sung"}},
        headers=head,
    )
    assert back.status_code == 200, back.text
    shown = client.get(f"/api/proposals/{bid}", headers=head).json()
    assert shown["state"] == (
        "1 hồ sơ: Trả lại đơn vị để bổ sung; 1 hồ sơ: Thủ trưởng đơn vị ký tờ trình"
    )
    assert client.get(f"/api/proposals/{bid}", headers=token("cb.pccc")).status_code == 403
