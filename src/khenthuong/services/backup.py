"""Backup and restore of the record: the whole database (documents are stored in it) and the
audit checkpoint files of the state folder, in one archive with a manifest.

SQLite is copied with its online backup API (a consistent copy while the server runs);
PostgreSQL with pg_dump's custom format and pg_restore. The manifest holds the schema revision
and the row count of every table; a restore refuses a non-empty target and checks the counts
after loading. Secrets (the session key, the audit signing key) are never put in the archive:
keep them in the office's secret store.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, func, inspect, make_url, select, text

from khenthuong import __version__
from khenthuong.errors import KhenthuongError

FORMAT = 1
STATE_FILES = ("audit-checkpoints.jsonl",)
"""State-folder files that belong to the record (secrets are deliberately absent)."""
SECRET_FILES = ("secret-key", "audit-key.pem")


@dataclass(frozen=True)
class BackupReport:
    """What an archive holds."""

    path: Path
    dialect: str
    revision: str | None
    tables: dict[str, int]
    state_files: tuple[str, ...]


def _libpq_url(engine: Engine) -> str:
    """The engine's URL as libpq (pg_dump, pg_restore) reads it."""
    url = engine.url.set(drivername="postgresql")
    return url.render_as_string(hide_password=False)


def table_counts(engine: Engine) -> dict[str, int]:
    """Rows of every table of the schema, by name."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        return {
            name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for name, table in sorted(meta.tables.items())
        }


def _revision(engine: Engine) -> str | None:
    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as conn:
        value = conn.execute(text("select version_num from alembic_version")).scalar()
    return None if value is None else str(value)


def _run(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise KhenthuongError(
            f"Không tìm thấy lệnh {command[0]} để {what}; cài gói postgresql-client"
        ) from None
    if done.returncode != 0:
        raise KhenthuongError(f"{command[0]} không {what} được: {done.stderr.strip()[:500]}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def backup(engine: Engine, state_dir: Path, out: Path) -> BackupReport:
    """Write the archive `out` (.tar.gz): manifest.json, the database, the state files."""
    dialect = engine.dialect.name
    with tempfile.TemporaryDirectory(prefix="khenthuong-backup-") as tmp:
        work = Path(tmp)
        if dialect == "sqlite":
            db_file = work / "database.sqlite"
            source = engine.raw_connection()
            try:
                target = sqlite3.connect(db_file)
                source.driver_connection.backup(target)  # type: ignore[union-attr]
                target.close()
            finally:
                source.close()
        elif dialect == "postgresql":
            db_file = work / "database.pgdump"
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges",
                  f"--file={db_file}", _libpq_url(engine)], "sao lưu")  # fmt: skip
        else:
            raise KhenthuongError(f"Chưa hỗ trợ sao lưu cơ sở dữ liệu {dialect}")
        kept = tuple(name for name in STATE_FILES if (state_dir / name).is_file())
        tables = table_counts(engine)
        manifest: dict[str, Any] = {
            "format": FORMAT,
            "khenthuong": __version__,
            "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "dialect": dialect,
            "revision": _revision(engine),
            "tables": tables,
            "database": {"name": db_file.name, "sha256": _sha256(db_file)},
            "state": {name: _sha256(state_dir / name) for name in kept},
        }
        (work / "manifest.json").write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8"
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        partial = out.with_name(out.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(work / "manifest.json", "manifest.json")
            archive.add(db_file, db_file.name)
            for name in kept:
                archive.add(state_dir / name, f"state/{name}")
        partial.replace(out)  # never a half-written archive under the final name
    return BackupReport(out, dialect, manifest["revision"], tables, kept)


def _read_archive(path: Path, into: Path) -> dict[str, Any]:
    try:
        with tarfile.open(path, "r:gz") as archive:
            archive.extractall(into, filter="data")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise KhenthuongError(
            f"{path}: không đọc được tệp sao lưu ({exc or type(exc).__name__})"
        ) from None
    try:
        manifest: dict[str, Any] = json.loads((into / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise KhenthuongError(f"{path}: thiếu hoặc hỏng manifest.json ({exc})") from None
    if manifest.get("format") != FORMAT:
        raise KhenthuongError(f"{path}: định dạng sao lưu {manifest.get('format')!r} không hỗ trợ")
    database = into / manifest["database"]["name"]
    if not database.is_file() or _sha256(database) != manifest["database"]["sha256"]:
        raise KhenthuongError(f"{path}: dữ liệu trong tệp sao lưu không khớp mã băm đã ghi")
    for name, digest in manifest.get("state", {}).items():
        if _sha256(into / "state" / name) != digest:
            raise KhenthuongError(f"{path}: tệp state/{name} không khớp mã băm đã ghi")
    return manifest


def restore(archive: Path, engine: Engine, state_dir: Path) -> BackupReport:
    """Load `archive` into the EMPTY database of `engine` and its state files into
    `state_dir`; the row count of every table must then match the manifest."""
    dialect = engine.dialect.name
    with tempfile.TemporaryDirectory(prefix="khenthuong-restore-") as tmp:
        work = Path(tmp)
        manifest = _read_archive(archive, work)
        if any(count for count in table_counts(engine).values()):
            raise KhenthuongError(
                "Cơ sở dữ liệu đích đã có dữ liệu; khôi phục vào một cơ sở dữ liệu mới, trống"
            )
        if manifest["dialect"] != dialect:
            raise KhenthuongError(
                f"Tệp sao lưu của {manifest['dialect']} không khôi phục vào {dialect} được"
            )
        database = work / manifest["database"]["name"]
        if dialect == "sqlite":
            engine.dispose()
            path = make_url(str(engine.url)).database
            if not path:
                raise KhenthuongError("Cần một tệp SQLite đích (sqlite:///đường/dẫn.db)")
            source = sqlite3.connect(database)
            target = sqlite3.connect(path)
            try:
                source.backup(target)
            finally:
                source.close()
                target.close()
        else:
            _run(["pg_restore", "--no-owner", "--no-privileges", "--clean", "--if-exists",
                  "--single-transaction", f"--dbname={_libpq_url(engine)}", str(database)],
                 "khôi phục")  # fmt: skip
            engine.dispose()
        restored = table_counts(engine)
        if restored != manifest["tables"]:
            wrong = sorted(
                name
                for name in set(restored) | set(manifest["tables"])
                if restored.get(name) != manifest["tables"].get(name)
            )
            raise KhenthuongError(
                f"Số dòng sau khi khôi phục không khớp ở bảng: {', '.join(wrong)}"
            )
        state_dir.mkdir(parents=True, exist_ok=True)
        kept = []
        for name in manifest.get("state", {}):
            shutil.copyfile(work / "state" / name, state_dir / name)
            kept.append(name)
    return BackupReport(archive, dialect, manifest.get("revision"), restored, tuple(kept))
