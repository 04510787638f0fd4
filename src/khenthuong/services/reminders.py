"""Deadline reminders and escalations: scan due items, claim ledger rows, group digests.

Reminders are rows, not broker timers: a periodic scan finds open nominations whose
due date is near, due or past, and claims one ledger row per (item, due date, kind,
recipient) before anything is sent. The unique ledger key makes a reminder go out at
most once even with two workers, retries or a redelivered message.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, RowMapping, and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from khenthuong.calendar.workdays import add_working_days, is_working_day
from khenthuong.localtime import LOCAL_TZ
from khenthuong.services import due_scan
from khenthuong.services.due_scan import due_rows
from khenthuong.services.outbox import MAX_RETRY_SECONDS, RETRY_SECONDS, retry_delay
from khenthuong.storage.models import UNITS
from khenthuong.storage.outbox import REMINDER_LEDGER
from khenthuong.workflow.loader import WorkflowRegistry

KINDS = ("before", "due", "overdue")
REPORT_CHASE_DAYS = 120
"""Overdue inspection reports are chased for this many days after their due date."""


@dataclass(frozen=True)
class DueItem:
    """One reminder to one person about one nomination."""

    key: str
    kind: str
    """before (N working days ahead), due (today) or overdue (escalation)."""
    nomination_id: int
    nominee_name: str
    workflow: str
    workflow_title: str
    state: str
    state_title: str
    due_on: date
    working_days_left: int
    """Negative when overdue."""
    recipient_email: str
    recipient_name: str
    subject: str = "nomination"
    """nomination, or visit (a cross-inspection visit or its overdue report)."""

    @property
    def item_ref(self) -> str:
        """`nomination:ID` or `visit:ID`."""
        return f"{self.subject}:{self.nomination_id}"


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]; negative when end is before start."""
    if end == start:
        return 0
    sign = 1 if end > start else -1
    lo, hi = (start, end) if sign > 0 else (end, start)
    count = 0
    day = lo
    while day < hi:
        day += timedelta(days=1)
        if is_working_day(day):
            count += 1
    return sign * count


def _horizon(now: datetime, before_days: int) -> tuple[date, datetime]:
    """Việt Nam's date at `now`, and the end (in UTC) of the day `before_days` working days on:
    reminders are due for what is due before it."""
    today = now.astimezone(LOCAL_TZ).date()
    horizon_day = add_working_days(today, before_days)
    horizon = datetime.combine(horizon_day + timedelta(days=1), datetime.min.time(), LOCAL_TZ)
    return today, horizon.astimezone(UTC)


def scan_due(
    conn: Connection,
    registry: WorkflowRegistry,
    *,
    now: datetime | None = None,
    before_days: int = 3,
    only_ids: Sequence[int] | None = None,
    unclaimed_only: bool = False,
) -> list[DueItem]:
    """Reminders that are due now for every open nomination (nothing is written); with
    `only_ids`, for those nominations only (an incremental scan: the others were scanned
    before and nothing about them changed); with `unclaimed_only`, only those the ledger does
    not hold yet (what a claim would add).

    Officers holding the state's responsible role over the nomination's unit get
    `before` and `due` reminders; when overdue the leader of the responsible unit is
    added as an escalation recipient. The database works out who and which
    (`due_scan.due_rows`, one statement); here only the rows it returns become items.
    """
    now = now or datetime.now(UTC)
    today, horizon = _horizon(now, before_days)
    rows = due_rows(
        conn,
        registry,
        today=today,
        horizon=horizon,
        only_ids=only_ids,
        unclaimed_only=unclaimed_only,
    )
    items: list[DueItem] = []
    seen: set[tuple[int, str]] = set()
    left: dict[date, int] = {}
    for row in rows:
        if (row.id, row.email) in seen:
            continue  # the leader is also a role holder: named once, as the holder
        seen.add((row.id, row.email))
        wf = registry.get(row.workflow, row.workflow_version).definition
        state = wf.state(row.state)
        due_on = date.fromisoformat(str(row.due_on))
        if due_on not in left:
            left[due_on] = working_days_between(today, due_on)
        items.append(
            DueItem(
                key=f"nomination:{row.id}:{due_on.isoformat()}:{row.kind}:{row.email}",
                kind=str(row.kind),
                nomination_id=row.id,
                nominee_name=row.nominee_name,
                workflow=wf.name,
                workflow_title=wf.title.vi,
                state=row.state,
                state_title=state.title.vi,
                due_on=due_on,
                working_days_left=left[due_on],
                recipient_email=row.email,
                recipient_name=f"Lãnh đạo {row.name}" if row.leader else row.name,
            )
        )
    return items


