"""The Thư và nhắc hạn page in real headless Chromium: the administrator follows the menu,
reads a given-up reminder and notice with their last error, ticks one and resends it after
the confirmation; the page then says so."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.test_browser import DIALOGS, _shot, _sign_in
from tests.live_server import LiveServer, live_server

SEED = """
import json
from datetime import UTC, datetime
from sqlalchemy import insert
from khenthuong.runtime import open_runtime
from khenthuong.services import new_nominations
from khenthuong.services.actors import load_actor
from khenthuong.storage.db import write_tx
from khenthuong.storage.outbox import OUTBOX, REMINDER_LEDGER
rt = open_runtime()
with rt.engine.connect() as conn:
    officer = load_actor(conn, "cb.qd")
nid = new_nominations.create_nomination(
    rt.engine, rt.registry, workflow="giay_khen", proposing_unit="CCYQD", actor=officer,
    nominee_name="Phạm Thị Thư", create_person=True)
now = datetime.now(UTC)
with write_tx(rt.engine) as conn:
    conn.execute(insert(REMINDER_LEDGER).values(
        key=f"nomination:{nid}:2026-12-08:overdue:cb.qd@bcy.example",
        recipient="cb.qd@bcy.example", kind="overdue", item_ref=f"nomination:{nid}",
        due_on="2026-12-08", status="failed", attempts=8, claimed_at=now,
        last_error="SMTPRecipientsRefused: 550 5.2.2 mailbox full"))
    conn.execute(insert(OUTBOX).values(
        dedup_key=f"step:{nid}:99", kind="step_notice", created_at=now, available_at=now,
        status="failed", attempts=8,
        last_error="ConnectionRefusedError: [Errno 111] Connection refused",
        payload=json.dumps({"nomination_id": nid, "seq": 99, "trigger": "reject",
                             "to_state": "rejected", "actor": "tt.qd", "comment": None,
                             "payload": {}, "recipient_user": "cb.qd",
                             "at": now.isoformat()})))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`khenthuong serve` with one given-up reminder and one given-up notice."""
    with live_server(tmp_path_factory.mktemp("serve-mail"), SEED) as running:
        running_server: LiveServer = running
        yield running_server.base


def test_the_administrator_resends_a_given_up_reminder_in_chromium(
    server: str, chromium: object
) -> None:
    page = _sign_in(chromium, server, "admin")
    page.click("nav >> text=Thư và nhắc hạn")  # type: ignore[attr-defined]
    page.wait_for_selector("[data-testid=mail-given-up-rows]")  # type: ignore[attr-defined]
    rows = page.inner_text("[data-testid=mail-given-up-rows]")  # type: ignore[attr-defined]
    assert "Nhắc quá hạn" in rows and "Nguyễn Thị Hoa" in rows and "mailbox full" in rows
    assert "Phạm Thị Thư" in rows and "Giấy khen" in rows
    assert "bước: Không đề nghị khen thưởng" in rows and "Connection refused" in rows
    runs = page.inner_text("[data-testid=mail-runs]")  # type: ignore[attr-defined]
    assert "Quét nhắc hạn" in runs and "Chuyển thông báo" in runs
    _shot(page, "30-mail-given-up")
    page.check("[data-testid=mail-given-up-rows] tr[data-ref^=r] input")  # type: ignore[attr-defined]
    page.click("text=Gửi lại các thư đã chọn")  # type: ignore[attr-defined]
    page.wait_for_selector("[data-testid=flash]")  # type: ignore[attr-defined]
    assert DIALOGS[-1].startswith("Gửi lại các thư đã chọn: mỗi thư được thử lại từ đầu")
    flash = page.inner_text("[data-testid=flash]")  # type: ignore[attr-defined]
    assert flash.startswith("Đã đưa lại 1 nhắc hạn và 0 thông báo vào hàng gửi")
    rows = page.inner_text("[data-testid=mail-given-up-rows]")  # type: ignore[attr-defined]
    assert "mailbox full" not in rows and "Connection refused" in rows
    _shot(page, "31-mail-resent")
    page.context.close()  # type: ignore[attr-defined]
