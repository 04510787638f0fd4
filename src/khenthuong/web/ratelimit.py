"""Sign-in throttling: failures counted per key (user name, client address) in a moving
window, in storage every web process shares (the `limits` library).

The counts live in Redis when one is configured (KHENTHUONG_REDIS_URL, or a Redis broker),
else in the database (`storage.ratelimit.DatabaseStorage`), so that several web processes
or machines count every attempt together. While Redis does not answer, the database
counts instead (logged once), so an outage neither locks everyone out nor lifts the limit.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from typing import TypeVar

from limits import RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MovingWindowSupport, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import Engine

from khenthuong.settings import Settings
from khenthuong.storage.ratelimit import DatabaseStorage

log = logging.getLogger("khenthuong.web.ratelimit")
T = TypeVar("T")
REDIS_PREFIX = "khenthuong-signin"


class LoginThrottle:
    """At most `max_failures` failed sign-ins per key within `window` seconds. Success
    clears the user name's count."""

    def __init__(
        self,
        max_failures: int,
        window: float,
        storage: Storage,
        *,
        fallback: Storage | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.item = RateLimitItemPerSecond(max_failures, max(1, math.ceil(window)))
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(storage)
        self.fallback = MovingWindowRateLimiter(fallback) if fallback is not None else None
        self._clock = clock
        self._down = False

    @property
    def kind(self) -> str:
        """Where the counts live: redis, database or memory (for logs and tests)."""
        return {RedisStorage: "redis", DatabaseStorage: "database"}.get(
            type(self.storage), "memory"
        )

    def _call(self, use: Callable[[MovingWindowRateLimiter], T]) -> T:
        try:
            result = use(self.limiter)
        except StorageError as exc:
            if self.fallback is None:
                raise
            if not self._down:
                log.warning(
                    "sign-in throttle: Redis unreachable, counting in the database: %s", exc
                )
                self._down = True
            return use(self.fallback)
        if self._down:
            log.warning("sign-in throttle: Redis reachable again")
            self._down = False
        return result

    def retry_after(self, *keys: str) -> int:
        """Seconds the client must wait before trying again; 0 when it may try now."""
        wait = 0.0
        for key in keys:

            def blocked(limiter: MovingWindowRateLimiter, key: str = key) -> float | None:
                if limiter.test(self.item, key):
                    return None
                return limiter.get_window_stats(self.item, key).reset_time

            reset = self._call(blocked)
            if reset is not None:
                wait = max(wait, reset - self._clock(), 1.0)
        return math.ceil(wait) if wait > 0 else 0

    def failed(self, *keys: str) -> None:
        """Record one failed attempt under every key."""
        for key in keys:
            self._call(lambda limiter, key=key: limiter.hit(self.item, key))  # type: ignore[misc]

    def succeeded(self, key: str) -> None:
        """Forget the failures of `key` (the user name) after a good sign-in."""
        self._call(lambda limiter: limiter.clear(self.item, key))


def login_throttle(settings: Settings, engine: Engine) -> LoginThrottle:
    """The throttle on Redis when configured (the database when Redis is away), else on the
    database."""
    database = DatabaseStorage(engine)
    redis_url = settings.shared_redis_url()
    storage: Storage = database
    if redis_url:
        storage = RedisStorage(
            redis_url,
            key_prefix=REDIS_PREFIX,
            wrap_exceptions=True,
            socket_connect_timeout=2,
            socket_timeout=2,
        )
    assert isinstance(storage, MovingWindowSupport)
    return LoginThrottle(
        settings.login_max_failures,
        settings.login_window_seconds,
        storage,
        fallback=database if redis_url else None,
    )
