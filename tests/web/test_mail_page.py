"""The administrators' Thư và nhắc hạn page: counts, the last runs of the reminder scan and
the outbox relay, the given-up reminders and notices named (recipient, nomination, award, step)
with their last error; "Gửi lại" puts them back (CSRF-checked), others get the 403 page."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert, select

from khenthuong.runtime import Runtime
from khenthuong.services import job_runs, mail_status, new_nominations
from khenthuong.services.actors import load_actor
from khenthuong.storage.db import write_tx
from khenthuong.storage.outbox import OUTBOX, REMINDER_LEDGER
from khenthuong.web.sessions import LANG_COOKIE

Browser = Callable[[str], tuple[TestClient, str]]
ERROR_R = "SMTPRecipientsRefused: 550 mailbox full"
ERROR_N = "ConnectionRefusedError: [Errno 111] Connection refused"


def _given_up(rt: Runtime) -> tuple[int, int, int]:
    """A nomination with one given-up reminder (to cb.qd) and one given-up step notice (to
    its proposer), plus a sent reminder and a notice waiting for a retry; the runs recorded."""
    now = datetime.now(UTC)
    with rt.engine.connect() as conn:
        officer = load_actor(conn, "cb.qd")
    nid = new_nominations.create_nomination(
        rt.engine, rt.registry, workflow="giay_khen", proposing_unit="CCYQD", actor=officer,
        nominee_name="Phạm Thị Thư", create_person=True,
    )  # fmt: skip
    with write_tx(rt.engine) as conn:
        rid = conn.execute(
            insert(REMINDER_LEDGER).values(
                key=f"nomination:{nid}:2026-12-08:overdue:cb.qd@bcy.example",
                recipient="cb.qd@bcy.example", kind="overdue", item_ref=f"nomination:{nid}",
                due_on="2026-12-08", status="failed", attempts=8, claimed_at=now,
                last_error=ERROR_R,
            ).returning(REMINDER_LEDGER.c.id)
        ).scalar_one()  # fmt: skip
        conn.execute(
            insert(REMINDER_LEDGER).values(
                key=f"nomination:{nid}:2026-12-08:due:x", recipient="tt.qd@bcy.example",
                kind="due", item_ref=f"nomination:{nid}", due_on="2026-12-08", status="sent",
                attempts=1, claimed_at=now,
            )
        )  # fmt: skip
        payload = {
            "nomination_id": nid, "seq": 2, "trigger": "return_for_supplement",
            "from_state": "unit_council", "to_state": "returned", "actor": "tt.qd",
            "comment": None, "payload": {}, "recipient_user": "cb.qd", "at": now.isoformat(),
        }  # fmt: skip
        notice = conn.execute(
            insert(OUTBOX).values(
                dedup_key=f"step:{nid}:2", kind="step_notice", payload=json.dumps(payload),
                created_at=now, available_at=now, status="failed", attempts=8,
                last_error=ERROR_N,
            ).returning(OUTBOX.c.id)
        ).scalar_one()  # fmt: skip
        conn.execute(
            insert(OUTBOX).values(
                dedup_key=f"step:{nid}:3", kind="step_notice", payload=json.dumps(payload),
                created_at=now, available_at=now + timedelta(minutes=4), status="pending",
                attempts=2, last_error=ERROR_N,
            )
        )  # fmt: skip
    job_runs.record_run(rt.engine, job_runs.SCAN_JOB, "embedded", {"sent": 6, "failed": 1}, now=now)
    job_runs.record_run(rt.engine, job_runs.RELAY_JOB, "celery", {"queued": 3}, now=now)
    return nid, int(rid), int(notice)


def _cells(html: str, ref: str) -> str:
    """The text of the given-up row `ref` (r12, n5), tags dropped."""
    found = re.search(rf'<tr data-ref="{ref}">(.*?)</tr>', html, re.S)
    assert found, ref
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1)))


def test_the_page_lists_given_up_mail_by_name_with_its_last_error(
    web_rt: Runtime, browser: Browser
) -> None:
    nid, rid, notice = _given_up(web_rt)
    c, _ = browser("admin")
    page = c.get("/admin/mail")
    assert page.status_code == 200, page.text
    assert '<a href="/admin/mail" aria-current="page">Thư và nhắc hạn</a>' in page.text
    reminder = _cells(page.text, f"r{rid}")
    assert "Nhắc quá hạn" in reminder and "Nguyễn Thị Hoa" in reminder
    assert "cb.qd@bcy.example" in reminder and f"Hồ sơ #{nid} Phạm Thị Thư" in reminder
    assert "Giấy khen" in reminder and "hạn 08/12/2026" in reminder
    assert ERROR_R in reminder and " 8 " in reminder
    step = _cells(page.text, f"n{notice}")
    assert "Thông báo bước xử lý hồ sơ" in step and "Nguyễn Thị Hoa" in step
    assert "bước: Trả lại để bổ sung" in step and ERROR_N in step
    assert "return_for_supplement" not in step and "giay_khen" not in step
    counts = page.text[page.text.index('data-testid="mail-counts"') :]
    waiting = re.search(r'<tr data-status="waiting">(.*?)</tr>', counts, re.S)
    assert waiting and "lần thử tới" in waiting.group(1)
    runs = re.sub(r"<[^>]+>", " ", page.text[page.text.index('data-testid="mail-runs"') :])
    assert "Quét nhắc hạn" in runs and "đã gửi 6 bản tổng hợp, 1 lỗi" in runs
    assert "Chuyển thông báo" in runs and "đã đưa 3 thông báo vào hàng đợi" in runs
    assert "tiến trình serve" in runs and "Celery" in runs
    assert "Chạy trong tiến trình serve" in page.text
    assert "Gửi lại tất cả (2)" in page.text and 'data-confirm="Gửi lại tất cả 2 thư' in page.text


def test_the_page_and_the_retry_are_for_administrators_only(
    web_rt: Runtime, browser: Browser
) -> None:
    _, rid, _ = _given_up(web_rt)
    c, csrf = browser("cb.qd")
    page = c.get("/admin/mail")
    assert page.status_code == 403 and "text/html" in page.headers["content-type"]
    assert "Chỉ quản trị hệ thống" in page.text and ERROR_R not in page.text
    assert 'href="/admin/mail"' not in c.get("/queue").text
    denied = c.post("/admin/mail/retry", data={"csrf_token": csrf, "all": "1"})
    assert denied.status_code == 403 and "text/html" in denied.headers["content-type"]
    with web_rt.engine.connect() as conn:
        assert conn.execute(
            select(REMINDER_LEDGER.c.status).where(REMINDER_LEDGER.c.id == rid)
        ).scalar_one() == "failed"  # fmt: skip


def test_resend_puts_the_chosen_ones_back_and_needs_the_csrf_token(
    web_rt: Runtime, browser: Browser
) -> None:
    _, rid, notice = _given_up(web_rt)
    c, csrf = browser("admin")

    def status() -> tuple[tuple[str, int], tuple[str, int]]:
        with web_rt.engine.connect() as conn:
            r = conn.execute(
                select(REMINDER_LEDGER.c.status, REMINDER_LEDGER.c.attempts).where(
                    REMINDER_LEDGER.c.id == rid
                )
            ).one()
            n = conn.execute(
                select(OUTBOX.c.status, OUTBOX.c.attempts).where(OUTBOX.c.id == notice)
            ).one()
        return (r[0], r[1]), (n[0], n[1])

    forged = c.post("/admin/mail/retry", data={"csrf_token": "x" * 20, "all": "1"})
    assert forged.status_code == 422 and status() == (("failed", 8), ("failed", 8))
    assert "Phiên làm việc hết hạn" in forged.text

    none = c.post("/admin/mail/retry", data={"csrf_token": csrf, "chosen": "1"})
    assert none.status_code >= 400 and "Chưa chọn thư nào" in none.text

    done = c.post("/admin/mail/retry", data={"csrf_token": csrf, "notice": str(notice)})
    assert done.status_code == 200 and "Đã đưa lại 0 nhắc hạn và 1 thông báo" in done.text
    assert status() == (("failed", 8), ("pending", 0))

    again = c.post("/admin/mail/retry", data={"csrf_token": csrf, "all": "1"})
    assert "Đã đưa lại 1 nhắc hạn và 0 thông báo" in again.text
    assert status() == (("retry", 0), ("pending", 0))
    assert 'data-testid="mail-none-given-up"' in again.text
    nothing = c.post("/admin/mail/retry", data={"csrf_token": csrf, "all": "1"})
    assert "Không còn thư nào đã dừng gửi" in nothing.text


def test_many_given_up_are_capped_with_their_count_and_a_resend_is_logged(
    web_rt: Runtime, browser: Browser, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    nid, _, _ = _given_up(web_rt)
    with write_tx(web_rt.engine) as conn:
        for seq in (7, 8):
            conn.execute(
                insert(OUTBOX).values(
                    dedup_key=f"step:{nid}:{seq}", kind="step_notice", payload="{}",
                    created_at=datetime.now(UTC), available_at=datetime.now(UTC),
                    status="failed", attempts=8, last_error=ERROR_N,
                )
            )  # fmt: skip
    monkeypatch.setattr(mail_status, "SHOWN", 1)
    c, csrf = browser("admin")
    page = c.get("/admin/mail")
    assert page.text.count("<tr data-ref=") == 2
    assert "Hiện 2 thư mới nhất trong số 4" in page.text
    assert "Gửi lại tất cả (4)" in page.text
    with caplog.at_level(logging.INFO, logger="khenthuong.jobs"):
        done = c.post("/admin/mail/retry", data={"csrf_token": csrf, "all": "1"})
    assert "Đã đưa lại 1 nhắc hạn và 3 thông báo" in done.text
    assert any(
        r.getMessage().startswith("admin (web) put back 1 given-up reminder(s)")
        for r in caplog.records
    )


def test_the_page_in_english(web_rt: Runtime, browser: Browser) -> None:
    nid, rid, notice = _given_up(web_rt)
    c, _ = browser("admin")
    c.cookies.set(LANG_COOKIE, "en")
    page = c.get("/admin/mail")
    assert page.status_code == 200
    assert "<h1>Mail and reminders</h1>" in page.text
    reminder = _cells(page.text, f"r{rid}")
    assert "Overdue reminder" in reminder and f"Nomination #{nid}" in reminder
    assert "Certificate of Commendation" in reminder and "due 08/12/2026" in reminder
    step = _cells(page.text, f"n{notice}")
    assert "step: Return for supplementation" in step
    runs = re.sub(r"<[^>]+>", " ", page.text[page.text.index('data-testid="mail-runs"') :])
    assert "sent 6 digest(s), 1 failed" in runs and "Reminder scan" in runs
    assert "Resend all (2)" in page.text
    for word in ("Nhắc", "Thông báo", "Gửi lại", "Chờ gửi", "Lần cuối"):
        assert word not in page.text, word
