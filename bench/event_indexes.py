"""Benchmark: what each secondary index of the `event` table buys the queries that read it.

Run from the repository root:

    .venv/bin/python bench/event_indexes.py                   # 1,000,000 events, SQLite
    .venv/bin/python bench/event_indexes.py --events 200000   # quicker
    .venv/bin/python bench/event_indexes.py --pg              # PostgreSQL instead
    .venv/bin/python bench/event_indexes.py --pg postgresql+psycopg://user@host:5432/db

Every step writes one event, and every index of the event table is one more b-tree page
written (and fsync'd) per step. This script shows, for each index the schema ever had,
the queries that would use it (the audit trail's filters through
`audit.query.query_events`, as the audit page, the API and `khenthuong audit query` run
them; a nomination's timeline through `audit.query.history`) timed with and without it:
a database migrated to the head (a SQLite file in WAL, or with `--pg` a fresh PostgreSQL
database `bench_<random>` on the server of KHENTHUONG_BENCH_PG_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/test, dropped at the end), N events written
by one SQL statement (a recursive counter on SQLite, `generate_series` on PostgreSQL:
100,000 nominations' streams, 16 workflows and a rare one, 2,000 actors in 400 units, a
skewed mix of triggers and states), `ANALYZE` (`VACUUM ANALYZE` on PostgreSQL), then per
index: the queries with every index present, the same with that index dropped (median of
5 each); then with the three indexes no SQLite query was seen to need (workflow, to_state,
from_state) dropped together, with the plans of the queries they could serve. Figures
only, never asserted.
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, inspect, text

from khenthuong.audit.query import AuditFilter, _statement, history, query_events
from khenthuong.storage.db import make_engine
from khenthuong.storage.migrate import upgrade

PG_URL = os.environ.get(
    "KHENTHUONG_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
INDEXES = {
    "ix_event_actor_time": "actor, occurred_at",
    "ix_event_unit_time": "actor_unit, occurred_at",
    "ix_event_workflow_time": "workflow, occurred_at",
    "ix_event_trigger_time": "trigger, occurred_at",
    "ix_event_to_state_time": "to_state, occurred_at",
    "ix_event_from_state_time": "from_state, occurred_at",
    "ix_event_nomination": "nomination_id, seq",
    "ix_event_occurred_at": "occurred_at",
}
THREE = ("ix_event_workflow_time", "ix_event_to_state_time", "ix_event_from_state_time")
"""The indexes no query was seen to need on SQLite: dropped together at the end."""
BASE = datetime(2026, 1, 5, 7, 0, 0, tzinfo=UTC)
NOMINATIONS = 100_000
# Triggers by share of events (per mille): the common steps, then the rare ones.
TRIGGERS = [("submit", 300), ("council_approve", 250), ("create", 200), ("decide", 150),
            ("return_for_supplement", 60), ("withdraw", 25), ("reject", 13), ("revoke", 2)]  # fmt: skip
STATES = ["draft", "unit_council", "head_decision", "decided", "returned", "withdrawn",
          "rejected", "revoked"]  # fmt: skip


def _case(column: str, pairs: list[tuple[str, int]]) -> str:
    """A CASE over `i % 1000` that picks each value for its share of rows."""
    parts, edge = [], 0
    for value, share in pairs:
        edge += share
        parts.append(f"WHEN ({column}) < {edge} THEN '{value}'")
    return "CASE " + " ".join(parts) + f" ELSE '{pairs[-1][0]}' END"


def insert_sql(counter: str, occurred_at: str, hash_of: Callable[[str], str]) -> str:
    """The one INSERT … SELECT of both databases. `counter`: a CTE `c(i)` counting from 0;
    `occurred_at`: BASE + i seconds; `hash_of(expr)`: 64 characters from an integer."""
    trig = _case("(i * 7919) % 1000", TRIGGERS)
    # to_state follows the trigger; from_state is the state before it.
    to_state = (
        "CASE t WHEN 'submit' THEN 'unit_council' WHEN 'council_approve' THEN 'head_decision' "
        "WHEN 'create' THEN 'draft' WHEN 'decide' THEN 'decided' WHEN 'return_for_supplement' "
        "THEN 'returned' WHEN 'withdraw' THEN 'withdrawn' WHEN 'reject' THEN 'rejected' "
        "ELSE 'revoked' END"
    )
    from_state = (
        "CASE t WHEN 'submit' THEN 'draft' WHEN 'council_approve' THEN 'unit_council' "
        "WHEN 'create' THEN NULL WHEN 'decide' THEN 'head_decision' WHEN 'revoke' THEN 'decided' "
        "ELSE 'unit_council' END"
    )
    return f"""
        WITH {counter},
        r AS (SELECT i, {trig} AS t FROM c)
        INSERT INTO event (id, stream, seq, nomination_id, workflow, occurred_at, actor,
                           actor_role, actor_unit, "trigger", from_state, to_state, comment,
                           payload, prev_hash, hash)
        SELECT i + 1, 'nomination:' || (i % {NOMINATIONS} + 1), i / {NOMINATIONS} + 1,
               i % {NOMINATIONS} + 1,
               CASE WHEN i % {NOMINATIONS} % 200 = 0 THEN 'wf_rare'
                    ELSE 'wf' || (i % {NOMINATIONS} % 16) END,
               {occurred_at},
               'user' || ((i * 31) % 2000), 'unit_officer', 'U' || ((i * 31) % 2000 % 400), t,
               {from_state}, {to_state}, NULL, '{{}}', {hash_of("i")}, {hash_of("i + 1")}
        FROM r
    """


def fill(engine: Engine, events: int) -> None:
    """N events in one INSERT … SELECT (no ORM, no Python loop), then the statistics."""
    base = BASE.strftime("%Y-%m-%d %H:%M:%S")
    if engine.dialect.name == "postgresql":
        sql = insert_sql(
            f"c(i) AS (SELECT generate_series(0::bigint, {events - 1}))",
            f"timestamptz '{base}+00' + i * interval '1 second'",
            lambda n: f"lpad(({n})::text, 64, '0')",
        )
        with engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")  # no FK checks
            conn.execute(text(sql))  # text(): the driver would read each % as a placeholder
            conn.exec_driver_sql(
                "SELECT setval(pg_get_serial_sequence('event', 'id'), max(id)) FROM event"
            )
        # VACUUM too: as autovacuum would leave it (hint bits set, visibility map for
        # index-only scans), not the first reads of rows just written.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM ANALYZE event")
        return
    sql = insert_sql(
        f"RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < {events})",
        f"strftime('%Y-%m-%d %H:%M:%f', '{base}', '+' || i || ' seconds')",
        lambda n: f"printf('%064d', {n})",
    )
    raw = engine.raw_connection()  # the nominations are not there: foreign keys off
    try:
        raw.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        raw.driver_connection.execute(sql)  # type: ignore[union-attr]
    finally:
        raw.close()
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")


FILTERS = {
    "whole trail, first page": AuditFilter(),
    "actor (1 of 2,000)": AuditFilter(actor="user17"),
    "unit (1 of 400)": AuditFilter(unit="U17"),
    "workflow (1 of 16)": AuditFilter(workflow="wf3"),
    "workflow (rare, 0.5 %)": AuditFilter(workflow="wf_rare"),
    "trigger 'submit' (30 %)": AuditFilter(trigger="submit"),
    "trigger 'revoke' (0.2 %)": AuditFilter(trigger="revoke"),
    "state 'head_decision' (40 %)": AuditFilter(state="head_decision"),
    "state 'revoked' (0.2 %)": AuditFilter(state="revoked"),
    "one hour (since/until)": AuditFilter(
        since=BASE + timedelta(days=5), until=BASE + timedelta(days=5, hours=1)
    ),
}
"""`query_events` filters, each with a page of 1,000 (AuditFilter's default limit)."""
PLANNED = ("state 'revoked' (0.2 %)", "state 'head_decision' (40 %)", "workflow (rare, 0.5 %)")
"""The queries the three indexes could serve: their plans are printed with and without."""


def queries() -> dict[str, Callable[..., object]]:
    work: dict[str, Callable[..., object]] = {
        label: lambda conn, f=f: list(query_events(conn, f)) for label, f in FILTERS.items()
    }
    work["a nomination's timeline (history)"] = lambda conn: history(conn, 4242)
    return work


def timed(engine: Engine, run: Callable[..., object], reps: int) -> float:
    samples = []
    for _ in range(reps):
        with engine.connect() as conn:
            t0 = time.perf_counter()
            run(conn)
            samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def time_all(engine: Engine, work: dict[str, Callable[..., object]], reps: int) -> dict[str, float]:
    return {q: timed(engine, run, reps) for q, run in work.items()}


def present(engine: Engine) -> set[str]:
    return {str(ix["name"]) for ix in inspect(engine).get_indexes("event")}


def drop(engine: Engine, names: tuple[str, ...]) -> None:
    with engine.begin() as conn:
        for name in names:
            conn.execute(text(f"DROP INDEX {name}"))


def create(engine: Engine, names: tuple[str, ...]) -> None:
    """The indexes back, with their statistics (SQLite forgets an index's sqlite_stat1
    row when it is dropped; PostgreSQL plans a plain index from the table's statistics)."""
    with engine.begin() as conn:
        for name in names:
            conn.execute(text(f"CREATE INDEX {name} ON event ({INDEXES[name]})"))
            if engine.dialect.name == "sqlite":
                conn.execute(text(f"ANALYZE {name}"))


def plan(engine: Engine, f: AuditFilter) -> str:
    """The plan of the query `query_events` runs for `f` (PostgreSQL: run, with buffers)."""
    with engine.connect() as conn:
        sql = str(_statement(conn, f).compile(engine, compile_kwargs={"literal_binds": True}))
        if engine.dialect.name == "postgresql":
            rows = conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql)
            return "\n".join(str(row[0]) for row in rows)
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)
        return "\n".join(str(row[-1]) for row in rows)


