"""The periodic jobs behind the workers: reminder digests and outbox notices.

These functions are the same whether Celery runs them (workers/tasks.py) or the
embedded scheduler does (no broker): each takes ids, re-reads the database and is
safe to run twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, RowMapping, select, update
from sqlalchemy.dialects import postgresql, sqlite

from khenthuong.localtime import LOCAL_TZ
from khenthuong.notify.mail_settings import MailSettings, get_mail_settings
from khenthuong.notify.render import (
    Digest,
    DigestItem,
    InspectionNotice,
    InspectionVisit,
    MailAlert,
    Sender,
    StepNotice,
    render_digest,
    render_inspection_notice,
    render_mail_alert,
    render_step_notice,
)
from khenthuong.services import checkpoints, mail_health, outbox, reminders, scan_state
from khenthuong.settings import Settings, get_settings
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import NOMINATIONS, UNITS, USERS
from khenthuong.storage.outbox import JOB_RUNS, OUTBOX, REMINDER_LEDGER
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


SCAN_JOB = "scan_reminders"
RELAY_JOB = "relay_outbox"


def record_run(
    engine: Engine,
    job: str,
    runner: str,
    counts: Mapping[str, int],
    *,
    now: datetime | None = None,
) -> None:
    """Note that `job` ran now (by `runner`: embedded or celery) and what it did, as counts
    (`sent`, `failed`, `no_recipient`, `queued`): data, worded by whoever shows it."""
    now = now or datetime.now(UTC)
    insert_fn: Any = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
    result = json.dumps({k: int(v) for k, v in counts.items()}, sort_keys=True)
    values = {"runner": runner, "last_run_at": now, "last_result": result[:200]}
    stmt = (
        insert_fn(JOB_RUNS)
        .values(job=job, runs=1, **values)
        .on_conflict_do_update(index_elements=["job"], set_={**values, "runs": JOB_RUNS.c.runs + 1})
    )
    with write_tx(engine) as conn:
        conn.execute(stmt)


def last_runs(conn: Connection) -> dict[str, dict[str, Any]]:
    """The last run of every job that ever ran, by job name; `last_result` holds the run's
    counts (`record_run`), empty for a run recorded before they were kept as data."""
    return {
        str(r["job"]): {**r, "last_result": run_counts(r["last_result"])}
        for r in conn.execute(select(JOB_RUNS)).mappings()
    }


def run_counts(stored: str | None) -> dict[str, int]:
    """The counts `record_run` stored (empty for text written by an older version)."""
    try:
        found = json.loads(stored or "")
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    return {str(k): v for k, v in found.items() if isinstance(v, int)}


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
    checkpoints.checkpoint_quietly(engine, settings)  # seal the audit log (issue 17)
    return [ids for _, ids in sorted(groups.items())]


def release_claims(engine: Engine, ledger_ids: Sequence[int], settings: Settings) -> None:
    """Give back claimed rows a run could not send (see `reminders.release`)."""
    with write_tx(engine) as conn:
        reminders.release(
            conn, ledger_ids, older_than=timedelta(seconds=settings.stale_claim_seconds)
        )


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
        visits = _visit_rows(conn, visit_ids)
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


def check_mail(engine: Engine, settings: Settings) -> int:
    """Tell the administrators once when mail has been failing for too long (see
    `mail_health.check_alert`); returns how many were told."""
    return mail_health.check_alert(engine, settings.mail_alert_after_seconds)


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


class DeliveryFailed(RuntimeError):
    """A message could not be handed to the mail server; the ledger retries it later."""


class MailTargetDown(DeliveryFailed):
    """The mail server (or the maildir) cannot take any message now: the other digests of
    this run would fail the same way, so the run stops sending."""


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
) -> int:
    """Hand pending outbox rows to `publish`; rows that fail to publish stay pending.

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


def _visit_rows(conn: Any, visit_ids: list[int]) -> dict[int, dict[str, Any]]:
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
