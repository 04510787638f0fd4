"""campaigns (phong trào thi đua), their documents and linked nominations; where each award
record counts in statistics (award_record.unit_path, female), filled for the existing rows

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 22:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = sqlmodel.sql.sqltypes.AutoString
_UTC = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    with op.batch_alter_table("award_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_path", _TEXT(length=1000), nullable=True))
        batch_op.add_column(
            sa.Column("female", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    # The place of every existing record, as storage.history.placement computes it for new
    # ones: an individual's unit in the register, a collective's own unit.
    op.execute(
        "UPDATE award_record SET "
        "unit_path = (SELECT unit.path FROM unit WHERE unit.id = COALESCE("
        "(SELECT person.unit_id FROM person WHERE person.id = award_record.person_id), "
        "award_record.unit_id)), "
        "female = COALESCE((SELECT person.gender IN ('nữ', 'nu', 'Nữ', 'Nu', 'NỮ', 'NU') "
        "FROM person WHERE person.id = award_record.person_id), false)"
    )
    with op.batch_alter_table("award_record", schema=None) as batch_op:
        batch_op.alter_column("female", server_default=None)
    op.create_index(
        "ix_award_record_statistics",
        "award_record",
        ["year", "award_code", "commendation_type", "female", "unit_path"],
        unique=False,
        postgresql_include=["person_id"],
        postgresql_where=sa.text("NOT revoked"),
        sqlite_where=sa.text("NOT revoked"),
    )
    op.create_index(
        "ix_award_record_unplaced",
        "award_record",
        ["id"],
        unique=False,
        postgresql_where=sa.text("unit_path IS NULL"),
        sqlite_where=sa.text("unit_path IS NULL"),
    )
    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("launching_unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_path", _TEXT(length=1000), nullable=False),
        sa.Column("title", _TEXT(length=500), nullable=False),
        sa.Column("kind", _TEXT(length=20), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("targets", sa.Text(), nullable=False),
        sa.Column("plan_number", _TEXT(length=80), nullable=True),
        sa.Column("created_by", _TEXT(length=80), nullable=False),
        sa.Column("created_at", _UTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["launching_unit_id"], ["unit.id"], name=op.f("fk_campaign_launching_unit_id_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
    )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_campaign_launching_unit_id"), ["launching_unit_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_campaign_unit_path"), ["unit_path"], unique=False)
    op.create_table(
        "campaign_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("doc_type", _TEXT(length=40), nullable=False),
        sa.Column("filename", _TEXT(length=300), nullable=False),
        sa.Column("content_type", _TEXT(length=120), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", _TEXT(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by", _TEXT(length=80), nullable=False),
        sa.Column("uploaded_at", _UTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_attachment_campaign_id_campaign"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_attachment")),
    )
    with op.batch_alter_table("campaign_attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_campaign_attachment_campaign_id"), ["campaign_id"], unique=False
        )
    op.create_table(
        "campaign_nomination",
        sa.Column("nomination_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("linked_by", _TEXT(length=80), nullable=False),
        sa.Column("linked_at", _UTC(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_nomination_campaign_id_campaign"),
        ),
        sa.ForeignKeyConstraint(
            ["nomination_id"],
            ["nomination.id"],
            name=op.f("fk_campaign_nomination_nomination_id_nomination"),
        ),
        sa.PrimaryKeyConstraint("nomination_id", name=op.f("pk_campaign_nomination")),
    )
    with op.batch_alter_table("campaign_nomination", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_campaign_nomination_campaign_id"), ["campaign_id"], unique=False
        )


def downgrade() -> None:
    op.drop_index("ix_award_record_unplaced", table_name="award_record")
    op.drop_index("ix_award_record_statistics", table_name="award_record")
    with op.batch_alter_table("award_record", schema=None) as batch_op:
        batch_op.drop_column("female")
        batch_op.drop_column("unit_path")
    with op.batch_alter_table("campaign_nomination", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_nomination_campaign_id"))
    op.drop_table("campaign_nomination")
    with op.batch_alter_table("campaign_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_attachment_campaign_id"))
    op.drop_table("campaign_attachment")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_unit_path"))
        batch_op.drop_index(batch_op.f("ix_campaign_launching_unit_id"))
    op.drop_table("campaign")
