"""Two `khenthuong serve` processes on one PostgreSQL (one of them with two uvicorn
workers): a sign-in failure counts wherever it lands, and exactly one embedded scheduler
runs the jobs; when its server stops, the other server's scheduler takes over."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, func, select, text

from khenthuong.runtime import Runtime
from khenthuong.services.scheduler_lock import LOCK_CLASS, LOCK_ID, current_holder
from khenthuong.settings import Settings
from khenthuong.storage.coordination import RATE_LIMIT_HITS
from khenthuong.storage.outbox import JOB_RUNS
from tests.live_server import KHENTHUONG, _free_port
from tests.workers.test_serve_schedule import _cmdline

PASSWORD_WRONG = "not-the-password"
START_SECONDS = 240
"""A loaded 2-core machine takes a while to start three web processes."""


class Server:
    """One `khenthuong serve` process and its log."""

    def __init__(self, name: str, env: dict[str, str], home: Path, workers: int) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = home / f"{name}.log"
        args = [KHENTHUONG, "serve", "--port", str(self.port), "--workers", str(workers)]
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(args, env=env, stdout=out, stderr=subprocess.STDOUT)

    def wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if httpx.get(f"{self.base}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"server did not start:\n{self.log.read_text(errors='replace')}")

    def scheduler_pids(self) -> list[int]:
        """The embedded scheduler processes this server started."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit() and "import run_forever" in _cmdline(entry.name):
                try:
                    ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError):
                    continue
                if ppid == self.proc.pid:
                    found.append(int(entry.name))
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


@pytest.fixture
def servers(rt: Runtime, settings: Settings, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    env = {
        **os.environ,
        "KHENTHUONG_DATABASE_URL": settings.database_url,
        "KHENTHUONG_STATE_DIR": str(tmp_path / "state"),
        "KHENTHUONG_MAILDIR": str(tmp_path / "maildir"),
        "KHENTHUONG_SECRET_KEY": "shared-secret-key-" + "k" * 32,
        "KHENTHUONG_SCAN_INTERVAL_SECONDS": "1",
    }
    for name in ("KHENTHUONG_BROKER_URL", "KHENTHUONG_REDIS_URL", "KHENTHUONG_SMTP_HOST"):
        env.pop(name, None)
    one = Server("one", env, tmp_path, workers=2)
    two = Server("two", env, tmp_path, workers=1)
    try:
        deadline = time.monotonic() + START_SECONDS
        one.wait_ready(deadline)
        two.wait_ready(deadline)
        yield one, two
    finally:
        one.stop()
        two.stop()


def failed_sign_in(base: str, username: str) -> int:
    """One sign-in with a wrong password (fresh client: its own form token)."""
    with httpx.Client(base_url=base, timeout=30) as client:
        client.get("/login")
        return client.post(
            "/login",
            data={
                "username": username,
                "password": PASSWORD_WRONG,
                "login_token": client.cookies.get("kt_login") or "",
            },
        ).status_code


def lock_holders(engine: Engine) -> list[int]:
    """Backend pids holding the scheduler's advisory lock."""
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "select pid from pg_locks where locktype = 'advisory' and granted "
                    "and classid = :c and objid = :i"
                ),
                {"c": LOCK_CLASS, "i": LOCK_ID},
            ).scalars()
        )


def holder_pid(engine: Engine) -> int | None:
    holder = current_holder(engine)
    return int(holder.rsplit(":", 1)[1]) if holder else None


def scan_runs(engine: Engine) -> int:
    with engine.connect() as conn:
        runs = conn.execute(select(JOB_RUNS.c.runs).where(JOB_RUNS.c.job == "scan_reminders"))
        return int(runs.scalar() or 0)


def wait_until(condition: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_two_servers_share_the_throttle_and_run_one_scheduler(
    rt: Runtime, servers: tuple[Server, Server]
) -> None:
    one, two = servers
    limit = rt.settings.login_max_failures
    # Failures alternate between the servers (and the two workers of the first): each
    # counts toward the same limit, so the attempt after the limit is refused everywhere.
    codes = [failed_sign_in((one, two)[i % 2].base, "cb.qd") for i in range(limit)]
    assert codes == [401] * limit
    assert failed_sign_in(one.base, "cb.qd") == 429
    assert failed_sign_in(two.base, "cb.qd") == 429
    with rt.engine.connect() as conn:  # counted in the shared table, once per failure
        counted = conn.execute(
            select(RATE_LIMIT_HITS.c.key, func.count()).group_by(RATE_LIMIT_HITS.c.key)
        ).all()
    assert sorted((key.split("/")[1], n) for key, n in counted) == [
        ("ip:127.0.0.1", limit),
        ("user:cb.qd", limit),
    ]

    # Each server started a scheduler process; exactly one of them holds the lock and runs.
    schedulers = {server: server.scheduler_pids() for server in (one, two)}
    assert [len(p) for p in schedulers.values()] == [1, 1], schedulers
    wait_until(lambda: holder_pid(rt.engine) is not None, "a scheduler to take the lock")
    wait_until(lambda: scan_runs(rt.engine) >= 3, "three scheduled runs")
    assert len(lock_holders(rt.engine)) == 1
    leader = holder_pid(rt.engine)
    by_pid = {pids[0]: server for server, pids in schedulers.items()}
    assert leader in by_pid
    first, other = by_pid[leader], next(s for s in (one, two) if s is not by_pid[leader])
    time.sleep(3)  # several more runs: still the same single holder
    assert lock_holders(rt.engine) and len(lock_holders(rt.engine)) == 1
    assert holder_pid(rt.engine) == leader
    logs = {s: s.log.read_text(errors="replace") for s in (one, two)}
    assert logs[first].count("now runs the embedded scheduler") == 1
    assert "now runs the embedded scheduler" not in logs[other]

    # The leader's server stops: the other server's scheduler takes over within seconds.
    first.stop()
    standby = schedulers[other][0]
    wait_until(lambda: holder_pid(rt.engine) == standby, "the standby to take over", 60)
    runs = scan_runs(rt.engine)
    wait_until(lambda: scan_runs(rt.engine) >= runs + 2, "runs by the new holder")
    assert len(lock_holders(rt.engine)) == 1
    assert "now runs the embedded scheduler" in other.log.read_text(errors="replace")
