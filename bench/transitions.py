"""Benchmark: one workflow step through the engine against the raw writes it needs.

Run from the repository root:

    .venv/bin/python bench/transitions.py            # full run (a few minutes)
    .venv/bin/python bench/transitions.py --quick    # smoke run (seconds)
    .venv/bin/python bench/transitions.py --profile  # also cProfile the engine on SQLite

It measures, on a SQLite file database (WAL, synchronous=FULL, in a temp dir) and
on a fresh PostgreSQL database it creates and drops (skipped with a printed reason
when the server does not answer):

1. single steps: `stepping.advance(...)`, one transaction per step, against a
   raw SQLAlchemy Core loop doing the same writes (SELECT version/head_hash, guarded
   UPDATE, INSERT of a hash-chained event, plus the outbox row the engine writes on
   a return step) in its own transaction on the same database in the same run;
2. batches of 1,000: `stepping.advance_batch(...)` against Core executemany
   UPDATE + INSERT of the same rows in one transaction;
3. the state machine alone: one event on a shared machine, and `build_machine`.

Engine and baseline work on separate but identical pools of nominations, and the
rounds alternate between them so any drift (WAL growth, checkpoints, table size)
falls on both. Figures are printed, never asserted. PostgreSQL admin URL:
KHENTHUONG_BENCH_PG_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import sys
from pathlib import Path

# Running `python bench/transitions.py` puts bench/ first on sys.path, where this
# file would shadow the `transitions` package the engine imports.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import cProfile
import gc
import importlib.metadata
import io
import os
import platform
import pstats
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, bindparam, create_engine, insert, select, text, update

from khenthuong.audit.chain import canonical_json, event_hash
from khenthuong.roles import roles_in
from khenthuong.runtime import Runtime, open_runtime
from khenthuong.services import new_nominations, stepping
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.org import apply_seed, load_seed
from khenthuong.settings import PROJECT_ROOT, Settings
from khenthuong.storage.db import make_engine, write_tx
from khenthuong.storage.migrate import upgrade
from khenthuong.storage.models import EVENTS, NOMINATIONS
from khenthuong.storage.outbox import OUTBOX
from khenthuong.workflow.machine import FlowAdapter, build_machine, fire

PG_ADMIN_URL = os.environ.get(
    "KHENTHUONG_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
WORKFLOW = "giay_khen"
UNIT = "CCYQD"
BATCH_SIZE = 1_000
SINGLE_RATIO_TARGET = 1.5
BATCH_TARGET_SQLITE = 10_000.0
PACKAGES = ("transitions", "SQLAlchemy", "sqlmodel", "psycopg", "psycopg-binary", "pydantic")


@dataclass(frozen=True)
class Mode:
    """Sizes of one run."""

    single_pool: int
    single_rounds: int
    warm_rounds: int
    batch_rounds: int
    machine_calls: int
    build_reps: int


FULL = Mode(
    single_pool=200,
    single_rounds=10,
    warm_rounds=2,
    batch_rounds=6,
    machine_calls=50_000,
    build_reps=300,
)
QUICK = Mode(
    single_pool=50,
    single_rounds=4,
    warm_rounds=1,
    batch_rounds=2,
    machine_calls=5_000,
    build_reps=50,
)


@dataclass(frozen=True)
class StepSpec:
    """What one trigger of the submit / return cycle writes."""

    trigger: str
    user: str
    role: str
    source: str
    dest: str
    payload: dict[str, Any]
    due_days: int | None
    """None: the destination state has no time limit."""
    notice: bool
    """The engine writes an outbox notice when a step returns the file to its proposer."""
    closed: bool = False


SUBMIT_FROM_DRAFT = StepSpec(
    "submit", "cb.qd", "unit_officer", "draft", "unit_council", {}, 14, False
)
SUBMIT = StepSpec("submit", "cb.qd", "unit_officer", "returned", "unit_council", {}, 14, False)
RETURN = StepSpec(
    "return_for_supplement",
    "tk.qd",
    "council_secretary",
    "unit_council",
    "returned",
    {"reason": "Bổ sung minh chứng thành tích"},
    7,
    True,
)


@dataclass
class Pool:
    """Nominations that always move together, so they share one state."""

    ids: list[int]
    state: str = "draft"

    def next_spec(self) -> StepSpec:
        if self.state == "draft":
            return SUBMIT_FROM_DRAFT
        return SUBMIT if self.state == "returned" else RETURN


@dataclass
class Timings:
    """Per-operation durations in seconds, with the number of steps each covered."""

    durations: list[float] = field(default_factory=list)
    steps: int = 0

    def add(self, seconds: float, steps: int = 1) -> None:
        self.durations.append(seconds)
        self.steps += steps

    @property
    def total(self) -> float:
        return sum(self.durations)

    @property
    def per_step(self) -> float:
        return self.total / self.steps

    def pct(self, q: float) -> float:
        data = sorted(self.durations)
        return data[min(len(data) - 1, round(q * (len(data) - 1)))]


@dataclass
class Row:
    """One line of the results table."""

    backend: str
    what: str
    steps: int
    per_s: float
    mean_us: float
    p50_us: float | None
    p95_us: float | None
    ratio: float | None = None
    target: str = ""


# --------------------------------------------------------------------------- setup


def versions(packages: Sequence[str] = PACKAGES) -> dict[str, str]:
    found = {}
    for name in packages:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = "-"
    return found


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def open_bench_runtime(url: str) -> tuple[Runtime, dict[str, Actor]]:
    """Migrate, load the shipped workflows and the demo organisations; the two actors."""
    engine = make_engine(url, sqlite_synchronous="FULL")
    upgrade(engine)
    settings = Settings(database_url=url, sqlite_synchronous="FULL")
    runtime = open_runtime(settings, engine=engine)
    roles = roles_in(PROJECT_ROOT / "config")
    with engine.begin() as conn:
        apply_seed(conn, load_seed(PROJECT_ROOT / "config" / "demo.yaml", roles), roles)
    with engine.connect() as conn:
        actors = {u: load_actor(conn, u) for u in ("cb.qd", "tk.qd")}
    return runtime, actors


def make_pools(
    rt: Runtime, proposer: Actor, sizes: Sequence[int], workflow: str = WORKFLOW
) -> list[Pool]:
    """Fresh draft nominations of `workflow`, created in one transaction per pool."""
    pools = []
    for size in sizes:
        with write_tx(rt.engine) as conn:
            ids = [
                new_nominations.create_nomination_in(
                    conn,
                    rt.registry,
                    workflow=workflow,
                    proposing_unit=UNIT,
                    actor=proposer,
                    nominee_name=f"Nguyễn Văn Thử {i}",
                    create_person=True,
                    year=2026,
                )
                for i in range(size)
            ]
        pools.append(Pool(ids))
    return pools


@contextmanager
def sqlite_database() -> Iterator[tuple[str, str]]:
    tmp = Path(tempfile.mkdtemp(prefix="khenthuong-bench-"))
    try:
        yield f"sqlite:///{tmp / 'bench.db'}", str(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def pg_unreachable() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        return f"{exc.__class__.__name__}: {str(exc).strip().splitlines()[0]}"
    return None


@contextmanager
def pg_database() -> Iterator[tuple[str, str]]:
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --------------------------------------------------------------------------- baseline


class Baseline:
    """The same writes as a step, in plain SQLAlchemy Core with prepared statements."""

    def __init__(self, actors: dict[str, Actor], workflow: str = WORKFLOW) -> None:
        n = NOMINATIONS
        self.actors = actors
        self.workflow = workflow
        self.select_one = select(n.c.version, n.c.head_hash).where(n.c.id == bindparam("b_id"))
        self.update = (
            update(n)
            .where(n.c.id == bindparam("b_id"), n.c.version == bindparam("b_old"))
            .values(
                state=bindparam("v_state"),
                closed=bindparam("v_closed"),
                version=n.c.version + 1,
                state_entered_at=bindparam("v_entered"),
                due_at=bindparam("v_due"),
                head_hash=bindparam("v_hash"),
                entered_by=bindparam("v_by"),
            )
        )
        self.insert_event = insert(EVENTS)
        self.insert_outbox = insert(OUTBOX)

    def plan(
        self, nid: int, version: int, head: str, spec: StepSpec, now: datetime
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any] | None]:
        """(UPDATE parameters, event row, outbox row or None) for one step."""
        actor = self.actors[spec.user]
        event = {
            "stream": f"nomination:{nid}",
            "seq": version + 1,
            "nomination_id": nid,
            "workflow": self.workflow,
            "occurred_at": now,
            "actor": actor.username,
            "actor_role": spec.role,
            "actor_unit": actor.unit_code,
            "trigger": spec.trigger,
            "from_state": spec.source,
            "to_state": spec.dest,
            "comment": None,
            "payload": canonical_json(spec.payload),
            "prev_hash": head,
        }
        event["hash"] = event_hash(event)
        params = {
            "b_id": nid,
            "b_old": version,
            "v_state": spec.dest,
            "v_closed": spec.closed,
            "v_entered": now,
            "v_due": None if spec.due_days is None else now + timedelta(days=spec.due_days),
            "v_hash": event["hash"],
            "v_by": actor.username,
        }
        notice = None
        if spec.notice:
            notice = {
                "dedup_key": f"step:{nid}:{version + 1}",
                "kind": "step_notice",
                "payload": canonical_json(
                    {
                        "nomination_id": nid,
                        "seq": version + 1,
                        "trigger": spec.trigger,
                        "from_state": spec.source,
                        "to_state": spec.dest,
                        "actor": actor.username,
                        "comment": None,
                        "payload": spec.payload,
                        "recipient_user": "cb.qd",
                        "at": now.isoformat(),
                    }
                ),
                "created_at": now,
                "available_at": now,
                "status": "pending",
                "attempts": 0,
            }
        return params, event, notice

    def step(self, engine: Engine, nid: int, spec: StepSpec) -> None:
        """One step in its own write transaction."""
        with write_tx(engine) as conn:
            row = conn.execute(self.select_one, {"b_id": nid}).one()
            params, event, notice = self.plan(
                nid, row.version, row.head_hash, spec, datetime.now(UTC)
            )
            if conn.execute(self.update, params).rowcount != 1:
                raise RuntimeError(f"baseline: version conflict on #{nid}")
            conn.execute(self.insert_event, event)
            if notice is not None:
                conn.execute(self.insert_outbox, notice)

    def batch(self, engine: Engine, ids: Sequence[int], spec: StepSpec) -> None:
        """Many steps in one transaction: SELECT, executemany UPDATE, executemany INSERT."""
        n = NOMINATIONS
        now = datetime.now(UTC)
        with write_tx(engine) as conn:
            query = select(n.c.id, n.c.version, n.c.head_hash).where(n.c.id.in_(ids))
            if conn.dialect.name == "postgresql":
                query = query.with_for_update()
            params, events, notices = [], [], []
            for row in conn.execute(query.order_by(n.c.id)):
                p, e, o = self.plan(row.id, row.version, row.head_hash, spec, now)
                params.append(p)
                events.append(e)
                if o is not None:
                    notices.append(o)
            updated = conn.execute(self.update, params)
            if conn.dialect.name != "postgresql" and updated.rowcount != len(params):
                raise RuntimeError("baseline: version conflict in batch")
            conn.execute(self.insert_event, events)
            if notices:
                conn.execute(self.insert_outbox, notices)


# --------------------------------------------------------------------------- measuring


def engine_step(rt: Runtime, actors: dict[str, Actor], nid: int, spec: StepSpec) -> None:
    stepping.advance(rt.engine, rt.registry, nid, spec.trigger, actors[spec.user], spec.payload)


def engine_batch(rt: Runtime, actors: dict[str, Actor], ids: Sequence[int], spec: StepSpec) -> None:
    done, refused = stepping.advance_batch(
        rt.engine, rt.registry, ids, spec.trigger, actors[spec.user], spec.payload
    )
    if refused or len(done) != len(ids):
        raise RuntimeError(f"engine batch refused {len(refused)} steps")


def run_rounds(
    contenders: list[tuple[Pool, Callable[[Pool, StepSpec], None]]], rounds: int
) -> None:
    """Each round moves every pool one step; the contenders' order rotates per round."""
    for r in range(rounds):
        k = r % len(contenders)
        for pool, run in contenders[k:] + contenders[:k]:
            spec = pool.next_spec()
            run(pool, spec)
            pool.state = spec.dest


