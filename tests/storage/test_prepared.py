"""Statements run on the driver's cursor read and fail as `Connection.execute` would."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import bindparam, exc, insert, select

from khenthuong.storage.db import make_engine
from khenthuong.storage.outbox import OUTBOX
from khenthuong.storage.prepared import Prepared

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