def print_plans(engine: Engine, heading: str) -> None:
    # New connections: sqlite3 reuses a cached EXPLAIN statement after an index is dropped
    # (an EXPLAIN program does not check the schema cookie).
    engine.dispose()
    for label in PLANNED:
        print(f"\n--- plan, {heading}: {label}")
        print(plan(engine, FILTERS[label]))


def uptime() -> str:
    """The machine's load, printed beside the figures (the cores are shared)."""
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def settings(engine: Engine) -> str:
    with engine.connect() as conn:
        if engine.dialect.name != "postgresql":
            return "SQLite " + str(conn.exec_driver_sql("SELECT sqlite_version()").scalar())
        names = ("shared_buffers", "work_mem", "effective_cache_size", "random_page_cost",
                 "max_parallel_workers_per_gather")  # fmt: skip
        shown = ", ".join(f"{n}={conn.exec_driver_sql(f'SHOW {n}').scalar()}" for n in names)
        version = str(conn.exec_driver_sql("SHOW server_version").scalar())
        size = conn.exec_driver_sql("SELECT pg_size_pretty(pg_total_relation_size('event'))")
        return f"PostgreSQL {version} ({shown}); event table with indexes: {size.scalar()}"


@contextmanager
def database(pg_url: str | None) -> Iterator[str]:
    """A SQLite file in a temporary folder, or a fresh PostgreSQL database on `pg_url`'s
    server; removed at the end, even on failure."""
    if pg_url is None:
        folder = Path(tempfile.mkdtemp(prefix="khenthuong-idx-"))
        try:
            yield f"sqlite:///{folder / 'idx.db'}"
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(pg_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield pg_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def report(
    every: dict[str, float], without: dict[str, dict[str, float]], columns: list[str]
) -> None:
    """The raw table (ms and factor per cell), then the factors as a Markdown table."""
    short = [c if c == "the three" else c[9:] for c in columns]
    print(f"\n{'query':38} {'all indexes':>12}  " + "  ".join(f"{'−' + s:>16}" for s in short))
    for q, base in every.items():
        cells = "  ".join(
            f"{without[c][q] * 1e3:9.1f} ms ×{without[c][q] / base:4.1f}" for c in columns
        )
        print(f"{q:38} {base * 1e3:9.1f} ms  {cells}")
    print(
        "\n| query (`query_events` filter) | all indexes | "
        + " | ".join(f"−{s}" for s in short)
        + " |"
    )
    print("| --- | ---: | " + " | ".join("---:" for _ in columns) + " |")
    for q, base in every.items():
        factors = " | ".join(f"{without[c][q] / base:.1f}" for c in columns)
        print(f"| {q} | {base * 1e3:.1f} ms | {factors} |")


def run(engine: Engine, events: int, reps: int) -> None:
    upgrade(engine)
    drop(engine, tuple(present(engine) & set(INDEXES)))
    t0 = time.perf_counter()
    fill(engine, events)
    create(engine, tuple(INDEXES))
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE event")
    print(f"{events:,} events written and indexed in {time.perf_counter() - t0:.1f} s")
    print(settings(engine))
    work = queries()
    time_all(engine, work, 1)  # warm-up: the first column is not the one with cold caches
    every = time_all(engine, work, reps)
    without: dict[str, dict[str, float]] = {}
    for name in INDEXES:
        drop(engine, (name,))
        without[name] = time_all(engine, work, reps)
        create(engine, (name,))
    print_plans(engine, "every index")
    drop(engine, THREE)
    without["the three"] = time_all(engine, work, reps)
    print_plans(engine, "without " + ", ".join(THREE))
    report(every, without, [*INDEXES, "the three"])
    print("\nWithout every index at once:")
    drop(engine, tuple(n for n in INDEXES if n not in THREE))
    for q, run_query in work.items():
        t = timed(engine, run_query, reps=3)
        print(f"{q:38} {t * 1e3:9.1f} ms ×{t / every[q]:6.1f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--reps", type=int, default=5, help="runs of each query (median)")
    parser.add_argument(
        "--pg", nargs="?", const=PG_URL, metavar="URL",
        help=f"on PostgreSQL (a fresh database on URL's server; default {PG_URL}) instead of SQLite",
    )  # fmt: skip
    args = parser.parse_args(argv)
    print("load:", uptime())
    with database(args.pg) as url:
        engine = make_engine(url)
        try:
            run(engine, args.events, args.reps)
        finally:
            engine.dispose()
    print("load:", uptime())


if __name__ == "__main__":
    main()
