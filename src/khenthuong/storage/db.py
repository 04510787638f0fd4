"""Engine creation, SQLite pragmas and session helpers."""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, CursorResult, Engine, create_engine, event
from sqlmodel import Session

from khenthuong.settings import get_settings


def make_engine(
    url: str,
    *,
    sqlite_synchronous: str = "FULL",
    echo: bool = False,
    pool_size: int = 10,
    max_overflow: int = 20,
) -> Engine:
    """An engine for `url`; SQLite gets WAL, a busy timeout and foreign keys on; a server
    database keeps `pool_size` connections open (`max_overflow` more under a burst)."""
    if url.startswith("sqlite"):
        # No limit on connections (a file's are cheap): each thread that writes keeps its
        # own between write transactions (`write_tx`), and a web process runs up to 40.
        in_memory = ":memory:" in url or url in ("sqlite://", "sqlite:///")
        engine = create_engine(
            url, echo=echo, connect_args={"timeout": 30, "check_same_thread": False},
            **({} if in_memory else {"max_overflow": -1}),  # memory: one connection a thread
        )  # fmt: skip

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy issue BEGIN itself so that transactions are explicit.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            if not in_memory:
                cur.execute("PRAGMA journal_mode=WAL")
            cur.execute(f"PRAGMA synchronous={sqlite_synchronous}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        # The dialect's own BEGIN hook rather than a `begin` event: any Connection event on
        # the engine makes SQLAlchemy dispatch events at every connect, begin, execute and
        # commit, about a quarter of a write transaction's own cost (BENCHMARKS.md, #19).
        engine.dialect.do_begin = _sqlite_begin  # type: ignore[method-assign]
        return engine
    # No pre-ping: it costs a round trip per checkout (BENCHMARKS.md); recycle instead.
    pool: dict[str, Any] = {
        "pool_recycle": 1800, "pool_size": pool_size, "max_overflow": max_overflow
    }  # fmt: skip
    engine = create_engine(url, echo=echo, **pool)
    if engine.dialect.driver == "psycopg":
        event.listen(engine, "connect", _utc_session)
        _add_reader(engine, echo, pool)
    return engine


_READERS: weakref.WeakKeyDictionary[Engine, Engine] = weakref.WeakKeyDictionary()
"""A PostgreSQL engine's reader (`reading`): its second pool, read-only and in autocommit."""


def _add_reader(engine: Engine, echo: bool, pool: dict[str, Any]) -> None:
    """Give `engine` its reader, disposed with it."""
    reader = _READERS[engine] = create_engine(
        engine.url, echo=echo, isolation_level="AUTOCOMMIT", **pool
    )
    event.listen(reader, "connect", _read_only_session)
    dispose = engine.dispose

    def dispose_both(close: bool = True) -> None:
        reader.dispose(close)
        dispose(close)

    engine.dispose = dispose_both  # type: ignore[method-assign]


def _read_only_session(dbapi_conn: Any, record: Any) -> None:
    """A reader's session: in UTC as every session (`_utc_session`), and read-only, so that
    PostgreSQL refuses a write there. Set once a connection, as the time zone is (a startup
    `options` parameter would save the round trip, but PgBouncer refuses it)."""
    dbapi_conn.execute("SET default_transaction_read_only = on")
    _utc_session(dbapi_conn, record)


def reading(engine: Engine) -> Connection:
    """A connection for reads only: `with reading(engine) as conn: ...`.

    On PostgreSQL (psycopg) it comes from the engine's reader, a second pool of the same size
    whose sessions PostgreSQL keeps read-only (`default_transaction_read_only`: a write there
    fails, it is never committed) and which runs each statement on its own (autocommit). A
    read in a transaction cost two more round trips (BEGIN, and the pool's ROLLBACK when the
    connection goes back), and psycopg forgets its prepared statements at every ROLLBACK: a
    statement run once a request was never prepared, and PostgreSQL planned it every time
    (the queue's UNION of one branch per workflow state: 3.8 ms on a 2-core VM, BENCHMARKS.md).
    Each statement sees what was committed when it began, as each statement of a READ
    COMMITTED transaction did (PostgreSQL's default, which `make_engine` keeps): two
    statements of a block never shared a snapshot there either.

    Elsewhere (SQLite, or an engine `make_engine` did not make) it is `engine.connect()`: a
    SQLite transaction costs no round trip, and the block's reads share one snapshot.
    """
    reader = _READERS.get(engine)
    return (engine if reader is None else reader).connect()


def _utc_session(dbapi_conn: Any, _record: Any) -> None:
    """The session's time zone set to UTC: psycopg then reads `timestamptz` values as
    `datetime.UTC` times; in a server's named zone (Debian's default is `Etc/UTC`) it converts
    every value to that `ZoneInfo` (3,000 values: 5.2-5.9 ms against 2.6-3.0 on a 2-core VM),
    and the application converts them back to UTC. The instants are the same; SQL that needs
    a local day says `AT TIME ZONE` itself (services/due_scan.py)."""
    dbapi_conn.execute("SET TIME ZONE 'UTC'")
    dbapi_conn.commit()


def _sqlite_begin(dbapi_connection: Any) -> None:
    """BEGIN on SQLite (the driver's own implicit transactions are off).

    Write transactions (`write_tx`) take the lock up front with BEGIN IMMEDIATE: read-then-
    write steps cannot interleave and waiting writers queue on the busy timeout. Plain reads
    begin deferred and never block on writers (WAL). A lock timeout is raised by SQLAlchemy
    as its `OperationalError`, as for any statement.
    """
    immediate = dbapi_connection.info.get(_WRITE, False)
    dbapi_connection.driver_connection.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")


_WRITE = "khenthuong_write"
"""Key in a connection's info, set while `write_tx` holds it: its BEGIN is IMMEDIATE."""
AFTER_COMMIT = "khenthuong_after_commit"
"""Key in a connection's info of the callables `write_tx` runs after its commit."""


@contextmanager
def write_tx(engine: Engine) -> Iterator[Connection]:
    """A connection in a write transaction: committed on success, rolled back on error.

    On SQLite it starts with BEGIN IMMEDIATE, and the thread keeps the connection for its next
    write transaction on the same engine (`_Kept`); elsewhere it is an ordinary transaction
    on a pooled connection. Callables a service appended to `conn.info[AFTER_COMMIT]` run
    once it has committed.
    """
    conn, kept = _write_connection(engine)
    info = conn.info
    info.pop(AFTER_COMMIT, None)
    info[_WRITE] = True
    try:
        with conn.begin():
            yield conn
    finally:
        info.pop(_WRITE, None)
        hooks = info.pop(AFTER_COMMIT, [])
        if not kept:
            conn.close()
        elif conn.in_transaction():
            conn.rollback()  # begun again inside the block after a commit: not left open
    for hook in hooks:
        hook()


class _Kept:
    """A SQLite connection a thread keeps between its write transactions.

    Checking a connection out of SQLAlchemy's pool and back in costs about 6 µs in a hot loop
    but about 50 µs a step when each commit waits for the disk (BENCHMARKS.md, "Issue 19: one
    run of every figure"). It is used again only by the thread that made it, for the same
    engine and pool (not after `dispose()`), in the same process (not after a fork), and not
    while it is in a transaction; it goes back to its pool when the thread ends or another
    engine's connection takes its place."""

    __slots__ = ("conn", "engine", "pid", "pool")

    def __init__(self, conn: Connection, engine: Engine) -> None:
        self.conn, self.engine, self.pool, self.pid = conn, engine, engine.pool, os.getpid()

    def serves(self, engine: Engine) -> bool:
        conn = self.conn
        return (
            self.engine is engine
            and self.pool is engine.pool
            and self.pid == os.getpid()
            and not conn.closed
            and not conn.invalidated
        )

    def __del__(self) -> None:
        if self.pid == os.getpid():
            with suppress(Exception):  # at interpreter exit the pool may be gone already
                self.conn.close()


_KEPT = threading.local()


def _write_connection(engine: Engine) -> tuple[Connection, bool]:
    """The connection for a write transaction, and whether the thread keeps it afterwards."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return engine.connect(), False
    kept: _Kept | None = getattr(_KEPT, "value", None)
    if kept is not None and kept.serves(engine):
        conn = kept.conn
        if conn.in_transaction():
            if conn.info.get(_WRITE):
                return engine.connect(), False  # a write transaction inside another: its own
            # Used after its write transaction ended (a statement then began another one):
            # end that as closing the connection would have, so nothing stays open on it.
            conn.rollback()
        return conn, True
    _KEPT.value = _Kept(engine.connect(), engine)  # the one it replaces goes back to its pool
    return _KEPT.value.conn, True


@lru_cache(maxsize=4)
def _cached_engine(url: str, synchronous: str, pool_size: int, max_overflow: int) -> Engine:
    return make_engine(
        url, sqlite_synchronous=synchronous, pool_size=pool_size, max_overflow=max_overflow
    )


def get_engine() -> Engine:
    """The process-wide engine for the configured database."""
    s = get_settings()
    return _cached_engine(s.database_url, s.sqlite_synchronous, s.db_pool_size, s.db_max_overflow)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine or get_engine(), expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def inserted_id(result: CursorResult[Any]) -> int:
    """The primary key of the row a single INSERT created."""
    key = result.inserted_primary_key
    if key is None or key[0] is None:
        raise RuntimeError("the INSERT returned no primary key")
    return int(key[0])
