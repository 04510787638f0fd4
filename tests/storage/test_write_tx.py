"""SQLite transactions: a write transaction holds the write lock from its BEGIN, a read does
not, and a lock timeout is SQLAlchemy's `OperationalError`."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Engine, exc, text

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


def test_a_read_begins_deferred_even_on_a_connection_a_write_used(engine: Engine) -> None:
    with write_tx(engine):
        pass
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
