"""The sign-in throttle counts in storage every web process shares: the database (a
`limits` storage of our own) or Redis; while Redis is away the database counts."""

from __future__ import annotations

import logging

import pytest
import redis
from limits import RateLimitItemPerSecond
from limits.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from sqlalchemy import func, select

from khenthuong.settings import Settings
from khenthuong.storage.coordination import RATE_LIMIT_HITS
from khenthuong.storage.db import make_engine
from khenthuong.storage.ratelimit import DatabaseStorage
from khenthuong.web.ratelimit import REDIS_PREFIX, LoginThrottle, login_throttle
from tests.workers.conftest import REDIS_UNAVAILABLE


class Clock:
    """A settable clock (seconds since the epoch)."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def two_processes(db_url: str, clock: Clock) -> tuple[LoginThrottle, LoginThrottle]:
    """Two throttles on two engines, as two web processes hold them."""
    throttles = []
    for _ in range(2):
        storage = DatabaseStorage(make_engine(db_url), clock=clock)
        throttles.append(LoginThrottle(3, 60, storage, clock=clock))
    return throttles[0], throttles[1]


def test_failures_count_across_processes_in_the_database(db_url: str) -> None:
    """Three failures made through two processes throttle both; the wait is the rest of the
    window from the oldest failure; a good sign-in clears the user name (not the address)."""
    clock = Clock()
    a, b = two_processes(db_url, clock)
    assert a.kind == "database"
    keys = ("user:cb.qd", "ip:203.0.113.7")
    a.failed(*keys)
    clock.now += 10
    b.failed(*keys)
    assert a.retry_after(*keys) == b.retry_after(*keys) == 0
    a.failed(*keys)
    clock.now += 5
    assert b.retry_after(*keys) == 45  # the first failure leaves the window 60 s after it
    assert a.retry_after("user:someone-else") == 0
    b.succeeded("user:cb.qd")
    assert a.retry_after("user:cb.qd") == 0
    assert a.retry_after("ip:203.0.113.7") == 45
    clock.now += 45
    assert a.retry_after(*keys) == 0  # the oldest failure has left the window


def test_expired_hits_are_deleted_and_a_full_window_adds_none(db_url: str) -> None:
    clock = Clock()
    engine = make_engine(db_url)
    storage = DatabaseStorage(engine, clock=clock)
    limiter = MovingWindowRateLimiter(storage)
    item = RateLimitItemPerSecond(2, 30)
    assert limiter.hit(item, "k") and limiter.hit(item, "k")
    assert not limiter.hit(item, "k")  # refused: not counted
    stats = limiter.get_window_stats(item, "k")
    assert (stats.remaining, stats.reset_time) == (0, clock.now + 30)
    clock.now += 31
    assert limiter.hit(item, "other")  # any write purges what has expired
    with engine.connect() as conn:
        keys = list(conn.execute(select(RATE_LIMIT_HITS.c.key)).scalars())
    assert len(keys) == 1 and keys[0].endswith("other/2/30/second")
    assert storage.reset() == 1
    assert storage.check()


def test_fixed_window_counter_in_the_database(db_url: str) -> None:
    """The storage also serves `limits`' fixed windows: a counter living `expiry` seconds
    from its first hit."""
    clock = Clock()
    storage = DatabaseStorage(make_engine(db_url), clock=clock)
    limiter = FixedWindowRateLimiter(storage)
    item = RateLimitItemPerSecond(2, 10)
    assert limiter.hit(item, "f")
    clock.now += 4
    assert limiter.hit(item, "f")
    assert not limiter.hit(item, "f")
    assert storage.get_expiry(item.key_for("f")) == clock.now - 4 + 10
    clock.now += 6  # the window that began with the first hit is over
    assert storage.get(item.key_for("f")) == 0
    assert limiter.hit(item, "f")
    storage.clear(item.key_for("f"))
    assert storage.get(item.key_for("f")) == 0


@pytest.fixture
def redis_url() -> str:
    if REDIS_UNAVAILABLE:
        from tests.service_guard import absent

        absent(REDIS_UNAVAILABLE)
    url = "redis://127.0.0.1:6379/8"
    client = redis.Redis.from_url(url)
    for key in client.scan_iter(f"{REDIS_PREFIX}*"):
        client.delete(key)
    return url


def test_with_a_redis_broker_the_counts_live_in_redis(db_url: str, redis_url: str) -> None:
    """KHENTHUONG_BROKER_URL on Redis (and no KHENTHUONG_REDIS_URL): two processes count
    together in Redis, and the database holds nothing."""
    settings = Settings(database_url=db_url, broker_url=redis_url, login_max_failures=2)
    engine = make_engine(db_url)
    a, b = login_throttle(settings, engine), login_throttle(settings, make_engine(db_url))
    assert a.kind == b.kind == "redis"
    a.failed("user:tk.qd")
    assert b.retry_after("user:tk.qd") == 0
    b.failed("user:tk.qd")
    assert 0 < a.retry_after("user:tk.qd") <= settings.login_window_seconds
    assert list(redis.Redis.from_url(redis_url).scan_iter(f"{REDIS_PREFIX}*"))
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(RATE_LIMIT_HITS)).scalar() == 0
    a.succeeded("user:tk.qd")
    assert b.retry_after("user:tk.qd") == 0


def test_while_redis_is_away_the_database_counts(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """KHENTHUONG_REDIS_URL pointing at nothing: sign-ins are still throttled (in the
    database), and the outage is logged once."""
    settings = Settings(
        database_url=db_url, redis_url="redis://127.0.0.1:1/0", login_max_failures=2
    )
    throttle = login_throttle(settings, make_engine(db_url))
    assert throttle.kind == "redis"
    with caplog.at_level(logging.WARNING, logger="khenthuong.web.ratelimit"):
        throttle.failed("ip:198.51.100.1")
        throttle.failed("ip:198.51.100.1")
        assert throttle.retry_after("ip:198.51.100.1") > 0
    assert [r.getMessage()[:45] for r in caplog.records] == [
        "sign-in throttle: Redis unreachable, counting"
    ]
    other = login_throttle(Settings(database_url=db_url, login_max_failures=2), make_engine(db_url))
    assert other.kind == "database" and other.retry_after("ip:198.51.100.1") > 0