def claim(conn: Connection, items: Iterable[DueItem], *, now: datetime | None = None) -> list[int]:
    """Insert ledger rows for `items`; returns the ids of rows this call created.

    A key that already has a row (sent, or claimed by another worker) is skipped,
    so each reminder is claimed exactly once.
    """
    now = now or datetime.now(UTC)
    values = [
        {
            "key": item.key,
            "recipient": item.recipient_email,
            "kind": item.kind,
            "item_ref": item.item_ref,
            "due_on": item.due_on.isoformat(),
            "status": "claimed",
            "attempts": 0,
            "claimed_at": now,
        }
        for item in items
    ]
    if not values:
        return []
    dialect = conn.dialect.name
    insert_fn: Any = postgresql.insert if dialect == "postgresql" else sqlite.insert
    created: list[int] = []
    for start in range(0, len(values), 500):
        stmt = (
            insert_fn(REMINDER_LEDGER)
            .values(values[start : start + 500])
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(REMINDER_LEDGER.c.id)
        )
        created.extend(int(i) for i in conn.execute(stmt).scalars())
    return created


def claim_due(
    conn: Connection,
    registry: WorkflowRegistry,
    *,
    now: datetime | None = None,
    before_days: int = 3,
    only_ids: Sequence[int] | None = None,
    id_range: due_scan.IdRange | None = None,
    claimed_at: datetime | None = None,
) -> list[int]:
    """Claim, in the database and in one statement, every reminder `scan_due` would find now
    that the ledger does not hold yet (`due_scan.claim_due`): the same rows `claim` makes of
    those items, without building them in Python. Returns the ids of the rows created.
    `id_range`: one chunk of a full scan; `claimed_at`: when (default `now`, the scan's time;
    a chunk of a spread full scan is claimed later than the scan began)."""
    now = now or datetime.now(UTC)
    today, horizon = _horizon(now, before_days)
    return due_scan.claim_due(
        conn,
        registry,
        today=today,
        horizon=horizon,
        claimed_at=claimed_at or now,
        only_ids=only_ids,
        id_range=id_range,
    )


def any_unclaimed(
    conn: Connection,
    registry: WorkflowRegistry,
    *,
    now: datetime | None = None,
    before_days: int = 3,
    only_ids: Sequence[int] | None = None,
    id_range: due_scan.IdRange | None = None,
) -> bool:
    """Whether `claim_due` would claim anything now (`due_scan.any_unclaimed`: the database
    stops at the first reminder the ledger does not hold). Read only."""
    now = now or datetime.now(UTC)
    today, horizon = _horizon(now, before_days)
    return due_scan.any_unclaimed(
        conn, registry, today=today, horizon=horizon, only_ids=only_ids, id_range=id_range
    )


def chunk_bounds(conn: Connection, *, now: datetime, before_days: int, size: int) -> list[int]:
    """Upper id bounds of the chunks of a full scan at `now` (`due_scan.chunk_bounds`)."""
    _, horizon = _horizon(now, before_days)
    return due_scan.chunk_bounds(conn, horizon=horizon, size=size)


MAX_ATTEMPTS = 8
"""Default number of sends a reminder gets before it is given up (KHENTHUONG_SEND_MAX_ATTEMPTS)."""
RETRY = "retry"
"""Status of a row whose last send failed and that waits for its next try (the backoff of
its attempts counted from `claimed_at`, the time of the failure)."""
FAILED = "failed"
"""Status of a row given up: `max_attempts` sends failed (or were lost). Only
`reminders retry` puts it back."""


