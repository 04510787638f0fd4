"""The outbox relay and the delivery of outbox notices: step notices, inspection plans, the
administrators' mail alert and audit checkpoints, each sent exactly once.

`relay_outbox` hands pending rows to a publisher (a Celery task, or `deliver_notice` in
process); `deliver_notice` takes one row by id, re-reads the database and is safe to run
twice."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, update

from khenthuong.notify.mail_settings import MailSettings, get_mail_settings
from khenthuong.notify.render import (
    InspectionNotice,
    InspectionVisit,
    MailAlert,
    Sender,
    StepNotice,
    render_inspection_notice,
    render_mail_alert,
    render_step_notice,
)
from khenthuong.services import mail_health, outbox
from khenthuong.services.mail_health import DeliveryFailed
from khenthuong.settings import Settings, get_settings
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import NOMINATIONS, UNITS, USERS
from khenthuong.storage.outbox import OUTBOX
from khenthuong.workflow.loader import WorkflowRegistry

log = logging.getLogger("khenthuong.jobs")


HEADLINES = {
    "return_for_supplement": (
        "Hồ sơ đã bị trả lại để bổ sung",
        "The nomination was returned for supplementation",
    ),
    "reject": ("Hồ sơ không được đề nghị khen thưởng", "The nomination was rejected"),
    "withdraw": ("Hồ sơ đã được rút", "The nomination was withdrawn"),
    "revoke": ("Quyết định khen thưởng đã bị hủy bỏ", "The award decision was revoked"),
    "decide": ("Đã có quyết định khen thưởng", "The award was decided"),
}


def check_mail(engine: Engine, settings: Settings) -> int:
    """Tell the administrators once when mail has been failing for too long (see
    `mail_health.check_alert`); returns how many were told."""
    return mail_health.check_alert(engine, settings.mail_alert_after_seconds)


def _finish_notice(conn: Any, outbox_id: int, *, ok: bool, error: str | None) -> None:
    """Record a notice's delivery: sent, pending again after a backoff, or failed for good."""
    settings = get_settings()
    status = outbox.finish_delivery(
        conn,
        outbox_id,
        ok=ok,
        error=error,
        max_attempts=settings.send_max_attempts,
        retry_seconds=settings.send_retry_seconds,
        retry_max_seconds=settings.send_retry_max_seconds,
    )
    if status == outbox.FAILED:
        log.error(
            "notice %s given up after %s attempts: %s",
            outbox_id,
            settings.send_max_attempts,
            error,
        )


def relay_outbox(
    engine: Engine,
    publish: Callable[[int], None],
    *,
    limit: int = 200,
    stuck_after: timedelta | None = None,
    stopping: Callable[[], bool] | None = None,
) -> int:
    """Hand pending outbox rows to `publish`; rows that fail to publish stay pending, and so
    do the rows not reached when `stopping()` turns true (the process is asked to stop: they
    go out on the next run, not after the stop was asked for).

    Rows are marked queued in a committed transaction before publishing, so two
    relays never publish the same row; a relay that dies after that leaves rows
    queued, and `outbox.requeue_stuck` gives them back after KHENTHUONG_STALE_CLAIM_SECONDS
    (the same threshold as for reminders; `stuck_after` overrides it).
    """
    settings = get_settings()
    if stuck_after is None:
        stuck_after = timedelta(seconds=settings.stale_claim_seconds)
    with write_tx(engine) as conn:
        outbox.requeue_stuck(conn, older_than=stuck_after, max_attempts=settings.send_max_attempts)
        ids = outbox.pending(conn, limit=limit)
        outbox.mark_queued(conn, ids)
    failed: list[int] = []
    for index, outbox_id in enumerate(ids):
        if stopping is not None and stopping():
            log.info("outbox relay: stopping, %s notice(s) left for the next run", len(ids) - index)
            failed = list(ids[index:])
            break
        try:
            publish(outbox_id)
        except Exception as exc:
            # An in-process delivery that failed is logged once per outage by mail_health.
            level = logging.INFO if isinstance(exc, DeliveryFailed) else logging.WARNING
            log.log(level, "outbox relay: publishing %s failed: %s", outbox_id, exc)
            failed = list(ids[index:])
            break
    if failed:
        with write_tx(engine) as conn:
            conn.execute(
                update(OUTBOX)
                .where(OUTBOX.c.id.in_(failed), OUTBOX.c.status == "queued")
                .values(status="pending")
            )
    return len(ids) - len(failed)


