"""Reminder digests and outbox notices through a real Celery worker, Redis and SMTP server."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from khenthuong.runtime import Runtime
from khenthuong.services import jobs
from khenthuong.services import nominations as svc
from khenthuong.services.actors import load_actor
from khenthuong.settings import Settings, get_settings
from khenthuong.storage.outbox import OUTBOX
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
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self.lock:
            self.count += 1
            number = self.count
        if number == self.hold_at:
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.release.wait, 30)
            return "451 4.3.0 Try again later"
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
            nid = svc.create_nomination(
                rt.engine,
                rt.registry,
                workflow="giay_khen",
                proposing_unit=unit,
                actor=officer,
                nominee_name=f"{name} ({unit})",
                now=LONG_AGO,
            )
            svc.advance(rt.engine, rt.registry, nid, "submit", officer, now=LONG_AGO)
            ids.append(nid)
    return ids


def celery_client(broker: str) -> Any:
    os.environ["KHENTHUONG_BROKER_URL"] = broker
    get_settings.cache_clear()
    from workers.celery_app import make_app

    return make_app()


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
        KHENTHUONG_BROKER_VISIBILITY_TIMEOUT="10",
    )
    worker = WorkerProcess(env, tmp_path / "worker.log")
    worker.start()
    app = celery_client(broker_url)
    app.send_task("khenthuong.scan_reminders")
    assert mailbox.holding.wait(60), "the third digest never reached the server"
    worker.kill()
    mailbox.release.set()
    assert len(mailbox.received) == 2
    worker = WorkerProcess(env, tmp_path / "worker2.log")
    worker.start()
    try:
        mailbox.wait_for(5)
        time.sleep(2.5)  # the in-flight digest's claim is now stale
        app.send_task("khenthuong.scan_reminders")
        mailbox.wait_for(6)
        time.sleep(15)  # the killed task's message comes back after the visibility timeout
    finally:
        worker.stop()
    keys = [str(m["X-Khenthuong-Key"]) for m in mailbox.received]
    recipients = [str(m["To"]) for m in mailbox.received]
    assert len(recipients) == 6
    assert len(set(recipients)) == 6
    assert len(set(keys)) == 6


@pytest.mark.slow
def test_outbox_survives_a_redis_outage_without_loss_or_duplicates(
    rt: Runtime, settings: Settings, own_redis: RedisServer, mailbox: Mailbox, tmp_path: Path
) -> None:
    """Returns made while Redis is down are mailed once each after it comes back."""
    ids = overdue_nominations(rt)[:3]
    own_redis.stop()
    with rt.engine.connect() as conn:
        secretary = {u: load_actor(conn, u) for u in ("tk.qd", "tk.dcq", "tk.pccc")}
    for nid, who in zip(ids, ["tk.qd", "tk.qd", "tk.dcq"], strict=True):
        result = svc.advance(
            rt.engine,
            rt.registry,
            nid,
            "return_for_supplement",
            secretary[who],
            {"reason": "Thiếu báo cáo thành tích có xác nhận"},
        )
        assert result.to_state == "returned"
    app = celery_client(own_redis.url)
    app.conf.broker_connection_timeout = 1

    def publish(outbox_id: int) -> None:
        app.send_task(
            "khenthuong.deliver_notice",
            (outbox_id,),
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.2},
        )

    assert jobs.relay_outbox(rt.engine, publish) == 0
    with rt.engine.connect() as conn:
        statuses = list(conn.execute(select(OUTBOX.c.status)).scalars())
    assert statuses == ["pending"] * 3
    own_redis.start()
    worker = WorkerProcess(worker_env(settings, own_redis.url, mailbox), tmp_path / "worker.log")
    worker.start()
    try:
        assert jobs.relay_outbox(rt.engine, publish) == 3
        messages = mailbox.wait_for(3)
        assert jobs.relay_outbox(rt.engine, publish) == 0
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
