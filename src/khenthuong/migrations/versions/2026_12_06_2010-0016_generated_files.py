"""generated files: SHA-256 of every generated document, bytes of signed decision PDFs

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 20:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "generated_file",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("stream", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("doc_key", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("format", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("filename", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("signed", sa.Boolean(), nullable=False),
        sa.Column("signer", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=True),
        sa.Column("created_by", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_generated_file")),
    )
    with op.batch_alter_table("generated_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_generated_file_stream"), ["stream"], unique=False)
        batch_op.create_index(batch_op.f("ix_generated_file_sha256"), ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("generated_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_generated_file_sha256"))
        batch_op.drop_index(batch_op.f("ix_generated_file_stream"))
    op.drop_table("generated_file")
