"""Benchmark: the engine's step against peer workflow libraries on the same approval.

Run from the repository root (the peers are the `bench` extra: pip install -e '.[bench]'):

    .venv/bin/python bench/peers.py                 # 8,000 steps each (about a minute)
    .venv/bin/python bench/peers.py --steps 1500    # smoke run
    .venv/bin/python bench/peers.py --profile       # pyinstrument of the engine's steps too

One workflow, four states in a line: draft → unit review → council → decided
(`bench/peers/approval.yaml` for the engine, `bench/peers/approval.bpmn` for
SpiffWorkflow, the same states and triggers in code for the other two). Every
contender takes N steps, each in its own transaction on SQLite (WAL, synchronous=FULL,
one file per contender in one temporary folder): read the item, fire the step, update
its state with a version check, write one audit row, commit.

Contenders, each in its most favourable documented use:

- **engine**: `services.stepping.advance` (roles, four-eyes, due dates, hash-chained
  event, the outbox notice on the closing step) on the khenthuong schema;
- **Core baseline**: `bench/transitions.py`'s `Baseline` (SELECT version and head hash,
  guarded UPDATE, INSERT of the hash-chained event, the outbox row), the raw writes the
  engine's step needs;
- **SpiffWorkflow** (BPMN, user tasks): one parsed spec; each item's `BpmnWorkflow` kept
  in memory (never serialised: the cheapest use), the ready task run per step;
- **python-statemachine + SQLModel**: a `StateMachine` bound to the loaded row
  (`model=row, state_field="state"`), built per step as its documentation shows;
- **transitions + SQLModel, new machine**: a `Machine(model=…, initial=row.state)` per
  step (a SQLModel row refuses the trigger attributes, so a plain holder carries the state);
- **transitions + SQLModel, shared machine**: one `Machine(model=None)`, the event fired
  on the row itself (`machine.events[t].trigger(row)`, the FAQ's pattern for many objects).

The peers write a `peer_doc` row (optimistic lock through SQLAlchemy's `version_id_col`:
`UPDATE … WHERE id = ? AND version = ?`) and a `peer_audit` row (no hash chain) through
a SQLModel `Session`. Two floors, no library at all: the peers' writes, and the engine's
own writes (its SQL on its database, with its indexes and hash chain) through the stdlib
`sqlite3`; the engine cannot beat the second. The CPU column is the thread's CPU time per
step (no waiting for the disk or for a core), steadier than wall time on a shared disk.
Work is interleaved: rounds of `--chunk` steps per contender, the
order rotating per round, after one untimed warm-up round. Figures only, never asserted.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `python bench/peers.py` puts bench/ first on sys.path, where bench/transitions.py would
# shadow the `transitions` package; the repository root is what `bench.` imports need.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from SpiffWorkflow.bpmn.parser import BpmnParser
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Column, Engine, Integer
from sqlmodel import Field, Session, SQLModel
from statemachine import State, StateMachine
from transitions import Machine

from bench.transitions import Baseline, StepSpec, Timings, cpu_model, make_pools, versions
from khenthuong.roles import roles_in
from khenthuong.runtime import Runtime
from khenthuong.services import stepping
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.definitions import sync_definitions
from khenthuong.services.org import apply_seed, load_seed
from khenthuong.settings import PROJECT_ROOT, Settings
from khenthuong.storage.db import make_engine, write_tx
from khenthuong.storage.migrate import upgrade
from khenthuong.workflow.loader import load_registry

_HERE = Path(__file__).resolve().parent
WORKFLOW = "peer_approval"
UNIT = "CCYQD"
STATES = ["draft", "unit_review", "council", "decided"]
TRIGGERS = ["submit", "unit_approve", "council_decide"]
SPECS = [
    StepSpec("submit", "cb.qd", "unit_officer", "draft", "unit_review", {}, 5, False),
    StepSpec("unit_approve", "tt.qd", "unit_head", "unit_review", "council", {}, 10, False),
    StepSpec(
        "council_decide",
        "tk.qd",
        "council_secretary",
        "council",
        "decided",
        {},
        None,
        True,
        closed=True,
    ),
]
RATIO_TO_CORE = 1.15
RATIO_TO_PEERS = 2.0
PACKAGES = ("SpiffWorkflow", "python-statemachine", "transitions", "sqlmodel", "SQLAlchemy")


# --------------------------------------------------------------------------- peer model

_VERSION = Column("version", Integer, nullable=False)


class PeerDoc(SQLModel, table=True):
    """The peers' item: its state and an optimistic-lock version."""

    __tablename__ = "peer_doc"
    __mapper_args__ = {"version_id_col": _VERSION}

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(max_length=200)
    state: str = Field(max_length=40)
    version: int = Field(default=1, sa_column=_VERSION)


