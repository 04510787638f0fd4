"""GET /api/generated/{kind}: the decision page's "Tải DOCX" link, scoped like the page."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

import pytest
from docx import Document
from fastapi.testclient import TestClient
from sqlalchemy import select

from khenthuong.rules.catalog import catalog_in
from khenthuong.runtime import Runtime
from khenthuong.services.actors import load_actor
from khenthuong.services.inspections import plan_inspections, visits
from khenthuong.services.signatures import sign_decision
from khenthuong.storage.db import write_tx
from khenthuong.storage.documents import GENERATED_FILES
from khenthuong.storage.models import EVENTS
from tests.conftest import CONFIG
from tests.documents.test_render_decision import NAMES, NUMBER, TODAY, decided, docx_text
from tests.web.conftest import sign_in


def test_decision_docx_served_in_scope_and_refused_outside(
    web_rt: Runtime, client: TestClient, token: Callable[[str], dict[str, str]]
) -> None:
    """The minister downloads the decision DOCX (hash in a header); C07's officer gets 403."""
    decided(web_rt)
    url = f"/api/generated/quyet-dinh?key={quote(NUMBER, safe='')}&format=docx"
    r = client.get(url, headers=token("tb.bcy"))
    assert r.status_code == 200, r.text
    assert r.headers["x-content-sha256"] == hashlib.sha256(r.content).hexdigest()
    assert "attachment" in r.headers["content-disposition"]
    text = docx_text(r.content)
    assert NUMBER in text and all(name in text for name in NAMES)
    assert Document(io.BytesIO(r.content)).sections[0].page_width is not None
    assert client.get(url, headers=token("cb.pccc")).status_code == 403
    assert client.get("/api/generated/khong-co?key=1", headers=token("tb.bcy")).status_code == 404


def test_decision_page_links_to_its_documents(web_rt: Runtime, client: TestClient) -> None:
    """The decision page offers Tải DOCX and Tải PDF for the decision and its certificates."""
    decided(web_rt)
    sign_in(client, "tb.bcy")
    page = client.get(f"/decisions/{quote(NUMBER, safe='')}").text
    key = quote(f"{NUMBER}:{TODAY.year}", safe="")
    assert f"/api/generated/quyet-dinh?key={key}&amp;format=pdf" in page
    assert "Tải DOCX" in page and "/api/generated/bang-khen" in page


def test_bloc_plan_as_a_document(
    web_rt: Runtime, client: TestClient, token: Callable[[str], dict[str, str]]
) -> None:
    """The kế hoạch kiểm tra chéo lists every visit of the bloc's current plan; hash audited."""
    with write_tx(web_rt.engine) as conn:
        plan_inspections(conn, "KCY4", 2019, actor=load_actor(conn, "kt.cy"), seed=3)
        rows = visits(conn, "KCY4", 2019)
    r = client.get("/api/generated/ke-hoach-kiem-tra?key=KCY4:2019&format=docx",
                   headers=token("kt.cy"))  # fmt: skip
    assert r.status_code == 200, r.text
    text = docx_text(r.content)
    assert "KẾ HOẠCH" in text and "Kiểm tra chéo công tác thi đua, khen thưởng năm 2019" in text
    assert all(v.inspector_name in text and v.inspected_name in text for v in rows)
    assert f"{len(rows)} cuộc kiểm tra" in text
    with web_rt.engine.connect() as conn:
        payloads = conn.execute(
            select(EVENTS.c.payload).where(
                EVENTS.c.stream == "inspection:KCY4:2019", EVENTS.c.trigger == "generate_document"
            )
        ).scalars().all()  # fmt: skip
    assert [hashlib.sha256(r.content).hexdigest() in p for p in payloads] == [True]


def test_decision_page_lists_and_serves_its_signed_pdf(
    web_rt: Runtime,
    client: TestClient,
    token: Callable[[str], dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A signed decision shows on its page as valid, with a download only in scope."""
    from tests.documents.pki import make_ca, signer_p12

    decided(web_rt)
    ca = make_ca()
    (tmp_path / "ca.pem").write_bytes(ca.pem)
    monkeypatch.setattr(web_rt.settings, "trust_roots", tmp_path / "ca.pem")
    with web_rt.engine.connect() as conn:
        actor = load_actor(conn, "tb.bcy")
    signed = sign_decision(
        web_rt.engine, catalog_in(CONFIG), CONFIG, NUMBER,
        pkcs12=signer_p12(ca, "Ngô Văn Thành", b"pw"), passphrase=b"pw", actor=actor,
    )  # fmt: skip
    sign_in(client, "tb.bcy")
    page = client.get(f"/decisions/{quote(NUMBER, safe='')}").text
    assert "Bản đã ký số" in page and "Hợp lệ" in page and "Ngô Văn Thành" in page
    with web_rt.engine.connect() as conn:
        file_id = conn.execute(
            select(GENERATED_FILES.c.id).where(GENERATED_FILES.c.signed)
        ).scalar()
    got = client.get(f"/api/generated/signed/{file_id}", headers=token("tb.bcy"))
    assert got.status_code == 200 and got.content == signed.content
    refused = client.get(f"/api/generated/signed/{file_id}", headers=token("cb.pccc"))
    assert refused.status_code == 403
