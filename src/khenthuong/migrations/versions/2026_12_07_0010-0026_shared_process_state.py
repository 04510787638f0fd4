"""state shared by several processes: sign-in failures (rate_limit_hit), scheduler lease

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "rate_limit_hit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", _TEXT(length=300), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rate_limit_hit")),
    )
    with op.batch_alter_table("rate_limit_hit", schema=None) as batch_op:
        batch_op.create_index("ix_rate_limit_hit_key_at", ["key", "at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_rate_limit_hit_expires_at"), ["expires_at"], unique=False
        )
    op.create_table(
        "scheduler_lease",
        sa.Column("name", _TEXT(length=40), nullable=False),
        sa.Column("holder", _TEXT(length=200), nullable=False),
        sa.Column("acquired_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_scheduler_lease")),
    )


def downgrade() -> None:
    op.drop_table("scheduler_lease")
    with op.batch_alter_table("rate_limit_hit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rate_limit_hit_expires_at"))
        batch_op.drop_index("ix_rate_limit_hit_key_at")
    op.drop_table("rate_limit_hit")
