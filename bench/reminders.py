"""Benchmark: the due-item scan over 1,000,000 open nominations, and e-mails per second.

Run:  .venv/bin/python bench/reminders.py [--rows N] [--no-pg] [--claim-sizes 10000,100000]
          [--claims-only]

The reminder job's scan-and-claim (`reminder_claims.claim_reminders`) is timed over 10,000 and 100,000
due nominations: the first scan (which claims everything, in one INSERT ... SELECT) beside
a scan with nothing new (target < 50 ms; printed PASS or MISS), and, as the first scan's
baseline in the same run, the same backlog claimed the old way (items built in Python, one
ledger row each).

Prints figures only (no assertions). The scan is `services.reminders.scan_due`, which reads
open nominations whose due date falls before the reminder horizon through the index
ix_nomination_open_due (closed, due_at). Baseline in the same run: the same query without
that index (a full table scan), so the ratio shows what the index buys. E-mail: digests
rendered and sent to a local aiosmtpd server over one connection, beside the bare
render-only cost.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p).resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # for bench.bulk_rows

from sqlalchemy import text  # noqa: E402

from bench.bulk_rows import insert_nominations, nomination_row  # noqa: E402
from khenthuong.runtime import open_runtime  # noqa: E402
from khenthuong.services import due_scan, reminder_claims, reminders  # noqa: E402
from khenthuong.services.org import apply_seed, load_seed  # noqa: E402
from khenthuong.settings import PROJECT_ROOT, Settings  # noqa: E402
from khenthuong.storage.db import make_engine, write_tx  # noqa: E402
from khenthuong.storage.migrate import upgrade  # noqa: E402

PG_URL = os.environ.get(
    "KHENTHUONG_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def fill(engine, rows: int, due_now: int) -> None:  # type: ignore[no-untyped-def]
    """`rows` open nominations, `due_now` of them due within the reminder horizon."""
    now = datetime.now(UTC)
    with engine.connect() as conn:
        unit = conn.execute(text("select id, path from unit where code = 'CCYQD'")).first()
    insert_nominations(
        engine,
        (
            nomination_row(
                workflow="giay_khen",
                version=2,
                state="unit_council",
                closed=False,
                name=f"Cán bộ {i}",
                unit_id=unit.id,
                unit_path=unit.path,
                year=2026,
                now=now,
                due_at=now + timedelta(days=1)
                if i < due_now
                else now + timedelta(days=60 + i % 300),
            )
            for i in range(rows)
        ),
        sqlite_analyze=True,
    )


def time_scan(rt, repeat: int = 5) -> tuple[float, int]:  # type: ignore[no-untyped-def]
    times, found = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        with rt.engine.connect() as conn:
            found = len(reminders.scan_due(conn, rt.registry, before_days=3))
        times.append(time.perf_counter() - start)
    return statistics.median(times), found


def run_backend(label: str, url: str, rows: int, due_now: int) -> list[tuple[str, str]]:
    engine = make_engine(url)
    upgrade(engine)
    settings = Settings(database_url=url)
    rt = open_runtime(settings, engine=engine)
    roles = rt.roles
    with write_tx(engine) as conn:
        apply_seed(conn, load_seed(PROJECT_ROOT / "config" / "demo.yaml", roles), roles)
    t0 = time.perf_counter()
    fill(engine, rows, due_now)
    load_s = time.perf_counter() - t0
    indexed, found = time_scan(rt)
    with engine.begin() as conn:
        conn.execute(text("DROP INDEX ix_nomination_open_due"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("ANALYZE nomination"))
    unindexed, _ = time_scan(rt, repeat=3)
    engine.dispose()
    return [
        (f"{label}: load {rows:,} open nominations", f"{load_s:.1f} s"),
        (
            f"{label}: scan with index (closed, due_at), median of 5",
            f"{indexed * 1000:.1f} ms ({found} reminders)",
        ),
        (
            f"{label}: same scan without the index (baseline), median of 3",
            f"{unindexed * 1000:.1f} ms",
        ),
        (f"{label}: ratio indexed / baseline", f"{indexed / unindexed:.3f}"),
    ]


def claim_figures(label: str, url: str, due: int) -> list[tuple[str, str]]:
    """The reminder job's scan-and-claim (`reminder_claims.claim_reminders`) over `due` due nominations:
    the first scan (claims everything) beside a scan with nothing new (median of 5), once the
    first scan's reminders are marked sent (the backlog stays open and due)."""
    engine = make_engine(url)
    upgrade(engine)
    rt = open_runtime(Settings(database_url=url), engine=engine)
    with write_tx(engine) as conn:
        apply_seed(conn, load_seed(PROJECT_ROOT / "config" / "demo.yaml", rt.roles), rt.roles)
    fill(engine, due, due)
    # The check a scan makes before it claims (outside the write lock): whether anything is
    # new. Baseline in the same run: the check it replaced, the whole due scan's rows fetched
    # (`due_rows(..., unclaimed_only=True)`; the claim then ran the same scan again).
    checks, old_checks = [], []
    for _ in range(3):
        now = datetime.now(UTC)
        today, horizon = reminders._horizon(now, rt.settings.reminder_days_before)
        with engine.connect() as conn:
            start = time.perf_counter()
            assert reminders.any_unclaimed(conn, rt.registry, now=now)
            checks.append(time.perf_counter() - start)
            start = time.perf_counter()
            assert due_scan.due_rows(
                conn, rt.registry, today=today, horizon=horizon, unclaimed_only=True
            )
            old_checks.append(time.perf_counter() - start)
    check, old_check = statistics.median(checks), statistics.median(old_checks)
    start = time.perf_counter()
    groups = reminder_claims.claim_reminders(engine, rt.registry, rt.settings)
    first = time.perf_counter() - start
    claimed = sum(len(ids) for ids in groups)
    # Baseline in the same run: the same backlog claimed the old way (issue 12 item 4), the
    # scan's rows built into items in Python and inserted one ledger row each (INSERTs of 500
    # rows, 8 parameters a row), after the set-based claim's rows are deleted.
    with write_tx(engine) as conn:
        conn.execute(text("delete from reminder_ledger"))
    start = time.perf_counter()
    now = datetime.now(UTC)
    with engine.connect() as conn:
        items = reminders.scan_due(conn, rt.registry, now=now, unclaimed_only=True)
    with write_tx(engine) as conn:
        per_row = len(reminders.claim(conn, items, now=now))
    old_first = time.perf_counter() - start
    # The digests go out (not timed here): the backlog stays due, its reminders are sent.
    with write_tx(engine) as conn:
        conn.execute(
            text("update reminder_ledger set status = 'sent', sent_at = claimed_at, attempts = 1")
        )
    times = []
    for _ in range(5):
        start = time.perf_counter()
        assert reminder_claims.claim_reminders(engine, rt.registry, rt.settings) == []
        times.append(time.perf_counter() - start)
    again = statistics.median(times)
    # A full scan (a new day, a changed role holder, every KHENTHUONG_FULL_SCAN_SECONDS)
    # over the same unchanged backlog: recipients and keys worked out in the database, the
    # ledger's reminders left out there (issue 12 item 4: it used to rebuild every item in
    # Python, 10-20 s at 100,000).
    full_settings = rt.settings.model_copy(update={"full_scan_seconds": 0})
    fulls = []
    for _ in range(3):
        start = time.perf_counter()
        assert reminder_claims.claim_reminders(engine, rt.registry, full_settings) == []
        fulls.append(time.perf_counter() - start)
    full = statistics.median(fulls)
    engine.dispose()
    verdict = "PASS" if again < 0.050 else "MISS"
    return [
        (
            f"{label}: check before the first claim (any_unclaimed), {due:,} due (median of 3)",
            f"{check * 1000:,.1f} ms (x{check / old_check:.4f} the baseline)",
        ),
        (
            f"{label}: baseline: the old check, the whole due scan fetched, {due:,} due",
            f"{old_check * 1000:,.0f} ms",
        ),
        (
            f"{label}: first scan, {due:,} due nominations",
            f"{first * 1000:,.0f} ms ({claimed:,} claimed; x{first / old_first:.3f} the baseline)",
        ),
        (
            f"{label}: baseline: per-row claim from Python (scan_due + claim), {due:,} due",
            f"{old_first * 1000:,.0f} ms ({per_row:,} claimed)",
        ),
        (
            f"{label}: scan with nothing new, {due:,} due (median of 5; target < 50 ms)",
            f"{again * 1000:.1f} ms {verdict}",
        ),
        (
            f"{label}: full scan with nothing new, {due:,} due (median of 3)",
            f"{full * 1000:,.0f} ms (x{full / first:.3f} the first scan)",
        ),
    ]


