"""Reminder digests and outbox notices through a real Celery worker, Redis and SMTP server."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from khenthuong.runtime import Runtime
from khenthuong.services import digests, new_nominations, reminder_claims, reminders, stepping
from khenthuong.services.actors import load_actor
from khenthuong.settings import Settings, get_settings
from khenthuong.storage.outbox import OUTBOX, REMINDER_LEDGER
from tests.workers.conftest import RedisServer, WorkerProcess, free_port

LONG_AGO = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)  # far enough back to be overdue today
UNITS = {"CCYQD": "cb.qd", "CCYDCQ": "cb.dcq", "C07": "cb.pccc"}


class Mailbox:
    """aiosmtpd on a free port; can hold the n-th message until released, then refuse it."""

    def __init__(self) -> None:
        self.port = free_port()
        self.received: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.hold_at: int | None = None
        self.holding = threading.Event()
        self.release = threading.Event()
        self.count = 0
        self.refuse: set[int] = set()
        """Numbers of the DATA commands answered 451 at once (1 is the first)."""
        self.delay = 0.0
        """Seconds each accepted DATA takes (other sessions go on meanwhile)."""
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.count += 1
            number = self.count
        if number == self.hold_at:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
            return "451 4.3.0 Try again later"
        if number in self.refuse:
            return "451 4.7.1 Greylisted, try again later"
        if self.delay:
            await asyncio.sleep(self.delay)
        message = cast(
            EmailMessage, email.message_from_bytes(envelope.content, policy=email.policy.default)
        )
        with self.lock:
            self.received.append(message)
        return "250 OK"

    def wait_for(self, n: int, timeout: float = 60) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.received) >= n:
                    return list(self.received)
            time.sleep(0.1)
        with self.lock:
            raise AssertionError(f"expected {n} messages, got {len(self.received)}")


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    box.controller.start()
    yield box
    box.release.set()
    box.controller.stop()


def worker_env(settings: Settings, broker: str, mailbox: Mailbox, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        KHENTHUONG_DATABASE_URL=settings.database_url,
        KHENTHUONG_BROKER_URL=broker,
        KHENTHUONG_SMTP_HOST="127.0.0.1",
        KHENTHUONG_SMTP_PORT=str(mailbox.port),
        **extra,
    )
    return env


def overdue_nominations(rt: Runtime) -> list[int]:
    """Two overdue nominations in each of three units (six digests: officers and leaders)."""
    ids = []
    for unit, officer_name in UNITS.items():
        with rt.engine.connect() as conn:
            officer = load_actor(conn, officer_name)
        for name in ("Nguyễn Văn Ánh", "Trần Thị Đào"):
            nid = new_nominations.create_nomination(
                rt.engine,
                rt.registry,
                workflow="giay_khen",
                proposing_unit=unit,
                actor=officer,
                nominee_name=f"{name} ({unit})",
                create_person=True,
                now=LONG_AGO,
            )
            stepping.advance(rt.engine, rt.registry, nid, "submit", officer, now=LONG_AGO)
            ids.append(nid)
    return ids


@pytest.fixture
def real_relay(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Callable[[], int]]]:
    """The beat task workers.tasks.relay_outbox, run in this process against a given broker
    (its deliver_notice.apply_async with the production retry policy)."""
    from workers import tasks

    def forget_connections() -> None:
        # Celery keeps a connection pool and a producer pool per app (as after a fork).
        if tasks.app._pool is not None:
            tasks.app._pool.force_close_all()
        tasks.app._pool = None
        tasks.app.amqp._producer_pool = None

    def bind(broker: str) -> Callable[[], int]:
        monkeypatch.setattr(tasks.app.conf, "broker_url", broker)
        tasks.runtime.cache_clear()  # the test's database
        forget_connections()  # none to another broker
        return lambda: int(tasks.relay_outbox())

    yield bind
    forget_connections()
    tasks.runtime.cache_clear()


def celery_client(broker: str) -> Any:
    """A Celery client app on `broker`; the environment is left as it was (a broker URL left
    behind would put every later test of this process in Celery mode)."""
    from workers.celery_app import make_app

    before = os.environ.get("KHENTHUONG_BROKER_URL")
    os.environ["KHENTHUONG_BROKER_URL"] = broker
    get_settings.cache_clear()
    try:
        return make_app()
    finally:
        if before is None:
            os.environ.pop("KHENTHUONG_BROKER_URL", None)
        else:
            os.environ["KHENTHUONG_BROKER_URL"] = before
        get_settings.cache_clear()


@pytest.mark.slow
def test_worker_sends_one_digest_per_officer(
    rt: Runtime, settings: Settings, broker_url: str, mailbox: Mailbox, tmp_path: Path
) -> None:
    """A scan through a real worker mails each officer and leader one Vietnamese digest."""
    overdue_nominations(rt)
    worker = WorkerProcess(worker_env(settings, broker_url, mailbox), tmp_path / "worker.log")
    worker.start()
    try:
        app = celery_client(broker_url)
        app.send_task("khenthuong.scan_reminders")
        messages = mailbox.wait_for(6)
        time.sleep(1.5)
        app.send_task("khenthuong.scan_reminders")  # a second scan sends nothing new
        time.sleep(3)
    finally:
        worker.stop()
    assert len(mailbox.received) == 6
    recipients = sorted(str(m["To"]).split("<")[-1].rstrip(">") for m in messages)
    assert recipients == sorted(
        [
            "tk.qd@bcy.example",
            "tk.dcq@bcy.example",
            "tk.pccc@bca.example",
            "cuctruong@ccyqd.example",
            "cuctruong@ccydcq.example",
            "cuctruong@c07.example",
        ]
    )
    for message in messages:
        assert "quá hạn" in str(message["Subject"])
        body = message.get_body(("plain",))
        assert body is not None
        text = body.get_content()
        assert "Nguyễn Văn Ánh" in text and "Trần Thị Đào" in text
        assert str(message["Message-ID"]).endswith("@khenthuong>")


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_killed_worker_still_delivers_every_digest_exactly_once(
    rt: Runtime, settings: Settings, broker_url: str, mailbox: Mailbox, tmp_path: Path
) -> None:
    """SIGKILL while the third digest is in the SMTP conversation; after restart all six arrive once."""
    overdue_nominations(rt)
    mailbox.hold_at = 3
    env = worker_env(
        settings,
        broker_url,
        mailbox,
        KHENTHUONG_STALE_CLAIM_SECONDS="2",
        KHENTHUONG_BROKER_VISIBILITY_TIMEOUT="20",
    )
    worker = WorkerProcess(env, tmp_path / "worker.log")
    worker.start()
    app = celery_client(broker_url)
    app.send_task("khenthuong.scan_reminders")
    assert mailbox.holding.wait(60), "the third digest never reached the server"
    worker.kill()
    mailbox.release.set()
    assert len(mailbox.received) == 2
    # The digest held at the kill was taken (sending) and its task message is unacknowledged.
    killed = in_flight(tmp_path / "worker.log")
    assert len(killed) == 1, killed
    worker = WorkerProcess(env, tmp_path / "worker2.log")
    worker.start()
    try:
        mailbox.wait_for(5)
        time.sleep(2.5)  # the in-flight digest's claim is now stale
        app.send_task("khenthuong.scan_reminders")  # takes it back and sends it
        mailbox.wait_for(6)
        # The killed task's message comes back after the visibility timeout (20 s) and finds
        # its rows sent: it is skipped.
        outcome = wait_for_outcome(tmp_path / "worker2.log", killed[0], timeout=90)
    finally:
        worker.stop()
    assert digests.NOTHING_TO_SEND in outcome, outcome
    keys = [str(m["X-Khenthuong-Key"]) for m in mailbox.received]
    recipients = [str(m["To"]) for m in mailbox.received]
    assert len(recipients) == 6
    assert len(set(recipients)) == 6
    assert len(set(keys)) == 6
    with rt.engine.connect() as conn:
        assert reminders.status_counts(conn) == {"sent": 12}


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_processes_and_duplicate_tasks_send_each_digest_once(
    rt: Runtime, settings: Settings, broker_url: str, mailbox: Mailbox, tmp_path: Path
) -> None:
    """`-c 2` (as in docker-compose) and every send_digest queued twice, back to back, so the
    two copies run at the same time in two processes: each digest still arrives once."""
    overdue_nominations(rt)
    groups = reminder_claims.claim_reminders(rt.engine, rt.registry, rt.settings)
    assert len(groups) == 6
    mailbox.delay = 0.5  # the first copy is still in DATA when the second one starts
    log = tmp_path / "worker.log"
    worker = WorkerProcess(worker_env(settings, broker_url, mailbox), log)
    worker.start(concurrency=2)
    try:
        app = celery_client(broker_url)
        for ledger_ids in groups:
            app.send_task("khenthuong.send_digest", (ledger_ids,))
            app.send_task("khenthuong.send_digest", (ledger_ids,))
        mailbox.wait_for(6)
        outcomes = wait_for_outcomes(log, "khenthuong.send_digest", 12, timeout=60)
        time.sleep(1)
    finally:
        worker.stop()
    assert len(mailbox.received) == 6
    assert len({str(m["X-Khenthuong-Key"]) for m in mailbox.received}) == 6
    assert sum(digests.NOTHING_TO_SEND in o for o in outcomes) == 6
    with rt.engine.connect() as conn:
        attempts = list(conn.execute(select(REMINDER_LEDGER.c.attempts)).scalars())
    assert attempts == [1] * 12


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_refused_send_is_retried_and_recorded(
    rt: Runtime, settings: Settings, broker_url: str, mailbox: Mailbox, tmp_path: Path
) -> None:
    """The server answers 451 to the first digest: its rows wait for the ledger's backoff
    (no Celery retry: a scan at once sends nothing), the next scan after it sends the digest
    once, and its ledger rows show two attempts and the 451 reply."""
    overdue_nominations(rt)
    mailbox.refuse = {1}
    env = worker_env(settings, broker_url, mailbox, KHENTHUONG_SEND_RETRY_SECONDS="2")
    worker = WorkerProcess(env, tmp_path / "worker.log")
    worker.start()
    try:
        app = celery_client(broker_url)
        app.send_task("khenthuong.scan_reminders")
        mailbox.wait_for(5, timeout=60)
        app.send_task("khenthuong.scan_reminders")  # within the backoff: nothing
        time.sleep(1)
        assert mailbox.count == 6
        time.sleep(1.5)
        app.send_task("khenthuong.scan_reminders")  # after it: the refused digest goes
        mailbox.wait_for(6, timeout=60)
        time.sleep(1)
    finally:
        worker.stop()
    assert mailbox.count == 7  # six digests, one of them twice
    recipients = [str(m["To"]) for m in mailbox.received]
    assert len(recipients) == len(set(recipients)) == 6
    with rt.engine.connect() as conn:
        rows = conn.execute(select(REMINDER_LEDGER)).mappings().all()
    assert {r["status"] for r in rows} == {"sent"}
    retried = [r for r in rows if r["attempts"] == 2]
    assert len({r["recipient"] for r in retried}) == 1 and retried
    assert all("451" in (r["last_error"] or "") for r in retried)
    assert all(r["attempts"] == 1 and r["last_error"] is None for r in rows if r not in retried)


_OUTCOME = re.compile(
    r"Task (khenthuong\.\w+)\[([0-9a-f-]+)\] (received|succeeded in [^:]*: (.*))$"
)


def in_flight(log: Path) -> list[str]:
    """Ids of send_digest tasks a worker received but never finished (it was killed)."""
    received: list[str] = []
    done: set[str] = set()
    for line in log.read_text(errors="replace").splitlines():
        match = _OUTCOME.search(line)
        if match and match[1] == "khenthuong.send_digest":
            if match[3] == "received":
                received.append(match[2])
            else:
                done.add(match[2])
    return [task_id for task_id in received if task_id not in done]


def wait_for_outcome(log: Path, task_id: str, *, timeout: float) -> str:
    """The result a worker logged for task `task_id`, waiting for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for line in log.read_text(errors="replace").splitlines():
            match = _OUTCOME.search(line)
            if match and match[2] == task_id and match[4] is not None:
                return str(match[4])
        time.sleep(0.5)
    raise AssertionError(f"task {task_id} was never run again:\n{log.read_text()}")


