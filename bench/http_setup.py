"""What `bench/http.py` needs before it measures: a database filled with nominations over every
workflow, state and demo unit, real drafts and tokens, and `khenthuong serve` started on a
free port (its own module: http.py stays about measuring)."""

from __future__ import annotations

import os
import random
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from bench.bulk_rows import insert_nominations, nomination_row
from khenthuong.runtime import Runtime, open_runtime
from khenthuong.services import new_nominations
from khenthuong.services.accounts import create_token
from khenthuong.services.actors import load_actor
from khenthuong.services.org import apply_seed, load_seed
from khenthuong.settings import PROJECT_ROOT, Settings
from khenthuong.storage.db import make_engine, write_tx
from khenthuong.storage.migrate import upgrade
from khenthuong.storage.models import UNITS

PG_URL = os.environ.get(
    "KHENTHUONG_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
KHENTHUONG = str(Path(sys.executable).parent / "khenthuong")
PASSWORD = "thidua2026"
QUEUE_USER = "cv.bcy"
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ"]
GIVEN = ["Văn An", "Thị Bích", "Minh Tuấn", "Thu Hà", "Quang Vinh", "Thị Lan", "Đức Anh"]


def fill(rt: Runtime, rows: int) -> None:
    """`rows` nominations over every workflow, state and demo unit (bulk Core inserts)."""
    rng = random.Random(2026)
    now = datetime.now(UTC)
    with rt.engine.connect() as conn:
        units = conn.execute(select(UNITS.c.id, UNITS.c.path)).all()
    shapes = []
    for loaded in rt.registry.latest():
        wf = loaded.definition
        for name, state_def in wf.states.items():
            shapes.append((wf.name, wf.version, name, state_def.closed))

    def row(i: int) -> dict[str, Any]:
        workflow, version, state, closed = rng.choice(shapes)
        unit = rng.choice(units)
        return nomination_row(
            workflow=workflow,
            version=version,
            state=state,
            closed=closed,
            name=f"{rng.choice(FAMILY)} {rng.choice(GIVEN)} {i}",
            unit_id=unit.id,
            unit_path=unit.path,
            year=rng.choice((2024, 2025, 2026)),
            now=now,
            due_at=None if closed else now + timedelta(days=rng.randint(-20, 40)),
        )

    insert_nominations(rt.engine, (row(i) for i in range(rows)))


def prepare(url: str, rows: int, steps: int) -> tuple[list[int], str, str]:
    """Schema, demo data, bulk rows, `steps` real drafts; returns ids and two tokens."""
    engine = make_engine(url)
    upgrade(engine)
    rt = open_runtime(Settings(database_url=url), engine=engine)
    with write_tx(engine) as conn:
        apply_seed(conn, load_seed(PROJECT_ROOT / "config" / "demo.yaml", rt.roles), rt.roles)
    fill(rt, rows)
    with engine.connect() as conn:
        officer = load_actor(conn, "cb.qd")
    drafts = [
        new_nominations.create_nomination(
            engine,
            rt.registry,
            workflow="giay_khen",
            proposing_unit="CCYQD",
            actor=officer,
            nominee_name=f"Cán bộ đo hiệu năng {i}",
            create_person=True,
            year=2026,
        )
        for i in range(steps)
    ]
    with write_tx(engine) as conn:
        _, officer_token = create_token(conn, "cb.qd", "bench")
        _, queue_token = create_token(conn, QUEUE_USER, "bench")
    engine.dispose()
    return drafts, officer_token, queue_token


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    url: str, home: Path, workers: int = 1, log_name: str = "server.log"
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "KHENTHUONG_DATABASE_URL": url,
        "KHENTHUONG_STATE_DIR": str(home / "var"),
        "KHENTHUONG_MAILDIR": str(home / "maildir"),
        # A broker URL keeps the embedded scheduler off (no worker consumes it here), so the
        # first reminder scan over 100,000 rows does not run during the measurements.
        "KHENTHUONG_BROKER_URL": "redis://127.0.0.1:6379/15",
    }
    log = (home / log_name).open("wb")  # kept: the server's errors, if any
    proc = subprocess.Popen(
        [KHENTHUONG, "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=log,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300  # several workers on a loaded machine start slowly
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("khenthuong serve did not start")


def session_cookies(base: str) -> httpx.Cookies:
    with httpx.Client(base_url=base) as client:
        client.get("/login")
        r = client.post(
            "/login",
            data={
                "username": QUEUE_USER,
                "password": PASSWORD,
                "login_token": client.cookies.get("kt_login") or "",
            },
        )
        if r.status_code not in (200, 303):
            raise RuntimeError(f"sign-in failed: {r.status_code}")
        return client.cookies