class PeerAudit(SQLModel, table=True):
    """One audit row per step."""

    __tablename__ = "peer_audit"

    id: int | None = Field(default=None, primary_key=True)
    doc_id: int = Field(foreign_key="peer_doc.id", index=True)
    seq: int
    trigger: str = Field(max_length=40)
    from_state: str = Field(max_length=40)
    to_state: str = Field(max_length=40)
    actor: str = Field(max_length=80)
    occurred_at: datetime


class Approval(StateMachine):
    """python-statemachine's form of the approval."""

    draft = State(initial=True)
    unit_review = State()
    council = State()
    decided = State(final=True)
    submit = draft.to(unit_review)
    unit_approve = unit_review.to(council)
    council_decide = council.to(decided)


MACHINE_TRANSITIONS = [
    {"trigger": t, "source": STATES[i], "dest": STATES[i + 1]} for i, t in enumerate(TRIGGERS)
]


@dataclass
class _Holder:
    state: str


# --------------------------------------------------------------------------- contenders

Step = Callable[[int, int], None]
"""(item id, step index 0..2) → one step in its own transaction."""


@dataclass
class Contender:
    name: str
    step: Step
    items: list[int]
    durations: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    """The thread's CPU time per step (no waiting for the disk or for a core)."""

    def work(self) -> list[tuple[int, int]]:
        """Every item's first step, then every item's second step, then the third."""
        return [(item, k) for k in range(3) for item in self.items]


def _peer_engine(path: Path, items: int) -> tuple[Engine, list[int]]:
    engine = make_engine(f"sqlite:///{path}", sqlite_synchronous="FULL")
    SQLModel.metadata.create_all(engine, tables=[PeerDoc.__table__, PeerAudit.__table__])  # type: ignore[attr-defined]
    with Session(engine) as session:
        docs = [PeerDoc(title=f"Hồ sơ {i}", state="draft") for i in range(items)]
        session.add_all(docs)
        session.commit()
        ids = [d.id for d in docs if d.id is not None]
    return engine, ids


def _peer_commit(session: Session, doc: PeerDoc, k: int, dest: str) -> None:
    session.add(
        PeerAudit(
            doc_id=doc.id or 0,
            seq=doc.version + 1,
            trigger=TRIGGERS[k],
            from_state=STATES[k],
            to_state=dest,
            actor=SPECS[k].user,
            occurred_at=datetime.now(UTC),
        )
    )
    doc.state = dest
    session.commit()


def spiff_contender(folder: Path, items: int) -> Contender:
    engine, ids = _peer_engine(folder / "spiff.db", items)
    parser = BpmnParser()
    parser.add_bpmn_file(str(_HERE / "peers" / "approval.bpmn"))
    spec = parser.get_spec("approval")
    flows: dict[int, BpmnWorkflow] = {}
    for i in ids:
        flows[i] = BpmnWorkflow(spec)
        flows[i].do_engine_steps()

    def step(item: int, k: int) -> None:
        with Session(engine) as session:
            doc = session.get_one(PeerDoc, item)
            flow = flows[item]
            task = flow.get_next_task(state=TaskState.READY, manual=True)
            if task is None or task.task_spec.name != doc.state:
                raise RuntimeError(f"spiff: #{item} is not at {doc.state}")
            task.run()
            flow.do_engine_steps()
            ready = flow.get_next_task(state=TaskState.READY, manual=True)
            _peer_commit(session, doc, k, ready.task_spec.name if ready else "decided")

    return Contender("SpiffWorkflow (BPMN) + SQLModel", step, ids)