def wait_for_outcomes(log: Path, task: str, n: int, *, timeout: float) -> list[str]:
    """The results of the first `n` runs of `task` the worker logged, waiting for them."""
    deadline = time.monotonic() + timeout
    while True:
        found = []
        for line in log.read_text(errors="replace").splitlines():
            match = _OUTCOME.search(line)
            if match and match[1] == task and match[4] is not None:
                found.append(str(match[4]))
        if len(found) >= n or time.monotonic() > deadline:
            assert len(found) >= n, f"{len(found)} of {n} runs of {task}:\n{log.read_text()}"
            return found
        time.sleep(0.3)


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_outbox_survives_a_redis_outage_without_loss_or_duplicates(
    rt: Runtime,
    settings: Settings,
    own_redis: RedisServer,
    mailbox: Mailbox,
    tmp_path: Path,
    real_relay: Callable[[str], Callable[[], int]],
) -> None:
    """Returns made while Redis is down are mailed once each after it comes back."""
    ids = overdue_nominations(rt)[:3]
    own_redis.stop()
    with rt.engine.connect() as conn:
        secretary = {u: load_actor(conn, u) for u in ("tk.qd", "tk.dcq", "tk.pccc")}
    for nid, who in zip(ids, ["tk.qd", "tk.qd", "tk.dcq"], strict=True):
        result = stepping.advance(
            rt.engine,
            rt.registry,
            nid,
            "return_for_supplement",
            secretary[who],
            {"reason": "Thiếu báo cáo thành tích có xác nhận"},
        )
        assert result.to_state == "returned"
    relay = real_relay(own_redis.url)
    assert relay() == 0  # workers.tasks.relay_outbox: the publish fails, the rows stay
    with rt.engine.connect() as conn:
        statuses = list(conn.execute(select(OUTBOX.c.status)).scalars())
    assert statuses == ["pending"] * 3
    own_redis.start()
    worker = WorkerProcess(worker_env(settings, own_redis.url, mailbox), tmp_path / "worker.log")
    worker.start()
    try:
        assert relay() == 3
        messages = mailbox.wait_for(3)
        assert relay() == 0
        time.sleep(2)
    finally:
        worker.stop()
    assert len(mailbox.received) == 3
    assert sorted(str(m["To"]).split("<")[-1].rstrip(">") for m in messages) == [
        "cb.dcq@bcy.example",
        "cb.qd@bcy.example",
        "cb.qd@bcy.example",
    ]
    body = messages[0].get_body(("plain",))
    assert body is not None
    assert "Thiếu báo cáo thành tích có xác nhận" in body.get_content()
    with rt.engine.connect() as conn:
        assert list(conn.execute(select(OUTBOX.c.status)).scalars()) == ["sent"] * 3
