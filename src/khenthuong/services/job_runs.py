"""Which periodic jobs ran, when, by whom and what they did (the `job_runs` table): written
by every run of the reminder scan and the outbox relay, read by `reminders status` and the
administrators' status page."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, select
from sqlalchemy.dialects import postgresql, sqlite

from khenthuong.storage.db import write_tx
from khenthuong.storage.outbox import JOB_RUNS

SCAN_JOB = "scan_reminders"
RELAY_JOB = "relay_outbox"


def record_run(
    engine: Engine,
    job: str,
    runner: str,
    counts: Mapping[str, int],
    *,
    now: datetime | None = None,
) -> None:
    """Note that `job` ran now (by `runner`: embedded or celery) and what it did, as counts
    (`sent`, `failed`, `no_recipient`, `queued`): data, worded by whoever shows it."""
    now = now or datetime.now(UTC)
    insert_fn: Any = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    result = json.dumps({k: int(v) for k, v in counts.items()}, sort_keys=True)
    values = {"runner": runner, "last_run_at": now, "last_result": result[:200]}
    stmt = (
        insert_fn(JOB_RUNS)
        .values(job=job, runs=1, **values)
        .on_conflict_do_update(index_elements=["job"], set_={**values, "runs": JOB_RUNS.c.runs + 1})
    )
    with write_tx(engine) as conn:
        conn.execute(stmt)


def last_runs(conn: Connection) -> dict[str, dict[str, Any]]:
    """The last run of every job that ever ran, by job name; `last_result` holds the run's
    counts (`record_run`), empty for a run recorded before they were kept as data."""
    return {
        str(r["job"]): {**r, "last_result": run_counts(r["last_result"])}
        for r in conn.execute(select(JOB_RUNS)).mappings()
    }


def run_counts(stored: str | None) -> dict[str, int]:
    """The counts `record_run` stored (empty for text written by an older version)."""
    try:
        found = json.loads(stored or "")
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {str(k): v for k, v in found.items() if isinstance(v, int)}
