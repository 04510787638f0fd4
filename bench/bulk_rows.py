"""Nominations written straight into the table for the benchmarks (bulk Core inserts, no
workflow step, no audit event): the rows `bench/http_setup.py` and `bench/reminders.py` fill
their databases with."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, text

from khenthuong.storage.db import write_tx
from khenthuong.storage.models import NOMINATIONS
from khenthuong.textsearch import fold

BATCH = 20_000
"""Rows per INSERT statement."""


def nomination_row(
    *,
    workflow: str,
    version: int,
    state: str,
    closed: bool,
    name: str,
    unit_id: int,
    unit_path: str,
    year: int,
    now: datetime,
    due_at: datetime | None,
) -> dict[str, Any]:
    """One nomination's columns, as a step of cb.qd's would leave them (version 2)."""
    return {
        "workflow": workflow,
        "workflow_version": version,
        "state": state,
        "closed": closed,
        "version": 2,
        "nominee_name": name,
        "search_key": fold(name),
        "proposing_unit_id": unit_id,
        "unit_path": unit_path,
        "year": year,
        "created_by": "cb.qd",
        "created_at": now,
        "state_entered_at": now,
        "due_at": due_at,
        "head_hash": "0" * 64,
        "entered_by": "cb.qd",
        "commendation_type": "cong_trang",
        "quota_taken": False,
    }


def insert_nominations(
    engine: Engine, rows: Iterable[dict[str, Any]], *, sqlite_analyze: bool = False
) -> None:
    """Insert `rows` in one transaction, `BATCH` a statement, then refresh PostgreSQL's
    statistics (VACUUM ANALYZE), and SQLite's with `sqlite_analyze` (the queue's benchmark
    measures SQLite as a new installation has it: without statistics)."""
    batch: list[dict[str, Any]] = []
    with write_tx(engine) as conn:
        for row in rows:
            batch.append(row)
            if len(batch) == BATCH:
                conn.execute(NOMINATIONS.insert(), batch)
                batch = []
        if batch:
            conn.execute(NOMINATIONS.insert(), batch)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE nomination"))
    elif sqlite_analyze:
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))