def _due_again(
    now: datetime,
    older_than: timedelta,
    retry_seconds: int,
    max_attempts: int,
    retry_max_seconds: int = MAX_RETRY_SECONDS,
) -> ColumnElement[bool]:
    """Rows to send again: lost ones (claimed or `sending` for longer than `older_than`: a
    lost task, a dead worker) at once; rows waiting for a retry once their backoff is over
    (`retry_delay` of their attempts: 1, 2, 4 … minutes, at most `retry_max_seconds`)."""
    led = REMINDER_LEDGER.c
    lost = and_(led.status.in_(("claimed", "sending")), led.claimed_at < now - older_than)
    waited = or_(
        *(
            and_(
                led.attempts == attempts,
                led.claimed_at
                <= now - retry_delay(attempts, base=retry_seconds, cap=retry_max_seconds),
            )
            for attempts in range(max_attempts)
        )
    )
    # Each branch starts from a status, so the (status, claimed_at) index serves both: a scan
    # costs the same however many rows are sent.
    return or_(
        and_(lost, led.attempts < max_attempts),
        and_(led.status == RETRY, led.attempts < max_attempts, waited),
    )


def stale_claims(
    conn: Connection,
    *,
    older_than: timedelta,
    now: datetime | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    retry_seconds: int = RETRY_SECONDS,
    retry_max_seconds: int = MAX_RETRY_SECONDS,
) -> list[int]:
    """Take back ledger rows left behind (a lost task, a failed send, a worker killed mid-send)
    to be sent again; returns their ids.

    A row claimed or `sending` for longer than `older_than`, or waiting for a retry past its
    backoff (`_due_again`), is claimed again: `claimed_at` is set to `now` (so the next scan
    does not queue it again) and its status to `claimed`, the only status a send takes.
    `older_than` must exceed the longest send (the task time limit), so that a `sending` row
    this old belongs to a dead worker. A row lost during its last allowed attempt is given up
    (failed, with the reason).
    """
    now = now or datetime.now(UTC)
    led = REMINDER_LEDGER.c
    conn.execute(
        update(REMINDER_LEDGER)
        .where(
            led.status.in_(("claimed", "sending")),
            led.claimed_at < now - older_than,
            led.attempts >= max_attempts,
        )
        .values(
            status=FAILED,
            last_error=func.coalesce(led.last_error + "; ", "")
            + f"given up: the worker was lost during attempt {max_attempts}",
        )
    )
    result = conn.execute(
        update(REMINDER_LEDGER)
        .where(_due_again(now, older_than, retry_seconds, max_attempts, retry_max_seconds))
        .values(claimed_at=now, status="claimed")
        .returning(REMINDER_LEDGER.c.id)
    )
    return sorted(int(i) for i in result.scalars())


def pending_resends(
    conn: Connection,
    *,
    older_than: timedelta,
    now: datetime | None = None,
    max_attempts: int = MAX_ATTEMPTS,
    retry_seconds: int = RETRY_SECONDS,
    retry_max_seconds: int = MAX_RETRY_SECONDS,
) -> list[RowMapping]:
    """The rows `stale_claims` would take back now (read only, for a dry run)."""
    now = now or datetime.now(UTC)
    return list(
        conn.execute(
            select(REMINDER_LEDGER)
            .where(_due_again(now, older_than, retry_seconds, max_attempts, retry_max_seconds))
            .order_by(REMINDER_LEDGER.c.id)
        ).mappings()
    )


def take_for_sending(
    conn: Connection,
    ledger_ids: Sequence[int],
    *,
    stale_after: timedelta,
    now: datetime | None = None,
    max_attempts: int = MAX_ATTEMPTS,
) -> list[int]:
    """Atomically move the given rows to `sending`; returns the ids this caller won.

    A row is taken when it is claimed, or `sending` for longer than `stale_after` (its
    worker died mid-send). A row waiting for a retry is never taken here: only the scan
    claims it again once its backoff is over, so neither a task retry nor a redelivered
    message nor another worker sends it early. Two callers with the same ids (a duplicate
    task, a redelivered message, two workers) race on one conditional UPDATE: each row
    goes to exactly one of them, on SQLite (one writer at a time) and on PostgreSQL
    (the second UPDATE waits for the first and re-checks the condition).
    """
    if not ledger_ids:
        return []
    now = now or datetime.now(UTC)
    result = conn.execute(
        update(REMINDER_LEDGER)
        .where(
            REMINDER_LEDGER.c.id.in_(list(ledger_ids)),
            REMINDER_LEDGER.c.attempts < max_attempts,
            or_(
                REMINDER_LEDGER.c.status == "claimed",
                and_(
                    REMINDER_LEDGER.c.status == "sending",
                    REMINDER_LEDGER.c.claimed_at < now - stale_after,
                ),
            ),
        )
        .values(status="sending", claimed_at=now, attempts=REMINDER_LEDGER.c.attempts + 1)
        .returning(REMINDER_LEDGER.c.id)
    )
    return sorted(int(i) for i in result.scalars())


