"""Celery beat's scheduler with quiet outage logs: while the broker is unreachable, one
warning when it goes away and one when it is back with the time it was down, instead of a
traceback on every tick (Celery's own `apply_entry` logs one per due task and tick)."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery.beat import PersistentScheduler, ScheduleEntry

log = logging.getLogger("khenthuong.beat")


class QuietScheduler(PersistentScheduler):  # type: ignore[misc]
    """PersistentScheduler that reports a broker outage once each way."""

    down_since: float | None = None
    """time.monotonic() of the first failed send of this outage; None while sends succeed."""

    def apply_entry(self, entry: ScheduleEntry, producer: Any = None) -> None:
        try:
            self.apply_async(entry, producer=producer, advance=False)
        except Exception as exc:
            if self.down_since is None:
                self.down_since = time.monotonic()
                log.warning(
                    "broker unreachable, scheduled tasks are not sent until it is back: %s: %s",
                    exc.__class__.__name__,
                    exc,
                )
            else:
                log.debug("broker still unreachable (%s not sent): %s", entry.name, exc)
            return
        if self.down_since is not None:
            down_for = time.monotonic() - self.down_since
            self.down_since = None
            log.warning("broker reachable again after %.0f s down", down_for)
        log.debug("%s sent", entry.task)
