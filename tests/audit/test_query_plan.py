"""`audit query` filters are served by indexes, not by scanning every event."""

from __future__ import annotations

from sqlalchemy import inspect, text

from khenthuong.audit.query import AuditFilter, _statement
from khenthuong.storage.db import make_engine


def plan(db_url: str, f: AuditFilter) -> str:
    """The database's plan for the query `query_events` would run."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            sql = str(_statement(conn, f).compile(engine, compile_kwargs={"literal_binds": True}))
            if engine.dialect.name == "sqlite":
                rows = conn.execute(text("EXPLAIN QUERY PLAN " + sql)).all()
                return "\n".join(str(row[-1]) for row in rows)
            # The test table is tiny: make the planner show which indexes it could use.
            conn.execute(text("SET LOCAL enable_seqscan = off"))
            return "\n".join(str(row[0]) for row in conn.execute(text("EXPLAIN " + sql)))
    finally:
        engine.dispose()


def test_state_filter_uses_an_index_for_each_side(db_url: str) -> None:
    """--state matches the state left or entered: both sides have a (state, time) index."""
    engine = make_engine(db_url)
    indexes = {ix["name"]: ix["column_names"] for ix in inspect(engine).get_indexes("event")}
    engine.dispose()
    assert indexes["ix_event_from_state_time"] == ["from_state", "occurred_at"]
    assert indexes["ix_event_to_state_time"] == ["to_state", "occurred_at"]
    found = plan(db_url, AuditFilter(state="unit_council"))
    assert "ix_event_from_state_time" in found, found
    assert "ix_event_to_state_time" in found, found
