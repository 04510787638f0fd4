"""Wire settings, database engine, roles and workflow registry for one process."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, inspect

from khenthuong.errors import KhenthuongError
from khenthuong.roles import RoleDef, roles_in
from khenthuong.services.definitions import sync_definitions
from khenthuong.settings import Settings, get_settings
from khenthuong.storage.db import get_engine, make_engine, write_tx
from khenthuong.workflow.loader import WorkflowRegistry, load_registry


@dataclass
class Runtime:
    """What a command, request or task needs: settings, engine, roles and workflows."""

    settings: Settings
    engine: Engine
    roles: dict[str, RoleDef]
    registry: WorkflowRegistry


def open_runtime(
    settings: Settings | None = None, *, engine: Engine | None = None, sync: bool = True
) -> Runtime:
    """Load definitions and check them against the database's recorded versions."""
    settings = settings or get_settings()
    if engine is None:
        engine = (
            get_engine()
            if settings is get_settings()
            else make_engine(
                settings.database_url,
                sqlite_synchronous=settings.sqlite_synchronous,
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_max_overflow,
            )
        )
    roles = roles_in(settings.config_dir)
    registry = load_registry([settings.workflows_dir], known_roles=roles)
    if sync:
        if not inspect(engine).has_table("workflow_version"):
            where = engine.url.render_as_string()
            raise KhenthuongError(
                f"Cơ sở dữ liệu {where} chưa được khởi tạo: chạy `khenthuong init` trước",
                en=f"The database {where} has no schema: run `khenthuong init` first",
            )
        with write_tx(engine) as conn:
            sync_definitions(conn, registry)
    return Runtime(settings, engine, roles, registry)
