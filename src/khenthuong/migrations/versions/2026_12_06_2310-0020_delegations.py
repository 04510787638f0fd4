"""delegations (ủy quyền, ký thay) and the signer block of decisions signed under one

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 23:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "delegation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("delegator_id", sa.Integer(), nullable=False),
        sa.Column("delegate_id", sa.Integer(), nullable=False),
        sa.Column("scope_unit_id", sa.Integer(), nullable=False),
        sa.Column("roles", _TEXT(length=400), nullable=False),
        sa.Column("mode", _TEXT(length=3), nullable=False),
        sa.Column("delegate_title", _TEXT(length=200), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", _TEXT(length=80), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("revoked_by", _TEXT(length=80), nullable=True),
        sa.ForeignKeyConstraint(["delegator_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["delegate_id"], ["user_account.id"]),
        sa.ForeignKeyConstraint(["scope_unit_id"], ["unit.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_delegation_delegator_id", "delegation", ["delegator_id"])
    op.create_index("ix_delegation_delegate_id", "delegation", ["delegate_id"])
    with op.batch_alter_table("decision") as batch:
        batch.add_column(sa.Column("signer_mode", _TEXT(length=3), nullable=True))
        batch.add_column(sa.Column("signer_title", _TEXT(length=200), nullable=True))
        batch.add_column(sa.Column("on_behalf_of", _TEXT(length=80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("decision") as batch:
        batch.drop_column("on_behalf_of")
        batch.drop_column("signer_title")
        batch.drop_column("signer_mode")
    op.drop_index("ix_delegation_delegate_id", table_name="delegation")
    op.drop_index("ix_delegation_delegator_id", table_name="delegation")
    op.drop_table("delegation")
