"""The queue's items are written without building a model per item (issue 19): the same JSON
bytes as the models', the same attributes for the page's rows."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pydantic_core
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from khenthuong.calendar.workdays import default_calendar
from khenthuong.runtime import Runtime
from khenthuong.services import listing
from khenthuong.services.access import readable_paths
from khenthuong.services.actors import load_actor
from khenthuong.services.listing import NominationFilter, list_nominations, my_queue
from khenthuong.services.nominations import allowed_triggers
from khenthuong.storage.db import make_engine
from khenthuong.storage.models import UNITS
from khenthuong.storage.prepared import Prepared
from khenthuong.web.paging import Page
from khenthuong.web.schemas import ItemView, NominationOut, nomination_fields, nomination_out
from tests.web.helpers import Headers
from tests.web.test_api_lists import _due, _submitted

NAMES = ('Tập thể "Phòng" <Kế hoạch> & Tài chính', "Nguyễn Thị Ánh", "Đỗ Văn Bình")


def _queue(client: TestClient, token: Headers, web_rt: Runtime) -> list[int]:
    officer = token("cb.qd")
    ids = [_submitted(client, officer, "CCYQD", name) for name in NAMES]
    now = datetime.now(UTC)
    _due(web_rt, {ids[0]: now - timedelta(days=3), ids[1]: now + timedelta(days=8), ids[2]: None})
    return ids


def test_api_queue_bytes_are_those_of_the_models(
    client: TestClient, token: Headers, web_rt: Runtime
) -> None:
    """Each page of /api/queue, read back into Page[NominationOut] and written by pydantic,
    gives the bytes sent: field order, UTC times with Z, null fields, Vietnamese as UTF-8."""
    ids = _queue(client, token, web_rt)
    head = token("tt.qd")
    seen, cursor = [], None
    while True:
        r = client.get("/api/queue", params={"limit": 2} | ({"cursor": cursor} if cursor else {}),
                       headers=head)  # fmt: skip
        assert r.status_code == 200 and r.headers["content-type"] == "application/json"
        page = Page[NominationOut].model_validate_json(r.content)
        assert page.model_dump_json().encode() == r.content
        seen += [i.id for i in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ids
    assert "Nguyễn Thị Ánh".encode() in client.get("/api/queue", headers=head).content


def test_fields_are_the_models_fields(web_rt: Runtime, client: TestClient, token: Headers) -> None:
    """For every row of a queue: `nomination_fields` is the model's dump (same keys, order,
    values and JSON), and `ItemView` answers the model's attributes."""
    _queue(client, token, web_rt)
    now = datetime.now(UTC)
    cal = default_calendar()
    with web_rt.engine.connect() as conn:
        rows = my_queue(conn, web_rt.registry, load_actor(conn, "tt.qd"), limit=10)
    assert len(rows) == 3
    for row in rows:
        model = nomination_out(row, cal, now)
        fields = nomination_fields(row, cal, now)
        assert list(fields) == list(NominationOut.model_fields)
        assert fields == model.model_dump()
        assert pydantic_core.to_json(fields) == model.model_dump_json().encode()
        view = ItemView(fields)
        for name in NominationOut.model_fields:
            assert getattr(view, name) == getattr(model, name)
        with pytest.raises(AttributeError):
            _ = view.no_such_field


