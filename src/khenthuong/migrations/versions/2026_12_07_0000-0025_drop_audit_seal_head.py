"""drop audit_seal_head: the sealer reads a stream's previous sealed head from audit_leaf

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 23:00:00

The incremental checkpoint took each touched stream's old head from this table and upserted
the new one (10,000 upserts for 10,000 new events); it now reads the sealed leaf of each new
event's predecessor with the candidate rows, and after a lost state rebuilds from the
newest leaf of every stream. The downgrade refills the table from audit_leaf.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("audit_seal_head")


def downgrade() -> None:
    op.create_table(
        "audit_seal_head",
        sa.Column("stream", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("stream", name=op.f("pk_audit_seal_head")),
    )
    op.execute(
        "INSERT INTO audit_seal_head (stream, seq, hash) "
        "SELECT l.stream, l.seq, l.event_hash FROM audit_leaf l JOIN "
        "(SELECT stream, max(seq) AS seq FROM audit_leaf GROUP BY stream) m "
        "ON l.stream = m.stream AND l.seq = m.seq"
    )
