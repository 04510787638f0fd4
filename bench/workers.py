"""Benchmark: reminder digests per second with 1 and 2 Celery worker processes.

Run:  .venv/bin/python bench/workers.py [--units 200] [--per-unit 50] [--workers 1,2]
      [--rounds 2]

For each worker count a fresh PostgreSQL database gets the demo organisations and a backlog
of units × per-unit due reminders (one council secretary per unit: one digest of per-unit
items each, `tests/workers/load.py`); the reminders are claimed in this process
(`reminder_claims.claim_reminders`, timed apart), then every digest is queued as a `send_digest` task
on Redis and N real `celery worker` processes (`-c 1` each) send them to a local aiosmtpd
server. Digests per second = digests / (first task queued .. last ledger row `sent`).

Baseline in the same run: rendering the same digests in this process, no database and no
SMTP (`notify.render.render_digest`), the cost no worker can avoid.

Prints figures only (no assertions); BENCHMARKS.md records a run. Needs PostgreSQL
(KHENTHUONG_BENCH_PG_URL) and Redis (KHENTHUONG_BENCH_REDIS_URL, database 7 by default,
flushed).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [p for p in sys.path if Path(p).resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from khenthuong.notify.render import Digest, DigestItem, Sender, render_digest  # noqa: E402
from khenthuong.runtime import open_runtime  # noqa: E402
from khenthuong.services import reminder_claims  # noqa: E402
from khenthuong.services.org import apply_seed, load_seed  # noqa: E402
from khenthuong.settings import PROJECT_ROOT, Settings, get_settings  # noqa: E402
from khenthuong.storage.db import make_engine, write_tx  # noqa: E402
from khenthuong.storage.migrate import upgrade  # noqa: E402
from khenthuong.storage.outbox import REMINDER_LEDGER  # noqa: E402
from tests.smtp_fixture import SmtpServer  # noqa: E402
from tests.workers.conftest import WorkerProcess  # noqa: E402
from tests.workers.load import seed_due_load  # noqa: E402

PG_URL = os.environ.get(
    "KHENTHUONG_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("KHENTHUONG_BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")


def render_only(units: int, per_unit: int) -> float:
    """Digests per second rendered in this process (the baseline)."""
    items = tuple(
        DigestItem(
            i,
            f"Nguyễn Văn Tải {i}",
            "Giấy khen",
            "Hội đồng TĐKT đơn vị xét",
            date(2026, 12, 8),
            0,
            "due",
        )
        for i in range(per_unit)
    )
    start = time.perf_counter()
    for u in range(units):
        keys = ", ".join(
            f"nomination:{u}-{i}:2026-12-08:due:tk.tai{u}@tai.example" for i in range(per_unit)
        )
        render_digest(
            Digest(f"tk.tai{u}@tai.example", f"Thư ký {u}", items),
            ledger_key=f"digest:{keys}",
            sender=Sender(),
        )
    return units / (time.perf_counter() - start)


def one_run(n_workers: int, units: int, per_unit: int) -> dict[str, float]:
    """A fresh database and broker, the backlog, n worker processes: the figures."""
    name = f"bench_workers_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    home = Path(tempfile.mkdtemp(prefix="kt-bench-workers-"))
    try:
        upgrade(engine)
        rt = open_runtime(Settings(database_url=url, state_dir=home), engine=engine)
        with write_tx(engine) as conn:
            apply_seed(conn, load_seed(PROJECT_ROOT / "config" / "demo.yaml", rt.roles), rt.roles)
        due = seed_due_load(rt, units=units, per_unit=per_unit)
        t0 = time.perf_counter()
        groups = reminder_claims.claim_reminders(engine, rt.registry, rt.settings)
        claim_s = time.perf_counter() - t0
        redis.Redis.from_url(REDIS_URL).flushdb()
        with SmtpServer() as smtp:
            env = {
                **os.environ,
                "KHENTHUONG_DATABASE_URL": url,
                "KHENTHUONG_BROKER_URL": REDIS_URL,
                "KHENTHUONG_SMTP_HOST": smtp.host,
                "KHENTHUONG_SMTP_PORT": str(smtp.port),
                "KHENTHUONG_STATE_DIR": str(home),
                "PYTHONPATH": os.pathsep.join([str(ROOT), *sys.path[1:]]),
            }
            workers = [WorkerProcess(env, home / f"worker{i}.log") for i in range(n_workers)]
            with ThreadPoolExecutor(n_workers) as pool:
                list(pool.map(lambda w: w.start(), workers))
            try:
                os.environ["KHENTHUONG_BROKER_URL"] = REDIS_URL
                get_settings.cache_clear()
                from workers.celery_app import make_app

                app = make_app()
                t0 = time.perf_counter()
                for ids in groups:
                    app.send_task("khenthuong.send_digest", (ids,))
                while True:
                    with engine.connect() as conn:
                        sent = conn.execute(
                            select(func.count()).where(REMINDER_LEDGER.c.status == "sent")
                        ).scalar_one()
                    if sent >= due:
                        break
                    if time.perf_counter() - t0 > 900:
                        raise RuntimeError(f"only {sent} of {due} sent after 900 s; see {home}")
                    time.sleep(0.05)
                send_s = time.perf_counter() - t0
            finally:
                with ThreadPoolExecutor(n_workers) as pool:
                    list(pool.map(lambda w: w.stop(), workers))
            assert len(smtp.received) == len(groups), (len(smtp.received), len(groups))
        return {"digests": len(groups), "due": due, "claim_s": claim_s, "send_s": send_s}
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--units", type=int, default=200, help="digests (one per unit)")
    parser.add_argument("--per-unit", type=int, default=50, help="reminders per digest")
    parser.add_argument("--workers", default="1,2", help="worker process counts")
    parser.add_argument("--rounds", type=int, default=2, help="runs per count (median)")
    args = parser.parse_args()
    counts = [int(n) for n in args.workers.split(",") if n]
    baseline = render_only(args.units, args.per_unit)
    runs: dict[int, list[dict[str, float]]] = {n: [] for n in counts}
    for _ in range(args.rounds):
        for n in counts:  # interleaved: a load change on the machine hits every count
            runs[n].append(one_run(n, args.units, args.per_unit))
    print(
        f"\n{args.units} digests of {args.per_unit} reminders each "
        f"({args.units * args.per_unit:,} reminders), PostgreSQL + Redis + aiosmtpd, "
        f"median of {args.rounds}"
    )
    rows = [("render only, this process (baseline)", f"{baseline:,.1f} digests/s", "", "")]
    first = None
    for n in counts:
        rate = statistics.median(r["digests"] / r["send_s"] for r in runs[n])
        claim = statistics.median(r["claim_s"] for r in runs[n])
        first = first or rate
        each = " / ".join(f"{r['digests'] / r['send_s']:.1f}" for r in runs[n])
        rows.append(
            (
                f"{n} worker process{'es' if n > 1 else ''} (-c 1)",
                f"{rate:,.1f} digests/s",
                f"x{rate / first:.2f} vs 1, {rate / baseline:.2f} of render-only",
                f"runs {each}; claim {claim:.1f} s",
            )
        )
    width = max(len(r[0]) for r in rows)
    for row in rows:
        print(f"{row[0]:<{width}}  {row[1]:>18}  {row[2]:<34}  {row[3]}")


if __name__ == "__main__":
    main()