def test_a_page_is_filled_past_items_the_grants_do_not_cover(
    web_rt: Runtime, client: TestClient, token: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The queue reads a page's length of keys and a little room; when the grants leave
    items of a read uncovered it reads on from where it stopped, through the dated items
    into the undated ones, so a page is never short while work remains."""
    officer, other = token("cb.qd"), token("cb.dcq")
    hidden = [_submitted(client, other, "CCYDCQ", f"Tập thể Phòng {i}") for i in range(4)]
    shown = [_submitted(client, officer, "CCYQD", f"Tổ {i}") for i in range(3)]
    now = datetime.now(UTC)
    dues: dict[int, datetime | None] = {
        n: now - timedelta(days=20 - i) for i, n in enumerate(hidden)
    }
    dues |= {shown[0]: now - timedelta(days=2), shown[1]: now + timedelta(days=3), shown[2]: None}
    _due(web_rt, dues)
    with web_rt.engine.connect() as conn:
        head = load_actor(conn, "tt.qd")
        both = replace(head, grants=head.grants + load_actor(conn, "tt.dcq").grants)
        dcq = conn.execute(select(UNITS.c.path).where(UNITS.c.code == "CCYDCQ")).scalar_one()
    covered = allowed_triggers

    monkeypatch.setattr(listing, "QUEUE_ROOM", 1)
    monkeypatch.setattr(
        listing,
        "allowed_triggers",
        lambda registry, row, actor: (
            [] if row["unit_path"] == dcq else covered(registry, row, actor)
        ),
    )
    with web_rt.engine.connect() as conn:
        first = my_queue(conn, web_rt.registry, both, limit=2)
        last = first[-1]
        rest = my_queue(conn, web_rt.registry, both, limit=2, after=(last["due_at"], last["id"]))
        whole = my_queue(conn, web_rt.registry, both, limit=10)
    assert [r["id"] for r in first] == shown[:2]
    assert [r["id"] for r in rest] == shown[2:]
    assert [r["id"] for r in whole] == shown
    monkeypatch.setattr(listing, "allowed_triggers", covered)
    listing._PLANS.clear()  # the actor's steps are remembered per plan
    with web_rt.engine.connect() as conn:  # unpatched, the other unit's items come first
        assert [r["id"] for r in my_queue(conn, web_rt.registry, both, limit=10)] == hidden + shown


class _CountingCursor(sqlite3.Cursor):
    """A cursor that counts the rows it hands to Python (each one a step of SQLite's, and a
    release of the GIL)."""

    rows = 0
    selects = 0

    def execute(self, sql: str, parameters: Any = (), /) -> Any:
        _CountingCursor.selects += sql.lstrip().upper().startswith("SELECT")
        return super().execute(sql, parameters)

    def fetchone(self) -> Any:
        row = super().fetchone()
        _CountingCursor.rows += row is not None
        return row

    def fetchmany(self, size: int | None = None) -> list[Any]:
        rows = super().fetchmany(size) if size is not None else super().fetchmany()
        _CountingCursor.rows += len(rows)
        return rows

    def fetchall(self) -> list[Any]:
        rows = super().fetchall()
        _CountingCursor.rows += len(rows)
        return rows


class _CountingConnection(sqlite3.Connection):
    def cursor(self, factory: Any = _CountingCursor) -> Any:
        return super().cursor(factory)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)  # the sqlite3 driver's rows
def test_sqlite_hands_a_queue_page_over_in_one_row_a_read(
    web_rt: Runtime, client: TestClient, token: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On SQLite each read of the queue and of the list comes back as one row (a JSON array of
    its rows): the driver lets go of the GIL at every row it steps, and with four requests in
    one process each of those was a thread switch (bench/http.py: 2.9 ms of system time a
    request)."""
    ids = _queue(client, token, web_rt)
    connect = sqlite3.dbapi2.connect  # what SQLAlchemy's pysqlite dialect calls
    monkeypatch.setattr(
        sqlite3.dbapi2, "connect", lambda *a, **kw: connect(*a, **kw, factory=_CountingConnection)
    )
    engine = make_engine(web_rt.settings.database_url)
    try:
        with engine.connect() as conn:
            actor = load_actor(conn, "tt.qd")
            _CountingCursor.rows = _CountingCursor.selects = 0
            rows = my_queue(conn, web_rt.registry, actor, limit=10)
            queue_counts = _CountingCursor.selects, _CountingCursor.rows
            _CountingCursor.rows = _CountingCursor.selects = 0
            listed, _ = list_nominations(
                conn, NominationFilter(), readable_paths(actor, ()), datetime.now(UTC)
            )
            list_counts = _CountingCursor.selects, _CountingCursor.rows
    finally:
        engine.dispose()
    assert [r["id"] for r in rows] == ids
    assert [type(r["closed"]) for r in rows] == [bool] * 3
    # the dated keys, the undated ones, then the page's rows: a row each
    assert queue_counts == (3, 3)
    # the list (Hồ sơ) too: its page in one row, newest first, with the columns' types
    assert [r["id"] for r in listed][:3] == ids[::-1]
    assert list_counts == (1, 1)
    for row in listed:
        assert type(row["closed"]) is bool and row["created_at"].tzinfo is UTC


def test_the_page_read_is_one_sql_text_whatever_the_page_length(
    web_rt: Runtime, client: TestClient, token: Headers, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The rows of a page are read by one SQL text with one parameter for the ids, whatever
    the number of items: psycopg caches its parse of a text of at most 50 parameters, and an
    IN of one parameter an id was parsed again at every call. The reads go to the driver's
    cursor (storage/prepared.py), so the text is recorded where it is handed to it."""
    _queue(client, token, web_rt)
    seen: list[tuple[str, int]] = []
    execute = Prepared._execute

    def record(self: Prepared, conn: Any, params: Any) -> Any:
        cursor, form = execute(self, conn, params)
        if "nominee_name" in form.sql:  # the page's rows (the keys' read has no names)
            seen.append((form.sql, len(form.arguments(params))))
        return cursor, form

    monkeypatch.setattr(Prepared, "_execute", record)
    with web_rt.engine.connect() as conn:
        actor = load_actor(conn, "tt.qd")
        sizes = [len(my_queue(conn, web_rt.registry, actor, limit=n)) for n in (1, 2, 3)]
    assert sizes == [1, 2, 3]
    assert len(seen) == 3 and len({text for text, _ in seen}) == 1
    assert {count for _, count in seen} == {1}


def test_utc_time_reads_every_form_a_driver_gives() -> None:
    """SQLite's naive UTC text, text with its own offset, an aware datetime of another zone
    (PostgreSQL's session zone) and a naive one all come back as the same aware UTC time."""
    utc = datetime(2026, 12, 7, 12, 44, 25, 625719, tzinfo=UTC)
    hanoi = timezone(timedelta(hours=7))
    for value in (
        "2026-12-07 12:44:25.625719",
        "2026-12-07 19:44:25.625719+07:00",
        "2026-12-07T12:44:25.625719Z",
        utc.astimezone(hanoi),
        utc.replace(tzinfo=None),
    ):
        got = listing.utc_time(value)
        assert got == utc and got is not None and got.utcoffset() == timedelta(0), value
    assert listing.utc_time("2026-12-07 12:44:25") == utc.replace(microsecond=0)
    assert listing.utc_time(None) is None
    with pytest.raises(ValueError):
        listing.utc_time("07/12/2026")
