"""Migration 0014 on a database at 0013: typed individual names are linked to the one person
whose name matches, every row gets its subject, and the rest are reported (issue 11)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from khenthuong.storage.db import make_engine
from khenthuong.storage.migrate import upgrade
from tests.conftest import PG_ADMIN_URL, PG_UNAVAILABLE
from tests.service_guard import absent


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all, so that it can be migrated to 0013 first."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'at_0013.db'}"
        return
    if PG_UNAVAILABLE:
        absent(PG_UNAVAILABLE)
    name = f"khenthuong_mig_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _insert(conn: sa.Connection, table: sa.Table, **values: Any) -> int:
    return int(conn.execute(sa.insert(table).values(**values)).inserted_primary_key[0])


def test_upgrade_links_unique_names_and_reports_the_rest(
    empty_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(empty_url)
    upgrade(engine, "0013")
    meta = sa.MetaData()
    meta.reflect(engine, only=["unit", "person", "nomination", "workflow_version"])
    unit, person, nomination, versions = (
        meta.tables[t] for t in ("unit", "person", "nomination", "workflow_version")
    )
    now = datetime(2026, 11, 20, 3, tzinfo=UTC)
    with engine.begin() as conn:
        root = _insert(conn, unit, code="BCY", name="Ban Cơ yếu", level="ministry", path="/BCY/")
        qd = _insert(
            conn,
            unit,
            code="QD",
            name="Cục Cơ yếu Quân đội",
            level="unit",
            parent_id=root,
            path="/BCY/QD/",
        )
        other = _insert(conn, unit, code="CA", name="Cục Cơ yếu Công an", level="unit", path="/CA/")
        bich = _insert(conn, person, full_name="Trần Thị Bích", unit_id=qd)
        _insert(conn, person, full_name="Nguyễn Văn Hai", unit_id=qd)
        _insert(conn, person, full_name="Nguyễn Văn Hai", unit_id=qd)
        mine = _insert(conn, person, full_name="Vũ Văn Ba", unit_id=qd)
        _insert(conn, person, full_name="Vũ Văn Ba", unit_id=other)
        for name, subject in (("giay_khen", ["individual", "collective"]), ("co", ["collective"])):
            _insert(
                conn,
                versions,
                name=name,
                version=1,
                fingerprint="x" * 64,
                definition_json=json.dumps({"name": name, "subject": subject}),
                source="test",
                registered_at=now,
            )

        def nom(name: str, workflow: str = "giay_khen", **extra: Any) -> int:
            return _insert(
                conn,
                nomination,
                workflow=workflow,
                workflow_version=1,
                state="draft",
                closed=False,
                version=1,
                nominee_name=name,
                search_key="",
                proposing_unit_id=qd,
                unit_path="/BCY/QD/",
                year=2026,
                created_by="cb.qd",
                created_at=now,
                state_entered_at=now,
                head_hash="0" * 64,
                commendation_type="cong_trang",
                quota_taken=False,
                **extra,
            )

        typed = nom("trần  THỊ bích")
        namesakes = nom("Nguyễn Văn Hai")
        unknown = nom("Không Có Ai")
        preferred = nom("vũ văn ba")
        picked = nom("Trần Thị Bích", nominee_person_id=bich)
        unit_row = nom("Cục Cơ yếu Quân đội", nominee_unit_id=qd)
        typed_collective = nom("Phòng Một", workflow="co")
    with caplog.at_level(logging.WARNING, logger="khenthuong.migrations"):
        upgrade(engine, "0014")
    with engine.connect() as conn:
        rows = {
            r.id: (r.nominee_kind, r.nominee_person_id, r.nominee_unit_id)
            for r in conn.execute(
                sa.text(
                    "select id, nominee_kind, nominee_person_id, nominee_unit_id from nomination"
                )
            )
        }
        keys = dict(conn.execute(sa.text("select id, name_key from person")).all())
    engine.dispose()
    assert rows[typed] == ("individual", bich, None)
    assert rows[preferred] == ("individual", mine, None)
    assert rows[picked] == ("individual", bich, None)
    assert rows[unit_row] == ("collective", None, qd)
    assert rows[namesakes] == ("individual", None, None)
    assert rows[unknown] == ("individual", None, None)
    assert rows[typed_collective] == ("collective", None, None)
    assert keys[bich] == "trần thị bích"
    report = caplog.text
    assert f"#{namesakes} 'Nguyễn Văn Hai' not linked: 2 people match" in report
    assert f"#{unknown} 'Không Có Ai' not linked: no person matches" in report
    assert f"#{typed_collective} 'Phòng Một' not linked" in report
    assert "2 nominations linked to the person register, 3 left unlinked" in report
    assert f"#{typed} " not in report and f"#{preferred} " not in report
