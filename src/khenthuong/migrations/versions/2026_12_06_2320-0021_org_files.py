"""organisation from files: unit kind, staff number and leaving date of a person, the history
of which unit each person belonged to, and one-time set-password links

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", _TEXT(length=60), nullable=True))
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("staff_code", _TEXT(length=40), nullable=True))
        batch_op.add_column(sa.Column("left_on", sa.Date(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_person_staff_code"), ["staff_code"])
    op.create_table(
        "person_membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=True),
        sa.Column("to_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_person_membership_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_person_membership_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_membership")),
    )
    with op.batch_alter_table("person_membership", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_person_membership_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_person_membership_unit_id"), ["unit_id"], unique=False)
    op.create_table(
        "password_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_sha256", _TEXT(length=64), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_password_link_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_link")),
        sa.UniqueConstraint("token_sha256", name=op.f("uq_password_link_token_sha256")),
    )
    with op.batch_alter_table("password_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_password_link_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("password_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_link_user_id"))
    op.drop_table("password_link")
    with op.batch_alter_table("person_membership", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_person_membership_unit_id"))
        batch_op.drop_index(batch_op.f("ix_person_membership_person_id"))
    op.drop_table("person_membership")
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_person_staff_code"), type_="unique")
        batch_op.drop_column("left_on")
        batch_op.drop_column("staff_code")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_column("kind")