def statemachine_contender(folder: Path, items: int) -> Contender:
    engine, ids = _peer_engine(folder / "psm.db", items)

    def step(item: int, k: int) -> None:
        with Session(engine) as session:
            doc = session.get_one(PeerDoc, item)
            Approval(model=doc, state_field="state").send(TRIGGERS[k])
            _peer_commit(session, doc, k, doc.state)

    return Contender("python-statemachine + SQLModel", step, ids)


def transitions_new_contender(folder: Path, items: int) -> Contender:
    engine, ids = _peer_engine(folder / "tr_new.db", items)

    def step(item: int, k: int) -> None:
        with Session(engine) as session:
            doc = session.get_one(PeerDoc, item)
            holder = _Holder(doc.state)
            Machine(
                model=holder,
                states=STATES,
                transitions=MACHINE_TRANSITIONS,
                initial=doc.state,
                auto_transitions=False,
            )
            holder.trigger(TRIGGERS[k])  # type: ignore[attr-defined]
            _peer_commit(session, doc, k, holder.state)

    return Contender("transitions + SQLModel, new machine", step, ids)


def transitions_shared_contender(folder: Path, items: int) -> Contender:
    engine, ids = _peer_engine(folder / "tr_shared.db", items)
    machine = Machine(
        model=None,
        states=STATES,
        transitions=MACHINE_TRANSITIONS,
        initial="draft",
        auto_transitions=False,
    )

    def step(item: int, k: int) -> None:
        with Session(engine) as session:
            doc = session.get_one(PeerDoc, item)
            source = doc.state
            if not machine.events[TRIGGERS[k]].trigger(doc):
                raise RuntimeError(f"transitions: #{item} refused at {source}")
            dest = doc.state
            doc.state = source  # set again below, with the audit row
            _peer_commit(session, doc, k, dest)

    return Contender("transitions + SQLModel, shared machine", step, ids)


def sqlite3_contender(folder: Path, items: int) -> Contender:
    """The floor: the peers' writes through the stdlib driver alone (no library at all)."""
    _engine, ids = _peer_engine(folder / "raw.db", items)
    _engine.dispose()
    conn = sqlite3.connect(folder / "raw.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")

    def step(item: int, k: int) -> None:
        conn.execute("BEGIN IMMEDIATE")
        state, version = conn.execute(
            "SELECT state, version FROM peer_doc WHERE id = ?", (item,)
        ).fetchone()
        if state != STATES[k]:
            raise RuntimeError(f"sqlite3: #{item} is not at {STATES[k]}")
        done = conn.execute(
            "UPDATE peer_doc SET state = ?, version = ? WHERE id = ? AND version = ?",
            (STATES[k + 1], version + 1, item, version),
        )
        if done.rowcount != 1:
            raise RuntimeError(f"sqlite3: version conflict on #{item}")
        conn.execute(
            'INSERT INTO peer_audit (doc_id, seq, "trigger", from_state, to_state, actor, '
            "occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                item,
                version + 1,
                TRIGGERS[k],
                STATES[k],
                STATES[k + 1],
                SPECS[k].user,
                datetime.now(UTC).isoformat(sep=" "),
            ),
        )
        conn.execute("COMMIT")

    return Contender("floor: raw sqlite3, same writes as peers", step, ids)


