"""Exactly one process at a time runs the embedded scheduler, however many `khenthuong
serve` processes share the database.

On PostgreSQL the holder keeps a session advisory lock on a connection of its own: when the
process dies its connection closes and the lock is free at once. SQLite has no such lock:
the holder keeps a lease row (`scheduler_lease`) and renews it before every run; another
process takes it over once it has not been renewed for `lease_seconds`.
"""

from __future__ import annotations

import logging
import os
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from khenthuong.storage.coordination import SCHEDULER_LEASES
from khenthuong.storage.db import write_tx

log = logging.getLogger("khenthuong.scheduler")

LOCK_CLASS = 0x4B54
"""First key of the PostgreSQL advisory lock ("KT"); pg_locks shows it as classid."""
LOCK_ID = 1
"""Second key (objid): the embedded scheduler."""
LEASE_NAME = "embedded-scheduler"


def this_process() -> str:
    """host:pid, how a holder is named (pg_stat_activity.application_name, lease row)."""
    return f"{socket.gethostname()}:{os.getpid()}"


class SchedulerLock:
    """Take, keep and give back the right to run the embedded scheduler."""

    def __init__(
        self,
        engine: Engine,
        *,
        lease_seconds: float = 60.0,
        holder: str | None = None,
        clock: Any = None,
    ) -> None:
        self.engine = engine
        self.lease = timedelta(seconds=lease_seconds)
        self.holder = holder or this_process()
        self._clock = clock or (lambda: datetime.now(UTC))
        self._conn: Connection | None = None
        self.held = False

    def acquire(self) -> bool:
        """True when this process holds the lock now (taken, kept or renewed)."""
        before = self.held
        try:
            if self.engine.dialect.name == "postgresql":
                self.held = self._advisory()
            else:
                self.held = self._lease()
        except SQLAlchemyError:
            self._drop_connection()
            self.held = False
            raise
        finally:
            if self.held != before:
                log.info(
                    "%s %s the embedded scheduler",
                    self.holder,
                    "now runs" if self.held else "no longer runs",
                )
        return self.held

    def release(self) -> None:
        """Give the lock back (at shutdown), so another process may take it at once."""
        try:
            if self.engine.dialect.name == "postgresql":
                if self._conn is not None and self.held:
                    self._conn.execute(
                        text("select pg_advisory_unlock(:c, :i)"), {"c": LOCK_CLASS, "i": LOCK_ID}
                    )
            else:
                with write_tx(self.engine) as conn:
                    conn.execute(
                        delete(SCHEDULER_LEASES).where(
                            SCHEDULER_LEASES.c.name == LEASE_NAME,
                            SCHEDULER_LEASES.c.holder == self.holder,
                        )
                    )
        except SQLAlchemyError as exc:
            log.info("could not give back the scheduler lock (it ends with us): %s", exc)
        finally:
            self._drop_connection()
            self.held = False

    # -- PostgreSQL -------------------------------------------------------------------------

    def _advisory(self) -> bool:
        if self._conn is not None and self.held:
            # The lock lasts as long as the session: a live connection means it is still ours.
            self._conn.execute(text("select 1"))
            return True
        if self._conn is None:
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(
                text("select set_config('application_name', :n, false)"),
                {"n": f"khenthuong scheduler {self.holder}"[:63]},
            )
            self._conn = conn
        taken = self._conn.execute(
            text("select pg_try_advisory_lock(:c, :i)"), {"c": LOCK_CLASS, "i": LOCK_ID}
        ).scalar_one()
        return bool(taken)

    def _drop_connection(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()  # never back to the pool with a lock on it
                self._conn.close()
            except SQLAlchemyError:
                pass
            self._conn = None

    # -- SQLite (and any database without advisory locks) -------------------------------

    def _lease(self) -> bool:
        now = self._clock()
        ends = now + self.lease
        table = SCHEDULER_LEASES
        with write_tx(self.engine) as conn:
            row = conn.execute(select(table).where(table.c.name == LEASE_NAME)).first()
            if row is None:
                conn.execute(
                    insert(table).values(
                        name=LEASE_NAME, holder=self.holder, acquired_at=now, expires_at=ends
                    )
                )
                return True
            expires = row.expires_at
            if expires.tzinfo is None:
                expires = expires.replace(tzinfo=UTC)
            if row.holder != self.holder and expires > now:
                return False
            values: dict[str, Any] = {"holder": self.holder, "expires_at": ends}
            if row.holder != self.holder:
                values["acquired_at"] = now
            conn.execute(update(table).where(table.c.name == LEASE_NAME).values(**values))
            return True


def current_holder(engine: Engine, *, now: datetime | None = None) -> str | None:
    """Who runs the embedded scheduler now (host:pid), or None (for `reminders status`)."""
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            name = conn.execute(
                text(
                    "select a.application_name from pg_locks l "
                    "join pg_stat_activity a on a.pid = l.pid "
                    "where l.locktype = 'advisory' and l.granted "
                    "and l.classid = :c and l.objid = :i"
                ),
                {"c": LOCK_CLASS, "i": LOCK_ID},
            ).scalar()
            return str(name).removeprefix("khenthuong scheduler ") if name else None
        row = conn.execute(
            select(SCHEDULER_LEASES).where(SCHEDULER_LEASES.c.name == LEASE_NAME)
        ).first()
    if row is None:
        return None
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    return str(row.holder) if expires > (now or datetime.now(UTC)) else None
