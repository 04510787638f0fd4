"""decision numbers: unique per year and case-insensitively (number_key, number_year)

Serial numbers restart every 1 January (Nghị định 30/2020/NĐ-CP) and ký hiệu keep their
official case (1234/QĐ-TTg): the number stays as typed; `number_key` (NFC, case-folded) and
`number_year` (year of the decision date) replace the exact-text unique constraint.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 20:00:00
"""

import unicodedata
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DECISION = sa.table(
    "decision",
    sa.column("id", sa.Integer),
    sa.column("number", sa.String),
    sa.column("decided_on", sa.Date),
    sa.column("number_key", sa.String),
    sa.column("number_year", sa.Integer),
)


def upgrade() -> None:
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("number_key", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True)
        )
        batch_op.add_column(sa.Column("number_year", sa.Integer(), nullable=True))
    conn = op.get_bind()
    seen: dict[tuple[str, int], str] = {}
    for row in conn.execute(sa.select(DECISION.c.id, DECISION.c.number, DECISION.c.decided_on)):
        key = unicodedata.normalize("NFC", row.number).strip().casefold()
        year = row.decided_on.year
        if (key, year) in seen:
            raise RuntimeError(
                f"decisions {seen[(key, year)]!r} and {row.number!r} of {year} differ only in "
                "case: renumber one before upgrading"
            )
        seen[(key, year)] = row.number
        conn.execute(
            sa.update(DECISION)
            .where(DECISION.c.id == row.id)
            .values(number_key=key, number_year=year)
        )
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.alter_column(
            "number_key", existing_type=sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False
        )
        batch_op.alter_column("number_year", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_constraint(batch_op.f("uq_decision_number"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_decision_number_key"), ["number_key", "number_year"]
        )


def downgrade() -> None:
    # Fails, as it should, when one number was used in two years.
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_decision_number_key"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_decision_number"), ["number"])
        batch_op.drop_column("number_year")
        batch_op.drop_column("number_key")
