"""`reading(engine)`: reads on PostgreSQL go through a second pool, read-only on the server
and without a transaction around them, so that psycopg keeps its prepared statements (a
ROLLBACK empties them) and no BEGIN or ROLLBACK is sent; on SQLite it is `engine.connect()`."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Connection, exc, func, select, text

from khenthuong.runtime import Runtime
from khenthuong.services.actors import load_actor
from khenthuong.services.listing import my_queue
from khenthuong.services.new_nominations import create_nomination
from khenthuong.storage.db import _READERS, make_engine, reading
from khenthuong.storage.models import UNITS


def test_reading_gives_the_rows_a_connection_gives(rt: Runtime) -> None:
    with rt.engine.connect() as conn:
        officer = load_actor(conn, "cb.qd")
    made = create_nomination(
        rt.engine, rt.registry, workflow="giay_khen", proposing_unit="CCYQD", actor=officer,
        nominee_name="Nguyễn Văn Đọc", create_person=True, year=2026,
    )  # fmt: skip
    with rt.engine.connect() as conn:
        expected = conn.execute(select(UNITS.c.code).order_by(UNITS.c.id)).scalars().all()
        queue = my_queue(conn, rt.registry, officer)
    with reading(rt.engine) as conn:
        assert conn.execute(select(UNITS.c.code).order_by(UNITS.c.id)).scalars().all() == expected
        assert my_queue(conn, rt.registry, officer) == queue
    assert len(expected) > 10
    assert [item["id"] for item in queue] == [made]  # the draft waits for its officer


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sqlite_reads_share_one_snapshot(rt: Runtime) -> None:
    assert rt.engine.dialect.name == "sqlite"
    assert rt.engine not in _READERS
    with reading(rt.engine) as conn:
        before = conn.execute(select(func.count()).select_from(UNITS)).scalar()
        with rt.engine.begin() as other:
            other.execute(UNITS.update().where(UNITS.c.code == "CCYQD").values(name="Mới"))
        name = conn.execute(select(UNITS.c.name).where(UNITS.c.code == "CCYQD")).scalar()
        assert name != "Mới"  # the block's snapshot, taken at its first read
        assert conn.execute(select(func.count()).select_from(UNITS)).scalar() == before
    with reading(rt.engine) as conn:
        assert conn.execute(select(UNITS.c.name).where(UNITS.c.code == "CCYQD")).scalar() == "Mới"


def test_a_write_through_reading_is_refused_by_postgresql(pg_database: str) -> None:
    engine = make_engine(pg_database)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE IF NOT EXISTS reading_probe (n int)"))
            conn.execute(text("DELETE FROM reading_probe"))
        with reading(engine) as conn, pytest.raises(exc.InternalError, match="read-only"):
            conn.execute(text("INSERT INTO reading_probe VALUES (1)"))
        with reading(engine) as conn:  # the refusal left nothing behind on the connection
            assert conn.execute(text("SELECT count(*) FROM reading_probe")).scalar() == 0
    finally:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS reading_probe"))
        engine.dispose()


def test_postgresql_reads_run_without_a_transaction(pg_database: str) -> None:
    """Each statement of a `reading` block is its own transaction (no BEGIN, no ROLLBACK
    round trip): its transaction's start is the statement's own; a connection's second
    statement still runs in the transaction its first began."""
    engine = make_engine(pg_database)
    started = text("SELECT transaction_timestamp() = statement_timestamp()")

    def twice(conn: Connection) -> list[bool]:
        first = conn.execute(started).scalar()
        time.sleep(0.01)  # the second statement starts later than any transaction before it
        return [first, conn.execute(started).scalar()]

    try:
        with reading(engine) as conn:
            firsts = twice(conn)
        with engine.connect() as conn:
            plain = twice(conn)
        assert firsts == [True, True]
        assert plain[1] is False  # still in the transaction the BEGIN before the first opened
    finally:
        engine.dispose()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql_keeps_the_queue_reads_prepared(rt: Runtime) -> None:
    """The queue's two reads, run through `reading` once per request as the web pages do, are
    prepared after psycopg's five runs (a prepared statement's plan is then kept, BENCHMARKS.md):
    nothing empties the driver's prepared statements between requests. Through `engine.connect()` the pool's
    ROLLBACK emptied them after every request, so PostgreSQL planned the UNION every time."""
    assert rt.engine.dialect.name == "postgresql"
    with rt.engine.connect() as conn:
        actor = load_actor(conn, "cv.bcy")
    prepared = text("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE '_pg3_%'")
    rt.engine.dispose()  # one connection in each pool from here on
    for _ in range(8):
        with rt.engine.connect() as conn:
            my_queue(conn, rt.registry, actor)
    with rt.engine.connect() as conn:
        assert conn.execute(prepared).scalar() == 0
    for _ in range(8):
        with reading(rt.engine) as conn:
            my_queue(conn, rt.registry, actor)
    with reading(rt.engine) as conn:
        assert conn.execute(prepared).scalar() >= 2  # the keys' and the rows' reads


def test_disposing_an_engine_closes_its_reader(pg_database: str) -> None:
    engine = make_engine(pg_database)
    with reading(engine) as conn:
        conn.execute(text("SELECT 1"))
    reader = _READERS[engine]
    assert reader.pool.checkedin() == 1
    engine.dispose()
    assert reader.pool.checkedin() == 0
