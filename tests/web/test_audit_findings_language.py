"""Chain findings shown to officers are in one language per message: Vietnamese on the page
and in the API's `problem`, English in the English locale and in `problem_en`."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import update

from khenthuong.runtime import Runtime
from khenthuong.storage.models import EVENTS
from khenthuong.web.sessions import LANG_COOKIE
from tests.audit.test_verify import decided_nomination, event_id

VIETNAMESE = re.compile(r"[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]", re.I)


def test_broken_chain_named_in_one_language(
    web_rt: Runtime,
    browser: Callable[[str], tuple[TestClient, str]],
    token: Callable[[str], dict[str, str]],
    client: TestClient,
) -> None:
    """An edited event: the page's finding is Vietnamese with no English words, the English
    locale's is English with no Vietnamese letters; the API carries both fields."""
    nid = decided_nomination(web_rt)
    target = event_id(web_rt, nid, 3)
    with web_rt.engine.begin() as conn:
        conn.execute(update(EVENTS).where(EVENTS.c.id == target).values(comment="sửa lén"))
    c, _ = browser("kiemtra")
    vi = re.search(r'data-testid="verify">([^<]*)<', c.get("/audit?verify=1").text)
    assert vi is not None
    assert f"nomination:{nid}: sự kiện id {target} (seq 3): " in vi.group(1)
    assert "dòng đã bị sửa" in vi.group(1)
    assert not re.search(r"\b(event|content|edited|hash)\b", vi.group(1))
    c.cookies.set(LANG_COOKIE, "en")
    en = re.search(r'data-testid="verify">([^<]*)<', c.get("/audit?verify=1").text)
    assert en is not None
    assert f"nomination:{nid}: event id {target} (seq 3): " in en.group(1)
    assert "the row was edited" in en.group(1) and not VIETNAMESE.search(en.group(1))
    body = client.get("/api/audit/verify", headers=token("kiemtra")).json()
    assert body["ok"] is False
    assert "dòng đã bị sửa" in body["problem"] and "edited" not in body["problem"]
    assert "the row was edited" in body["problem_en"]
    assert not VIETNAMESE.search(body["problem_en"])
