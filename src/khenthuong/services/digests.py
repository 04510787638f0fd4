"""Sending reminder digests: one officer's claimed ledger rows taken, rendered and handed to
the mail server exactly once, under the ledger's one retry policy.

Called with ledger ids by a Celery task (workers/tasks.py) or the embedded scheduler; safe
to run twice."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

from sqlalchemy import Engine, select

from khenthuong.localtime import LOCAL_TZ
from khenthuong.notify.mail_settings import MailSettings, get_mail_settings
from khenthuong.notify.render import (
    Digest,
    DigestItem,
    Sender,
    render_digest,
)
from khenthuong.services import mail_health, reminders
from khenthuong.services.mail_health import DeliveryFailed, MailTargetDown
from khenthuong.settings import Settings, get_settings
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import NOMINATIONS, UNITS, USERS
from khenthuong.storage.outbox import REMINDER_LEDGER
from khenthuong.workflow.loader import WorkflowRegistry

log = logging.getLogger("khenthuong.jobs")


NOTHING_TO_SEND = "nothing to send"
"""How `send_digest` answers (as a prefix) when every row was already sent or taken."""


def send_digest(
    engine: Engine,
    registry: WorkflowRegistry,
    ledger_ids: Sequence[int],
    *,
    mail: MailSettings | None = None,
    settings: Settings | None = None,
) -> str:
    """Send one officer's digest of the ledger rows this call takes; returns what happened.

    The rows are taken first, atomically (`reminders.take_for_sending`), and only the rows
    won are sent: a duplicate task, a redelivered message or a second worker with the same
    ids gets nothing and sends nothing. A row left `sending` by a worker that died is taken
    again once it is older than KHENTHUONG_STALE_CLAIM_SECONDS.
    """
    mail = mail or get_mail_settings()
    settings = settings or get_settings()
    with write_tx(engine) as conn:
        won = reminders.take_for_sending(
            conn,
            ledger_ids,
            stale_after=timedelta(seconds=settings.stale_claim_seconds),
            max_attempts=settings.send_max_attempts,
        )
    if not won:
        return f"{NOTHING_TO_SEND}: {len(ledger_ids)} row(s) already sent or being sent"
    try:
        message = _digest_message(engine, registry, won, mail)
    except Exception as exc:
        _record_digest_failure(engine, won, f"{exc.__class__.__name__}: {exc}", settings, "?")
        raise
    return _send_and_mark(engine, won, message, mail, settings)


def _digest_message(
    engine: Engine, registry: WorkflowRegistry, ledger_ids: list[int], mail: MailSettings
) -> EmailMessage:
    """The digest of these ledger rows (all to one recipient)."""
    with engine.connect() as conn:
        rows = (
            conn.execute(
                select(REMINDER_LEDGER)
                .where(REMINDER_LEDGER.c.id.in_(ledger_ids))
                .order_by(REMINDER_LEDGER.c.id)
            )
            .mappings()
            .all()
        )
        recipient = rows[0]["recipient"]
        nom_ids = [
            int(r["item_ref"].split(":")[1])
            for r in rows
            if r["item_ref"].startswith("nomination:")
        ]
        visit_ids = [
            int(r["item_ref"].split(":")[1]) for r in rows if r["item_ref"].startswith("visit:")
        ]
        noms = {
            r.id: r for r in conn.execute(select(NOMINATIONS).where(NOMINATIONS.c.id.in_(nom_ids)))
        }
        visits = visit_rows(conn, visit_ids)
        name = (
            conn.execute(select(USERS.c.full_name).where(USERS.c.email == recipient)).scalar()
            or conn.execute(select(UNITS.c.name).where(UNITS.c.leader_email == recipient)).scalar()
            or recipient
        )
    today = datetime.now(UTC).astimezone(LOCAL_TZ).date()
    items = []
    for row in rows:
        subject, ref = row["item_ref"].split(":")
        due_on = date.fromisoformat(row["due_on"])
        if subject == "visit":
            visit = visits[int(ref)]
            title = (
                "Quá hạn nộp báo cáo kiểm tra"
                if row["kind"] == "overdue"
                else f"Kiểm tra từ {visit['starts_on']:%d/%m/%Y} đến {visit['ends_on']:%d/%m/%Y}"
            )
            title_en = (
                "Inspection report overdue"
                if row["kind"] == "overdue"
                else f"Inspection from {visit['starts_on']:%d/%m/%Y} to {visit['ends_on']:%d/%m/%Y}"
            )
            items.append(
                DigestItem(
                    nomination_id=int(ref),
                    nominee_name=f"{visit['inspector']} kiểm tra {visit['inspected']}",
                    workflow_title=f"Kiểm tra chéo – {visit['bloc']}",
                    state_title=title,
                    workflow_title_en=f"Cross-inspection – {visit['bloc']}",
                    state_title_en=title_en,
                    due_on=due_on,
                    working_days_left=reminders.working_days_between(today, due_on),
                    kind=row["kind"],
                    subject="inspection",
                    # The bloc's page of the plan's year lists the visit and takes its report.
                    path=f"blocs/{quote(visit['bloc_code'], safe='')}?year={visit['year']}",
                )
            )
            continue
        nom = noms[int(ref)]
        wf = registry.get(nom.workflow, nom.workflow_version).definition
        items.append(
            DigestItem(
                nomination_id=nom.id,
                nominee_name=nom.nominee_name,
                workflow_title=wf.title.vi,
                state_title=wf.state(nom.state).title.vi,
                workflow_title_en=wf.title.en,
                state_title_en=wf.state(nom.state).title.en,
                due_on=due_on,
                working_days_left=reminders.working_days_between(today, due_on),
                kind=row["kind"],
            )
        )
    # ", ": the header folds at the spaces; one long word would be folded as RFC 2047
    # encoded words, which cost more than rendering the digest (bench/workers.py).
    key = "digest:" + ", ".join(sorted(r["key"] for r in rows))
    return render_digest(
        Digest(recipient, name if name != recipient else "", tuple(items)),
        ledger_key=key,
        sender=Sender.from_settings(mail),
    )


def _send_and_mark(
    engine: Engine,
    ledger_ids: list[int],
    message: EmailMessage,
    mail: MailSettings,
    settings: Settings,
) -> str:
    ok, error, target_down = mail_health.hand_over(engine, [message], mail)
    if target_down:
        _record_digest_failure(engine, ledger_ids, error or "", settings, str(message["To"]))
        raise MailTargetDown(error or "")
    if not ok:
        _record_digest_failure(
            engine, ledger_ids, error or "unknown error", settings, str(message["To"])
        )
        raise DeliveryFailed(error or "unknown error")
    with write_tx(engine) as conn:
        reminders.mark(conn, ledger_ids, "sent", message_id=str(message["Message-ID"]))
    return f"sent {len(ledger_ids)} item(s) to {message['To']}"


def _record_digest_failure(
    engine: Engine, ledger_ids: list[int], error: str, settings: Settings, to: str
) -> None:
    """The ledger's one retry policy: wait for the backoff, or give up after the limit."""
    with write_tx(engine) as conn:
        given_up = reminders.record_failure(
            conn, ledger_ids, error, max_attempts=settings.send_max_attempts
        )
    if given_up:
        log.error(
            "digest to %s given up after %s attempts: %s", to, settings.send_max_attempts, error
        )
    else:
        log.info("digest to %s failed, will retry after the backoff: %s", to, error)


def visit_rows(conn: Any, visit_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Visits with the names of both units and the bloc, by id."""
    if not visit_ids:
        return {}
    from khenthuong.storage.blocs import BLOCS, INSPECTION_PLANS, INSPECTION_VISITS  # noqa: PLC0415

    names = dict(conn.execute(select(UNITS.c.id, UNITS.c.name)).all())
    return {
        v.id: {
            "inspector": names[v.inspector_unit_id],
            "inspected": names[v.inspected_unit_id],
            "starts_on": v.starts_on,
            "ends_on": v.ends_on,
            "bloc": v.bloc_name,
            "bloc_code": v.bloc_code,
            "year": v.year,
        }
        for v in conn.execute(
            select(
                INSPECTION_VISITS,
                BLOCS.c.name.label("bloc_name"),
                BLOCS.c.code.label("bloc_code"),
                INSPECTION_PLANS.c.year,
            )
            .join(INSPECTION_PLANS, INSPECTION_PLANS.c.id == INSPECTION_VISITS.c.plan_id)
            .join(BLOCS, BLOCS.c.id == INSPECTION_PLANS.c.bloc_id)
            .where(INSPECTION_VISITS.c.id.in_(visit_ids))
        )
    }
