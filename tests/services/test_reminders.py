"""Reminder scanning and claiming: the right people, the right kind, at most once."""

from __future__ import annotations

import email
import email.policy
import mailbox
import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from khenthuong.notify.mail_settings import get_mail_settings
from khenthuong.runtime import Runtime
from khenthuong.services import (
    digests,
    inspections,
    new_nominations,
    reminder_claims,
    reminders,
    stepping,
)
from khenthuong.services import nominations as svc
from khenthuong.services.actors import load_actor
from khenthuong.services.blocs import apply_blocs, load_blocs
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import NOMINATIONS, UNITS
from khenthuong.storage.outbox import REMINDER_LEDGER
from khenthuong.web.app import create_app
from tests.conftest import CONFIG
from tests.web.conftest import sign_in

SUBMITTED = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # Mon 02/11/2026, 09:00 in Hà Nội


def claimed_reminders(rt: Runtime, now: datetime) -> list[int]:
    """A submitted nomination's due reminders, scanned and claimed at `now`: the ledger ids."""
    submitted_nomination(rt)
    with rt.engine.connect() as conn:
        items = reminders.scan_due(conn, rt.registry, now=now)
    with write_tx(rt.engine) as conn:
        return reminders.claim(conn, items, now=now)


def submitted_nomination(rt: Runtime) -> int:
    with rt.engine.connect() as conn:
        officer = load_actor(conn, "cb.qd")
    nid = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="giay_khen",
        proposing_unit="CCYQD",
        actor=officer,
        nominee_name="Nguyễn Văn An",
        create_person=True,
        now=SUBMITTED,
    )
    result = stepping.advance(rt.engine, rt.registry, nid, "submit", officer, now=SUBMITTED)
    assert result.due_at is not None
    # 10 working days after Mon 02/11 is Mon 16/11/2026.
    assert result.due_at.astimezone(svc.LOCAL_TZ).date().isoformat() == "2026-11-16"
    return nid


def at(day: str) -> datetime:
    return datetime.fromisoformat(f"{day}T09:00:00+07:00")


def test_nothing_is_due_long_before_the_deadline(rt: Runtime) -> None:
    """A week before the window opens nothing is reported."""
    submitted_nomination(rt)
    with rt.engine.connect() as conn:
        assert reminders.scan_due(conn, rt.registry, now=at("2026-11-05"), before_days=3) == []


def test_before_due_and_overdue_kinds(rt: Runtime) -> None:
    """3 working days ahead: before; on the day: due; after: overdue with the leader added."""
    nid = submitted_nomination(rt)
    with rt.engine.connect() as conn:
        before = reminders.scan_due(conn, rt.registry, now=at("2026-11-11"), before_days=3)
        due = reminders.scan_due(conn, rt.registry, now=at("2026-11-16"), before_days=3)
        late = reminders.scan_due(conn, rt.registry, now=at("2026-11-18"), before_days=3)
    assert [(i.kind, i.recipient_email, i.working_days_left) for i in before] == [
        ("before", "tk.qd@bcy.example", 3)
    ]
    assert [i.kind for i in due] == ["due"]
    assert {(i.kind, i.recipient_email) for i in late} == {
        ("overdue", "tk.qd@bcy.example"),
        ("overdue", "cuctruong@ccyqd.example"),
    }
    assert all(i.nomination_id == nid and i.working_days_left == -2 for i in late)
    assert late[0].state_title == "Hội đồng TĐKT đơn vị xét"


def test_a_reminder_is_claimed_only_once(rt: Runtime) -> None:
    """Claiming the same due items twice creates ledger rows only the first time."""
    submitted_nomination(rt)
    with rt.engine.connect() as conn:
        items = reminders.scan_due(conn, rt.registry, now=at("2026-11-18"))
    with write_tx(rt.engine) as conn:
        first = reminders.claim(conn, items)
    with write_tx(rt.engine) as conn:
        second = reminders.claim(conn, items)
    assert len(first) == 2
    assert second == []
    with write_tx(rt.engine) as conn:
        groups = reminders.group_by_recipient(conn, first)
        reminders.mark(conn, groups["tk.qd@bcy.example"], "sent", message_id="<x@k>")
        assert reminders.status_counts(conn) == {"claimed": 1, "sent": 1}
        later = datetime.now(UTC) + timedelta(hours=1)
        stale = reminders.stale_claims(conn, older_than=timedelta(minutes=5), now=later)
        again = reminders.stale_claims(conn, older_than=timedelta(minutes=5), now=later)
    assert stale == groups["cuctruong@ccyqd.example"]
    assert again == []  # re-claiming moved claimed_at: the next scan does not queue it again


