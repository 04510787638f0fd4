"""The reminder job's scan and claim: what is due now becomes ledger rows (`claimed`), grouped
by recipient, one digest each (`digests.send_digest`).

The same whether Celery runs it (workers/tasks.py) or the embedded scheduler does (no
broker): it re-reads the database and is safe to run twice."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, Engine, RowMapping, select

from khenthuong.services import reminders, scan_state
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


def preview(
    conn: Connection, registry: WorkflowRegistry, settings: Settings, *, now: datetime | None = None
) -> Preview:
    """What `claim_reminders` and `relay_outbox` would take now, read only."""
    now = now or datetime.now(UTC)
    items = reminders.scan_due(conn, registry, now=now, before_days=settings.reminder_days_before)
    items += reminders.scan_inspections(conn, now=now, before_days=settings.reminder_days_before)
    resends = reminders.pending_resends(
        conn,
        older_than=timedelta(seconds=settings.stale_claim_seconds),
        now=now,
        max_attempts=settings.send_max_attempts,
        retry_seconds=settings.send_retry_seconds,
        retry_max_seconds=settings.send_retry_max_seconds,
    )
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


def claim_reminders(
    engine: Engine, registry: WorkflowRegistry, settings: Settings, *, now: datetime | None = None
) -> list[list[int]]:
    """Claim due reminders (and stale claims) and group them: one list per recipient. Only
    what may have become due since the last scan is scanned (`scan_state`)."""
    now = now or datetime.now(UTC)
    # The scan only reads: it runs outside the write lock, so on SQLite (one writer at a
    # time) a scan over a large backlog with nothing new never holds back the server's steps,
    # sign-ins or token refreshes. Only when it finds an unclaimed reminder does the claim
    # run, in the short write transaction below, as one INSERT ... SELECT over the same scan
    # (`reminders.claim_due`: no row built in Python; the unique key skips what another
    # worker claimed meanwhile). Later events are the next scan's (scan_state keeps the
    # newest event it saw).
    only: list[int] | None = None
    unclaimed = False
    inspections: list[reminders.DueItem] = []
    with engine.connect() as conn:
        scan = scan_state.plan(
            conn,
            now=now,
            before_days=settings.reminder_days_before,
            full_scan_seconds=settings.full_scan_seconds,
        )
        if not scan.nothing:
            only = None if scan.full else scan_state.touched(conn, scan.since_event or 0)
            if only is None or only:
                # Whether there is anything to claim, asked of the database without the
                # write lock: it stops at the first reminder the ledger does not hold (an
                # unchanged backlog has none and claims nothing).
                unclaimed = reminders.any_unclaimed(
                    conn,
                    registry,
                    now=now,
                    before_days=settings.reminder_days_before,
                    only_ids=only,
                )
            if scan.full:
                inspections = reminders.scan_inspections(
                    conn, now=now, before_days=settings.reminder_days_before
                )
    with write_tx(engine) as conn:
        created: list[int] = []
        if not scan.nothing:
            if unclaimed:
                created = reminders.claim_due(
                    conn,
                    registry,
                    now=now,
                    before_days=settings.reminder_days_before,
                    only_ids=only,
                )
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


def release_claims(engine: Engine, ledger_ids: Sequence[int], settings: Settings) -> None:
    """Give back claimed rows a run could not send (see `reminders.release`)."""
    with write_tx(engine) as conn:
        reminders.release(
            conn, ledger_ids, older_than=timedelta(seconds=settings.stale_claim_seconds)
        )
