"""The reminder job's scan and claim: what is due now becomes ledger rows (`claimed`), grouped
by recipient, one digest each (`digests.send_digest`).

The same whether Celery runs it (workers/tasks.py) or the embedded scheduler does (no
broker): it re-reads the database and is safe to run twice."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, select

from khenthuong.services import due_scan, reminders, scan_state
from khenthuong.settings import Settings
from khenthuong.storage.db import write_tx
from khenthuong.storage.outbox import OUTBOX
from khenthuong.workflow.loader import WorkflowRegistry


@dataclass(frozen=True)
class Preview:
    """What a run of the jobs would send now (nothing is written)."""

    new: list[reminders.DueItem]
    """Reminders due now that have no ledger row yet."""
    resends: list[RowMapping]
    """Ledger rows to be sent again: failed, or left claimed or sending by a lost worker."""
    notices: list[RowMapping]
    """Outbox notices ready to go (pending and due, or stuck and handed out again)."""

    @property
    def reminders(self) -> int:
        """New reminders and re-sends together."""
        return len(self.new) + len(self.resends)

    @property
    def digests(self) -> int:
        """How many digests: one per recipient."""
        return len(
            {i.recipient_email for i in self.new} | {str(r["recipient"]) for r in self.resends}
        )


def _retry_policy(settings: Settings) -> dict[str, Any]:
    """When a claimed or failed ledger row may be taken back, and how often it is tried: the
    keywords `reminders.stale_claims` and `pending_resends` share."""
    return {
        "older_than": timedelta(seconds=settings.stale_claim_seconds),
        "max_attempts": settings.send_max_attempts,
        "retry_seconds": settings.send_retry_seconds,
        "retry_max_seconds": settings.send_retry_max_seconds,
    }


def preview(
    conn: Connection, registry: WorkflowRegistry, settings: Settings, *, now: datetime | None = None
) -> Preview:
    """What `claim_reminders` and `relay_outbox` would take now, read only."""
    now = now or datetime.now(UTC)
    items = reminders.scan_due(conn, registry, now=now, before_days=settings.reminder_days_before)
    items += reminders.scan_inspections(conn, now=now, before_days=settings.reminder_days_before)
    resends = reminders.pending_resends(conn, now=now, **_retry_policy(settings))
    notices = conn.execute(
        select(OUTBOX)
        .where(
            ((OUTBOX.c.status == "pending") & (OUTBOX.c.available_at <= now))
            | (
                OUTBOX.c.status.in_(("queued", "sending"))
                & (OUTBOX.c.available_at < now - timedelta(seconds=settings.stale_claim_seconds))
                & (OUTBOX.c.attempts < settings.send_max_attempts)
            )
        )
        .order_by(OUTBOX.c.id)
    ).mappings()
    return Preview(reminders.unclaimed(conn, items), resends, list(notices))


_clock = time.monotonic
"""The clock a spread full scan times its chunks with (tests set their own)."""


def claim_reminders(
    engine: Engine,
    registry: WorkflowRegistry,
    settings: Settings,
    *,
    now: datetime | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[list[int]]:
    """Claim due reminders (and stale claims) and group them: one list per recipient. Only
    what may have become due since the last scan is scanned (`scan_state`); a full scan is
    spread over time in chunks (`_full_scan`; `sleep` is how it pauses)."""
    now = now or datetime.now(UTC)
    # The scan only reads: it runs outside the write lock, so on SQLite (one writer at a
    # time) a scan over a large backlog with nothing new never holds back the server's steps,
    # sign-ins or token refreshes. Only when it finds an unclaimed reminder does the claim
    # run, in a short write transaction, as one INSERT ... SELECT over the same scan
    # (`reminders.claim_due`: no row built in Python; the unique key skips what another
    # worker claimed meanwhile). Later events are the next scan's (scan_state keeps the
    # newest settled event it saw when the scan began).
    inspections: list[reminders.DueItem] = []
    with engine.connect() as conn:
        scan = scan_state.plan(
            conn,
            now=now,
            before_days=settings.reminder_days_before,
            full_scan_seconds=settings.full_scan_seconds,
        )
        only: list[int] | None = None
        if not scan.nothing:
            only = None if scan.full else scan_state.touched(conn, scan.since_event or 0)
            if scan.full:
                inspections = reminders.scan_inspections(
                    conn, now=now, before_days=settings.reminder_days_before
                )
    created: list[int] = []
    if not scan.nothing:
        if only is None and settings.scan_chunk:
            created = _full_scan(engine, registry, settings, now=now, sleep=sleep)
        elif only is None or only:
            created = _claim_part(engine, registry, settings, now=now, only_ids=only)
    with write_tx(engine) as conn:
        if not scan.nothing:
            created += reminders.claim(conn, inspections, now=now)
            scan_state.remember(conn, scan, now=now)
        stale = reminders.stale_claims(
            conn,
            older_than=timedelta(seconds=settings.stale_claim_seconds),
            now=now,
            max_attempts=settings.send_max_attempts,
            retry_seconds=settings.send_retry_seconds,
            retry_max_seconds=settings.send_retry_max_seconds,
        )
        groups = reminders.group_by_recipient(conn, sorted(set(created) | set(stale)))
    # Imported here: the seal and its signing keys are not needed to read the jobs' status.
    from khenthuong.services import checkpoints  # noqa: PLC0415

    checkpoints.checkpoint_quietly(engine, settings)  # seal the audit log (issue 17)
    return [ids for _, ids in sorted(groups.items())]


def _claim_part(
    engine: Engine,
    registry: WorkflowRegistry,
    settings: Settings,
    *,
    now: datetime,
    only_ids: list[int] | None = None,
    id_range: due_scan.IdRange | None = None,
    claimed_at: datetime | None = None,
) -> list[int]:
    """Check (read only) and, when the check finds a reminder the ledger does not hold,
    claim (a short write transaction) the nominations of a scan: all of them, those in
    `only_ids` (incremental) or those in `id_range` (a chunk of a full scan)."""
    with engine.connect() as conn:
        # Whether there is anything to claim, asked of the database without the write lock:
        # it stops at the first reminder the ledger does not hold (an unchanged backlog has
        # none and claims nothing).
        unclaimed = reminders.any_unclaimed(
            conn,
            registry,
            now=now,
            before_days=settings.reminder_days_before,
            only_ids=only_ids,
            id_range=id_range,
        )
    if not unclaimed:
        return []
    with write_tx(engine) as conn:
        return reminders.claim_due(
            conn,
            registry,
            now=now,
            before_days=settings.reminder_days_before,
            only_ids=only_ids,
            id_range=id_range,
            claimed_at=claimed_at,
        )


def _full_scan(
    engine: Engine,
    registry: WorkflowRegistry,
    settings: Settings,
    *,
    now: datetime,
    sleep: Callable[[float], None],
) -> list[int]:
    """A full scan spread over time: the open due nominations in id order, KHENTHUONG_SCAN_CHUNK
    at a time, each chunk checked and (when it holds anything new) claimed in its own short
    write transaction, then a pause of (1 - duty) / duty times the chunk's own duration
    (KHENTHUONG_SCAN_DUTY), so that the scan never holds a core for long (issue 12: a full
    scan over 100,000 due nominations took 1.4-2.4 s of one core in one go).

    The same reminders as one statement over everything: a nomination's reminders depend
    on it and on the role holders, units and leaders only, not on the other nominations of
    its chunk, and every chunk is scanned as of `now` (the same day and horizon). The
    chunks' bounds are read once, when the scan begins (`reminders.chunk_bounds`); the last
    chunk has no upper bound, so the chunks cover every id. What changes while the scan is
    spread (a step, a new nomination) has an event after the watermark the scan records
    (taken when it began), so the next scan looks at it again; a reminder another worker
    claims meanwhile is skipped by the ledger's unique key. Each chunk's rows are claimed at
    the time it is claimed (`now` plus the time spent), so a long spread scan does not age
    its claims toward the stale threshold."""
    duty = settings.scan_duty
    began = _clock()
    with engine.connect() as conn:
        bounds = reminders.chunk_bounds(
            conn, now=now, before_days=settings.reminder_days_before, size=settings.scan_chunk
        )
    created: list[int] = []
    after: int | None = None
    for upto in [*bounds, None]:
        t0 = began if after is None else _clock()  # the first chunk's time includes the bounds
        created += _claim_part(
            engine,
            registry,
            settings,
            now=now,
            id_range=(after, upto),
            claimed_at=now + timedelta(seconds=t0 - began),
        )
        if upto is None:
            break
        busy = _clock() - t0
        if duty < 1:
            sleep(busy * (1 - duty) / duty)
        after = upto
    return created


def release_claims(engine: Engine, ledger_ids: Sequence[int], settings: Settings) -> None:
    """Give back claimed rows a run could not send (see `reminders.release`)."""
    with write_tx(engine) as conn:
        reminders.release(
            conn, ledger_ids, older_than=timedelta(seconds=settings.stale_claim_seconds)
        )
