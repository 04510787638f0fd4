"""Shared fixtures: a migrated, seeded database on SQLite always and PostgreSQL when reachable."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from khenthuong.notify.mail_settings import get_mail_settings
from khenthuong.roles import roles_in
from khenthuong.runtime import Runtime, open_runtime
from khenthuong.services.org import apply_seed, load_seed
from khenthuong.settings import PROJECT_ROOT, Settings, get_settings
from khenthuong.storage.db import make_engine
from khenthuong.storage.migrate import upgrade
from tests.service_guard import absent

PG_ADMIN_URL = os.environ.get(
    "KHENTHUONG_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CONFIG = PROJECT_ROOT / "config"
WORKFLOWS = PROJECT_ROOT / "workflows"


def _pg_reason() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        engine = make_engine(PG_ADMIN_URL)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:
        return f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc.__class__.__name__}: {exc}"
    return None


PG_UNAVAILABLE = _pg_reason()


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, migrated once."""
    if PG_UNAVAILABLE:
        absent(PG_UNAVAILABLE)
    name = f"khenthuong_test_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file copied for each test (migrating once is faster)."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _truncate_pg(engine: Engine) -> None:
    with engine.begin() as conn:
        tables = (
            conn.execute(
                text(
                    "select tablename from pg_tables "
                    "where schemaname='public' and tablename <> 'alembic_version'"
                )
            )
            .scalars()
            .all()
        )
        conn.execute(
            text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE")
        )


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> Iterator[str]:
    """An empty migrated database: SQLite always, PostgreSQL when reachable."""
    if request.param == "sqlite":
        path = tmp_path / "khenthuong.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("pg_database")
    engine = make_engine(url)
    _truncate_pg(engine)
    engine.dispose()
    yield url


@pytest.fixture
def settings(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Settings]:
    """Settings pointing at the test database (also exported to the environment)."""
    monkeypatch.setenv("KHENTHUONG_DATABASE_URL", db_url)
    # Key files and checkpoint files never land in the checkout.
    monkeypatch.setenv("KHENTHUONG_STATE_DIR", str(tmp_path / "state"))
    # Nor does mail written without an SMTP server (the default maildir is ./var/maildir).
    if "KHENTHUONG_MAILDIR" not in os.environ:
        monkeypatch.setenv("KHENTHUONG_MAILDIR", str(tmp_path / "maildir"))
    get_settings.cache_clear()
    get_mail_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()
    get_mail_settings.cache_clear()


@pytest.fixture
def rt(settings: Settings) -> Iterator[Runtime]:
    """A runtime on the test database with the shipped workflows and the demo organisations."""
    engine = make_engine(settings.database_url)
    runtime = open_runtime(settings, engine=engine)
    roles = roles_in(CONFIG)
    with engine.begin() as conn:
        apply_seed(conn, load_seed(CONFIG / "demo.yaml", roles), roles)
    yield runtime
    engine.dispose()


@pytest.fixture(autouse=True)
def _khenthuong_environment_restored() -> Iterator[None]:
    """Whatever a test does to KHENTHUONG_* variables is undone after it (a leaked broker URL
    once put every later test of the same process in Celery mode)."""
    before = {k: v for k, v in os.environ.items() if k.startswith("KHENTHUONG_")}
    yield
    for key in [k for k in os.environ if k.startswith("KHENTHUONG_") and k not in before]:
        del os.environ[key]
    os.environ.update(before)
    get_settings.cache_clear()