NO_RECIPIENT = "no recipient"
"""How `deliver_notice` answers (as a prefix) for a notice nobody could receive."""
ALREADY_TAKEN = "already taken"
"""How `deliver_notice` answers for a notice another delivery took."""


def deliver_notice(
    engine: Engine, registry: WorkflowRegistry, outbox_id: int, *, mail: MailSettings | None = None
) -> str:
    """Send one outbox notice exactly once (a duplicate delivery finds it taken).

    Returns what happened: sent, ALREADY_TAKEN, or NO_RECIPIENT with the reason (the row is
    then marked skipped, not sent). A failed hand-over to the mail server raises
    DeliveryFailed and leaves the row for a retry.
    """
    mail = mail or get_mail_settings()
    with write_tx(engine) as conn:
        row = outbox.begin_delivery(conn, outbox_id)
    if row is None:
        return ALREADY_TAKEN
    data = json.loads(row["payload"])
    if row["kind"] == "inspection_plan":
        return _deliver_inspection_notice(engine, row, data, mail)
    if row["kind"] == mail_health.ALERT_KIND:
        return _deliver_mail_alert(engine, row, data, mail)
    from khenthuong.services import checkpoints  # noqa: PLC0415 - as in reminder_claims

    if row["kind"] == checkpoints.MAIL_KIND:  # issue 17: a checkpoint to the auditors
        sent = checkpoints.send_mail(row, data, mail)
        with write_tx(engine) as conn:
            _finish_notice(conn, outbox_id, ok=sent.ok, error=sent.error)
        if not sent.ok:
            raise DeliveryFailed(sent.error or "unknown error")
        return f"audit checkpoint sent to {data['to']}"
    with engine.connect() as conn:
        user = conn.execute(
            select(USERS.c.email, USERS.c.full_name).where(
                USERS.c.username == data["recipient_user"]
            )
        ).first()
        actor = conn.execute(
            select(USERS.c.full_name).where(USERS.c.username == data["actor"])
        ).scalar()
        nom = conn.execute(
            select(NOMINATIONS).where(NOMINATIONS.c.id == data["nomination_id"])
        ).first()
    if user is None or nom is None:
        reason = (
            f"{NO_RECIPIENT}: no user {data['recipient_user']!r}"
            if user is None
            else f"{NO_RECIPIENT}: nomination #{data['nomination_id']} is gone"
        )
        with write_tx(engine) as conn:
            outbox.skip_delivery(conn, outbox_id, reason)
        log.warning("notice %s not sent: %s", row["dedup_key"], reason)
        return reason
    wf = registry.get(nom.workflow, nom.workflow_version).definition
    headline = HEADLINES.get(
        data["trigger"],
        (
            f"Hồ sơ chuyển sang: {wf.state(data['to_state']).title.vi}",
            f"The nomination moved to: {wf.state(data['to_state']).title.en}",
        ),
    )
    message = render_step_notice(
        StepNotice(
            recipient_email=user.email,
            recipient_name=user.full_name,
            nomination_id=nom.id,
            nominee_name=nom.nominee_name,
            workflow_title=wf.title.vi,
            headline_vi=headline[0],
            headline_en=headline[1],
            state_title=wf.state(data["to_state"]).title.vi,
            workflow_title_en=wf.title.en,
            state_title_en=wf.state(data["to_state"]).title.en,
            actor_name=actor or data["actor"],
            occurred_at=datetime.fromisoformat(data["at"]),
            reason=data["payload"].get("reason") or data.get("comment"),
        ),
        ledger_key=row["dedup_key"],
        sender=Sender.from_settings(mail),
    )
    ok, error, _ = mail_health.hand_over(engine, [message], mail)
    with write_tx(engine) as conn:
        _finish_notice(conn, outbox_id, ok=ok, error=error)
    if not ok:
        raise DeliveryFailed(error or "unknown error")
    return f"notice {row['dedup_key']} sent to {user.email}"