def engine_floor_contender(rt: Runtime, actors: dict[str, Actor], ids: list[int]) -> Contender:
    """The engine's own writes through the stdlib driver alone: the same SQL on the same
    database (its indexes, the hash-chained event, the outbox row of the closing step), the
    values worked out by the Core baseline's Python. No engine can beat it on this disk."""
    dialect = rt.engine.dialect
    forms = [p._form(dialect) for p in (stepping._SELECT_STEP, stepping._RUN_UPDATE)]
    event_form = stepping._RUN_EVENT._form(dialect)
    notice_form = stepping._RUN_OUTBOX._form(dialect)
    select_sql, (update_sql, update_names) = forms[0].sql, (forms[1].sql, forms[1].names)
    version_at = stepping._STEP_READS.index("version")
    head_at = stepping._STEP_READS.index("head_hash")
    baseline = Baseline(actors, workflow=WORKFLOW)
    database = rt.engine.url.database
    assert database is not None
    conn = sqlite3.connect(database, isolation_level=None)
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")

    def text(moment: datetime | None) -> str | None:  # SQLAlchemy's SQLite DateTime text
        return None if moment is None else moment.strftime("%Y-%m-%d %H:%M:%S.%f")

    def step(item: int, k: int) -> None:
        spec = SPECS[k]
        conn.execute("BEGIN IMMEDIATE")
        row = conn.execute(select_sql, (item,)).fetchone()
        version = row[version_at]
        params, event, notice = baseline.plan(item, version, row[head_at], spec, datetime.now(UTC))
        values = {
            "b_id": item,
            "b_old": version,
            "v_state": spec.dest,
            "v_closed": spec.closed,
            "v_version": version + 1,
            "v_state_entered_at": text(params["v_entered"]),
            "v_due_at": text(params["v_due"]),
            "v_head_hash": params["v_hash"],
            "v_entered_by": params["v_by"],
            "v_quota_taken": False,
        }
        if conn.execute(update_sql, [values[n] for n in update_names]).rowcount != 1:
            raise RuntimeError(f"engine floor: version conflict on #{item}")
        event["occurred_at"] = text(event["occurred_at"])
        conn.execute(event_form.sql, [event[n] for n in event_form.names])
        if notice is not None:
            notice["created_at"] = notice["available_at"] = text(notice["created_at"])
            conn.execute(notice_form.sql, [notice[n] for n in notice_form.names])
        conn.execute("COMMIT")

    return Contender("floor: raw sqlite3, the engine's writes", step, ids)


def engine_runtime(folder: Path) -> tuple[Runtime, dict[str, Actor]]:
    """The khenthuong schema with the demo organisations and the bench workflow."""
    url = f"sqlite:///{folder / 'engine.db'}"
    engine = make_engine(url, sqlite_synchronous="FULL")
    upgrade(engine)
    roles = roles_in(PROJECT_ROOT / "config")
    registry = load_registry(
        [PROJECT_ROOT / "workflows", _HERE / "peers" / "approval.yaml"], known_roles=roles
    )
    with write_tx(engine) as conn:
        sync_definitions(conn, registry)
        apply_seed(conn, load_seed(PROJECT_ROOT / "config" / "demo.yaml", roles), roles)
    with engine.connect() as conn:
        actors = {s.user: load_actor(conn, s.user) for s in SPECS}
    settings = Settings(database_url=url, sqlite_synchronous="FULL")
    return Runtime(settings, engine, roles, registry), actors


def engine_contenders(folder: Path, items: int) -> tuple[Contender, Contender, Contender, Runtime]:
    rt, actors = engine_runtime(folder)
    proposer = actors["cb.qd"]
    ours, theirs, raw = (p.ids for p in make_pools(rt, proposer, [items] * 3, workflow=WORKFLOW))
    baseline = Baseline(actors, workflow=WORKFLOW)

    def step(item: int, k: int) -> None:
        spec = SPECS[k]
        stepping.advance(
            rt.engine, rt.registry, item, spec.trigger, actors[spec.user], spec.payload
        )

    def core(item: int, k: int) -> None:
        baseline.step(rt.engine, item, SPECS[k])

    return (
        Contender("engine: advance()", step, ours),
        Contender("Core baseline", core, theirs),
        engine_floor_contender(rt, actors, raw),
        rt,
    )


# --------------------------------------------------------------------------- running


