"""inspection documents: documents of inspection reports (SHA-256, size, type, content)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-25 04:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inspection_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("uploaded_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["inspection_visit.id"],
            name=op.f("fk_inspection_document_visit_id_inspection_visit"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inspection_document")),
    )
    with op.batch_alter_table("inspection_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_inspection_document_visit_id"), ["visit_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("inspection_document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_inspection_document_visit_id"))
    op.drop_table("inspection_document")
