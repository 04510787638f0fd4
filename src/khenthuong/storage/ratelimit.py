"""A `limits` storage in the database, for rate limits shared by several processes when no
Redis is configured (`limits` ships storages for memory, Redis, Memcached and MongoDB only).

Each hit is a row of `rate_limit_hit` (key, time, end of its window); a key's rows are
written under a lock on that key (a PostgreSQL advisory transaction lock; on SQLite the
write transaction itself, BEGIN IMMEDIATE), so two processes counting the same key at once
never both slip under the limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from limits.storage import MovingWindowSupport, Storage
from sqlalchemy import Connection, Engine, delete, func, insert, select, text
from sqlalchemy.exc import SQLAlchemyError

from khenthuong.storage.coordination import RATE_LIMIT_HITS
from khenthuong.storage.db import write_tx

HITS = RATE_LIMIT_HITS


class DatabaseStorage(Storage, MovingWindowSupport):
    """Fixed-window counters and moving windows of `limits`, kept in `rate_limit_hit`."""

    STORAGE_SCHEME = None  # built from an engine, never from a URI

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        super().__init__(None, wrap_exceptions=False)
        self.engine = engine
        self.clock = clock

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    def _lock(self, conn: Connection, key: str) -> None:
        """Serialise writers of one key (SQLite: BEGIN IMMEDIATE already did)."""
        if conn.dialect.name == "postgresql":
            conn.execute(
                text("select pg_advisory_xact_lock(hashtext(:k))"), {"k": f"ratelimit:{key}"}
            )

    def _purge(self, conn: Connection, now: float) -> None:
        """Delete every hit whose window is over (any key; sign-in failures are few)."""
        conn.execute(delete(HITS).where(HITS.c.expires_at <= now))

    def _add(self, conn: Connection, key: str, now: float, expires_at: float, amount: int) -> None:
        conn.execute(insert(HITS), [{"key": key, "at": now, "expires_at": expires_at}] * amount)

    # -- fixed window: a counter that lives `expiry` seconds from its first hit ----------

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = self.clock()
        with write_tx(self.engine) as conn:
            self._lock(conn, key)
            self._purge(conn, now)
            live = conn.execute(
                select(func.min(HITS.c.expires_at)).where(
                    HITS.c.key == key, HITS.c.expires_at > now
                )
            ).scalar()
            self._add(conn, key, now, float(live) if live is not None else now + expiry, amount)
            return self._count(conn, key, now)

    def _count(self, conn: Connection, key: str, now: float) -> int:
        return int(
            conn.execute(
                select(func.count()).where(HITS.c.key == key, HITS.c.expires_at > now)
            ).scalar_one()
        )

    def get(self, key: str) -> int:
        with self.engine.connect() as conn:
            return self._count(conn, key, self.clock())

    def get_expiry(self, key: str) -> float:
        now = self.clock()
        with self.engine.connect() as conn:
            ends = conn.execute(
                select(func.min(HITS.c.expires_at)).where(
                    HITS.c.key == key, HITS.c.expires_at > now
                )
            ).scalar()
        return float(ends) if ends is not None else now

    # -- moving window: at most `limit` hits in any `expiry` seconds ---------------------

    def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        now = self.clock()
        with write_tx(self.engine) as conn:
            self._lock(conn, key)
            self._purge(conn, now)
            _, count = self._window(conn, key, now, expiry)
            if count + amount > limit:
                return False
            self._add(conn, key, now, now + expiry, amount)
        return True

    def _window(self, conn: Connection, key: str, now: float, expiry: int) -> tuple[float, int]:
        oldest, count = conn.execute(
            select(func.min(HITS.c.at), func.count()).where(
                HITS.c.key == key, HITS.c.at > now - expiry
            )
        ).one()
        return (float(oldest) if oldest is not None else now), int(count)

    def get_moving_window(self, key: str, limit: int, expiry: int) -> tuple[float, int]:
        with self.engine.connect() as conn:
            return self._window(conn, key, self.clock(), expiry)

    # -- housekeeping ---------------------------------------------------------------------

    def check(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("select 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with write_tx(self.engine) as conn:
            return int(conn.execute(delete(HITS)).rowcount)

    def clear(self, key: str) -> None:
        with write_tx(self.engine) as conn:
            self._lock(conn, key)
            conn.execute(delete(HITS).where(HITS.c.key == key))