def single_runner(
    step: Callable[[int, StepSpec], None], sink: list[Timings | None]
) -> Callable[[Pool, StepSpec], None]:
    """A round function that times every step of a pool (when `sink[0]` is set)."""

    def run(pool: Pool, spec: StepSpec) -> None:
        timings = sink[0]
        for nid in pool.ids:
            t0 = time.perf_counter()
            step(nid, spec)
            if timings is not None:
                timings.add(time.perf_counter() - t0)

    return run


def batch_runner(
    batch: Callable[[Sequence[int], StepSpec], None], sink: list[Timings | None]
) -> Callable[[Pool, StepSpec], None]:
    def run(pool: Pool, spec: StepSpec) -> None:
        timings = sink[0]
        t0 = time.perf_counter()
        batch(pool.ids, spec)
        if timings is not None:
            timings.add(time.perf_counter() - t0, len(pool.ids))

    return run


def measure_pair(
    make_runner: Callable[..., Callable[[Pool, StepSpec], None]],
    engine_fn: Callable[..., None],
    base_fn: Callable[..., None],
    pools: tuple[Pool, Pool],
    rounds: int,
    warm: int,
) -> tuple[Timings, Timings]:
    """Warm both sides up, then time `rounds` alternating rounds of each."""
    eng_t, base_t = Timings(), Timings()
    eng_sink: list[Timings | None] = [None]
    base_sink: list[Timings | None] = [None]
    eng_run = make_runner(engine_fn, eng_sink)
    base_run = make_runner(base_fn, base_sink)
    contenders = [(pools[0], eng_run), (pools[1], base_run)]
    run_rounds(contenders, warm)
    eng_sink[0], base_sink[0] = eng_t, base_t
    gc.collect()
    run_rounds(contenders, rounds)
    return eng_t, base_t