def test_rows_are_taken_for_sending_by_one_caller_only(rt: Runtime) -> None:
    """Two sends of the same rows: the first takes them, the second gets nothing; a row left
    `sending` by a dead worker is taken again only after the stale threshold."""
    stale = timedelta(minutes=10)
    t0 = at("2026-11-18")
    ids = claimed_reminders(rt, t0)
    with write_tx(rt.engine) as conn:
        won = reminders.take_for_sending(conn, ids, stale_after=stale, now=t0)
    with write_tx(rt.engine) as conn:
        lost = reminders.take_for_sending(conn, ids, stale_after=stale, now=t0)
        early = reminders.take_for_sending(conn, ids, stale_after=stale, now=t0 + stale / 2)
    assert (won, lost, early) == (sorted(ids), [], [])
    with rt.engine.connect() as conn:
        assert reminders.status_counts(conn) == {"sending": 2}
        assert reminders.pending_resends(conn, older_than=stale, now=t0 + stale / 2) == []
        resends = reminders.pending_resends(conn, older_than=stale, now=t0 + 2 * stale)
    assert [r["id"] for r in resends] == sorted(ids)
    # The worker died mid-send: after the threshold the scan takes the rows back, once.
    with write_tx(rt.engine) as conn:
        back = reminders.stale_claims(conn, older_than=stale, now=t0 + 2 * stale)
        assert reminders.stale_claims(conn, older_than=stale, now=t0 + 2 * stale) == []
        retaken = reminders.take_for_sending(conn, ids, stale_after=stale, now=t0 + 2 * stale)
        reminders.mark(conn, retaken, "sent", message_id="<y@k>")
        assert reminders.take_for_sending(conn, ids, stale_after=stale, now=t0 + 9 * stale) == []
    assert back == retaken == sorted(ids)
    with rt.engine.connect() as conn:
        rows = conn.execute(select(REMINDER_LEDGER.c.status, REMINDER_LEDGER.c.attempts)).all()
    assert sorted(rows) == [("sent", 2), ("sent", 2)]


def test_a_redelivered_send_of_a_dead_worker_retakes_stale_rows(rt: Runtime) -> None:
    """Without any scan, the same rows `sending` past the threshold go to the next taker."""
    stale = timedelta(minutes=10)
    t0 = at("2026-11-18")
    ids = claimed_reminders(rt, t0)
    with write_tx(rt.engine) as conn:
        assert reminders.take_for_sending(conn, ids, stale_after=stale, now=t0) == sorted(ids)
        later = t0 + 2 * stale
        assert reminders.take_for_sending(conn, ids, stale_after=stale, now=later) == sorted(ids)
        assert reminders.take_for_sending(conn, ids, stale_after=stale, now=later) == []


def test_a_failed_digest_waits_longer_after_each_attempt(rt: Runtime) -> None:
    """A failed send is taken back after the outbox's backoff (1, then 2, then 4 minutes
    with a base of 60 s), not at the lost-task threshold; the dry run agrees."""
    stale = timedelta(minutes=10)
    t = at("2026-11-18")
    ids = claimed_reminders(rt, t)
    for wait in (timedelta(minutes=1), timedelta(minutes=2), timedelta(minutes=4)):
        with write_tx(rt.engine) as conn:
            assert reminders.take_for_sending(conn, ids, stale_after=stale, now=t) == sorted(ids)
            reminders.record_failure(conn, ids, "451 try later", now=t)
            early = t + wait - timedelta(seconds=1)
            assert reminders.pending_resends(conn, older_than=stale, now=early) == []
            assert reminders.stale_claims(conn, older_than=stale, now=early) == []
            due = t + wait + timedelta(seconds=1)
            assert [r["id"] for r in reminders.pending_resends(conn, older_than=stale, now=due)]
            assert reminders.stale_claims(conn, older_than=stale, now=due) == sorted(ids)
        t = due
    with rt.engine.connect() as conn:
        attempts = conn.execute(select(REMINDER_LEDGER.c.attempts)).scalars().all()
    assert set(attempts) == {3}


