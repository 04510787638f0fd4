"""inspection plan early resets: the members whose rotation cycle a plan started over early

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-25 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plans stored before this kept no early resets: the planner reads a repeated inspector
    # in them as one (inspection_plan.used_inspectors).
    with op.batch_alter_table("inspection_plan", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("early_resets", sa.Text(), nullable=False, server_default="[]")
        )
    with op.batch_alter_table("inspection_plan", schema=None) as batch_op:
        batch_op.alter_column("early_resets", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("inspection_plan", schema=None) as batch_op:
        batch_op.drop_column("early_resets")
