"""A short-lived, per-process cache of resolved callers (a token's or a session's actor),
and of the unit and officer names every page shows.

Every request used to load its caller: the token or session epoch, the user, their grants,
the delegations in force and the units their unit inspects today (four to five queries, a
third of `GET /api/queue`, BENCHMARKS.md). The answer is kept for
`KHENTHUONG_CALLER_CACHE_SECONDS` (0: no cache), keyed by the token's digest or by the
session's user and epoch, and by Việt Nam's date (delegations and inspection windows
change with the day).

Changes made by this process are seen at once: any INSERT, UPDATE or DELETE on the tables a
caller is read from (users, roles, tokens, units, delegations, inspection plans and visits),
on any engine of the process, empties the cache when it runs and again once its
transaction has committed (a load that raced the write is then not kept). Another process
(a second web process, the CLI, a worker) sees a change within the TTL: a revoked token, a
disabled user, a sign-out elsewhere or a withdrawn role still works there for at most that
many seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Engine, TextClause, event
from sqlalchemy.sql.dml import UpdateBase

from khenthuong.storage.db import AFTER_COMMIT

WATCHED = frozenset(
    {
        "user_account", "user_role", "api_token", "unit", "delegation",
        "inspection_plan", "inspection_visit",
    }
)  # fmt: skip
"""Tables a caller is read from: a write to one of them empties every cache."""

NO_CALLER_CHANGE = "khenthuong_no_caller_change"
"""Execution option of a write to a watched table that changes no caller (a token's
`last_used_at`): it leaves the cache alone."""

MAX_ENTRIES = 10_000
"""Beyond this many callers the cache starts over (a bound, not an eviction policy)."""

T = TypeVar("T")


class _Generation:
    """Counts the writes to a caller's tables in this process."""

    value = 0
    lock = threading.Lock()


def _bump() -> None:
    with _Generation.lock:
        _Generation.value += 1


def _touches_callers(statement: Any) -> bool:
    if isinstance(statement, UpdateBase):
        table = getattr(statement, "table", None)
        return getattr(table, "name", None) in WATCHED
    if isinstance(statement, TextClause | str):  # text() or exec_driver_sql
        sql = (statement.text if isinstance(statement, TextClause) else statement).lower()
        return any(verb in sql for verb in ("insert", "update", "delete")) and any(
            name in sql for name in WATCHED
        )
    return False


def _after_execute(
    conn: Any, statement: Any, _multi: Any, _params: Any, options: Any, _result: Any
) -> None:
    if _touches_callers(statement) and not options.get(NO_CALLER_CHANGE):
        _bump()
        hooks = conn.info.setdefault(AFTER_COMMIT, [])
        if _bump not in hooks:
            hooks.append(_bump)


event.listen(Engine, "after_execute", _after_execute)


MISSING = object()
"""What `CallerCache.peek` answers for a key it does not hold."""


class CallerCache:
    """Values by key for `ttl` seconds, forgotten whenever a caller's table is written."""

    def __init__(self, ttl: float) -> None:
        self.ttl = ttl
        self._entries: dict[tuple[object, ...], tuple[float, int, object]] = {}
        self._generation = _Generation.value

    def get_or_load(self, key: tuple[object, ...], load: Callable[[], T]) -> T:
        """The cached value of `key`, or `load()` (kept unless a write ran meanwhile)."""
        if self.ttl <= 0:
            return load()
        now = time.monotonic()
        generation = _Generation.value
        if generation != self._generation:
            self._entries = {}
            self._generation = generation
        found = self._entries.get(key)
        if found is not None and found[0] > now and found[1] == generation:
            return found[2]  # type: ignore[return-value]
        value = load()
        if _Generation.value == generation:  # no write to a caller's table while loading
            if len(self._entries) >= MAX_ENTRIES:
                self._entries = {}
            self._entries[key] = (now + self.ttl, generation, value)
        return value

    def peek(self, key: tuple[object, ...]) -> object:
        """The cached value of `key` without loading it: `MISSING` when it is not (or no
        longer) cached. For callers that must not touch the database (the event loop)."""
        if self.ttl <= 0 or _Generation.value != self._generation:
            return MISSING
        found = self._entries.get(key)
        if found is None or found[0] <= time.monotonic() or found[1] != self._generation:
            return MISSING
        return found[2]

    def clear(self) -> None:
        """Forget every caller."""
        self._entries = {}
