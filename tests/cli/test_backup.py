"""`khenthuong backup` and `restore`: the record restored into a fresh database is the same,
table by table, and its audit trail verifies."""

from __future__ import annotations

import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, MetaData, select, text
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.settings import Settings, get_settings
from khenthuong.storage.db import make_engine
from tests.conftest import PG_ADMIN_URL

runner = CliRunner()


def everything(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in primary-key order."""
    meta = MetaData()
    meta.reflect(engine)
    found = {}
    with engine.connect() as conn:
        for name, table in sorted(meta.tables.items()):
            order = list(table.primary_key.columns) or list(table.columns)
            found[name] = [tuple(r) for r in conn.execute(select(table).order_by(*order))]
    return found


@pytest.fixture
def fresh_target(settings: Settings, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database of the same kind as the test database."""
    if settings.database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    name = f"khenthuong_restore_{uuid.uuid4().hex[:8]}"
    admin = make_engine(PG_ADMIN_URL).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_backup_and_restore_give_the_same_record(
    settings: Settings, fresh_target: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "audit-checkpoints.jsonl").write_text('{"tree_size": 1}\n')
    (state / "secret-key").write_text("bí mật")
    monkeypatch.setenv("KHENTHUONG_STATE_DIR", str(state))
    get_settings.cache_clear()
    assert runner.invoke(app, ["init", "--demo"]).exit_code == 0
    walked = runner.invoke(app, ["demo"])  # decisions, money, covenants, the audit trail
    assert walked.exit_code == 0, walked.output
    archive = tmp_path / "sao-luu.tar.gz"
    result = runner.invoke(app, ["backup", str(archive)])
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "Đã sao lưu" in flat and " bảng, " in flat and "1 tệp trạng thái" in flat
    with tarfile.open(archive) as tar:
        names = set(tar.getnames())
    assert "manifest.json" in names and "state/audit-checkpoints.jsonl" in names
    assert "state/secret-key" not in names  # secrets stay out of the archive
    source = make_engine(settings.database_url)
    before = everything(source)
    source.dispose()
    assert sum(len(rows) for rows in before.values()) > 100
    # Restore into a fresh database and a fresh state folder.
    restored_state = tmp_path / "restored-state"
    monkeypatch.setenv("KHENTHUONG_DATABASE_URL", fresh_target)
    monkeypatch.setenv("KHENTHUONG_STATE_DIR", str(restored_state))
    get_settings.cache_clear()
    result = runner.invoke(app, ["restore", str(archive)])
    assert result.exit_code == 0, result.output
    target = make_engine(fresh_target)
    assert everything(target) == before
    target.dispose()
    assert (restored_state / "audit-checkpoints.jsonl").read_text() == '{"tree_size": 1}\n'
    verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    # A second restore into the now filled database is refused; nothing changes.
    again = runner.invoke(app, ["restore", str(archive)])
    assert again.exit_code == 1 and "đã có dữ liệu" in again.output


def test_a_damaged_archive_is_refused(settings: Settings, tmp_path: Path) -> None:
    assert runner.invoke(app, ["init", "--demo"]).exit_code == 0
    archive = tmp_path / "a.tar.gz"
    assert runner.invoke(app, ["backup", str(archive)]).exit_code == 0
    broken = tmp_path / "b.tar.gz"
    broken.write_bytes(archive.read_bytes()[:200])
    result = runner.invoke(app, ["restore", str(broken)])
    assert result.exit_code == 1 and "không đọc được tệp sao lưu" in result.output
