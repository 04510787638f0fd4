"""Decision documents keyed by NUMBER:YEAR: serial numbers restart every 1 January, so the same
number can name two decisions of two years; documents, signed files and the decision page must
pick the right one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from khenthuong.errors import KhenthuongError
from khenthuong.rules.catalog import catalog_in
from khenthuong.rules.issuers import number_key
from khenthuong.runtime import Runtime
from khenthuong.services.actors import load_actor
from khenthuong.services.signatures import sign_decision
from khenthuong.storage.db import write_tx
from khenthuong.storage.decisions import DECISIONS
from khenthuong.storage.documents import GENERATED_FILES
from khenthuong.storage.models import UNITS
from tests.conftest import CONFIG
from tests.documents.test_render_decision import NAMES, NUMBER, TODAY, decided, docx_text, render
from tests.web.conftest import sign_in

LAST_YEAR = TODAY.year - 1


def last_years_namesake(rt: Runtime) -> int:
    """A decision of last year with the same number (and no awardee), written directly."""
    with write_tx(rt.engine) as conn:
        unit_id = conn.execute(select(UNITS.c.id).where(UNITS.c.code == "BCY")).scalar_one()
        return int(conn.execute(
            insert(DECISIONS).values(
                number=NUMBER, number_key=number_key(NUMBER), number_year=LAST_YEAR,
                decided_on=TODAY.replace(year=LAST_YEAR, day=1), signer="Lê Văn Cũ",
                authority_unit_id=unit_id, award_code="CSTD_BO", created_by="test",
                created_at=datetime.now(UTC),
            )
        ).inserted_primary_key[0])  # fmt: skip


def test_number_of_two_years_is_refused_and_number_year_picks_one(rt: Runtime) -> None:
    """The bare number names both years in its refusal; NUMBER:YEAR renders each decision."""
    decided(rt)
    last_years_namesake(rt)
    with pytest.raises(KhenthuongError, match=f"các năm {TODAY.year}, {LAST_YEAR}"):
        render(rt, "quyet-dinh", NUMBER, "docx")
    this_year = docx_text(render(rt, "quyet-dinh", f"{NUMBER}:{TODAY.year}", "docx"))
    assert all(name in this_year for name in NAMES)
    old = docx_text(render(rt, "quyet-dinh", f"{NUMBER}:{LAST_YEAR}", "docx"))
    assert "Lê Văn Cũ" in old and not any(name in old for name in NAMES)


def test_page_links_and_signed_files_follow_the_year(
    web_rt: Runtime,
    client: TestClient,
    token: Callable[[str], dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each year's decision page links its own documents and lists only its own signed PDF;
    the signed PDF is served although its number exists in two years."""
    from tests.documents.pki import make_ca, signer_p12

    decided(web_rt)
    last_years_namesake(web_rt)
    ca = make_ca()
    (tmp_path / "ca.pem").write_bytes(ca.pem)
    monkeypatch.setattr(web_rt.settings, "trust_roots", tmp_path / "ca.pem")
    with web_rt.engine.connect() as conn:
        actor = load_actor(conn, "tb.bcy")
    key = f"{NUMBER}:{TODAY.year}"
    sign_decision(
        web_rt.engine, catalog_in(CONFIG), CONFIG, key,
        pkcs12=signer_p12(ca, "Ngô Văn Thành", b"pw"), passphrase=b"pw", actor=actor,
    )  # fmt: skip
    sign_in(client, "tb.bcy")
    quoted = quote(NUMBER, safe="")
    page = client.get(f"/decisions/{quoted}?year={TODAY.year}")
    assert page.status_code == 200, page.text
    assert f"/api/generated/quyet-dinh?key={quote(key, safe='')}&amp;format=pdf" in page.text
    main = page.text.split("<main", 1)[1]  # the header names the signed-in officer
    assert "Ngô Văn Thành" in main
    old = client.get(f"/decisions/{quoted}?year={LAST_YEAR}")
    assert old.status_code == 200 and "Ngô Văn Thành" not in old.text.split("<main", 1)[1]
    assert quote(f"{NUMBER}:{LAST_YEAR}", safe="") in old.text
    with web_rt.engine.connect() as conn:
        file_id = conn.execute(
            select(GENERATED_FILES.c.id).where(GENERATED_FILES.c.signed)
        ).scalar()
    assert (
        client.get(f"/api/generated/signed/{file_id}", headers=token("tb.bcy")).status_code == 200
    )
