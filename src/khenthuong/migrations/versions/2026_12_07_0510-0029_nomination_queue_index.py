"""ix_nomination_queue: the work queue reads its page from one index, without table rows

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 05:10:00

`services.listing.my_queue` walked ix_nomination_open_due (closed, due_at) in due order and
looked up every open nomination it passed to test its workflow, state and scope (9–13 ms at
100,000 nominations on SQLite, 20 ms on PostgreSQL). It now reads, per (workflow, version,
state) key of the officer's queue, this index in due order with the scope tested on the
index entry, then fetches the rows of the page by id (BENCHMARKS.md, issue 19 item 1).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_nomination_queue",
        "nomination",
        ["workflow", "workflow_version", "state", "closed", "due_at", "id", "unit_path"],
    )


def downgrade() -> None:
    op.drop_index("ix_nomination_queue", table_name="nomination")