def release(
    conn: Connection,
    ledger_ids: Sequence[int],
    *,
    older_than: timedelta,
    now: datetime | None = None,
) -> None:
    """Give back claimed rows a run did not get to send (no attempt counted): they are dated
    past the stale threshold, so the next scan claims them again at once."""
    if not ledger_ids:
        return
    now = now or datetime.now(UTC)
    conn.execute(
        update(REMINDER_LEDGER)
        .where(REMINDER_LEDGER.c.id.in_(list(ledger_ids)), REMINDER_LEDGER.c.status == "claimed")
        .values(claimed_at=now - older_than - timedelta(seconds=1))
    )


def given_up(conn: Connection, *, limit: int = 50) -> list[RowMapping]:
    """Rows given up (failed), newest failure first, with their last error."""
    return list(
        conn.execute(
            select(REMINDER_LEDGER)
            .where(REMINDER_LEDGER.c.status == FAILED)
            .order_by(REMINDER_LEDGER.c.claimed_at.desc(), REMINDER_LEDGER.c.id)
            .limit(limit)
        ).mappings()
    )


def retry_given_up(
    conn: Connection, ledger_ids: Sequence[int] | None, *, now: datetime | None = None
) -> list[int]:
    """Put failed rows back (all of them when `ledger_ids` is None) with a fresh count of
    attempts: the next scan sends them. Returns the ids put back; the last error stays."""
    now = now or datetime.now(UTC)
    query = update(REMINDER_LEDGER).where(REMINDER_LEDGER.c.status == FAILED)
    if ledger_ids is not None:
        query = query.where(REMINDER_LEDGER.c.id.in_(list(ledger_ids)))
    result = conn.execute(
        query.values(status=RETRY, attempts=0, claimed_at=now).returning(REMINDER_LEDGER.c.id)
    )
    return sorted(int(i) for i in result.scalars())


def unclaimed(conn: Connection, items: Sequence[DueItem]) -> list[DueItem]:
    """The items whose reminder has no ledger row yet (not sent nor claimed before)."""
    keys = [item.key for item in items]
    known: set[str] = set()
    for start in range(0, len(keys), 500):
        known.update(
            conn.execute(
                select(REMINDER_LEDGER.c.key).where(
                    REMINDER_LEDGER.c.key.in_(keys[start : start + 500])
                )
            ).scalars()
        )
    return [item for item in items if item.key not in known]


def group_by_recipient(conn: Connection, ledger_ids: Sequence[int]) -> dict[str, list[int]]:
    """Ledger ids per recipient: one digest per officer per run."""
    groups: dict[str, list[int]] = defaultdict(list)
    ids = sorted(ledger_ids)
    # In slices: PostgreSQL takes at most 65,535 bound parameters per statement.
    for start in range(0, len(ids), 10_000):
        for row in conn.execute(
            select(REMINDER_LEDGER.c.id, REMINDER_LEDGER.c.recipient)
            .where(REMINDER_LEDGER.c.id.in_(ids[start : start + 10_000]))
            .order_by(REMINDER_LEDGER.c.id)
        ):
            groups[row.recipient].append(row.id)
    return dict(groups)


def mark(
    conn: Connection,
    ledger_ids: Sequence[int],
    status: str,
    *,
    error: str | None = None,
    message_id: str | None = None,
    now: datetime | None = None,
) -> None:
    """Record that a send of ledger rows that are not already sent succeeded ("sent"); a
    failure goes through `record_failure`.

    Attempts are counted when a row is taken for sending (`take_for_sending`). The error
    of a failed attempt is kept after a later success, so the ledger shows what happened.
    """
    if status != "sent":
        raise ValueError(f"mark records sends only, not {status!r}: use record_failure")
    now = now or datetime.now(UTC)
    conn.execute(
        update(REMINDER_LEDGER)
        .where(and_(REMINDER_LEDGER.c.id.in_(list(ledger_ids)), REMINDER_LEDGER.c.status != "sent"))
        .values(status="sent", sent_at=now, message_id=message_id)
    )


