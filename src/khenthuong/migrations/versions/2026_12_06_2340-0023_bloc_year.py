"""bloc year: target kinds and weights, met flags, deductions, scoring rule, leader rule,
membership dates, who set a year's leader

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("bloc", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("leader_rule", _TEXT(length=20), nullable=False, server_default="recorded")
        )
        batch_op.add_column(sa.Column("scoring", sa.Text(), nullable=True))
    with op.batch_alter_table("bloc", schema=None) as batch_op:
        batch_op.alter_column("leader_rule", server_default=None)
    with op.batch_alter_table("bloc_member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("from_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("to_date", sa.Date(), nullable=True))
    with op.batch_alter_table("bloc_leader", schema=None) as batch_op:
        batch_op.add_column(sa.Column("set_by", _TEXT(length=80), nullable=True))
    with op.batch_alter_table("covenant_target", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", _TEXT(length=20), nullable=False, server_default="at_least")
        )
        batch_op.add_column(
            sa.Column("unit", _TEXT(length=10), nullable=False, server_default="percent")
        )
        batch_op.add_column(sa.Column("weight", sa.Float(), nullable=False, server_default="1"))
    with op.batch_alter_table("covenant_target", schema=None) as batch_op:
        for name in ("kind", "unit", "weight"):
            batch_op.alter_column(name, server_default=None)
    with op.batch_alter_table("review_result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("met", sa.Boolean(), nullable=True))
    op.create_table(
        "bloc_deduction",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("covenant_id", sa.Integer(), nullable=False),
        sa.Column("round", _TEXT(length=10), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("code", _TEXT(length=40), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.Column("recorded_by", _TEXT(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["covenant_id"], ["covenant.id"], name=op.f("fk_bloc_deduction_covenant_id_covenant")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_bloc_deduction_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bloc_deduction")),
        sa.UniqueConstraint(
            "covenant_id", "round", "unit_id", "code", name=op.f("uq_bloc_deduction_covenant_id")
        ),
    )
    with op.batch_alter_table("bloc_deduction", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bloc_deduction_covenant_id"), ["covenant_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("bloc_deduction", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bloc_deduction_covenant_id"))
    op.drop_table("bloc_deduction")
    with op.batch_alter_table("review_result", schema=None) as batch_op:
        batch_op.drop_column("met")
    with op.batch_alter_table("covenant_target", schema=None) as batch_op:
        for name in ("weight", "unit", "kind"):
            batch_op.drop_column(name)
    with op.batch_alter_table("bloc_leader", schema=None) as batch_op:
        batch_op.drop_column("set_by")
    with op.batch_alter_table("bloc_member", schema=None) as batch_op:
        batch_op.drop_column("to_date")
        batch_op.drop_column("from_date")
    with op.batch_alter_table("bloc", schema=None) as batch_op:
        batch_op.drop_column("scoring")
        batch_op.drop_column("leader_rule")
