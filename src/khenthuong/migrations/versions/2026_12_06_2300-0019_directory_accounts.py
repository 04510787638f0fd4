"""directory accounts: where an officer's account comes from (local, LDAP, OpenID Connect)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.add_column(
            sa.Column("auth_source", _TEXT(length=10), nullable=False, server_default="local")
        )
        batch.add_column(sa.Column("directory_subject", _TEXT(length=500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("user_account") as batch:
        batch.drop_column("directory_subject")
        batch.drop_column("auth_source")
