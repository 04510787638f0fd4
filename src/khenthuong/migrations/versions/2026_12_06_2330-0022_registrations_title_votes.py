"""emulation registration (đăng ký thi đua), its entries, and per-title council votes

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString


def upgrade() -> None:
    op.create_table(
        "emulation_registration",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_path", _TEXT(length=400), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("targets", sa.Text(), server_default="", nullable=False),
        sa.Column("created_by", _TEXT(length=80), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_emulation_registration_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_emulation_registration")),
        sa.UniqueConstraint("unit_id", "year", name=op.f("uq_emulation_registration_unit_id")),
    )
    with op.batch_alter_table("emulation_registration", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_emulation_registration_unit_id"), ["unit_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_emulation_registration_unit_path"), ["unit_path"], unique=False
        )
    op.create_table(
        "registration_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("registration_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("nominee_key", _TEXT(length=20), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("award_code", _TEXT(length=40), nullable=False),
        sa.Column("note", _TEXT(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["registration_id"],
            ["emulation_registration.id"],
            name=op.f("fk_registration_entry_registration_id_emulation_registration"),
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_registration_entry_person_id_person")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_registration_entry_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registration_entry")),
        sa.UniqueConstraint(
            "year", "nominee_key", "award_code", name=op.f("uq_registration_entry_year")
        ),
    )
    with op.batch_alter_table("registration_entry", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_registration_entry_registration_id"), ["registration_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_registration_entry_person_id"), ["person_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_registration_entry_unit_id"), ["unit_id"], unique=False
        )
    op.create_table(
        "council_title_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("award_code", _TEXT(length=40), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("agree", sa.Integer(), nullable=False),
        sa.Column("disagree", sa.Integer(), nullable=False),
        sa.Column("abstain", sa.Integer(), nullable=False),
        sa.Column("written_agree", sa.Integer(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["council_session.id"],
            name=op.f("fk_council_title_vote_session_id_council_session"),
        ),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["proposal_batch.id"],
            name=op.f("fk_council_title_vote_batch_id_proposal_batch"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_council_title_vote")),
        sa.UniqueConstraint(
            "session_id", "award_code", name=op.f("uq_council_title_vote_session_id")
        ),
    )
    with op.batch_alter_table("council_title_vote", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_council_title_vote_session_id"), ["session_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("council_title_vote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_council_title_vote_session_id"))
    op.drop_table("council_title_vote")
    with op.batch_alter_table("registration_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_registration_entry_unit_id"))
        batch_op.drop_index(batch_op.f("ix_registration_entry_person_id"))
        batch_op.drop_index(batch_op.f("ix_registration_entry_registration_id"))
    op.drop_table("registration_entry")
    with op.batch_alter_table("emulation_registration", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_emulation_registration_unit_path"))
        batch_op.drop_index(batch_op.f("ix_emulation_registration_unit_id"))
    op.drop_table("emulation_registration")
