"""Sign-in throttling: failures counted per key (user name, client address) in a window."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable


class LoginThrottle:
    """At most `max_failures` failed sign-ins per key within `window` seconds.

    Kept in the process: one web process (the embedded default and the compose file)
    counts every attempt. Success clears the user name's count.
    """

    def __init__(
        self,
        max_failures: int,
        window: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self._clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.setdefault(key, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        return times

    def retry_after(self, *keys: str) -> int:
        """Seconds the client must wait before trying again; 0 when it may try now."""
        now = self._clock()
        wait = 0.0
        with self._lock:
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= self.max_failures:
                    wait = max(wait, self.window - (now - times[0]))
        return int(wait + 0.999) if wait > 0 else 0

    def failed(self, *keys: str) -> None:
        """Record one failed attempt under every key."""
        now = self._clock()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)

    def succeeded(self, key: str) -> None:
        """Forget the failures of `key` (the user name) after a good sign-in."""
        with self._lock:
            self._failures.pop(key, None)
