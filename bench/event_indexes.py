"""Benchmark: what each secondary index of the `event` table buys the queries that read it.

Run from the repository root:

    .venv/bin/python bench/event_indexes.py                   # 1,000,000 events, SQLite
    .venv/bin/python bench/event_indexes.py --events 200000   # quicker

Every step writes one event, and every index of the event table is one more b-tree page
written (and fsync'd) per step. This script shows, for each index the schema ever had,
the queries that would use it (the audit trail's filters through
`audit.query.query_events`, as the audit page, the API and `khenthuong audit query` run
them; a nomination's timeline through `audit.query.history`) timed with and without it:
a SQLite file (WAL) migrated to the head, N events written by one SQL statement (100,000
nominations' streams, 16 workflows and a rare one, 2,000 actors in 400 units, a skewed mix of triggers
and states), `ANALYZE`, then per index: the queries with every index present, the same
with that index dropped (median of 5 each). Figures only, never asserted.
"""

from __future__ import annotations

import sys
from pathlib import Path

if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, text

from khenthuong.audit.query import AuditFilter, history, query_events
from khenthuong.storage.db import make_engine
from khenthuong.storage.migrate import upgrade

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


def fill(engine: Engine, events: int) -> None:
    """N events in one INSERT … SELECT over a recursive counter (no ORM, no Python loop)."""
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
    sql = f"""
        WITH RECURSIVE c(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM c WHERE i + 1 < {events}),
        r AS (SELECT i, {trig} AS t FROM c)
        INSERT INTO event (id, stream, seq, nomination_id, workflow, occurred_at, actor,
                           actor_role, actor_unit, "trigger", from_state, to_state, comment,
                           payload, prev_hash, hash)
        SELECT i + 1, 'nomination:' || (i % {NOMINATIONS} + 1), i / {NOMINATIONS} + 1,
               i % {NOMINATIONS} + 1,
               CASE WHEN i % {NOMINATIONS} % 200 = 0 THEN 'wf_rare'
                    ELSE 'wf' || (i % {NOMINATIONS} % 16) END,
               strftime('%Y-%m-%d %H:%M:%f', '{BASE.strftime("%Y-%m-%d %H:%M:%S")}', '+' || i || ' seconds'),
               'user' || ((i * 31) % 2000), 'unit_officer', 'U' || ((i * 31) % 2000 % 400), t,
               {from_state}, {to_state}, NULL, '{{}}', printf('%064d', i), printf('%064d', i + 1)
        FROM r
    """
    raw = engine.raw_connection()  # the nominations are not there: foreign keys off
    try:
        raw.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        raw.driver_connection.execute(sql)  # type: ignore[union-attr]
    finally:
        raw.close()
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")


def queries() -> dict[str, Callable[..., object]]:
    mid = BASE + timedelta(days=5)
    page = 1000

    def audit(**kw: object) -> Callable[..., object]:
        return lambda conn: list(query_events(conn, AuditFilter(limit=page, **kw)))  # type: ignore[arg-type]

    return {
        "whole trail, first page": audit(),
        "actor (1 of 2,000)": audit(actor="user17"),
        "unit (1 of 400)": audit(unit="U17"),
        "workflow (1 of 16)": audit(workflow="wf3"),
        "workflow (rare, 0.5 %)": audit(workflow="wf_rare"),
        "trigger 'submit' (30 %)": audit(trigger="submit"),
        "trigger 'revoke' (0.2 %)": audit(trigger="revoke"),
        "state 'head_decision' (40 %)": audit(state="head_decision"),
        "state 'revoked' (0.2 %)": audit(state="revoked"),
        "one hour (since/until)": audit(since=mid, until=mid + timedelta(hours=1)),
        "a nomination's timeline (history)": lambda conn: history(conn, 4242),
    }


def timed(engine: Engine, run: Callable[..., object], reps: int = 5) -> float:
    samples = []
    for _ in range(reps):
        with engine.connect() as conn:
            t0 = time.perf_counter()
            run(conn)
            samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def present(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'event'"
        )
        return {r[0] for r in rows}


def uptime() -> str:
    """The machine's load, printed beside the figures (the cores are shared)."""
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    print("load:", uptime())
    folder = Path(tempfile.mkdtemp(prefix="khenthuong-idx-"))
    try:
        engine = make_engine(f"sqlite:///{folder / 'idx.db'}", sqlite_synchronous="FULL")
        upgrade(engine)
        with engine.begin() as conn:
            for name in present(engine) & set(INDEXES):
                conn.execute(text(f"DROP INDEX {name}"))
        t0 = time.perf_counter()
        fill(engine, args.events)
        with engine.begin() as conn:
            for name, columns in INDEXES.items():
                conn.execute(text(f"CREATE INDEX {name} ON event ({columns})"))
            conn.exec_driver_sql("ANALYZE")
        print(f"{args.events:,} events written and indexed in {time.perf_counter() - t0:.1f} s")
        work = queries()
        every = {q: timed(engine, run) for q, run in work.items()}
        print(
            f"\n{'query':38} {'all indexes':>12}  "
            + "  ".join(f"{'−' + n[9:]:>16}" for n in INDEXES)
        )
        without: dict[str, dict[str, float]] = {}
        for name, columns in INDEXES.items():
            with engine.begin() as conn:
                conn.execute(text(f"DROP INDEX {name}"))
            without[name] = {q: timed(engine, run) for q, run in work.items()}
            with engine.begin() as conn:
                conn.execute(text(f"CREATE INDEX {name} ON event ({columns})"))
        for q in work:
            cells = "  ".join(
                f"{without[n][q] * 1e3:9.1f} ms ×{without[n][q] / every[q]:4.1f}" for n in INDEXES
            )
            print(f"{q:38} {every[q] * 1e3:9.1f} ms  {cells}")
        print("\nWithout every index at once:")
        with engine.begin() as conn:
            for name in INDEXES:
                conn.execute(text(f"DROP INDEX {name}"))
        for q, run in work.items():
            t = timed(engine, run, reps=3)
            print(f"{q:38} {t * 1e3:9.1f} ms ×{t / every[q]:6.1f}")
        print("load:", uptime())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
