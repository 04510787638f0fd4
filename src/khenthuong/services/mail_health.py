"""Is mail getting through? One warning when the mail server (or maildir) goes away, one when
it is back with the time it was down, and one notice to the administrators when it has been
failing for longer than KHENTHUONG_MAIL_ALERT_AFTER_SECONDS.

The state lives in two `job_runs` rows, shared by every worker process and the embedded
scheduler: `mail_down` (since when, the first error) and `mail_alert` (when the
administrators were told). Inserting or deleting a row is atomic, so of many workers seeing
the same outage exactly one logs it and exactly one alert is written.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite

from khenthuong.notify.mail_settings import MailSettings
from khenthuong.notify.smtp import MailUnavailable, deliver
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import USER_ROLES, USERS
from khenthuong.storage.outbox import JOB_RUNS, OUTBOX, REMINDER_LEDGER

log = logging.getLogger("khenthuong.mail")


class DeliveryFailed(RuntimeError):
    """A message could not be handed to the mail server; the ledger retries it later."""


class MailTargetDown(DeliveryFailed):
    """The mail server (or the maildir) cannot take any message now: the other digests of
    this run would fail the same way, so the run stops sending."""


DOWN = "mail_down"
"""job_runs row present while deliveries fail because the mail target cannot be reached."""
ALERTED = "mail_alert"
"""job_runs row present once the administrators were told about the current outage."""
ALERT_KIND = "mail_alert"
"""Outbox kind of the notice to an administrator."""
ADMIN_ROLE = "admin"


def _insert(engine: Engine) -> Any:
    return postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def note_failure(engine: Engine, error: str, runner: str, *, now: datetime | None = None) -> None:
    """A delivery found the mail target unreachable: the first one of an outage logs it."""
    now = now or datetime.now(UTC)
    with write_tx(engine) as conn:
        created = conn.execute(
            _insert(engine)(JOB_RUNS)
            .values(job=DOWN, runner=runner, last_run_at=now, last_result=error[:200], runs=1)
            .on_conflict_do_nothing(index_elements=["job"])
            .returning(JOB_RUNS.c.job)
        ).first()
    if created is not None:
        log.warning("mail cannot be delivered, retrying on schedule: %s", error)


def note_success(engine: Engine, *, now: datetime | None = None) -> None:
    """A delivery went through: if mail was down, log once that it is back and for how long."""
    now = now or datetime.now(UTC)
    if failing_since(engine) is None:  # the usual case: a read, no write
        return
    with write_tx(engine) as conn:
        ended = conn.execute(
            delete(JOB_RUNS).where(JOB_RUNS.c.job == DOWN).returning(JOB_RUNS.c.last_run_at)
        ).first()
        if ended is not None:
            conn.execute(delete(JOB_RUNS).where(JOB_RUNS.c.job == ALERTED))
    if ended is not None:
        down_for = now - _aware(ended[0])
        log.warning(
            "mail delivered again after %s s down (since %s)",
            int(down_for.total_seconds()),
            _aware(ended[0]).isoformat(timespec="seconds"),
        )


def hand_over(
    engine: Engine, messages: list[EmailMessage], mail: MailSettings
) -> tuple[bool, str | None, bool]:
    """Deliver and note whether mail gets through: (all ok, the errors, target unreachable)."""
    try:
        results = deliver(messages, mail)
    except MailUnavailable as exc:
        note_failure(engine, str(exc), "delivery")
        return False, str(exc), True
    except Exception as exc:
        return False, f"{exc.__class__.__name__}: {exc}", False
    if any(r.ok for r in results):
        note_success(engine)
    return all(r.ok for r in results), "; ".join(r.error for r in results if r.error) or None, False


def failing_since(engine: Engine) -> datetime | None:
    """When the current outage began, or None when mail is getting through."""
    with engine.connect() as conn:
        since = conn.execute(select(JOB_RUNS.c.last_run_at).where(JOB_RUNS.c.job == DOWN)).scalar()
    return _aware(since) if since is not None else None


def check_alert(engine: Engine, after_seconds: int, *, now: datetime | None = None) -> int:
    """Tell every active administrator, once per outage, when mail has been failing for
    longer than `after_seconds`: one outbox notice each (it goes out when mail does, and the
    error log line is there at once). Returns how many notices were written."""
    now = now or datetime.now(UTC)
    since = failing_since(engine)  # the usual case: a read, no write
    if since is None or now - since < timedelta(seconds=after_seconds):
        return 0
    with write_tx(engine) as conn:
        down = conn.execute(select(JOB_RUNS).where(JOB_RUNS.c.job == DOWN)).mappings().first()
        if down is None or now - _aware(down["last_run_at"]) < timedelta(seconds=after_seconds):
            return 0
        told = conn.execute(
            _insert(engine)(JOB_RUNS)
            .values(job=ALERTED, runner="check", last_run_at=now, last_result=None, runs=1)
            .on_conflict_do_nothing(index_elements=["job"])
            .returning(JOB_RUNS.c.job)
        ).first()
        if told is None:
            return 0
        since = _aware(down["last_run_at"])
        waiting = int(
            conn.execute(
                select(func.count()).where(REMINDER_LEDGER.c.status.in_(("retry", "failed")))
            ).scalar_one()
        ) + int(
            conn.execute(
                select(func.count()).where(
                    OUTBOX.c.status.in_(("pending", "failed")),
                    OUTBOX.c.attempts > 0,
                    OUTBOX.c.kind != ALERT_KIND,
                )
            ).scalar_one()
        )
        admins = conn.execute(
            select(USERS.c.username)
            .join(USER_ROLES, USER_ROLES.c.user_id == USERS.c.id)
            .where(USER_ROLES.c.role == ADMIN_ROLE, USERS.c.active.is_(True))
            .distinct()
            .order_by(USERS.c.username)
        ).scalars()
        rows = [
            {
                "dedup_key": f"{ALERT_KIND}:{since.isoformat(timespec='seconds')}:{username}",
                "kind": ALERT_KIND,
                "payload": json.dumps(
                    {
                        "recipient_user": username,
                        "since": since.isoformat(),
                        "error": down["last_result"],
                        "waiting": waiting,
                    },
                    ensure_ascii=False,
                ),
                "created_at": now,
                "available_at": now,
                "status": "pending",
                "attempts": 0,
            }
            for username in admins
        ]
        if rows:
            conn.execute(
                _insert(engine)(OUTBOX)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["dedup_key"])
            )
    log.error(
        "mail has been failing since %s (%s message(s) waiting): %s; %s administrator(s) told",
        since.isoformat(timespec="seconds"),
        waiting,
        down["last_result"],
        len(rows),
    )
    return len(rows)
