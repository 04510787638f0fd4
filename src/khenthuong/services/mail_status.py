"""What the reminder and notice jobs are doing, as data for the administrators' page
(`/admin/mail`): counts by status, the last and next run of the reminder scan and of the
outbox relay, and the given-up reminders and notices with whom and what they were about.
`khenthuong reminders status` reads the same tables; `retry` is what both `khenthuong
reminders retry` and the page's "Gửi lại" call. Nothing here is worded: pages and the CLI
say it in their language."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from khenthuong.notify.mail_settings import get_mail_settings
from khenthuong.services import digests, job_runs, mail_health, outbox, reminders
from khenthuong.services.checkpoints import MAIL_KIND as CHECKPOINT_KIND
from khenthuong.services.mail_health import ALERT_KIND
from khenthuong.services.scheduler_lock import current_holder
from khenthuong.settings import Settings
from khenthuong.storage.models import NOMINATIONS, UNITS, USERS
from khenthuong.storage.outbox import OUTBOX, REMINDER_LEDGER

log = logging.getLogger("khenthuong.jobs")

SHOWN = 100
"""Given-up rows of each table listed at most (newest first); the page says how many more."""


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Counts:
    """Rows of one table by what is happening to them."""

    pending: int
    """Waiting for their first send (reminders claimed by a scan, new notices)."""
    in_flight: int
    """Being sent now (reminders `sending`, notices `queued` or `sending`)."""
    waiting: int
    """Waiting for a retry after a failed send."""
    next_try: datetime | None
    """The earliest time one of the `waiting` rows is tried again."""
    sent: int
    failed: int
    """Given up after the last attempt: only a retry puts them back."""
    skipped: int = 0
    """Notices that had nobody to go to."""


@dataclass(frozen=True)
class Run:
    """The last run of a periodic job and when the next is due."""

    job: str
    runner: str
    """embedded (the serve process's scheduler, or `reminders run`) or celery."""
    at: datetime
    counts: dict[str, int]
    """What it did (`job_runs.record_run`): queued, sent, failed, no_recipient."""
    runs: int
    next_at: datetime
    late: bool
    """The next run is more than one interval overdue: is serve or beat running?"""


@dataclass(frozen=True)
class GivenUp:
    """A given-up reminder (`r<id>`) or notice (`n<id>`), with whom and what it was about."""

    ref: str
    table: str
    """reminder or notice."""
    kind: str
    """before, due, overdue (reminders); step_notice, inspection_plan, mail_alert,
    audit_checkpoint (notices)."""
    attempts: int
    last_error: str
    failed_at: datetime | None
    recipient_name: str | None = None
    recipient_email: str | None = None
    nomination_id: int | None = None
    nominee_name: str | None = None
    award_code: str | None = None
    workflow: str | None = None
    trigger: str | None = None
    """The step a notice tells about."""
    to_state: str | None = None
    due_on: date | None = None
    visit: dict[str, Any] | None = None
    """An inspection visit a reminder is about: inspector, inspected, bloc (names)."""
    unit_name: str | None = None
    """The unit an inspection plan notice goes to."""


@dataclass(frozen=True)
class MailStatus:
    """Everything the page shows."""

    mode: str
    """embedded or celery."""
    reminders: Counts
    notices: Counts
    runs: dict[str, Run | None]
    intervals: dict[str, int]
    reminders_given_up: list[GivenUp] = field(default_factory=list)
    notices_given_up: list[GivenUp] = field(default_factory=list)
    given_up_counts: tuple[int, int] = (0, 0)
    """All the given-up reminders and notices (the lists hold the newest `SHOWN`)."""
    holder: str | None = None
    """The serve process running the embedded jobs now (host:pid), if any."""
    smtp: str | None = None
    """host:port of the SMTP relay; None: mail goes to `maildir`."""
    maildir: str = ""
    failing_since: datetime | None = None
    """When mail stopped getting through, while it still does not."""


def intervals(settings: Settings) -> dict[str, int]:
    """Seconds between runs of each job: beat's schedule, or one in-process tick for both."""
    scan = settings.scan_interval_seconds
    relay = settings.relay_interval_seconds if settings.broker_url else scan
    return {job_runs.SCAN_JOB: scan, job_runs.RELAY_JOB: relay}


def _reminder_counts(conn: Connection, settings: Settings) -> Counts:
    by_status = reminders.status_counts(conn)
    led = REMINDER_LEDGER.c
    next_try = None
    for attempts, oldest in conn.execute(
        select(led.attempts, func.min(led.claimed_at))
        .where(led.status == reminders.RETRY)
        .group_by(led.attempts)
    ):
        delay = outbox.retry_delay(
            int(attempts), base=settings.send_retry_seconds, cap=settings.send_retry_max_seconds
        )
        when = _utc(oldest)
        if when is not None and (next_try is None or when + delay < next_try):
            next_try = when + delay
    return Counts(
        pending=by_status.get("claimed", 0),
        in_flight=by_status.get("sending", 0),
        waiting=by_status.get(reminders.RETRY, 0),
        next_try=next_try,
        sent=by_status.get("sent", 0),
        failed=by_status.get(reminders.FAILED, 0),
    )


def _notice_counts(conn: Connection) -> Counts:
    by_status = outbox.counts(conn)
    retrying = OUTBOX.c.status == "pending", OUTBOX.c.attempts > 0
    waiting, next_try = conn.execute(
        select(func.count(), func.min(OUTBOX.c.available_at)).where(*retrying)
    ).one()
    return Counts(
        pending=by_status.get("pending", 0) - int(waiting),
        in_flight=by_status.get("queued", 0) + by_status.get("sending", 0),
        waiting=int(waiting),
        next_try=_utc(next_try),
        sent=by_status.get("sent", 0),
        failed=by_status.get(outbox.FAILED, 0),
        skipped=by_status.get(outbox.SKIPPED, 0),
    )


def last_runs(
    conn: Connection, every: dict[str, int], *, now: datetime | None = None
) -> dict[str, Run | None]:
    """The last run of the reminder scan and of the outbox relay (None: never ran) and the next."""
    now = now or datetime.now(UTC)
    found = job_runs.last_runs(conn)
    runs: dict[str, Run | None] = {}
    for job, seconds in every.items():
        row = found.get(job)
        at = _utc(row["last_run_at"]) if row else None
        if row is None or at is None:
            runs[job] = None
            continue
        upcoming = at + timedelta(seconds=seconds)
        runs[job] = Run(
            job=job, runner=str(row["runner"]), at=at, counts=dict(row["last_result"]),
            runs=int(row["runs"] or 0), next_at=upcoming,
            late=upcoming < now - timedelta(seconds=seconds),
        )  # fmt: skip
    return runs


def _people(conn: Connection, emails: set[str], usernames: set[str]) -> dict[str, Any]:
    """Officers by e-mail and by username; unit leaders by e-mail (`leader:` + e-mail)."""
    found: dict[str, Any] = {}
    if emails or usernames:
        for user in conn.execute(
            select(USERS.c.username, USERS.c.email, USERS.c.full_name).where(
                USERS.c.email.in_(sorted(emails)) | USERS.c.username.in_(sorted(usernames))
            )
        ):
            found.setdefault(f"mail:{user.email}", user)
            found[f"user:{user.username}"] = user
    if emails:
        for unit in conn.execute(
            select(UNITS.c.name, UNITS.c.leader_email).where(
                UNITS.c.leader_email.in_(sorted(emails))
            )
        ):
            found.setdefault(f"leader:{unit.leader_email}", unit.name)
    return found


def _nominations(conn: Connection, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    rows = conn.execute(
        select(NOMINATIONS.c.id, NOMINATIONS.c.nominee_name, NOMINATIONS.c.award_code,
               NOMINATIONS.c.workflow).where(NOMINATIONS.c.id.in_(sorted(ids)))
    )  # fmt: skip
    return {int(r.id): r for r in rows}


def _given_up_reminders(conn: Connection, rows: Sequence[Any]) -> list[GivenUp]:
    refs = [str(r["item_ref"]).partition(":") for r in rows]
    noms = _nominations(conn, {int(i) for s, _, i in refs if s == "nomination" and i.isdigit()})
    visits = digests.visit_rows(conn, sorted({int(i) for s, _, i in refs if s == "visit"}))
    people = _people(conn, {str(r["recipient"]) for r in rows}, set())
    out = []
    for row, (subject, _, ref) in zip(rows, refs, strict=True):
        email = str(row["recipient"])
        user = people.get(f"mail:{email}")
        nom = noms.get(int(ref)) if subject == "nomination" and ref.isdigit() else None
        out.append(
            GivenUp(
                ref=f"r{row['id']}", table="reminder", kind=str(row["kind"]),
                attempts=int(row["attempts"]), last_error=str(row["last_error"] or ""),
                failed_at=_utc(row["claimed_at"]),
                recipient_name=user.full_name if user else people.get(f"leader:{email}"),
                recipient_email=email,
                nomination_id=int(ref) if subject == "nomination" and ref.isdigit() else None,
                nominee_name=nom.nominee_name if nom else None,
                award_code=nom.award_code if nom else None,
                workflow=nom.workflow if nom else None,
                due_on=date.fromisoformat(str(row["due_on"])[:10]) if row["due_on"] else None,
                visit=visits.get(int(ref)) if subject == "visit" and ref.isdigit() else None,
            )
        )  # fmt: skip
    return out


def _payload(row: Any) -> dict[str, Any]:
    try:
        data = json.loads(row["payload"] or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _given_up_notices(conn: Connection, rows: Sequence[Any]) -> list[GivenUp]:
    data = [_payload(r) for r in rows]
    users = {str(d["recipient_user"]) for d in data if d.get("recipient_user")}
    people = _people(conn, set(), users)
    noms = _nominations(
        conn, {int(d["nomination_id"]) for d in data if str(d.get("nomination_id", "")).isdigit()}
    )
    units = {}
    codes = sorted({str(d["unit"]) for d in data if d.get("unit")})
    if codes:
        units = {
            r.code: r
            for r in conn.execute(
                select(UNITS.c.code, UNITS.c.name, UNITS.c.leader_email).where(
                    UNITS.c.code.in_(codes)
                )
            )
        }
    out = []
    for row, d in zip(rows, data, strict=True):
        kind = str(row["kind"])
        user = people.get(f"user:{d.get('recipient_user')}")
        nom = (
            noms.get(int(d["nomination_id"])) if str(d.get("nomination_id", "")).isdigit() else None
        )
        unit = units.get(str(d.get("unit"))) if kind == "inspection_plan" else None
        name, email = (user.full_name, user.email) if user else (None, None)
        if kind == CHECKPOINT_KIND:
            email = str(d.get("to") or "") or None
        elif unit is not None:
            name, email = unit.name, unit.leader_email
        out.append(
            GivenUp(
                ref=f"n{row['id']}", table="notice", kind=kind,
                attempts=int(row["attempts"]), last_error=str(row["last_error"] or ""),
                failed_at=_utc(row["available_at"]),
                recipient_name=name, recipient_email=email or None,
                nomination_id=nom.id if nom else None,
                nominee_name=nom.nominee_name if nom else None,
                award_code=nom.award_code if nom else None,
                workflow=nom.workflow if nom else None,
                trigger=d.get("trigger") if kind not in (ALERT_KIND, CHECKPOINT_KIND) else None,
                to_state=d.get("to_state"),
                unit_name=unit.name if unit else (str(d["unit"]) if d.get("unit") else None),
            )
        )  # fmt: skip
    return out


def given_up_total(conn: Connection) -> tuple[int, int]:
    """How many reminders and notices are given up."""
    return (
        int(conn.execute(select(func.count()).where(REMINDER_LEDGER.c.status == reminders.FAILED))
            .scalar_one()),
        int(conn.execute(select(func.count()).where(OUTBOX.c.status == outbox.FAILED))
            .scalar_one()),
    )  # fmt: skip


def status(
    conn: Connection, settings: Settings, *, now: datetime | None = None, shown: int | None = None
) -> MailStatus:
    """The counts, the runs and the given-up rows (the newest `shown` of each table, by
    default `SHOWN`)."""
    every = intervals(settings)
    shown = SHOWN if shown is None else shown
    return MailStatus(
        mode="celery" if settings.broker_url else "embedded",
        reminders=_reminder_counts(conn, settings),
        notices=_notice_counts(conn),
        runs=last_runs(conn, every, now=now),
        intervals=every,
        reminders_given_up=_given_up_reminders(conn, reminders.given_up(conn, limit=shown)),
        notices_given_up=_given_up_notices(conn, outbox.given_up(conn, limit=shown)),
        given_up_counts=given_up_total(conn),
    )


def overview(engine: Engine, settings: Settings, *, now: datetime | None = None) -> MailStatus:
    """`status` with who runs the embedded jobs, where mail goes and whether it gets through."""
    mail = get_mail_settings()
    with engine.connect() as conn:
        found = status(conn, settings, now=now)
    return replace(
        found,
        holder=None if settings.broker_url else current_holder(engine),
        smtp=f"{mail.host}:{mail.port}" if mail.host else None,
        maildir=str(mail.maildir),
        failing_since=mail_health.failing_since(engine),
    )


def retry(
    conn: Connection,
    reminder_ids: Sequence[int] | None,
    notice_ids: Sequence[int] | None,
    *,
    actor: str,
) -> tuple[list[int], list[int]]:
    """Put given-up reminders and notices back with a fresh count of attempts: the next scan
    and relay send them. None puts back every one of that table, [] none. Returns the ids
    put back (an id that was not given up is left out); logged with who asked."""
    back_r = reminders.retry_given_up(conn, reminder_ids) if reminder_ids != [] else []
    back_n = outbox.retry_given_up(conn, notice_ids) if notice_ids != [] else []
    if back_r or back_n:
        log.info(
            "%s put back %d given-up reminder(s) %s and %d notice(s) %s",
            actor, len(back_r), [f"r{i}" for i in back_r], len(back_n),
            [f"n{i}" for i in back_n],
        )  # fmt: skip
    return back_r, back_n