def machine_costs(rt: Runtime, mode: Mode) -> list[tuple[str, float, float]]:
    """(what, median µs, p95 µs) for the machine alone."""
    loaded = rt.registry.get(WORKFLOW)
    machine = loaded.machine
    submit, back = machine.events["submit"], machine.events["return_for_supplement"]
    out = []

    def repeat(fn: Callable[[], None], calls: int, reps: int = 7) -> tuple[float, float]:
        fn()
        per = []
        for _ in range(reps):
            t0 = time.perf_counter()
            for _ in range(calls):
                fn()
            per.append((time.perf_counter() - t0) / calls * 1e6)
        per.sort()
        return statistics.median(per), per[-1]

    adapter = FlowAdapter(state="draft")

    def two_events() -> None:
        submit.trigger(adapter)
        back.trigger(adapter)

    med, worst = repeat(two_events, mode.machine_calls // 2)
    out.append(("machine.events[t].trigger(adapter), per event", med / 2, worst / 2))

    def engine_pattern() -> None:
        fire(machine, FlowAdapter(state="unit_council", run_guards=list), "return_for_supplement")

    out.append(("fire(machine, new FlowAdapter, t)", *repeat(engine_pattern, mode.machine_calls)))
    wf = loaded.definition
    out.append(("build_machine(giay_khen)", *repeat(lambda: build_machine(wf), 1, mode.build_reps)))
    return out


def row_of(
    backend: str, what: str, t: Timings, ratio: float | None = None, target: str = ""
) -> Row:
    per_op = len(t.durations) == t.steps
    return Row(
        backend,
        what,
        t.steps,
        t.steps / t.total,
        t.per_step * 1e6,
        t.pct(0.5) * 1e6 if per_op else None,
        t.pct(0.95) * 1e6 if per_op else None,
        ratio,
        target,
    )


def bench_backend(
    backend: str, url: str, mode: Mode, rows: list[Row], info: dict[str, str]
) -> None:
    rt, actors = open_bench_runtime(url)
    try:
        with rt.engine.connect() as conn:
            if backend == "sqlite":
                info["sqlite journal_mode"] = conn.exec_driver_sql("PRAGMA journal_mode").scalar()
                info["sqlite synchronous"] = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}.get(
                    conn.exec_driver_sql("PRAGMA synchronous").scalar(), "?"
                )
            else:
                for setting in ("server_version", "synchronous_commit", "fsync", "shared_buffers"):
                    info[f"postgresql {setting}"] = conn.execute(text(f"show {setting}")).scalar()
        base = Baseline(actors)
        n = mode.single_pool
        print(f"[{backend}] creating {2 * n + 2 * BATCH_SIZE} nominations ...", flush=True)
        single_pools = make_pools(rt, actors["cb.qd"], [n, n])
        batch_pools = make_pools(rt, actors["cb.qd"], [BATCH_SIZE, BATCH_SIZE])

        print(f"[{backend}] single steps: {mode.single_rounds} rounds x {n} ...", flush=True)
        eng_t, base_t = measure_pair(
            single_runner,
            lambda nid, spec: engine_step(rt, actors, nid, spec),
            lambda nid, spec: base.step(rt.engine, nid, spec),
            (single_pools[0], single_pools[1]),
            mode.single_rounds,
            mode.warm_rounds,
        )
        ratio = eng_t.per_step / base_t.per_step
        verdict = (
            f"{'PASS' if ratio <= SINGLE_RATIO_TARGET else 'MISS'} (<= {SINGLE_RATIO_TARGET}x)"
        )
        rows.append(row_of(backend, "single step: advance()", eng_t, ratio, verdict))
        rows.append(row_of(backend, "single step: Core baseline", base_t))

        print(f"[{backend}] batches: {mode.batch_rounds} x {BATCH_SIZE} ...", flush=True)
        eng_b, base_b = measure_pair(
            batch_runner,
            lambda ids, spec: engine_batch(rt, actors, ids, spec),
            lambda ids, spec: base.batch(rt.engine, ids, spec),
            (batch_pools[0], batch_pools[1]),
            mode.batch_rounds,
            1,
        )
        per_s = eng_b.steps / eng_b.total
        target = ""
        if backend == "sqlite":
            ok = per_s >= BATCH_TARGET_SQLITE
            target = f"{'PASS' if ok else 'MISS'} (>= {BATCH_TARGET_SQLITE:,.0f}/s)"
        rows.append(
            row_of(
                backend,
                f"batch of {BATCH_SIZE}: advance_batch()",
                eng_b,
                eng_b.per_step / base_b.per_step,
                target,
            )
        )
        rows.append(row_of(backend, f"batch of {BATCH_SIZE}: Core baseline", base_b))
        info[f"{backend} batch ms (engine, each)"] = " ".join(
            f"{d * 1e3:.0f}" for d in eng_b.durations
        )
        info[f"{backend} batch ms (baseline, each)"] = " ".join(
            f"{d * 1e3:.0f}" for d in base_b.durations
        )
        if backend == "sqlite":
            for what, med, worst in machine_costs(rt, mode):
                rows.append(Row("python", what, 0, 1e6 / med, med, med, worst))
    finally:
        rt.engine.dispose()


