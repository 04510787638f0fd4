"""One process at a time runs the embedded scheduler: a PostgreSQL advisory lock, a lease
row on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from khenthuong.services.scheduler_lock import SchedulerLock, current_holder
from khenthuong.storage.db import make_engine
from khenthuong.storage.migrate import upgrade


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def test_one_holder_at_a_time_and_a_take_over(db_url: str) -> None:
    """Two processes (two engines): the first takes the lock and keeps it on every run, the
    second stands by; once the first gives it back the second takes it."""
    clock = Clock()
    first = SchedulerLock(make_engine(db_url), holder="web-1:11", lease_seconds=60, clock=clock)
    second = SchedulerLock(make_engine(db_url), holder="web-2:22", lease_seconds=60, clock=clock)
    assert first.acquire()
    assert not second.acquire()
    clock.now += timedelta(seconds=30)
    assert first.acquire()  # kept (SQLite: renewed)
    assert not second.acquire()
    assert current_holder(first.engine, now=clock.now) == "web-1:11"
    first.release()
    assert second.acquire()
    assert not first.acquire()
    assert current_holder(first.engine, now=clock.now) == "web-2:22"
    second.release()
    assert current_holder(first.engine, now=clock.now) is None


def test_a_lease_not_renewed_is_taken_over_on_sqlite(tmp_path: Path) -> None:
    """The holder died without giving the lease back: another process waits until it
    expires, not longer."""
    url = f"sqlite:///{tmp_path}/lease.db"
    engine = make_engine(url)
    upgrade(engine)
    clock = Clock()
    dead = SchedulerLock(engine, holder="web-1:11", lease_seconds=60, clock=clock)
    other = SchedulerLock(make_engine(url), holder="web-2:22", lease_seconds=60, clock=clock)
    assert dead.acquire()
    clock.now += timedelta(seconds=59)
    assert not other.acquire()
    clock.now += timedelta(seconds=2)
    assert other.acquire()
    assert not dead.acquire()  # back from a long pause: it stands by


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_dead_holder_frees_the_lock_at_once_on_postgresql(db_url: str) -> None:
    """On PostgreSQL the lock ends with its session: no lease to wait for."""
    holder_engine = make_engine(db_url)
    holder = SchedulerLock(holder_engine, holder="web-1:11")
    other = SchedulerLock(make_engine(db_url), holder="web-2:22")
    assert holder.acquire() and not other.acquire()
    assert holder._conn is not None
    pid = holder._conn.exec_driver_sql("select pg_backend_pid()").scalar_one()
    holder._conn.invalidate()  # the process is gone: its connection closes
    # The server ends that session when it reads the closed socket; waiting for its backend
    # to exit (PostgreSQL 14+: pg_terminate_backend with a timeout waits) keeps the test from
    # racing the server on a busy machine.
    with make_engine(db_url).connect() as admin:
        admin.exec_driver_sql(f"select pg_terminate_backend({int(pid)}, 10000)")
    assert other.acquire()
    assert current_holder(other.engine) == "web-2:22"
    other.release()
