"""What the last reminder scan saw, so that the next one scans only what changed.

A reminder's key depends on the day (before, due, overdue), the nomination (state, due date:
every change writes an event), who holds which role (user_role, user_account, unit) and the
inspection visits. The scan keeps, in the `job_runs` row `scan_state`, a fingerprint of the
slowly changing part (the day, the role holders, the units, the visits) and the id of the
newest event it has seen. The next scan:

- fingerprint unchanged, no newer event: nothing can have become due – no scan at all;
- fingerprint unchanged, newer events: scans only the nominations those events touched (and
  those of the last minute again, see SETTLE);
- otherwise (a new day, a grant or user changed, a visit, or the last full scan older than
  KHENTHUONG_FULL_SCAN_SECONDS – a safety net for changes no counter sees, such as an e-mail
  address edited in place): a full scan.

The fingerprint is a handful of aggregates read through primary keys: it costs next to
nothing however many items are due.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.dialects import postgresql, sqlite

from khenthuong.localtime import LOCAL_TZ
from khenthuong.storage.models import EVENTS, UNITS, USER_ROLES, USERS
from khenthuong.storage.outbox import JOB_RUNS

STATE_JOB = "scan_state"
SETTLE = timedelta(seconds=60)
"""Events younger than this are scanned again by the next scan: an event id is taken when the
step's transaction writes it, and a transaction that took a lower id may commit after one that
took a higher id. A step's transaction lasts milliseconds; a minute is ample."""


@dataclass(frozen=True)
class ScanPlan:
    """What this scan has to look at."""

    full: bool
    """Scan every open nomination and visit."""
    since_event: int | None
    """Incremental: only nominations with an event after this id (None with `full`)."""
    fingerprint: str
    newest_event: int
    settled_event: int
    """The newest event older than SETTLE: every event up to it is committed and scanned now,
    so the next scan starts after it."""

    @property
    def nothing(self) -> bool:
        """Nothing can have become due since the last scan."""
        return (
            not self.full and self.since_event is not None and self.newest_event <= self.since_event
        )


def _fingerprint(conn: Connection, now: datetime, before_days: int) -> tuple[str, int, int]:
    """(fingerprint, newest event id, newest settled event id), read in one statement."""
    from khenthuong.storage.blocs import INSPECTION_PLANS, INSPECTION_VISITS  # noqa: PLC0415

    def scalar(*columns: Any, where: Any = None) -> list[Any]:
        out = []
        for column in columns:
            query = select(column)
            if where is not None:
                query = query.where(where)
            out.append(query.scalar_subquery())
        return out

    def count_max(table: Any) -> list[Any]:
        return [
            select(func.count()).select_from(table).scalar_subquery(),
            select(func.max(table.c.id)).scalar_subquery(),
        ]

    values = conn.execute(
        select(
            *scalar(func.coalesce(func.max(EVENTS.c.id), 0)),
            *scalar(
                func.coalesce(func.max(EVENTS.c.id), 0), where=EVENTS.c.occurred_at < now - SETTLE
            ),
            *count_max(USER_ROLES),
            *count_max(USERS),
            *scalar(func.sum(func.length(USERS.c.email))),
            *scalar(func.count(), where=USERS.c.active.is_(True)),
            *count_max(UNITS),
            *scalar(func.sum(func.length(func.coalesce(UNITS.c.leader_email, "")))),
            *count_max(INSPECTION_PLANS),
            *scalar(func.count(), where=INSPECTION_PLANS.c.current.is_(True)),
            *count_max(INSPECTION_VISITS),
            *scalar(func.count(INSPECTION_VISITS.c.reported_at)),
        )
    ).one()
    newest, settled = int(values[0]), int(values[1])
    today = now.astimezone(LOCAL_TZ).date().isoformat()
    parts = [today, before_days, *values[2:]]
    return ":".join(str(p) for p in parts)[:180], newest, settled


def plan(conn: Connection, *, now: datetime, before_days: int, full_scan_seconds: int) -> ScanPlan:
    """What the scan at `now` must look at, given what the last one saw."""
    fingerprint, newest, settled = _fingerprint(conn, now, before_days)
    last = conn.execute(select(JOB_RUNS).where(JOB_RUNS.c.job == STATE_JOB)).mappings().first()
    if last is not None:
        at = (
            last["last_run_at"]
            if last["last_run_at"].tzinfo
            else last["last_run_at"].replace(tzinfo=UTC)
        )
        seen, _, event = str(last["last_result"] or "").rpartition("@")
        fresh = now - at < timedelta(seconds=full_scan_seconds)
        if fresh and seen == fingerprint and event.isdigit():
            return ScanPlan(False, int(event), fingerprint, newest, min(settled, newest))
    return ScanPlan(True, None, fingerprint, newest, min(settled, newest))


INCREMENTAL_LIMIT = 5000
"""More nominations touched than this since the last scan: a full scan is as cheap."""


def touched(conn: Connection, since_event: int) -> list[int] | None:
    """Nominations with an event after `since_event`, or None when there are so many that a
    full scan is better."""
    ids = list(
        conn.execute(
            select(EVENTS.c.nomination_id)
            .where(EVENTS.c.id > since_event, EVENTS.c.nomination_id.is_not(None))
            .distinct()
            .limit(INCREMENTAL_LIMIT + 1)
        ).scalars()
    )
    return None if len(ids) > INCREMENTAL_LIMIT else sorted(int(i) for i in ids)


def remember(conn: Connection, scan: ScanPlan, *, now: datetime) -> None:
    """Record what this scan saw (the time only for a full scan: the safety net's clock)."""
    insert_fn: Any = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    seen = f"{scan.fingerprint}@{scan.settled_event}"
    values: dict[str, Any] = {"last_result": seen}
    if scan.full:
        values["last_run_at"] = now
    conn.execute(
        insert_fn(JOB_RUNS)
        .values(job=STATE_JOB, runner="scan", last_run_at=now, last_result=seen, runs=1)
        .on_conflict_do_update(index_elements=["job"], set_={**values, "runs": JOB_RUNS.c.runs + 1})
    )
