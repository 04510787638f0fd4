"""blocker level: the measure of a discipline (khiển trách, cảnh cáo …), nullable

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing records keep no level: the collective standards count them as heavy enough.
    with op.batch_alter_table("blocker", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("level", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("blocker", schema=None) as batch_op:
        batch_op.drop_column("level")
