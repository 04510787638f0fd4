"""A server database's connection pool is sized by KHENTHUONG_DB_POOL_SIZE and
KHENTHUONG_DB_MAX_OVERFLOW (each new PostgreSQL connection is a new backend process)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import psycopg
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


def test_a_server_session_reads_times_in_utc(pg_database: str) -> None:
    """Every PostgreSQL connection's session zone is UTC, whatever the server's default, so the
    driver reads `timestamptz` values as `datetime.UTC` times (no per-value conversion to a
    named zone); the instant is the one written, and SQL that asks for it in Hà Nội still gets
    the local day."""
    name = pg_database.rsplit("/", 1)[1]
    engine = make_engine(pg_database)
    admin = engine.execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:  # a server whose own default is Hà Nội's zone
            conn.execute(text(f"ALTER DATABASE \"{name}\" SET TimeZone = 'Asia/Ho_Chi_Minh'"))
        engine.dispose()  # new connections from here
        plain = psycopg.connect(pg_database.replace("postgresql+psycopg", "postgresql"))
        with plain:
            assert plain.execute("SHOW TIME ZONE").fetchone() == ("Asia/Ho_Chi_Minh",)
        with engine.connect() as conn:
            assert conn.execute(text("SHOW TIME ZONE")).scalar() == "UTC"
            written = datetime(2026, 12, 31, 18, 30, tzinfo=timezone(timedelta(hours=7)))
            read, local_day = conn.execute(
                text(
                    "SELECT CAST(:t AS timestamptz), to_char(CAST(:t AS timestamptz) "
                    "AT TIME ZONE 'Asia/Ho_Chi_Minh', 'YYYY-MM-DD')"
                ),
                {"t": written},
            ).one()
        assert read.tzinfo is UTC and read == written
        assert local_day == "2026-12-31"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" RESET TimeZone'))
        engine.dispose()
