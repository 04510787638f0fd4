"""bloc inspection period: the yearly cross-inspection period of each bloc (DD/MM)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 04:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = (("inspection_start", "01/10"), ("inspection_end", "30/11"))
"""Existing blocs get the period every plan used so far: 1 Oct - 30 Nov."""


def upgrade() -> None:
    with op.batch_alter_table("bloc", schema=None) as batch_op:
        for name, default in COLUMNS:
            batch_op.add_column(
                sa.Column(
                    name,
                    sqlmodel.sql.sqltypes.AutoString(length=5),
                    nullable=False,
                    server_default=default,
                )
            )
    with op.batch_alter_table("bloc", schema=None) as batch_op:
        for name, _default in COLUMNS:
            batch_op.alter_column(name, server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("bloc", schema=None) as batch_op:
        for name, _default in COLUMNS:
            batch_op.drop_column(name)
