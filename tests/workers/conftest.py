"""Real Redis and real Celery worker processes for the worker tests."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest
import redis

from khenthuong.settings import PROJECT_ROOT
from tests.service_guard import absent

REDIS_URL = os.environ.get("KHENTHUONG_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _redis_reason() -> str | None:
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"Redis not reachable at {REDIS_URL}: {exc.__class__.__name__}: {exc}"
    return None


REDIS_UNAVAILABLE = _redis_reason()


@pytest.fixture
def broker_url() -> Iterator[str]:
    """A Redis database of its own for one test (flushed before and after)."""
    if REDIS_UNAVAILABLE:
        absent(REDIS_UNAVAILABLE)
    base = REDIS_URL.rsplit("/", 1)[0]
    # One Redis database per pytest-xdist worker (gw0, gw1 …), so parallel workers never share
    # a broker; a plain run uses database 9.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    url = f"{base}/{9 + int(worker or 0) % 7}"
    client = redis.Redis.from_url(url)
    client.flushdb()
    yield url
    client.flushdb()


class RedisServer:
    """A redis-server process of the test's own, which the test can stop and start."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        binary = shutil.which("redis-server")
        assert binary, "redis-server binary not found"
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
                return
            except redis.exceptions.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A private redis-server (skipped with the reason when the binary is absent)."""
    if shutil.which("redis-server") is None:
        absent("redis-server binary not installed: cannot run a private Redis")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


class WorkerProcess:
    """`celery -A workers.celery_app worker` as a real child process."""

    started: ClassVar[list[WorkerProcess]] = []
    """Every worker started in this process; `_no_worker_outlives_its_test` stops them all."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env = env
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None
        WorkerProcess.started.append(self)

    def command(self, concurrency: int, pool: str) -> list[str]:
        """The celery command line this process runs."""
        return [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.celery_app",
            "worker",
            "-l",
            "info",
            "-P",
            pool,
            "-c",
            str(concurrency),
            "-Q",
            "default,mail",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"test{time.monotonic_ns()}@%h",
        ]

    ready_line = "ready."
    """What the process logs once it is up."""

    def start(self, *, concurrency: int = 1, pool: str = "prefork") -> None:
        logf = self.log.open("ab")
        self.proc = subprocess.Popen(
            self.command(concurrency, pool),
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.ready_line in self.log.read_text(errors="replace"):
                return
            if self.proc.poll() is not None:
                raise RuntimeError("celery worker exited:\n" + self.log.read_text(errors="replace"))
            time.sleep(0.2)
        raise RuntimeError("celery worker not ready:\n" + self.log.read_text(errors="replace"))

    def kill(self) -> None:
        """SIGKILL the whole process group: no warm shutdown, no acknowledgement."""
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.proc = None

    def stop(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
            self.proc = None


class BeatProcess(WorkerProcess):
    """`celery -A workers.celery_app beat` as a real child process (its schedule file in the
    test's folder); stopped with the workers after the test."""

    ready_line = "beat: Starting..."

    def command(self, concurrency: int, pool: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "workers.celery_app",
            "beat",
            "-l",
            "info",
            "-s",
            str(self.log.with_suffix(".schedule")),
        ]


@pytest.fixture(autouse=True)
def _no_worker_outlives_its_test() -> Iterator[None]:
    """A test that fails before it stops its worker must not leave it consuming the broker
    (an orphaned worker steals the next tests' tasks from the same Redis database)."""
    yield
    while WorkerProcess.started:
        WorkerProcess.started.pop().stop()
