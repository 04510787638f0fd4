"""The embedded default: run the worker jobs in-process when no broker is configured."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass

from khenthuong.runtime import Runtime, open_runtime
from khenthuong.services import digests, job_runs, mail_health, notice_relay, reminder_claims
from khenthuong.services.scheduler_lock import SchedulerLock

log = logging.getLogger("khenthuong.embedded")
RUNNER = "embedded"
"""How runs of the in-process scheduler (and `reminders run`) are recorded in job_runs."""


@dataclass
class TickResult:
    """What one in-process run did."""

    digests_sent: int = 0
    digests_failed: int = 0
    notices_sent: int = 0
    notices_no_recipient: int = 0
    """Notices nobody could receive (no address): marked skipped, not counted as sent."""
    notices_failed: int = 0


def tick(rt: Runtime, stop: threading.Event | None = None) -> TickResult:
    """One run of every periodic job, in this process (same functions the workers call).

    When `stop` is set during the run, a spread full scan stops pausing between its chunks
    and the run ends after the message being sent: the digests not sent yet are given back
    (no attempt counted) and the notices not sent stay pending, both for the next run, so
    that a process asked to stop is gone in seconds, not after a whole run of mail."""
    result = TickResult()
    stop = stop if stop is not None else threading.Event()  # never set: a whole run
    stopping = stop.is_set

    def pause(seconds: float) -> None:
        """A spread full scan's pause between chunks, cut short by `stop`: the rest of the
        scan then runs back to back (a scan left half done would wait for the next full one)."""
        stop.wait(seconds)

    groups = reminder_claims.claim_reminders(rt.engine, rt.registry, rt.settings, sleep=pause)
    for index, ledger_ids in enumerate(groups):
        if stopping():
            rest = [i for ids in groups[index:] for i in ids]
            reminder_claims.release_claims(rt.engine, rest, rt.settings)
            log.info("stopping: %s digest(s) left for the next run", len(groups) - index)
            break
        try:
            outcome = digests.send_digest(rt.engine, rt.registry, ledger_ids, settings=rt.settings)
        except mail_health.MailTargetDown as exc:
            # Every other digest would fail the same way: give them back untouched (no
            # attempt counted) for the next run, and say so once.
            rest = [i for ids in groups[index + 1 :] for i in ids]
            reminder_claims.release_claims(rt.engine, rest, rt.settings)
            # mail_health logged the outage once (a warning), not once per run
            log.info(
                "mail cannot be delivered now; %s digest(s) left for later: %s",
                len(groups) - index,
                exc,
            )
            result.digests_failed += 1
            break
        except mail_health.DeliveryFailed as exc:
            log.info("digest not sent, will retry: %s", exc)
            result.digests_failed += 1
        else:
            if not outcome.startswith(digests.NOTHING_TO_SEND):
                result.digests_sent += 1
    notice_relay.check_mail(rt.engine, rt.settings)
    job_runs.record_run(
        rt.engine,
        job_runs.SCAN_JOB,
        RUNNER,
        {"sent": result.digests_sent, "failed": result.digests_failed},
    )

    def publish(outbox_id: int) -> None:
        try:
            outcome = notice_relay.deliver_notice(rt.engine, rt.registry, outbox_id)
        except mail_health.DeliveryFailed:
            result.notices_failed += 1
            raise
        if outcome.startswith(notice_relay.NO_RECIPIENT):
            result.notices_no_recipient += 1
        elif outcome != notice_relay.ALREADY_TAKEN:
            result.notices_sent += 1

    notice_relay.relay_outbox(rt.engine, publish, stopping=stopping)
    job_runs.record_run(
        rt.engine,
        job_runs.RELAY_JOB,
        RUNNER,
        {
            "sent": result.notices_sent,
            "failed": result.notices_failed,
            "no_recipient": result.notices_no_recipient,
        },
    )
    return result


def lease_seconds(interval: float) -> float:
    """How long a lease row (SQLite) keeps another process from taking over the scheduler
    after its holder stopped renewing it: three runs, at least a minute."""
    return max(60.0, 3 * interval)


def run_loop(rt: Runtime, interval: float, stop: threading.Event) -> None:
    """Tick every `interval` seconds until `stop` is set, while this process holds the
    scheduler lock (`services.scheduler_lock`: one process runs the jobs, the others stand
    by and take over when it is gone). A failing run (the database away) is logged with its
    traceback once, then quietly until runs succeed again, which is logged once with the
    time they were failing."""
    lock = SchedulerLock(rt.engine, lease_seconds=lease_seconds(interval))
    try:
        _loop(rt, interval, stop, lock)
    finally:
        lock.release()


def _loop(rt: Runtime, interval: float, stop: threading.Event, lock: SchedulerLock) -> None:
    failing_since: float | None = None
    while not stop.is_set():
        try:
            if lock.acquire():
                tick(rt, stop)
        except Exception as exc:
            if failing_since is None:
                failing_since = time.monotonic()
                log.exception("embedded job run failed; retrying every %g s", interval)
            else:
                log.debug("embedded job run still failing: %s", exc)
        else:
            if failing_since is not None:
                log.warning(
                    "embedded job runs succeed again after %.0f s failing",
                    time.monotonic() - failing_since,
                )
                failing_since = None
        stop.wait(interval)


class EmbeddedScheduler(threading.Thread):
    """A daemon thread that calls `tick` every `interval` seconds until stopped."""

    def __init__(self, rt: Runtime, interval: float | None = None) -> None:
        super().__init__(name="khenthuong-embedded-jobs", daemon=True)
        self.rt = rt
        self.interval = interval or float(rt.settings.scan_interval_seconds)
        self._stop_event = threading.Event()

    def run(self) -> None:
        """Tick until stopped; an error in one tick is logged, not fatal."""
        run_loop(self.rt, self.interval, self._stop_event)

    def stop(self) -> None:
        """Ask the thread to finish: a run in progress ends after the message being sent."""
        self._stop_event.set()


def run_forever() -> None:
    """The scheduler process `khenthuong serve` starts beside the web server (so that a scan
    never runs in the process answering requests): tick every KHENTHUONG_SCAN_INTERVAL_SECONDS
    until SIGTERM, or until the server that started it is gone."""
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("khenthuong.scheduler").setLevel(logging.INFO)  # who runs the jobs
    parent = os.getppid()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    rt = open_runtime()
    if rt.settings.scheduler_nice:
        os.nice(rt.settings.scheduler_nice)
    if rt.settings.broker_url:
        # Celery beat and the workers run the jobs; never both.
        log.warning("KHENTHUONG_BROKER_URL is set: the embedded scheduler does not run")
        return
    scheduler = EmbeddedScheduler(rt)
    scheduler.start()
    while not stop.wait(1.0):
        if os.getppid() != parent:  # the server died without stopping us
            break
    scheduler.stop()
    scheduler.join(timeout=30)


def start_process() -> subprocess.Popen[bytes]:
    """Start `run_forever` in a child process (same environment, same interpreter)."""
    return subprocess.Popen(
        [sys.executable, "-c", "from khenthuong.embedded import run_forever; run_forever()"]
    )
