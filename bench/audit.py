"""Benchmark: sealing and verifying the audit log of 1,000,000 events on PostgreSQL.

Run:  .venv/bin/python bench/audit.py [--events N] [--streams S] [--sqlite]

Prints figures only (no assertions). Events are hash-chained exactly as the application
writes them (S streams, round robin) and loaded with COPY. Measured:
- the first checkpoint: every event sealed (leaf blocks written) and the tree built;
- a full tree rebuild from the stored leaf blocks (what the sealer does when it cannot trust the
  stored right edge), right after they were written and again after VACUUM;
- an incremental checkpoint after 10,000 new events (five rounds, the median; beside the
  leaf-hash baseline of the same 10,000 events);
- full verification: `verify_all` (every chain) and `verify_seal` (leaves recomputed from
  the events, the tree, the stream heads) against the last checkpoint.
Baseline in the same run: hashing the same events with hashlib alone (each event's
SHA-256 over its canonical material, i.e. `event_hash`, and SHA-256 over each leaf).

`--history` (issue 19): one nomination's timeline among 10,000,000 events on PostgreSQL.
A fresh database (created and dropped here), the events written by one INSERT … SELECT
over `generate_series` (no ORM, no Python loop; foreign keys not checked while loading,
the event indexes built after): a million nominations of about ten events each, and
nomination 1 with 1,000 events spread evenly through the whole table (one every 10,000
events, as a long-running file's steps would be). Timed: `audit.query.history` (what the
nomination page, `GET /api/nominations/{id}/history` and `khenthuong history` call) of the
1,000-event nomination and of a 10-event one, median of 20 after one warm-up; baseline in
the same run: the same rows fetched by a bare `SELECT … WHERE nomination_id = ? ORDER BY seq`
through the driver (no decoding).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path[:] = [p for p in sys.path if Path(p).resolve() != Path(__file__).resolve().parent]

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from sqlalchemy import Engine, text  # noqa: E402
from sqlalchemy.schema import CreateIndex  # noqa: E402

from khenthuong.audit.chain import (  # noqa: E402
    GENESIS,
    HASHED_FIELDS,
    canonical_json,
    event_hash,
    timestamp_text,
)
from khenthuong.audit.leaves import leaf_of  # noqa: E402
from khenthuong.audit.query import HISTORY_LIMIT, HISTORY_SQL_PG, history  # noqa: E402
from khenthuong.audit.seal import rebuild_edge, seal  # noqa: E402
from khenthuong.audit.seal_verify import verify_seal  # noqa: E402
from khenthuong.audit.verify import verify_all  # noqa: E402
from khenthuong.storage.db import make_engine, write_tx  # noqa: E402
from khenthuong.storage.migrate import upgrade  # noqa: E402
from khenthuong.storage.models import EVENTS, STREAM_HEADS  # noqa: E402

PG_URL = os.environ.get(
    "KHENTHUONG_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
COLUMNS = (
    "stream",
    "seq",
    "workflow",
    "occurred_at",
    "actor",
    "actor_role",
    "actor_unit",
    "trigger",
    "from_state",
    "to_state",
    "comment",
    "payload",
    "prev_hash",
    "hash",
)


def make_events(start: int, count: int, streams: int, heads: dict[str, tuple[int, str]]) -> list:  # type: ignore[type-arg]
    """`count` chained events continuing `heads` (updated in place)."""
    base = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for i in range(start, start + count):
        stream = f"bench:{i % streams}"
        seq, prev = heads.get(stream, (0, GENESIS))
        fields = {
            "stream": stream,
            "seq": seq + 1,
            "nomination_id": None,
            "workflow": "giay_khen",
            "occurred_at": base + timedelta(seconds=i),
            "actor": "cb.qd",
            "actor_role": "unit_officer",
            "actor_unit": "CCYQD",
            "trigger": "submit",
            "from_state": "draft",
            "to_state": "unit_council",
            "comment": None,
            "payload": canonical_json({"n": i}),
            "prev_hash": prev,
        }
        fields["hash"] = event_hash(fields)
        heads[stream] = (seq + 1, fields["hash"])
        rows.append(fields)
    return rows


def load(engine: Engine, rows: list, heads: dict[str, tuple[int, str]]) -> None:  # type: ignore[type-arg]
    """Insert events (COPY on PostgreSQL) and set the stream heads."""
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            with cur.copy(f"COPY event ({', '.join(COLUMNS)}) FROM STDIN") as copy:  # type: ignore[attr-defined]
                for r in rows:
                    copy.write_row([r[c] for c in COLUMNS])
            raw.commit()
        finally:
            raw.close()
    else:
        with write_tx(engine) as conn:
            conn.execute(EVENTS.insert(), [{c: r[c] for c in COLUMNS} for r in rows])
    with write_tx(engine) as conn:
        conn.execute(STREAM_HEADS.delete())
        conn.execute(
            STREAM_HEADS.insert(),
            [{"stream": s, "seq": q, "hash": h} for s, (q, h) in heads.items()],
        )
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE event"))


def timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def run(
    label: str, url: str, events: int, streams: int, verify: bool = True
) -> list[tuple[str, str]]:
    engine = make_engine(url)
    upgrade(engine)
    key = Ed25519PrivateKey.generate()
    heads: dict[str, tuple[int, str]] = {}
    t_gen, rows = timed(lambda: make_events(0, events, streams, heads))
    t_load, _ = timed(lambda: load(engine, rows, heads))
    material = [
        canonical_json(
            {**{k: r[k] for k in HASHED_FIELDS}, "occurred_at": timestamp_text(r["occurred_at"])}
        ).encode("utf-8")
        for r in rows
    ]
    t_base_events, _ = timed(lambda: [hashlib.sha256(m).digest() for m in material])
    t_base_leaves, _ = timed(lambda: [leaf_of(r["stream"], r["seq"], r["hash"]) for r in rows])

    def first() -> None:
        with write_tx(engine) as conn:
            seal(conn, key)

    t_first, _ = timed(first)

    def rebuild() -> int:
        """What the sealer does when it cannot trust the stored right edge."""
        with engine.connect() as conn:
            return rebuild_edge(conn).size

    t_rebuild, _ = timed(rebuild)
    if engine.dialect.name == "postgresql":
        # As autovacuum leaves the leaf blocks written earlier: the first read of rows
        # just written also sets their hint bits (and writes those pages back).
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE audit_leaf_block"))
    t_rebuild_vacuumed, _ = timed(rebuild)
    rounds = []  # (wall, CPU of this process, leaf-hash baseline of the same new events)
    for _ in range(INCREMENTAL_ROUNDS):
        more = make_events(events + len(rounds) * 10_000, 10_000, streams, heads)
        load(engine, more, heads)
        base, _ = timed(lambda more=more: [leaf_of(r["stream"], r["seq"], r["hash"]) for r in more])
        start_cpu = time.process_time()
        wall, _ = timed(first)
        rounds.append((wall, time.process_time() - start_cpu, base))
    t_incr = statistics.median(r[0] for r in rounds)
    t_incr_cpu = statistics.median(r[1] for r in rounds)
    t_incr_base = statistics.median(r[2] for r in rounds)
    incremental = (
        f"{t_incr * 1000:.0f} ms median of {len(rounds)} "
        f"({', '.join(f'{r[0] * 1000:.0f}' for r in rounds)}; CPU of this process "
        f"{t_incr_cpu * 1000:.0f} ms; x{t_incr / t_incr_base:.1f} the leaf-hash baseline of "
        f"{t_incr_base * 1000:.0f} ms) {'PASS' if t_incr < 0.05 else 'MISS'} (< 50 ms)"
    )
    rebuilt = ", ".join(
        f"{took:.2f} s {when} (x{took / t_base_leaves:.1f} the leaf-hash baseline) "
        f"{'PASS' if took < 5 else 'MISS'} (< 5 s)"
        for took, when in ((t_rebuild, "just written"), (t_rebuild_vacuumed, "vacuumed"))
    )

    def verify_chains() -> int:
        with engine.connect() as conn:
            return verify_all(conn).events

    def verify_sealed() -> bool:
        with engine.connect() as conn:
            return verify_seal(conn, key.public_key()).ok

    if not verify:
        engine.dispose()
        return [
            (f"{label}: baseline: RFC 6962 leaf hash of each event", f"{t_base_leaves:.2f} s"),
            (f"{label}: first checkpoint (seal {events:,} events + tree + sign)", f"{t_first:.2f} s"),
            (f"{label}: full tree rebuild from the leaf blocks", rebuilt),
            (f"{label}: incremental checkpoint after 10,000 new events", incremental),
        ]  # fmt: skip
    t_chains, n = timed(verify_chains)
    t_seal, ok = timed(verify_sealed)
    engine.dispose()
    return [
        (f"{label}: generate {events:,} chained events ({streams:,} streams)", f"{t_gen:.1f} s"),
        (f"{label}: load them", f"{t_load:.1f} s"),
        (f"{label}: baseline: hashlib SHA-256 of each event's material", f"{t_base_events:.2f} s"),
        (f"{label}: baseline: RFC 6962 leaf hash of each event", f"{t_base_leaves:.2f} s"),
        (f"{label}: first checkpoint (seal {events:,} events + tree + sign)", f"{t_first:.2f} s"),
        (f"{label}: full tree rebuild from the leaf blocks", rebuilt),
        (f"{label}: incremental checkpoint after 10,000 new events", incremental),
        (f"{label}: verify_all ({n:,} events, every chain)", f"{t_chains:.2f} s"),
        (f"{label}: verify_seal against the last checkpoint (ok={ok})", f"{t_seal:.2f} s"),
    ]


LONG = 1  # the nomination with the long timeline
INCREMENTAL_ROUNDS = 5
SHORT_NOMINATIONS = 1_000_000


def fill_history(engine: Engine, events: int) -> None:
    """`events` events over a million nominations, nomination 1 holding one in LONG_EVERY
    (BENCH_LONG_EVERY, by default events / 1,000: a timeline of 1,000 events)."""
    long_every = int(os.environ.get("BENCH_LONG_EVERY", str(max(events // 1000, 1))))
    e = EVENTS
    index_sql = [
        str(CreateIndex(ix).compile(engine)) for ix in sorted(e.indexes, key=lambda i: str(i.name))
    ]
    with engine.begin() as conn:
        for ix in e.indexes:
            conn.execute(text(f'DROP INDEX IF EXISTS "{ix.name}"'))
        conn.execute(text("ALTER TABLE event DROP CONSTRAINT IF EXISTS uq_event_stream"))
        conn.execute(text("SET LOCAL session_replication_role = replica"))  # no FK checks
        conn.execute(
            text(
                f"""
                INSERT INTO event (stream, seq, nomination_id, workflow, occurred_at, actor,
                    actor_role, actor_unit, "trigger", from_state, to_state, comment, payload,
                    prev_hash, hash)
                SELECT 'nomination:' || n, s, n, 'giay_khen',
                    timestamptz '2026-01-01 00:00:00+00' + g * interval '1 second',
                    'user' || (g % 2000), 'unit_officer', 'U' || (g % 400),
                    CASE WHEN g % 2 = 0 THEN 'submit' ELSE 'return_for_supplement' END,
                    CASE WHEN g % 2 = 0 THEN 'returned' ELSE 'unit_council' END,
                    CASE WHEN g % 2 = 0 THEN 'unit_council' ELSE 'returned' END,
                    NULL, '{{"reason":"Bổ sung minh chứng"}}',
                    md5(g::text) || md5((g + 1)::text), md5((g + 1)::text) || md5(g::text)
                FROM generate_series(1, :events) AS g,
                LATERAL (SELECT CASE WHEN g % {long_every} = 0 THEN {LONG}
                                     ELSE 2 + (g - 1) % {SHORT_NOMINATIONS} END AS n,
                                CASE WHEN g % {long_every} = 0 THEN g / {long_every}
                                     ELSE (g - 1) / {SHORT_NOMINATIONS} + 1 END AS s) AS k
                """
            ),
            {"events": events},
        )
    with engine.begin() as conn:
        conn.execute(text("ALTER TABLE event ADD CONSTRAINT uq_event_stream UNIQUE (stream, seq)"))
        for sql in index_sql:
            conn.execute(text(sql))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE event"))


def median_ms(fn, reps: int = 20) -> float:  # type: ignore[no-untyped-def]
    fn()
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples) * 1000


def run_history(url: str, events: int) -> list[tuple[str, str]]:
    engine = make_engine(url)
    upgrade(engine)
    t_fill, _ = timed(lambda: fill_history(engine, events))
    short = 2 + 4242
    out = [
        (f"PostgreSQL: {events:,} events written and indexed (generate_series)", f"{t_fill:.0f} s")
    ]
    with engine.connect() as conn:
        count = len(history(conn, LONG))
        raw: Any = conn.connection.dbapi_connection

        def bare(nid: int) -> None:
            with raw.cursor() as cur:
                cur.execute("SELECT * FROM event WHERE nomination_id = %s ORDER BY seq", (nid,))
                cur.fetchall()

        for nid, label in (
            (LONG, f"{count:,} events"),
            (short, f"{len(history(conn, short))} events"),
        ):
            base = median_ms(lambda nid=nid: bare(nid))
            took = median_ms(lambda nid=nid: history(conn, nid))
            verdict = ("PASS" if took < HISTORY_TARGET_MS else "MISS") if nid == LONG else ""
            out.append(
                (f"PostgreSQL: baseline: bare SELECT of a timeline of {label}", f"{base:.2f} ms")
            )
            out.append(
                (f"PostgreSQL: history() of a nomination with {label}",
                 f"{took:.2f} ms (x{took / base:.1f}) {verdict}")
            )  # fmt: skip
        with raw.cursor() as cur:
            cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + HISTORY_SQL_PG, (LONG, HISTORY_LIMIT + 1))
            plan = [row[0] for row in cur.fetchall()]
    engine.dispose()
    print("\n".join(plan))
    return out


HISTORY_TARGET_MS = 5.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--streams", type=int, default=100_000)
    parser.add_argument("--sqlite", action="store_true", help="Also run on SQLite.")
    parser.add_argument("--no-verify", action="store_true", help="Skip the two verifications.")
    parser.add_argument(
        "--history", type=int, metavar="EVENTS", nargs="?", const=10_000_000,
        help="Only the long timeline among EVENTS events (default 10,000,000), PostgreSQL.",
    )  # fmt: skip
    args = parser.parse_args()
    print(subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip())
    figures: list[tuple[str, str]] = []
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL skipped: {exc}")
    else:
        try:
            url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
            if args.history:
                figures += run_history(url, args.history)
            else:
                figures += run(
                    "PostgreSQL", url, args.events, args.streams, verify=not args.no_verify
                )
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    if args.sqlite and not args.history:
        with tempfile.TemporaryDirectory() as tmp:
            figures += run("SQLite", f"sqlite:///{tmp}/bench.db", args.events, args.streams)
    width = max(len(k) for k, _ in figures)
    for key, value in figures:
        print(f"{key:<{width}}  {value}")
    print(subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip())


if __name__ == "__main__":
    main()