def run(contenders: list[Contender], steps: int, chunk: int) -> None:
    """Untimed warm-up chunk, then rounds of `chunk` steps per contender, rotating."""
    queues = {c.name: c.work() for c in contenders}
    for c in contenders:
        for item, k in queues[c.name][:chunk]:
            c.step(item, k)
    position = chunk
    rounds = (steps + chunk - 1) // chunk
    for r in range(rounds):
        j = r % len(contenders)
        for c in contenders[j:] + contenders[:j]:
            for item, k in queues[c.name][position : position + chunk]:
                c0 = time.thread_time()
                t0 = time.perf_counter()
                c.step(item, k)
                c.durations.append(time.perf_counter() - t0)
                c.cpu.append(time.thread_time() - c0)
        position += chunk


def report(contenders: list[Contender]) -> None:
    rate = {c.name: len(c.durations) / sum(c.durations) for c in contenders}
    cpu = {c.name: statistics.fmean(c.cpu) for c in contenders}
    engine, core, *peers, _floor, engine_floor = contenders
    print()
    print(
        f"{'contender':40} {'steps':>6} {'steps/s':>8} {'mean µs':>9} {'p50 µs':>8} "
        f"{'p95 µs':>8} {'engine ×':>9} {'CPU µs':>7}"
    )
    for c in contenders:
        d = c.durations
        print(
            f"{c.name:40} {len(d):6,} {rate[c.name]:8,.0f} {statistics.fmean(d) * 1e6:9,.1f} "
            f"{Timings(d).pct(0.5) * 1e6:8,.1f} {Timings(d).pct(0.95) * 1e6:8,.1f} "
            f"{rate[engine.name] / rate[c.name]:9.2f} {cpu[c.name] * 1e6:7,.0f}"
        )
    to_core = rate[core.name] / rate[engine.name]
    best = max(peers, key=lambda c: rate[c.name])
    to_peer = rate[engine.name] / rate[best.name]
    print()
    print(
        f"ceiling, the engine's writes on the bare driver ÷ best peer: "
        f"{rate[engine_floor.name] / rate[best.name]:.2f} steps/s; "
        f"engine ÷ that floor: {rate[engine.name] / rate[engine_floor.name]:.2f}; "
        f"best peer's CPU per step ÷ engine's: {cpu[best.name] / cpu[engine.name]:.2f}"
    )
    verdict = "PASS" if to_core <= RATIO_TO_CORE else "MISS"
    print(
        f"engine time per step ÷ Core baseline: {to_core:.2f}  "
        f"(target ≤ {RATIO_TO_CORE}: {verdict})"
    )
    verdict = "PASS" if to_peer >= RATIO_TO_PEERS else "MISS"
    print(
        f"engine steps/s ÷ best peer ({best.name}): {to_peer:.2f}  "
        f"(target ≥ {RATIO_TO_PEERS}: {verdict})"
    )


def uptime() -> str:
    """The machine's load, printed beside the figures (the cores are shared)."""
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--steps", type=int, default=8_000, help="timed steps per contender")
    parser.add_argument("--chunk", type=int, default=200, help="steps per contender per round")
    parser.add_argument("--profile", action="store_true", help="pyinstrument the engine's steps")
    args = parser.parse_args(argv)
    items = (args.steps + args.chunk + 2) // 3
    print(f"bench/peers.py: {args.steps:,} timed steps per contender, rounds of {args.chunk}")
    found = ", ".join(f"{name} {version}" for name, version in versions(PACKAGES).items())
    print(f"CPU {cpu_model()}, {os.cpu_count()} cores; {found}")
    print("load:", uptime())
    folder = Path(tempfile.mkdtemp(prefix="khenthuong-peers-"))
    try:
        ours, core, engine_floor, _rt = engine_contenders(folder, items)
        contenders = [
            ours,
            core,
            spiff_contender(folder, items),
            statemachine_contender(folder, items),
            transitions_new_contender(folder, items),
            transitions_shared_contender(folder, items),
            sqlite3_contender(folder, items),
            engine_floor,
        ]
        profiler = None
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.0002)
            inner = ours.step

            def profiled(item: int, k: int) -> None:
                profiler.start() if not profiler.is_running else None
                inner(item, k)
                profiler.stop()

            ours.step = profiled
        run(contenders, args.steps, args.chunk)
        report(contenders)
        if profiler is not None:
            print(profiler.output_text(unicode=True, color=False, show_all=False))
        print("load:", uptime())
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
