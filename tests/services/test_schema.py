"""The Alembic-migrated schema matches the SQLModel tables."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import khenthuong.storage.tables  # noqa: F401
from khenthuong.storage.db import make_engine


def test_migrated_schema_matches_models(db_url: str) -> None:
    """Autogenerate finds no difference between the migrated database and the models."""
    engine = make_engine(db_url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, SQLModel.metadata)
    engine.dispose()
    assert diff == []