def record_failure(
    conn: Connection,
    ledger_ids: Sequence[int],
    error: str,
    *,
    max_attempts: int = MAX_ATTEMPTS,
    now: datetime | None = None,
) -> list[int]:
    """Record a failed send: rows with attempts left wait for a retry (RETRY, backoff from
    now), the others are given up (FAILED). The error is kept. Returns the ids given up."""
    now = now or datetime.now(UTC)
    led = REMINDER_LEDGER.c
    taken = and_(led.id.in_(list(ledger_ids)), led.status != "sent")
    given_up = conn.execute(
        update(REMINDER_LEDGER)
        .where(taken, led.attempts >= max_attempts)
        .values(status=FAILED, last_error=error, claimed_at=now)
        .returning(led.id)
    ).scalars()
    ids = sorted(int(i) for i in given_up)
    conn.execute(
        update(REMINDER_LEDGER)
        .where(taken, led.attempts < max_attempts)
        .values(status=RETRY, last_error=error, claimed_at=now)
    )
    return ids


def status_counts(conn: Connection) -> dict[str, int]:
    """How many ledger rows are claimed, sending, sent, waiting for a retry and failed."""
    return {
        str(r.status): int(r.n)
        for r in conn.execute(
            select(REMINDER_LEDGER.c.status, func.count().label("n")).group_by(
                REMINDER_LEDGER.c.status
            )
        )
    }


def scan_inspections(
    conn: Connection, *, now: datetime | None = None, before_days: int = 3
) -> list[DueItem]:
    """Reminders for cross-inspection visits of current plans: before and on the first day
    (to the leaders of both units), and for reports overdue (to the inspecting unit's leader)."""
    from khenthuong.storage.blocs import BLOCS, INSPECTION_PLANS, INSPECTION_VISITS  # noqa: PLC0415

    now = now or datetime.now(UTC)
    today = now.astimezone(LOCAL_TZ).date()
    horizon = add_working_days(today, before_days)
    units = {r.id: (r.name, r.leader_email) for r in conn.execute(select(UNITS))}
    rows = conn.execute(
        select(INSPECTION_VISITS, BLOCS.c.name.label("bloc_name"))
        .join(INSPECTION_PLANS, INSPECTION_PLANS.c.id == INSPECTION_VISITS.c.plan_id)
        .join(BLOCS, BLOCS.c.id == INSPECTION_PLANS.c.bloc_id)
        .where(
            INSPECTION_PLANS.c.current.is_(True),
            ((INSPECTION_VISITS.c.starts_on >= today) & (INSPECTION_VISITS.c.starts_on <= horizon))
            | (
                (INSPECTION_VISITS.c.report_due_on < today)
                # Old plans are not chased forever: overdue reports of the last 120 days.
                & (INSPECTION_VISITS.c.report_due_on >= today - timedelta(days=REPORT_CHASE_DAYS))
                & INSPECTION_VISITS.c.reported_at.is_(None)
            ),
        )
        .order_by(INSPECTION_VISITS.c.starts_on, INSPECTION_VISITS.c.id)
    ).all()
    items: list[DueItem] = []
    for v in rows:
        inspector, inspected = units[v.inspector_unit_id], units[v.inspected_unit_id]
        if v.reported_at is None and v.report_due_on < today:
            kind, due_on, recipients = "overdue", v.report_due_on, [inspector]
            state_title = "Quá hạn nộp báo cáo kiểm tra"
        else:
            kind = "due" if v.starts_on == today else "before"
            due_on, recipients = v.starts_on, [inspector, inspected]
            state_title = f"Kiểm tra từ {v.starts_on:%d/%m/%Y} đến {v.ends_on:%d/%m/%Y}"
        for name, email in recipients:
            if not email:
                continue
            items.append(
                DueItem(
                    key=f"visit:{v.id}:{due_on.isoformat()}:{kind}:{email}",
                    kind=kind,
                    nomination_id=v.id,
                    nominee_name=f"{inspector[0]} kiểm tra {inspected[0]}",
                    workflow=str(v.bloc_name),
                    workflow_title=f"Kiểm tra chéo – {v.bloc_name}",
                    state="inspection",
                    state_title=state_title,
                    due_on=due_on,
                    working_days_left=working_days_between(today, due_on),
                    recipient_email=email,
                    recipient_name=f"Lãnh đạo {name}",
                    subject="visit",
                )
            )
    return items
