"""Thin Celery tasks: take ids, call the job services (khenthuong.services.reminder_claims,
digests, notice_relay, job_runs), safe to run twice."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from sqlalchemy.exc import OperationalError

from khenthuong.runtime import Runtime, open_runtime
from khenthuong.services import digests, job_runs, mail_health, notice_relay, reminder_claims
from workers.celery_app import app

RUNNER = "celery"
"""How runs of these tasks are recorded in job_runs."""
PUBLISH_RETRY = {"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5, "interval_max": 1}


@lru_cache(maxsize=1)
def runtime() -> Runtime:
    """One runtime per worker process (engine pool, workflow machines)."""
    return open_runtime()


@app.task(name="khenthuong.scan_reminders")  # type: ignore[untyped-decorator]
def scan_reminders() -> int:
    """Claim due reminders and queue one digest per officer; returns how many digests."""
    rt = runtime()
    groups = reminder_claims.claim_reminders(rt.engine, rt.registry, rt.settings)
    for ledger_ids in groups:
        send_digest.delay(ledger_ids)
    notice_relay.check_mail(rt.engine, rt.settings)
    job_runs.record_run(rt.engine, job_runs.SCAN_JOB, RUNNER, {"queued": len(groups)})
    return len(groups)


@app.task(  # type: ignore[untyped-decorator]
    name="khenthuong.send_digest",
    # Only a database that cannot be reached is retried by Celery: the rows were not taken,
    # so no ledger attempt is counted. A failed send is the ledger's to retry (a later scan
    # claims the rows again after their backoff), never Celery's.
    autoretry_for=(OperationalError,),
    retry_backoff=5,
    retry_backoff_max=300,
    max_retries=8,
)
def send_digest(ledger_ids: list[int]) -> str:
    """Send one officer's digest of the rows it takes (rows sent or being sent are skipped)."""
    rt = runtime()
    try:
        return digests.send_digest(rt.engine, rt.registry, ledger_ids, settings=rt.settings)
    except mail_health.DeliveryFailed as exc:
        return f"failed, the ledger retries it after its backoff: {exc}"


@app.task(name="khenthuong.relay_outbox")  # type: ignore[untyped-decorator]
def relay_outbox() -> int:
    """Publish pending outbox rows as deliver_notice tasks."""
    rt = runtime()

    def publish(outbox_id: int) -> None:
        deliver_notice.apply_async((outbox_id,), retry=True, retry_policy=PUBLISH_RETRY)

    published = notice_relay.relay_outbox(rt.engine, publish)
    job_runs.record_run(rt.engine, job_runs.RELAY_JOB, RUNNER, {"queued": published})
    return published


@app.task(name="khenthuong.deliver_notice")  # type: ignore[untyped-decorator]
def deliver_notice(outbox_id: int) -> str:
    """Send one outbox notice; a failure leaves the row pending for the relay to retry."""
    rt = runtime()
    try:
        return notice_relay.deliver_notice(rt.engine, rt.registry, outbox_id)
    except mail_health.DeliveryFailed as exc:
        return f"failed, will retry: {exc}"


def task_names() -> list[str]:
    """Names of the tasks this module registers."""
    tasks: dict[str, Any] = app.tasks
    return sorted(name for name in tasks if name.startswith("khenthuong."))