# --------------------------------------------------------------------------- profiling


def profile_sqlite(mode: Mode) -> None:
    """cProfile the engine's single-step and batch paths on a fresh SQLite file."""
    with sqlite_database() as (url, _):
        rt, actors = open_bench_runtime(url)
        try:
            single, batch = make_pools(rt, actors["cb.qd"], [mode.single_pool, BATCH_SIZE])
            for title, pool, rounds, call in (
                (
                    "single steps (advance)",
                    single,
                    4,
                    lambda p, s: [engine_step(rt, actors, i, s) for i in p.ids],
                ),
                (
                    "batches of 1,000 (advance_batch)",
                    batch,
                    4,
                    lambda p, s: engine_batch(rt, actors, p.ids, s),
                ),
            ):
                spec = pool.next_spec()
                call(pool, spec)  # warm-up
                pool.state = spec.dest
                prof = cProfile.Profile()
                steps = 0
                for _ in range(rounds):
                    spec = pool.next_spec()
                    prof.enable()
                    call(pool, spec)
                    prof.disable()
                    pool.state = spec.dest
                    steps += len(pool.ids)
                for key in ("tottime", "cumulative"):
                    buf = io.StringIO()
                    stats = pstats.Stats(prof, stream=buf).strip_dirs().sort_stats(key)
                    stats.print_stats(int(os.environ.get("BENCH_PROFILE_LINES", "25")))
                    print(f"\n== cProfile, SQLite, {title}: {steps} steps, sorted by {key} ==")
                    text_out = buf.getvalue()
                    print(text_out[text_out.find("   ncalls") :].rstrip())
        finally:
            rt.engine.dispose()