def on_fresh_pg(work) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """`work(url)` on a PostgreSQL database of its own, dropped afterwards."""
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL skipped: {exc}")
        return []
    try:
        return list(work(PG_URL.rsplit("/", 1)[0] + f"/{name}"))
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def mail_figures(count: int = 300) -> list[tuple[str, str]]:
    from datetime import date

    from khenthuong.notify.mail_settings import MailSettings
    from khenthuong.notify.render import Digest, DigestItem, Sender, render_digest
    from khenthuong.notify.smtp import send_messages
    from tests.smtp_fixture import SmtpServer

    items = tuple(
        DigestItem(
            i,
            f"Nguyễn Văn {i}",
            "Giấy khen",
            "Hội đồng TĐKT đơn vị xét",
            date(2026, 12, 8),
            3,
            "before",
        )
        for i in range(5)
    )
    start = time.perf_counter()
    messages = [
        render_digest(
            Digest(f"cb{i}@bcy.example", f"Cán bộ {i}", items),
            ledger_key=f"bench:{i}",
            sender=Sender(),
        )
        for i in range(count)
    ]
    render_s = time.perf_counter() - start
    with SmtpServer() as server:
        settings = MailSettings(host=server.host, port=server.port)
        start = time.perf_counter()
        results = send_messages(messages, settings)
        send_s = time.perf_counter() - start
    assert all(r.ok for r in results)
    return [
        (f"render {count} digests (baseline: no SMTP)", f"{count / render_s:,.0f} msg/s"),
        (
            "render + send over one SMTP connection to aiosmtpd",
            f"{count / (render_s + send_s):,.0f} msg/s",
        ),
        ("send only", f"{count / send_s:,.0f} msg/s"),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--due", type=int, default=2_000)
    parser.add_argument("--no-pg", action="store_true")
    parser.add_argument(
        "--claim-sizes", default="10000,100000", help="due nominations for the claim figures"
    )
    parser.add_argument(
        "--claims-only", action="store_true", help="only the scan-and-claim figures"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(PROJECT_ROOT))
    print("load average at start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    figures: list[tuple[str, str]] = []
    sizes = [int(n) for n in args.claim_sizes.split(",") if n]
    if not args.no_pg:
        for due in sizes:
            figures += on_fresh_pg(lambda url, due=due: claim_figures("PostgreSQL", url, due))
    for due in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            figures += claim_figures("SQLite", f"sqlite:///{tmp}/claim.db", due)
    if not args.claims_only:
        if not args.no_pg:
            figures += on_fresh_pg(lambda url: run_backend("PostgreSQL", url, args.rows, args.due))
        with tempfile.TemporaryDirectory() as tmp:
            figures += run_backend("SQLite", f"sqlite:///{tmp}/bench.db", args.rows, args.due)
        figures += mail_figures()
    width = max(len(k) for k, _ in figures)
    for key, value in figures:
        print(f"{key:<{width}}  {value}")
    print("load average at end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
