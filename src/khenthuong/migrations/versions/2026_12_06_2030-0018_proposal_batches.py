"""proposal batches: đợt đề nghị, its members and the documents attached once for all

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 20:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "proposal_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposing_unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_path", _TEXT(length=400), nullable=False),
        sa.Column("receiving_unit_id", sa.Integer(), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("commendation_type", _TEXT(length=40), nullable=False),
        sa.Column("title", _TEXT(length=500), nullable=False),
        sa.Column("created_by", _TEXT(length=80), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["proposing_unit_id"],
            ["unit.id"],
            name=op.f("fk_proposal_batch_proposing_unit_id_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["receiving_unit_id"],
            ["unit.id"],
            name=op.f("fk_proposal_batch_receiving_unit_id_unit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposal_batch")),
    )
    with op.batch_alter_table("proposal_batch", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_batch_proposing_unit_id"), ["proposing_unit_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_proposal_batch_unit_path"), ["unit_path"], unique=False
        )
    op.create_table(
        "proposal_batch_member",
        sa.Column("nomination_id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("row_number", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["proposal_batch.id"],
            name=op.f("fk_proposal_batch_member_batch_id_proposal_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["nomination_id"],
            ["nomination.id"],
            name=op.f("fk_proposal_batch_member_nomination_id_nomination"),
        ),
        sa.PrimaryKeyConstraint("nomination_id", name=op.f("pk_proposal_batch_member")),
    )
    with op.batch_alter_table("proposal_batch_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_proposal_batch_member_batch_id"), ["batch_id"], unique=False
        )
    op.create_table(
        "batch_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("doc_type", _TEXT(length=40), nullable=False),
        sa.Column("filename", _TEXT(length=300), nullable=False),
        sa.Column("content_type", _TEXT(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", _TEXT(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", _TEXT(length=80), nullable=False),
        sa.Column("uploaded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["proposal_batch.id"],
            name=op.f("fk_batch_attachment_batch_id_proposal_batch"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_attachment")),
    )
    with op.batch_alter_table("batch_attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_batch_attachment_batch_id"), ["batch_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("batch_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_batch_attachment_batch_id"))
    op.drop_table("batch_attachment")
    with op.batch_alter_table("proposal_batch_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_batch_member_batch_id"))
    op.drop_table("proposal_batch_member")
    with op.batch_alter_table("proposal_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_proposal_batch_unit_path"))
        batch_op.drop_index(batch_op.f("ix_proposal_batch_proposing_unit_id"))
    op.drop_table("proposal_batch")