def _deliver_inspection_notice(
    engine: Engine, row: Any, data: dict[str, Any], mail: MailSettings
) -> str:
    """Tell one member unit its visits: to its leader, else to the officers of the unit."""
    with engine.connect() as conn:
        unit = conn.execute(
            select(UNITS.c.id, UNITS.c.name, UNITS.c.leader_email).where(
                UNITS.c.code == data["unit"]
            )
        ).first()
        recipients: list[tuple[str, str]] = []
        if unit is not None and unit.leader_email:
            recipients.append((unit.leader_email, f"Lãnh đạo {unit.name}"))
        elif unit is not None:
            recipients.extend(
                (r.email, r.full_name)
                for r in conn.execute(
                    select(USERS.c.email, USERS.c.full_name).where(USERS.c.unit_id == unit.id)
                )
            )
    if unit is None or not recipients:
        reason = (
            f"{NO_RECIPIENT}: no unit {data['unit']!r}"
            if unit is None
            else f"{NO_RECIPIENT}: {data['unit']} has no leader e-mail and no officers"
        )
        with write_tx(engine) as conn:
            outbox.skip_delivery(conn, row["id"], reason)
        log.warning("inspection plan notice %s not sent: %s", row["dedup_key"], reason)
        return reason

    def visits_of(items: list[list[str]]) -> tuple[InspectionVisit, ...]:
        return tuple(
            InspectionVisit(name, date.fromisoformat(start), date.fromisoformat(end))
            for name, start, end in items
        )

    starts = [date.fromisoformat(v[1]) for v in data["as_inspector"] + data["as_inspected"]]
    ends = [date.fromisoformat(v[2]) for v in data["as_inspector"] + data["as_inspected"]]
    messages = [
        render_inspection_notice(
            InspectionNotice(
                recipient_email=email_address,
                recipient_name=name,
                unit_name=unit.name,
                bloc_name=data["bloc_name"],
                year=data["year"],
                period_start=min(starts) if starts else date(data["year"], 1, 1),
                period_end=max(ends) if ends else date(data["year"], 12, 31),
                as_inspector=visits_of(data["as_inspector"]),
                as_inspected=visits_of(data["as_inspected"]),
            ),
            ledger_key=f"{row['dedup_key']}:{email_address}",
            sender=Sender.from_settings(mail),
        )
        for email_address, name in recipients
    ]
    ok, error, _ = mail_health.hand_over(engine, messages, mail)
    with write_tx(engine) as conn:
        _finish_notice(conn, row["id"], ok=ok, error=error)
    if not ok:
        raise DeliveryFailed(error or "unknown error")
    return f"inspection plan sent to {len(messages)} recipient(s) of {data['unit']}"


def _deliver_mail_alert(engine: Engine, row: Any, data: dict[str, Any], mail: MailSettings) -> str:
    """Tell one administrator that mail has been failing (see `mail_health.check_alert`)."""
    with engine.connect() as conn:
        user = conn.execute(
            select(USERS.c.email, USERS.c.full_name).where(
                USERS.c.username == data["recipient_user"]
            )
        ).first()
    if user is None or not user.email:
        reason = f"{NO_RECIPIENT}: no address for {data['recipient_user']!r}"
        with write_tx(engine) as conn:
            outbox.skip_delivery(conn, row["id"], reason)
        return reason
    message = render_mail_alert(
        MailAlert(
            recipient_email=user.email,
            recipient_name=user.full_name,
            since=datetime.fromisoformat(data["since"]),
            error=str(data["error"]),
            waiting=int(data["waiting"]),
        ),
        ledger_key=row["dedup_key"],
        sender=Sender.from_settings(mail),
    )
    ok, error, _ = mail_health.hand_over(engine, [message], mail)
    with write_tx(engine) as conn:
        _finish_notice(conn, row["id"], ok=ok, error=error)
    if not ok:
        raise DeliveryFailed(error or "unknown error")
    return f"mail alert sent to {user.email}"
