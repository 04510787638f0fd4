"""Two Celery worker processes on one Redis and one PostgreSQL send each of 10,000 due
reminders exactly once, with the scan itself run twice at once."""

from __future__ import annotations

import os
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from khenthuong.notify.render import KEY_HEADER
from khenthuong.runtime import Runtime
from khenthuong.settings import Settings
from khenthuong.storage.outbox import REMINDER_LEDGER
from tests.smtp_fixture import SmtpServer
from tests.workers.conftest import WorkerProcess
from tests.workers.load import load_email, seed_due_load
from tests.workers.test_worker_delivery import celery_client

UNITS, PER_UNIT = 200, 50
SENT = re.compile(r"khenthuong\.send_digest\[[0-9a-f-]+\] succeeded in [^:]*: 'sent (\d+) item")


def worker_env(settings: Settings, broker: str, smtp: SmtpServer) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        KHENTHUONG_DATABASE_URL=settings.database_url,
        KHENTHUONG_BROKER_URL=broker,
        KHENTHUONG_SMTP_HOST=smtp.host,
        KHENTHUONG_SMTP_PORT=str(smtp.port),
    )
    return env


def sent_count(rt: Runtime) -> int:
    with rt.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).where(REMINDER_LEDGER.c.status == "sent")
            ).scalar_one()
        )


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_workers_send_each_of_10000_reminders_once(
    rt: Runtime, settings: Settings, broker_url: str, tmp_path: Path
) -> None:
    due = seed_due_load(rt, units=UNITS, per_unit=PER_UNIT)
    assert due == 10_000
    with SmtpServer() as smtp:
        env = worker_env(settings, broker_url, smtp)
        workers = [WorkerProcess(env, tmp_path / f"worker{n}.log") for n in (1, 2)]
        with ThreadPoolExecutor(2) as pool:  # both start at once
            list(pool.map(lambda w: w.start(), workers))
        try:
            app = celery_client(broker_url)
            # Two scans at once (an overlapping beat, a second beat by mistake): each
            # reminder is claimed by one of them only, and sent by one worker only.
            app.send_task("khenthuong.scan_reminders")
            app.send_task("khenthuong.scan_reminders")
            deadline = time.monotonic() + 120
            while sent_count(rt) < due and time.monotonic() < deadline:
                time.sleep(0.5)
            app.send_task("khenthuong.scan_reminders")  # everything is sent: nothing again
            time.sleep(3)
        finally:
            with ThreadPoolExecutor(2) as pool:
                list(pool.map(lambda w: w.stop(), workers))
        received = smtp.messages
    assert sent_count(rt) == due
    keys: list[str] = []
    for message in received:
        header = "".join(str(message[KEY_HEADER]).split())
        keys += header.removeprefix("digest:").split(",")
    assert len(keys) == due  # every reminder in exactly one message
    assert len(set(keys)) == due
    with rt.engine.connect() as conn:
        assert set(keys) == set(conn.execute(select(REMINDER_LEDGER.c.key)).scalars())
    recipients = {str(m["To"].addresses[0].addr_spec) for m in received}
    assert recipients == {load_email(i) for i in range(UNITS)}
    # Both processes did part of the work.
    per_worker = [
        sum(int(n) for n in SENT.findall(w.log.read_text(errors="replace"))) for w in workers
    ]
    assert sum(per_worker) == due and all(per_worker), per_worker
