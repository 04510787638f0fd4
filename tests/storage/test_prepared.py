"""Statements run on the driver's cursor read and fail as `Connection.execute` would."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, exc, insert, select, union_all

from khenthuong.storage.db import make_engine
from khenthuong.storage.outbox import OUTBOX
from khenthuong.storage.prepared import Prepared, numbered

NOTICE = {
    "dedup_key": "step:1:2",
    "kind": "step_notice",
    "payload": '{"nomination_id":1}',
    "created_at": datetime(2026, 12, 7, 4, 5, 6, 789012, tzinfo=UTC),
    "available_at": datetime(2026, 12, 7, 4, 5, 6, 789012, tzinfo=UTC),
    "status": "pending",
    "attempts": 0,
}
INSERT = Prepared(insert(OUTBOX), list(NOTICE))
SELECT = Prepared(
    select(OUTBOX.c.dedup_key, OUTBOX.c.created_at, OUTBOX.c.attempts, OUTBOX.c.sent_at).where(
        OUTBOX.c.dedup_key == bindparam("key")
    )
)


def test_a_prepared_row_reads_back_as_core_reads_it(db_url: str) -> None:
    """Written and read on the driver: the same values, converted by the column types."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            assert INSERT.run(conn, NOTICE) == 1
            core = conn.execute(SELECT.statement, {"key": "step:1:2"}).one()
            assert SELECT.first(conn, {"key": "step:1:2"}) == tuple(core)
            assert isinstance(core.created_at, datetime)
            assert SELECT.first(conn, {"key": "nothing"}) is None
    finally:
        engine.dispose()


def test_a_driver_error_is_raised_as_sqlalchemys(db_url: str) -> None:
    """A unique key taken twice: IntegrityError, and the transaction rolls back cleanly."""
    engine = make_engine(db_url)
    try:
        with pytest.raises(exc.IntegrityError), engine.begin() as conn:
            INSERT.run(conn, NOTICE)
            INSERT.run(conn, NOTICE)
        with engine.connect() as conn:
            assert SELECT.first(conn, {"key": "step:1:2"}) is None
    finally:
        engine.dispose()


def test_named_placeholders_become_numbered() -> None:
    """`%(name)s` to `$n`: a name used twice keeps its number, `%%` is a literal `%`."""
    sql, names = numbered("a = %(x)s AND b LIKE 'y%%' AND (c = %(y_1)s OR d = %(x)s)")
    assert sql == "a = $1 AND b LIKE 'y%' AND (c = $2 OR d = $1)"
    assert names == ("x", "y_1")


def test_a_long_statement_reads_every_row_as_core_reads_it(db_url: str) -> None:
    """A UNION of 60 branches (over 4 KB and 50 parameters, past psycopg's own cache), one
    value written into the statement (`attempts = 0`) and a time column: the same rows as
    `Connection.execute`, and on PostgreSQL the text goes to the driver in `$n` form."""
    keys = [f"step:{i}:2" for i in range(60)]
    branches = [
        select(OUTBOX.c.dedup_key, OUTBOX.c.created_at).where(
            OUTBOX.c.dedup_key == bindparam(f"k{i}"), OUTBOX.c.attempts == 0
        )
        for i in range(60)
    ]
    statement = union_all(*branches)
    union = Prepared(statement)
    params = {f"k{i}": key for i, key in enumerate(keys)}
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            for key in keys[::7]:
                INSERT.run(conn, {**NOTICE, "dedup_key": key})
            core = [tuple(r) for r in conn.execute(statement, params).all()]
            rows = union.all(conn, params)
            sql = union._form(conn.dialect).sql
        assert sorted(rows) == sorted(core) and len(rows) == len(keys[::7])
        assert all(isinstance(r[1], datetime) and r[1].tzinfo is not None for r in rows)
        assert len(sql) > 4096
        if engine.dialect.name == "postgresql":
            assert "$61" in sql and "%(" not in sql
    finally:
        engine.dispose()
