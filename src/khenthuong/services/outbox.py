"""The transactional outbox: rows written with a step, published after commit, delivered once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, RowMapping, select, update

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


def mark_queued(conn: Connection, ids: Sequence[int]) -> None:
    """Record that these rows were handed to the broker."""
    if ids:
        conn.execute(
            update(OUTBOX)
            .where(OUTBOX.c.id.in_(list(ids)), OUTBOX.c.status == "pending")
            .values(status="queued")
        )


def requeue_stuck(conn: Connection, *, older_than: timedelta, now: datetime | None = None) -> int:
    """Put back rows queued or being sent for too long (a lost message or a dead worker)."""
    now = now or datetime.now(UTC)
    result = conn.execute(
        update(OUTBOX)
        .where(
            OUTBOX.c.status.in_(("queued", "sending")),
            OUTBOX.c.available_at < now - older_than,
            OUTBOX.c.attempts < 8,
        )
        .values(status="pending", available_at=now)
    )
    return int(result.rowcount or 0)


def begin_delivery(conn: Connection, outbox_id: int) -> RowMapping | None:
    """Take the row for delivery; None if it was already taken or delivered (a duplicate)."""
    taken = conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == outbox_id, OUTBOX.c.status.in_(("pending", "queued")))
        .values(status="sending", attempts=OUTBOX.c.attempts + 1, available_at=datetime.now(UTC))
    )
    if taken.rowcount != 1:
        return None
    return conn.execute(select(OUTBOX).where(OUTBOX.c.id == outbox_id)).mappings().one()


def finish_delivery(
    conn: Connection, outbox_id: int, *, ok: bool, error: str | None = None, retry_in: int = 60
) -> None:
    """Mark a delivery sent, or give it back for a later retry with the error kept."""
    values: dict[str, Any]
    if ok:
        values = {"status": "sent", "sent_at": datetime.now(UTC), "last_error": None}
    else:
        values = {
            "status": "pending",
            "last_error": error,
            "available_at": datetime.now(UTC) + timedelta(seconds=retry_in),
        }
    conn.execute(update(OUTBOX).where(OUTBOX.c.id == outbox_id).values(**values))


def skip_delivery(conn: Connection, outbox_id: int, reason: str) -> None:
    """Mark a notice that has nobody to go to: not sent, not retried, the reason kept."""
    conn.execute(
        update(OUTBOX)
        .where(OUTBOX.c.id == outbox_id)
        .values(status=SKIPPED, sent_at=None, last_error=reason)
    )


def counts(conn: Connection) -> dict[str, int]:
    """Rows per status."""
    from sqlalchemy import func  # noqa: PLC0415

    return {
        str(r.status): int(r.n)
        for r in conn.execute(
            select(OUTBOX.c.status, func.count().label("n")).group_by(OUTBOX.c.status)
        )
    }