def test_a_row_is_given_up_after_the_attempt_limit(rt: Runtime) -> None:
    """A reminder that failed `max_attempts` times is neither taken nor re-queued."""
    stale = timedelta(minutes=10)
    t = at("2026-11-18")
    ids = claimed_reminders(rt, t)
    with write_tx(rt.engine) as conn:
        for _ in range(3):
            assert reminders.take_for_sending(conn, ids, stale_after=stale, now=t, max_attempts=3)
            given_up = reminders.record_failure(conn, ids, "451 try later", now=t, max_attempts=3)
            # the scan claims the rows again once their backoff is over
            t += timedelta(hours=2)
            reminders.stale_claims(conn, older_than=stale, now=t, max_attempts=3)
        assert given_up == sorted(ids)
        assert reminders.take_for_sending(conn, ids, stale_after=stale, now=t, max_attempts=3) == []
        late = t + 5 * stale
        assert reminders.stale_claims(conn, older_than=stale, now=late, max_attempts=3) == []
        assert reminders.status_counts(conn) == {"failed": 2}


def test_a_failed_row_is_taken_by_no_send_before_its_backoff(rt: Runtime) -> None:
    """After a failed send the rows wait (status retry): a Celery retry, a redelivered message
    or another worker with the same ids takes nothing, however late, until a scan claims
    them again after the backoff; no attempt is counted meanwhile."""
    stale = timedelta(minutes=10)
    t = at("2026-11-18")
    ids = claimed_reminders(rt, t)
    with write_tx(rt.engine) as conn:
        assert reminders.take_for_sending(conn, ids, stale_after=stale, now=t) == sorted(ids)
        assert reminders.record_failure(conn, ids, "Connection refused", now=t) == []
        for later in (t, t + timedelta(seconds=59), t + 3 * stale):
            assert reminders.take_for_sending(conn, ids, stale_after=stale, now=later) == []
        assert reminders.status_counts(conn) == {"retry": 2}
        assert reminders.stale_claims(conn, older_than=stale, now=t + timedelta(seconds=59)) == []
        back = reminders.stale_claims(conn, older_than=stale, now=t + timedelta(seconds=61))
        assert back == sorted(ids)
        retaken = reminders.take_for_sending(conn, ids, stale_after=stale, now=t + stale)
        assert retaken == sorted(ids)
    with rt.engine.connect() as conn:
        attempts = conn.execute(select(REMINDER_LEDGER.c.attempts)).scalars().all()
    assert set(attempts) == {2}


def test_a_row_lost_during_its_last_attempt_is_given_up(rt: Runtime) -> None:
    """A worker killed during the last allowed send leaves the row `sending`: after the stale
    threshold the scan marks it failed with the reason instead of leaving it stuck."""
    stale = timedelta(minutes=10)
    t = at("2026-11-18")
    ids = claimed_reminders(rt, t)
    with write_tx(rt.engine) as conn:
        reminders.take_for_sending(conn, ids, stale_after=stale, now=t, max_attempts=1)
        assert (
            reminders.stale_claims(conn, older_than=stale, now=t + 2 * stale, max_attempts=1) == []
        )
        rows = conn.execute(select(REMINDER_LEDGER.c.status, REMINDER_LEDGER.c.last_error)).all()
    assert {r.status for r in rows} == {"failed"}
    assert all("lost during attempt 1" in str(r.last_error) for r in rows)


def test_already_claimed_items_are_not_due_again(rt: Runtime) -> None:
    """`unclaimed` drops the items whose reminder is in the ledger (sent or claimed)."""
    submitted_nomination(rt)
    with rt.engine.connect() as conn:
        items = reminders.scan_due(conn, rt.registry, now=at("2026-11-18"))
    with write_tx(rt.engine) as conn:
        reminders.claim(conn, items[:1])
    with rt.engine.connect() as conn:
        assert reminders.unclaimed(conn, items) == items[1:]


