"""The transactional outbox: rows written with a step, published after commit, delivered once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, func, select, update

from khenthuong.storage.outbox import OUTBOX

SKIPPED = "skipped"
"""Status of a notice that had no recipient (no address for the user or the unit)."""


def pending(conn: Connection, *, limit: int = 100, now: datetime | None = None) -> list[int]:
    """Ids of rows ready to publish, locked against other relays on PostgreSQL."""
    now = now or datetime.now(UTC)
    query = (
        select(OUTBOX.c.id)
        .where(OUTBOX.c.status == "pending", OUTBOX.c.available_at <= now)
        .order_by(OUTBOX.c.id)
        .limit(limit)
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return [int(i) for i in conn.execute(query).scalars()]


def mark_queued(conn: Connection, ids: Sequence[int], *, now: datetime | None = None) -> None:
    """Record that these rows were handed to the broker (now: the stale threshold counts
    from here)."""
    if ids:
        conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(list(ids)), OUTBOX.c.status == "pending")
            .values(status="queued", available_at=now or datetime.now(UTC))
        )


MAX_ATTEMPTS = 8
"""Default number of deliveries a notice gets (KHENTHUONG_SEND_MAX_ATTEMPTS)."""
RETRY_SECONDS = 60
"""Default wait before the first retry (KHENTHUONG_SEND_RETRY_SECONDS); doubled each time."""
MAX_RETRY_SECONDS = 3600
"""Default longest wait between two attempts (KHENTHUONG_SEND_RETRY_MAX_SECONDS)."""
FAILED = "failed"
"""Status of a notice given up after the last attempt failed (the error is kept)."""


def retry_delay(
    attempts: int, *, base: int = RETRY_SECONDS, cap: int = MAX_RETRY_SECONDS
) -> timedelta:
    """Exponential backoff: `base` after the first failed attempt, doubled after each next
    one, at most `cap` (an hour by default). No wait before the first attempt."""
    if attempts <= 0:
        return timedelta(0)
    return timedelta(seconds=min(base * 2 ** (attempts - 1), cap))


def requeue_stuck(
    conn: Connection,
    *,
    older_than: timedelta,
    now: datetime | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> int:
    """Put back rows queued or being sent for too long (a lost message or a dead worker);
    a row whose last allowed attempt was lost this way is marked failed."""
    now = now or datetime.now(UTC)
    stuck = (
        OUTBOX.c.status.in_(("queued", "sending")),
        OUTBOX.c.available_at < now - older_than,
    )
    conn.execute(
        update(OUTBOX)
        .where(*stuck, OUTBOX.c.attempts >= max_attempts)
        .values(
            status=FAILED,
            last_error=func.coalesce(OUTBOX.c.last_error + "; ", "")
            + f"given up: the worker was lost during attempt {max_attempts}",
        )
    )
    result = conn.execute(
        update(OUTBOX)
        .where(*stuck, OUTBOX.c.attempts < max_attempts)
        .values(status="pending", available_at=now)
    )
    return int(result.rowcount or 0)


def begin_delivery(conn: Connection, outbox_id: int) -> RowMapping | None:
    """Take the row for delivery; None if it was already taken or delivered (a duplicate), or
    if it waits for its next try (a redelivered message never sends before the backoff)."""
    now = datetime.now(UTC)
    taken = conn.execute(
        update(OUTBOX)
        .where(
            OUTBOX.c.id == outbox_id,
            (OUTBOX.c.status == "queued")
            | ((OUTBOX.c.status == "pending") & (OUTBOX.c.available_at <= now)),
        )
        .values(status="sending", attempts=OUTBOX.c.attempts + 1, available_at=now)
    )
    if taken.rowcount != 1:
        return None
    return conn.execute(select(OUTBOX).where(OUTBOX.c.id == outbox_id)).mappings().one()


def finish_delivery(
    conn: Connection,
    outbox_id: int,
    *,
    ok: bool,
    error: str | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    retry_seconds: int = RETRY_SECONDS,
    retry_max_seconds: int = MAX_RETRY_SECONDS,
    now: datetime | None = None,
) -> str:
    """Mark a delivery sent; or, with the error kept, give it back for a retry after an
    exponential backoff, or mark it failed once `max_attempts` deliveries have failed.
    Returns the new status. The error of a failed attempt stays after a later success."""
    now = now or datetime.now(UTC)
    values: dict[str, Any]
    if ok:
        values = {"status": "sent", "sent_at": now}
    else:
        attempts = int(
            conn.execute(select(OUTBOX.c.attempts).where(OUTBOX.c.id == outbox_id)).scalar_one()
        )
        values = {"last_error": error}
        if attempts >= max_attempts:
            values["status"] = FAILED
        else:
            values["status"] = "pending"
            values["available_at"] = now + retry_delay(
                attempts, base=retry_seconds, cap=retry_max_seconds
            )
    conn.execute(update(OUTBOX).where(OUTBOX.c.id == outbox_id).values(**values))
    return str(values["status"])


def skip_delivery(conn: Connection, outbox_id: int, reason: str) -> None:
    """Mark a notice that has nobody to go to: not sent, not retried, the reason kept."""
    conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == outbox_id)
        .values(status=SKIPPED, sent_at=None, last_error=reason)
    )


def given_up(conn: Connection, *, limit: int = 50) -> list[RowMapping]:
    """Notices given up (failed), newest first, with their last error."""
    return list(
        conn.execute(
            select(OUTBOX)
            .where(OUTBOX.c.status == FAILED)
            .order_by(OUTBOX.c.available_at.desc(), OUTBOX.c.id)
            .limit(limit)
        ).mappings()
    )


def retry_given_up(
    conn: Connection, outbox_ids: Sequence[int] | None, *, now: datetime | None = None
) -> list[int]:
    """Put failed notices back (all when `outbox_ids` is None) with a fresh count of attempts:
    the next relay sends them. Returns the ids put back; the last error stays."""
    now = now or datetime.now(UTC)
    query = update(OUTBOX).where(OUTBOX.c.status == FAILED)
    if outbox_ids is not None:
        query = query.where(OUTBOX.c.id.in_(list(outbox_ids)))
    result = conn.execute(
        query.values(status="pending", attempts=0, available_at=now).returning(OUTBOX.c.id)
    )
    return sorted(int(i) for i in result.scalars())


def counts(conn: Connection) -> dict[str, int]:
    """Rows per status."""
    return {
        str(r.status): int(r.n)
        for r in conn.execute(
            select(OUTBOX.c.status, func.count().label("n")).group_by(OUTBOX.c.status)
        )
    }
