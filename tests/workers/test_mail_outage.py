"""An SMTP outage through real Celery worker and beat processes: the ledger's one retry policy.

Production waits 60 s × 2^(attempt−1), at most an hour, over eight attempts (about two hours).
These tests shrink the schedule (1 s, at most 2 s, four or three attempts) so that an outage
of a few seconds spans the same number of retry steps.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.runtime import Runtime
from khenthuong.services import stepping
from khenthuong.services.actors import load_actor
from khenthuong.settings import Settings
from khenthuong.storage.outbox import OUTBOX, REMINDER_LEDGER
from tests.workers.conftest import BeatProcess, RedisServer, WorkerProcess
from tests.workers.test_worker_delivery import (  # noqa: F401 - real_relay is a fixture
    Mailbox,
    overdue_nominations,
    real_relay,
    worker_env,
)

RETURNED = {0: "tk.qd", 1: "tk.qd", 2: "tk.dcq"}
"""Nominations (by index among the six overdue ones) returned for supplementation, and by
whom: one notice each to the proposing officer."""


class RestartableMailbox(Mailbox):
    """The test's SMTP server, which it stops and starts again on the same port."""

    running = False

    def down(self) -> None:
        if self.running:
            self.controller.stop()
            self.running = False

    def up(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.running = True


@pytest.fixture
def smtp_down() -> Iterator[RestartableMailbox]:
    """An SMTP server that is not running yet (the test calls `up()`)."""
    box = RestartableMailbox()
    yield box
    box.release.set()
    box.down()


def due_mail(rt: Runtime) -> None:
    """Digests to the officers and leaders of overdue files, and three notices, due."""
    ids = overdue_nominations(rt)
    with rt.engine.connect() as conn:
        secretaries = {u: load_actor(conn, u) for u in set(RETURNED.values())}
    for index, who in RETURNED.items():
        stepping.advance(
            rt.engine,
            rt.registry,
            ids[index],
            "return_for_supplement",
            secretaries[who],
            {"reason": "Thiếu biên bản họp"},
        )


def rows(rt: Runtime) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """Ledger rows and outbox rows, as dicts."""
    with rt.engine.connect() as conn:
        ledger = [dict(r) for r in conn.execute(select(REMINDER_LEDGER)).mappings()]
        notices = [dict(r) for r in conn.execute(select(OUTBOX)).mappings()]
    return ledger, notices


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def start_jobs(settings: Settings, broker: str, box: Mailbox, tmp: Path, **env: str) -> None:
    """A worker and beat (scan and relay every second) with a short retry schedule."""
    environment = worker_env(
        settings,
        broker,
        box,
        KHENTHUONG_SCAN_INTERVAL_SECONDS="1",
        KHENTHUONG_RELAY_INTERVAL_SECONDS="1",
        KHENTHUONG_SEND_RETRY_SECONDS="1",
        KHENTHUONG_SEND_RETRY_MAX_SECONDS="2",
        **env,
    )
    WorkerProcess(environment, tmp / "worker.log").start()
    BeatProcess(environment, tmp / "beat.log").start()


def by_recipient(messages: list[EmailMessage], kind: str) -> list[str]:
    return sorted(
        str(m["To"]).split("<")[-1].rstrip(">")
        for m in messages
        if str(m["X-Khenthuong-Key"]).strip().startswith(kind)
    )


@pytest.mark.slow
def test_mail_held_across_retry_steps_goes_out_once_when_smtp_returns(
    rt: Runtime,
    settings: Settings,
    broker_url: str,
    smtp_down: RestartableMailbox,
    tmp_path: Path,
) -> None:
    """SMTP is down while several retries fail (waits of 1 s then 2 s, four attempts):
    when it returns every recipient gets exactly one digest, every notice goes once, and no
    row is failed; no row was sent again before its backoff."""
    due_mail(rt)
    start_jobs(settings, broker_url, smtp_down, tmp_path, KHENTHUONG_SEND_MAX_ATTEMPTS="4")

    def retried_twice() -> bool:
        ledger, notices = rows(rt)
        return bool(ledger) and all(int(str(r["attempts"])) >= 2 for r in ledger + notices)

    # Two failed attempts each (1 s apart at least); the third cannot come before 2 s more.
    wait_until(retried_twice, 30, "two failed attempts of every digest and notice")
    ledger, notices = rows(rt)
    assert {r["status"] for r in ledger} <= {"retry", "claimed", "sending"}
    assert "failed" not in {r["status"] for r in notices}
    assert all("Connection refused" in str(r["last_error"]) for r in ledger + notices)
    smtp_down.up()

    def all_sent() -> bool:
        ledger, notices = rows(rt)
        return {r["status"] for r in ledger + notices} == {"sent"}

    wait_until(all_sent, 30, "every digest and notice sent")
    time.sleep(2)  # two more scans and relays: nothing is sent again
    ledger, notices = rows(rt)
    recipients = sorted({str(r["recipient"]) for r in ledger})
    assert len(recipients) >= 4  # officers and leaders of the units with overdue files
    assert by_recipient(smtp_down.received, "digest:") == recipients
    assert len(by_recipient(smtp_down.received, "step:")) == len(notices) == len(RETURNED)
    assert len(smtp_down.received) == len(recipients) + len(RETURNED)
    assert max(int(str(r["attempts"])) for r in ledger + notices) <= 4


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_mail_down_past_the_whole_schedule_is_given_up_then_retried(
    rt: Runtime,
    settings: Settings,
    broker_url: str,
    smtp_down: RestartableMailbox,
    tmp_path: Path,
) -> None:
    """Three attempts (waits of 1 s and 2 s) all fail: the digests and notices are failed
    with their last error after three attempts each, `reminders status` lists them, nothing
    is sent when SMTP returns; `reminders retry --all` sends each of them once."""
    due_mail(rt)
    start_jobs(settings, broker_url, smtp_down, tmp_path, KHENTHUONG_SEND_MAX_ATTEMPTS="3")

    def all_failed() -> bool:
        ledger, notices = rows(rt)
        return bool(ledger) and {r["status"] for r in ledger + notices} == {"failed"}

    wait_until(all_failed, 40, "every digest and notice given up")
    ledger, notices = rows(rt)
    assert {int(str(r["attempts"])) for r in ledger + notices} == {3}
    assert all("Connection refused" in str(r["last_error"]) for r in ledger + notices)
    runner = CliRunner()
    shown = runner.invoke(app, ["reminders", "status"], terminal_width=250)
    assert shown.exit_code == 0, shown.output
    for r in ledger:
        assert f"r{r['id']} " in shown.output
    for r in notices:
        assert f"n{r['id']} " in shown.output
    assert str(ledger[0]["last_error"])[:14] in shown.output
    smtp_down.up()
    time.sleep(2)
    assert smtp_down.received == []
    again = runner.invoke(app, ["reminders", "retry", "--all"])
    assert again.exit_code == 0, again.output
    assert f"{len(ledger)} nhắc hạn và {len(notices)} thông báo" in again.output

    def all_sent() -> bool:
        ledger, notices = rows(rt)
        return {r["status"] for r in ledger + notices} == {"sent"}

    wait_until(all_sent, 30, "every digest and notice sent after the retry")
    time.sleep(2)
    recipients = sorted({str(r["recipient"]) for r in ledger})
    assert by_recipient(smtp_down.received, "digest:") == recipients
    assert len(smtp_down.received) == len(recipients) + len(RETURNED)


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_notices_queued_in_a_redis_that_dies_go_once_after_the_stale_threshold(
    rt: Runtime,
    settings: Settings,
    own_redis: RedisServer,
    smtp_down: RestartableMailbox,
    tmp_path: Path,
    real_relay: Callable[[str], Callable[[], int]],  # noqa: F811 - the fixture
) -> None:
    """The relay hands the notices to Redis while no worker runs; Redis dies with them (no
    persistence). After it is back, the rows left `queued` are relayed again once they are
    older than KHENTHUONG_STALE_CLAIM_SECONDS (3 s here), and each notice arrives once."""
    due_mail(rt)
    smtp_down.up()
    env = worker_env(
        settings,
        own_redis.url,
        smtp_down,
        KHENTHUONG_SCAN_INTERVAL_SECONDS="3600",  # digests are not the point here
        KHENTHUONG_RELAY_INTERVAL_SECONDS="1",
        KHENTHUONG_STALE_CLAIM_SECONDS="3",
    )
    relay = real_relay(own_redis.url)  # workers.tasks.relay_outbox, no worker running
    assert relay() == len(RETURNED)
    assert {r["status"] for r in rows(rt)[1]} == {"queued"}
    own_redis.stop()  # the queued messages are lost with it
    own_redis.start()
    WorkerProcess(env, tmp_path / "worker.log").start()
    BeatProcess(env, tmp_path / "beat.log").start()

    def notices_sent() -> bool:
        return {r["status"] for r in rows(rt)[1]} == {"sent"}

    started = time.monotonic()
    wait_until(notices_sent, 30, "every notice sent after Redis came back")
    assert time.monotonic() - started < 20
    time.sleep(2)
    notices = rows(rt)[1]
    assert len(by_recipient(smtp_down.received, "step:")) == len(notices) == len(RETURNED)
    assert {int(str(r["attempts"])) for r in notices} == {1}
