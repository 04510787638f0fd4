"""audit_checkpoint.heads_digest nullable: version 2 checkpoints sign no stream-head digest

Revision ID: 0028
Revises: 0026
Create Date: 2026-12-07 05:00:00

Checkpoints of format version 2 sign the count of seq-1 leaves instead of a set hash of
every stream's head (the root already binds each head); their row has no heads digest.
Version 1 rows keep theirs and still verify. The downgrade writes an empty digest into
version 2 rows (code before version 2 cannot read those checkpoints anyway).
"""

from collections.abc import Sequence

import sqlmodel
from alembic import op

revision: str = "0028"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DIGEST = sqlmodel.sql.sqltypes.AutoString(length=64)


def upgrade() -> None:
    with op.batch_alter_table("audit_checkpoint") as batch:
        batch.alter_column("heads_digest", existing_type=_DIGEST, nullable=True)


def downgrade() -> None:
    op.execute("UPDATE audit_checkpoint SET heads_digest = '' WHERE heads_digest IS NULL")
    with op.batch_alter_table("audit_checkpoint") as batch:
        batch.alter_column("heads_digest", existing_type=_DIGEST, nullable=False)