# --------------------------------------------------------------------------- output


def print_report(rows: list[Row], info: dict[str, str]) -> None:
    print("\n== Machine ==")
    width = max(len(k) for k in info)
    for key, value in info.items():
        print(f"  {key:<{width}}  {value}")
    print("\n== Results (µs per step; ratio = engine time per step / baseline time per step) ==")
    head = (
        f"{'backend':<8} {'measurement':<48} {'steps':>6} {'steps/s':>10} {'mean':>9} "
        f"{'p50':>9} {'p95':>9} {'ratio':>6}  target"
    )
    print(head)
    print("-" * (len(head) + 14))

    def num(v: float | None, fmt: str = ",.1f") -> str:
        return "-" if v is None else format(v, fmt)

    for r in rows:
        print(
            f"{r.backend:<8} {r.what:<48} {r.steps or '-':>6} {num(r.per_s, ',.0f'):>10} "
            f"{num(r.mean_us):>9} {num(r.p50_us):>9} {num(r.p95_us):>9} "
            f"{num(r.ratio, '.2f'):>6}  {r.target}"
        )
    print(
        "\nFor the machine-only rows 'mean' and 'p50' are the median of 7 repetitions and "
        "'p95' the slowest repetition;\nbatch rows show per-step figures (the batch times are "
        "listed above under Machine)."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--no-pg", action="store_true", help="skip PostgreSQL")
    parser.add_argument("--profile", action="store_true", help="cProfile the engine on SQLite")
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else FULL

    info: dict[str, str] = {
        "mode": "quick" if args.quick else "full",
        "cpu": f"{os.cpu_count()} x {cpu_model()}",
        "platform": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "sqlite library": sqlite3.sqlite_version,
    }
    info.update({f"package {k}": v for k, v in versions().items()})
    rows: list[Row] = []

    with sqlite_database() as (url, where):
        info["sqlite file"] = f"{where}/bench.db"
        bench_backend("sqlite", url, mode, rows, info)

    reason = "--no-pg given" if args.no_pg else pg_unreachable()
    if reason is None:
        with pg_database() as (url, name):
            info["postgresql database"] = f"{name} (created and dropped by this run)"
            bench_backend("pg", url, mode, rows, info)
    else:
        print(f"[pg] skipped: PostgreSQL at {PG_ADMIN_URL} not used: {reason}")
        info["postgresql"] = f"skipped: {reason}"

    print_report(rows, info)
    if args.profile:
        profile_sqlite(mode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
