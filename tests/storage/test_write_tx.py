"""SQLite transactions: a write transaction holds the write lock from its BEGIN, a read does
not, and a lock timeout is SQLAlchemy's `OperationalError`."""

from __future__ import annotations

import gc
import sqlite3
import threading
import warnings
from pathlib import Path

import pytest
from sqlalchemy import Connection, Engine, exc, text

from khenthuong.storage.db import make_engine, write_tx


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    made = make_engine(f"sqlite:///{tmp_path / 'tx.db'}")
    with write_tx(made) as conn:
        conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY)"))
    yield made  # type: ignore[misc]
    made.dispose()


def _other_writer_can_start(engine: Engine) -> bool:
    """True if another connection can take the write lock right now (no waiting)."""
    path = engine.url.database
    assert path is not None
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as error:
        assert "locked" in str(error)
        return False
    else:
        other.execute("ROLLBACK")
        return True
    finally:
        other.close()


def test_a_write_transaction_holds_the_lock_from_its_begin(engine: Engine) -> None:
    with write_tx(engine) as conn:
        assert conn.in_transaction()
        assert not _other_writer_can_start(engine)  # before any statement of its own
    assert _other_writer_can_start(engine)


def _write_in_a_thread_of_its_own(engine: Engine) -> None:
    """A write transaction in a thread that then ends: its kept connection goes back to the
    pool."""

    def write() -> None:
        with write_tx(engine):
            pass

    thread = threading.Thread(target=write)
    thread.start()
    thread.join()
    gc.collect()


def test_a_read_begins_deferred_even_on_a_connection_a_write_used(engine: Engine) -> None:
    _write_in_a_thread_of_its_own(engine)
    for _ in range(2):  # the pool hands back the connection the write transaction used
        with engine.connect() as conn, conn.begin():
            conn.execute(text("SELECT count(*) FROM t")).scalar_one()
            assert _other_writer_can_start(engine)


def test_a_lock_timeout_is_sqlalchemys_operational_error(tmp_path: Path) -> None:
    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:  # the pool's one connection: no waiting for the lock
            conn.connection.driver_connection.execute("PRAGMA busy_timeout=0")  # type: ignore[union-attr]
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(exc.OperationalError, match="locked"), write_tx(engine):
            pass
        holder.execute("ROLLBACK")
        with write_tx(engine) as conn:  # the same connection works once the lock is free
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        holder.close()
        engine.dispose()


def _driver(conn: Connection) -> object:
    return conn.connection.dbapi_connection


def test_a_thread_keeps_its_write_connection_between_transactions(engine: Engine) -> None:
    """SQLite: the connection of a thread's write transaction is its next one's too (no
    check-out and check-in a step), and it is not in the pool meanwhile."""
    seen = []
    for n in range(3):
        with write_tx(engine) as conn:
            conn.execute(text("INSERT INTO t (id) VALUES (:n)"), {"n": n})
            seen.append(_driver(conn))
    assert seen[0] is seen[1] is seen[2]
    assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    with engine.connect() as conn:  # reads use the pool, and see every write
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 3
        assert _driver(conn) is not seen[0]


def test_a_failed_write_rolls_back_and_the_kept_connection_goes_on(engine: Engine) -> None:
    with pytest.raises(ZeroDivisionError), write_tx(engine) as conn:
        conn.execute(text("INSERT INTO t (id) VALUES (1)"))
        first = _driver(conn)
        _ = 1 / 0
    with write_tx(engine) as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
        assert _driver(conn) is first and conn.in_transaction()
    assert _other_writer_can_start(engine)


def test_a_kept_connection_goes_back_when_its_thread_ends_or_another_engine_writes(
    engine: Engine, tmp_path: Path
) -> None:
    """Back to its pool without the garbage collector's warning about a connection it had to
    clean up: when the thread ends, and when the thread writes through another engine."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        checked_out = engine.pool.checkedout()  # type: ignore[attr-defined]
        _write_in_a_thread_of_its_own(engine)
        assert engine.pool.checkedout() == checked_out  # type: ignore[attr-defined]
        other = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
        try:
            with write_tx(engine):
                pass
            assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
            with write_tx(other):
                pass
            assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
            assert other.pool.checkedout() == 1  # type: ignore[attr-defined]
        finally:
            with write_tx(engine):  # other's connection back before other is disposed
                pass
            other.dispose()


def test_after_dispose_a_write_takes_a_new_connection(engine: Engine) -> None:
    with write_tx(engine) as conn:
        before = _driver(conn)
    engine.dispose()
    with write_tx(engine) as conn:
        conn.execute(text("INSERT INTO t (id) VALUES (7)"))
        assert _driver(conn) is not before
    assert engine.pool.checkedout() == 1  # type: ignore[attr-defined]
    with engine.connect() as conn:
        assert conn.execute(text("SELECT id FROM t")).scalar_one() == 7


def test_a_server_database_gives_the_connection_back_after_each_write(pg_database: str) -> None:
    engine = make_engine(pg_database)
    try:
        for _ in range(2):
            with write_tx(engine) as conn:
                conn.execute(text("SELECT 1"))
            assert engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    finally:
        engine.dispose()


def test_an_in_memory_database_is_made_and_written(tmp_path: Path) -> None:
    """`sqlite://` (what the docs build and quick checks use): SQLAlchemy's one-connection-a-
    thread pool, which takes no overflow limit; write transactions work on it."""
    memory = make_engine("sqlite://")
    try:
        with write_tx(memory) as conn:
            conn.execute(text("CREATE TABLE m (id INTEGER PRIMARY KEY)"))
            conn.execute(text("INSERT INTO m (id) VALUES (1)"))
        with write_tx(memory) as conn:
            assert conn.execute(text("SELECT count(*) FROM m")).scalar_one() == 1
    finally:
        memory.dispose()


def test_a_kept_connection_used_after_its_transaction_leaves_nothing_open(
    engine: Engine,
) -> None:
    """A statement on the connection after its write transaction ended begins another
    transaction (SQLAlchemy's autobegin); before, the connection was closed and that failed.
    The next write transaction ends it, so no read snapshot or lock outlives its use."""
    with write_tx(engine) as conn:
        conn.execute(text("INSERT INTO t (id) VALUES (1)"))
    conn.execute(text("SELECT count(*) FROM t")).scalar_one()  # autobegins on the kept one
    assert conn.in_transaction()
    with write_tx(engine) as again:
        assert again is conn
        again.execute(text("INSERT INTO t (id) VALUES (2)"))
    assert not conn.in_transaction()
    assert _other_writer_can_start(engine)
    with engine.connect() as reader:
        assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 2