def test_closed_nominations_get_no_reminders(rt: Runtime) -> None:
    """Once withdrawn a nomination drops out of the scan."""
    nid = submitted_nomination(rt)
    with rt.engine.connect() as conn:
        officer = load_actor(conn, "cb.qd")
    stepping.advance(
        rt.engine, rt.registry, nid, "withdraw", officer, {"reason": "Rút"}, now=SUBMITTED
    )
    with rt.engine.connect() as conn:
        assert reminders.scan_due(conn, rt.registry, now=at("2026-11-18")) == []


def test_inspection_reminders_link_to_the_bloc_page_that_exists(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A visit reminder links to /blocs/{code}?year=Y, which a signed-in leader can open and
    which lists the visit (no /inspections/{id} page exists)."""
    monkeypatch.delenv("KHENTHUONG_SMTP_HOST", raising=False)
    monkeypatch.setenv("KHENTHUONG_MAILDIR", str(tmp_path / "mail"))
    monkeypatch.setenv("KHENTHUONG_BASE_URL", "https://kt.example.vn")
    get_mail_settings.cache_clear()
    with write_tx(rt.engine) as conn:
        known = set(conn.execute(select(UNITS.c.code)).scalars())
        apply_blocs(conn, load_blocs(CONFIG / "blocs.yaml", known))
        leader = load_actor(conn, "admin")  # no khối trưởng is recorded for 2026
        inspections.plan_inspections(
            conn,
            "KCY4",
            2026,
            actor=leader,
            period_start=date(2026, 11, 26),
            period_end=date(2026, 12, 31),
        )
        first = inspections.visits(conn, "KCY4", 2026)[0]
    try:
        groups = reminder_claims.claim_reminders(
            rt.engine, rt.registry, rt.settings, now=datetime(2026, 11, 23, 2, tzinfo=UTC)
        )
        for ledger_ids in groups:
            digests.send_digest(rt.engine, rt.registry, ledger_ids)
    finally:
        get_mail_settings.cache_clear()
    texts = []
    for message in mailbox.Maildir(str(tmp_path / "mail")):
        parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        body = parsed.get_body(("plain",))
        assert isinstance(body, EmailMessage)
        texts.append(body.get_content())
    links = set(re.findall(r"https://kt\.example\.vn(/\S+)", "\n".join(texts)))
    assert links == {"/blocs/KCY4?year=2026"}
    web = replace(
        rt,
        settings=rt.settings.model_copy(
            update={"secret_key": SecretStr("test-secret-key-" + "x" * 32)}
        ),
    )
    with TestClient(create_app(web)) as client:
        sign_in(client, "kt.cy")
        page = client.get("/blocs/KCY4?year=2026")
        assert page.status_code == 200
        assert first.inspector_name in page.text and first.inspected_name in page.text
        assert client.get(f"/inspections/{first.id}").status_code == 404


def test_a_scan_looks_only_at_what_changed_since_the_last_one(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing new: no scan at all. A step on one file: only that file is scanned. A new day
    or the safety-net period: everything again. Each due reminder is claimed once."""
    calls: list[object] = []
    real_check = reminders.any_unclaimed  # what a scan asks first: anything to claim?

    def counting(*args: object, **kwargs: object) -> bool:
        calls.append(kwargs.get("only_ids"))  # type: ignore[arg-type]
        return real_check(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(reminders, "any_unclaimed", counting)
    first_id = submitted_nomination(rt)
    second_id = submitted_nomination(rt)
    today = datetime(2026, 11, 16, 1, tzinfo=UTC)  # the due date of both
    first = reminder_claims.claim_reminders(rt.engine, rt.registry, rt.settings, now=today)
    claimed = sum(len(ids) for ids in first)
    assert calls == [None] and claimed == 2  # full scan: one reminder per file
    assert reminder_claims.claim_reminders(rt.engine, rt.registry, rt.settings, now=today) == []
    assert calls == [None]  # nothing new: not scanned
    with rt.engine.connect() as conn:
        officer = load_actor(conn, "cb.qd")
    stepping.advance(rt.engine, rt.registry, second_id, "withdraw", officer, {"reason": "Rút"})
    later = today + timedelta(minutes=5)
    assert reminder_claims.claim_reminders(rt.engine, rt.registry, rt.settings, now=later) == []
    assert calls[-1] == [second_id]  # incremental: the changed file only
    next_day = datetime(2026, 11, 17, 1, tzinfo=UTC)
    overdue = reminder_claims.claim_reminders(rt.engine, rt.registry, rt.settings, now=next_day)
    assert calls[-1] is None  # a new day: full scan, the first file is now overdue
    with rt.engine.connect() as conn:
        new = conn.execute(
            select(REMINDER_LEDGER.c.item_ref, REMINDER_LEDGER.c.kind).where(
                REMINDER_LEDGER.c.id.in_([i for ids in overdue for i in ids]),
                REMINDER_LEDGER.c.kind == "overdue",
            )
        ).all()
        total = len(conn.execute(select(REMINDER_LEDGER.c.id)).all())
    # the withdrawn file is not chased; the other one is overdue (to its officer and leader)
    assert {r.item_ref for r in new} == {f"nomination:{first_id}"}
    assert total == claimed + len(new)
    safety = next_day + timedelta(seconds=rt.settings.full_scan_seconds + 1)
    reminder_claims.claim_reminders(
        rt.engine, rt.registry, rt.settings, now=safety
    )  # (stale re-claims)
    assert calls[-1] is None  # the safety net: a full scan that finds nothing new
    with rt.engine.connect() as conn:
        assert len(conn.execute(select(REMINDER_LEDGER.c.id)).all()) == total


def test_a_scan_does_not_hold_the_write_lock_while_it_reads(
    rt: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the (possibly long) scan reads the due nominations, another process can still
    write: on SQLite a scan inside BEGIN IMMEDIATE made every step, sign-in and token
    refresh wait for it (bench/http.py saw 'database is locked'). Only the claim writes."""
    from khenthuong.storage.db import make_engine

    nid = submitted_nomination(rt)
    other = make_engine(rt.settings.database_url)
    written: list[int] = []
    real_check = reminders.any_unclaimed  # the scan's read: anything to claim?

    def scan_while_someone_writes(*args: object, **kwargs: object) -> bool:
        # Another connection takes the write lock in the middle of the scan; with a 1 s busy
        # timeout it fails at once if the scan holds the lock.
        with other.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("PRAGMA busy_timeout = 1000")
                conn.commit()
            conn.execute(
                UNITS.update().where(UNITS.c.code == "CCYQD").values(leader_email="x@y.vn")
            )
            conn.commit()
        written.append(1)
        return real_check(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(reminders, "any_unclaimed", scan_while_someone_writes)
    try:
        groups = reminder_claims.claim_reminders(
            rt.engine, rt.registry, rt.settings, now=at("2026-11-13")
        )
    finally:
        other.dispose()
    assert written == [1]
    assert groups and nid  # the scan still claimed the due reminder


def test_the_english_part_of_a_digest_names_the_path_and_state_in_english(
    rt: Runtime, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reminder's Vietnamese part names the award path and the state in Vietnamese, its
    English part (text and HTML) in English: no Vietnamese title in the English lines."""
    monkeypatch.delenv("KHENTHUONG_SMTP_HOST", raising=False)
    monkeypatch.setenv("KHENTHUONG_MAILDIR", str(tmp_path / "mail"))
    get_mail_settings.cache_clear()
    try:
        ids = claimed_reminders(rt, at("2026-11-16"))
        digests.send_digest(rt.engine, rt.registry, ids)
    finally:
        get_mail_settings.cache_clear()
    wf = rt.registry.get("giay_khen").definition
    with rt.engine.connect() as conn:
        state = wf.state(conn.execute(select(NOMINATIONS.c.state)).scalar_one())
    assert state.title.vi != state.title.en and wf.title.vi != wf.title.en
    (message,) = list(mailbox.Maildir(str(tmp_path / "mail")))
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    for kind in ("plain", "html"):
        part = parsed.get_body((kind,))
        assert isinstance(part, EmailMessage)
        body = part.get_content()
        vi, en = body.split("English", 1) if kind == "plain" else body.split('lang="en"', 1)
        assert wf.title.vi in vi and wf.title.en in en and wf.title.vi not in en
        assert state.title.vi in vi and state.title.en in en and state.title.vi not in en
