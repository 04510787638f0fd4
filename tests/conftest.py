"""Shared fixtures: a migrated, seeded database on SQLite always and PostgreSQL when reachable."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Connection, Engine, text

from khenthuong import passwords
from khenthuong.notify.mail_settings import get_mail_settings
from khenthuong.roles import roles_in
from khenthuong.runtime import Runtime, open_runtime
from khenthuong.services.org import apply_seed, load_seed
from khenthuong.settings import PROJECT_ROOT, Settings, get_settings
from khenthuong.storage.db import make_engine
from khenthuong.storage.migrate import upgrade
from tests.service_guard import absent

# Every seeded test database hashes the demo password: in the test processes argon2id runs at
# its lowest cost (same algorithm and format; a stored hash carries its own parameters, so
# verification follows). Servers and CLIs the tests start as subprocesses keep the defaults.
passwords._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

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
    """Empty every table and restart every sequence. DELETE with triggers and foreign keys
    off (session_replication_role) is far cheaper than TRUNCATE on a few dozen small tables:
    TRUNCATE gives each table and index a new file."""
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "SET LOCAL session_replication_role = replica;"
            + "".join(f'DELETE FROM "{t}";' for t in _user_tables(conn))
            + "SELECT setval(c.oid, 1, false) FROM pg_class c "
            "WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace"
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


_SEEDS: dict[str, Path | None] = {}
"""Per test process, where the demo seed was saved: by URL on PostgreSQL (schema `seed_copy`,
value None), under "sqlite" for every SQLite file (the `VACUUM INTO` copy)."""
_TABLES: dict[str, list[str]] = {}
_PG_COLUMNS: dict[str, str] = {}


def _seed_key(engine: Engine) -> str:
    return "sqlite" if engine.dialect.name == "sqlite" else str(engine.url)


def _user_tables(conn: Connection) -> list[str]:
    """The application's tables (read once per kind of database)."""
    key = conn.dialect.name
    if key not in _TABLES:
        if key == "postgresql":
            query = (
                "select tablename from pg_tables where schemaname='public' "
                "and tablename <> 'alembic_version' order by tablename"
            )
        else:
            query = (
                "select name from sqlite_master where type='table' and name not like 'sqlite_%' "
                "and name <> 'alembic_version' order by name"
            )
        _TABLES[key] = list(conn.exec_driver_sql(query).scalars())
    return _TABLES[key]


def _pg_columns(conn: Connection, table: str) -> str:
    """The table's stored (not generated) columns, quoted, read once."""
    if table not in _PG_COLUMNS:
        names = conn.exec_driver_sql(
            "select column_name from information_schema.columns where table_schema='public' "
            f"and table_name='{table}' and is_generated='NEVER' order by ordinal_position"
        ).scalars()
        _PG_COLUMNS[table] = ", ".join(f'"{n}"' for n in names)
    return _PG_COLUMNS[table]


def _is_empty(conn: Connection) -> bool:
    """Nothing written yet: the state `db_url` hands over (the snapshot replaces nothing)."""
    return all(
        conn.exec_driver_sql(f'select count(*) from "{t}"').scalar() == 0
        for t in ("unit", "event", "workflow_version")
    )


def _sqlite_script(engine: Engine, script: str) -> None:
    """Statements that cannot run inside a transaction (VACUUM, ATTACH), on a raw connection."""
    raw = engine.raw_connection()
    try:
        raw.driver_connection.executescript(script)  # type: ignore[union-attr]
    finally:
        raw.close()


def _save_seed(engine: Engine) -> None:
    """Keep the demo seed just written, to be copied back for the next test of this process."""
    if engine.dialect.name == "sqlite":
        copy = Path(str(engine.url.database) + ".seeded")
        copy.unlink(missing_ok=True)
        _sqlite_script(engine, f"VACUUM INTO '{copy}'")
        _SEEDS[_seed_key(engine)] = copy
        return
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS seed_copy CASCADE; CREATE SCHEMA seed_copy")
        for t in _user_tables(conn):
            conn.exec_driver_sql(
                f'CREATE TABLE seed_copy."{t}" AS SELECT {_pg_columns(conn, t)} FROM "{t}"'
            )
        conn.exec_driver_sql(
            "CREATE TABLE seed_copy.sequences AS SELECT schemaname, sequencename, "
            "last_value FROM pg_sequences WHERE schemaname = 'public'"
        )
    _SEEDS[_seed_key(engine)] = None


def _restore_seed(engine: Engine) -> bool:
    """Copy the saved demo seed into this empty database; False when there is none to copy."""
    key = _seed_key(engine)
    if key not in _SEEDS:
        return False
    with engine.begin() as conn:
        if not _is_empty(conn):
            return False
        tables = _user_tables(conn)
        if conn.dialect.name == "postgresql":
            script = ["SET LOCAL session_replication_role = replica"]
            for t in tables:
                cols = _pg_columns(conn, t)
                script.append(
                    f'INSERT INTO "{t}" ({cols}) OVERRIDING SYSTEM VALUE '
                    f'SELECT {cols} FROM seed_copy."{t}"'
                )
            script.append(
                "SELECT setval(quote_ident(schemaname) || '.' || quote_ident(sequencename), "
                "last_value, true) FROM seed_copy.sequences WHERE last_value IS NOT NULL"
            )
            conn.exec_driver_sql(";".join(script))
    if engine.dialect.name == "sqlite":
        _sqlite_script(
            engine,
            f"PRAGMA foreign_keys = OFF; ATTACH DATABASE '{_SEEDS[key]}' AS seed_copy; BEGIN; "
            + "".join(f'INSERT INTO main."{t}" SELECT * FROM seed_copy."{t}"; ' for t in tables)
            + "COMMIT; DETACH DATABASE seed_copy; PRAGMA foreign_keys = ON;",
        )
    return True


@pytest.fixture
def rt(settings: Settings) -> Iterator[Runtime]:
    """A runtime on the test database with the shipped workflows and the demo organisations.

    The first test of a process seeds as `khenthuong seed` would and keeps a copy; later tests
    with the shipped workflows and config get that copy (the same rows, ids and audit chain)
    instead of hashing passwords and writing a few hundred rows again."""
    engine = make_engine(settings.database_url)
    shipped = settings.workflows_dir == WORKFLOWS and settings.config_dir == CONFIG
    if shipped and _restore_seed(engine):
        runtime = open_runtime(settings, engine=engine)
    else:
        with engine.connect() as conn:
            fresh = _is_empty(conn)
        runtime = open_runtime(settings, engine=engine)
        roles = roles_in(CONFIG)
        with engine.begin() as conn:
            apply_seed(conn, load_seed(CONFIG / "demo.yaml", roles), roles)
        if shipped and fresh and _seed_key(engine) not in _SEEDS:
            _save_seed(engine)
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
