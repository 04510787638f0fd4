"""While Redis is down, beat logs one warning when it goes and one when it is back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from khenthuong.settings import Settings
from tests.workers.conftest import BeatProcess, RedisServer
from tests.workers.test_worker_delivery import Mailbox, worker_env


@pytest.mark.slow
def test_beat_reports_a_broker_outage_once_each_way_without_tracebacks(
    own_redis: RedisServer, tmp_path: Path
) -> None:
    """Redis stopped for several ticks (scan and relay every second): no traceback per tick;
    one warning when it goes away, one when it is back with the time it was down."""
    env = worker_env(
        Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}"),  # beat reads no database
        own_redis.url,
        Mailbox(),
        KHENTHUONG_SCAN_INTERVAL_SECONDS="1",
        KHENTHUONG_RELAY_INTERVAL_SECONDS="1",
    )
    log = tmp_path / "beat.log"
    beat = BeatProcess(env, log)
    beat.start()
    time.sleep(1.5)
    own_redis.stop()
    time.sleep(5)
    own_redis.start()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and "reachable again" not in log.read_text():
        time.sleep(0.3)
    beat.stop()
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text
    assert text.count("broker unreachable") == 1, text
    assert text.count("broker reachable again after") == 1, text
