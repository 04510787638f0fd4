"""A server database's connection pool is sized by KHENTHUONG_DB_POOL_SIZE and
KHENTHUONG_DB_MAX_OVERFLOW (each new PostgreSQL connection is a new backend process)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from khenthuong.settings import Settings
from khenthuong.storage.db import make_engine


def test_the_pool_keeps_the_configured_connections(
    pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KHENTHUONG_DB_POOL_SIZE", "3")
    monkeypatch.setenv("KHENTHUONG_DB_MAX_OVERFLOW", "1")
    settings = Settings(database_url=pg_database)
    engine = make_engine(
        settings.database_url, pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )  # fmt: skip
    try:
        held = [engine.connect() for _ in range(4)]  # the pool's three and one overflow
        pids = {c.execute(text("SELECT pg_backend_pid()")).scalar() for c in held}
        for c in held:
            c.close()
        assert len(pids) == 4
        assert engine.pool.checkedin() == 3  # the overflow connection was closed
        again = [engine.connect() for _ in range(3)]
        assert {c.execute(text("SELECT pg_backend_pid()")).scalar() for c in again} <= pids
        for c in again:
            c.close()
    finally:
        engine.dispose()


def test_a_pool_size_out_of_range_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("KHENTHUONG_DB_POOL_SIZE", "0")
    with pytest.raises(ValidationError, match="db_pool_size"):
        Settings()
    assert Settings(db_pool_size=10).db_max_overflow == 20
