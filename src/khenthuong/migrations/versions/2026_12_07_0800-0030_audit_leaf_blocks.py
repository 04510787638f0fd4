"""audit_leaf_block: the sealed leaves stored 256 to a row instead of one row each

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 08:00:00

An incremental checkpoint of 10,000 events wrote 10,000 `audit_leaf` rows (heap, two b-trees,
WAL), most of its time on PostgreSQL; a tree rebuild read a million rows. The leaves now live
in aligned blocks of 256 (block b holds leaf indexes 256b .. 256b+255): each block row packs
its leaves' event ids (8 bytes big-endian each), their Merkle leaf hashes (32 bytes each) and
their leaf texts (canonical JSON of stream, seq and event hash, one a line), with the highest
event id (the sealer's window) and the count of seq-1 leaves (BENCHMARKS.md, issue 17).

The existing leaf rows are converted in index order; what the leaves hash does not change,
so every stored checkpoint (versions 1 and 2) still verifies. A damaged table (a missing
leaf index) is converted as it stands: each block keeps its leaves in order, which verification
then reports as a gap, a missing event or a root that differs.
"""

import hashlib
import json
import struct
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BLOCK = 256


def _text(stream: str, seq: int, event_hash: str) -> str:
    """The leaf text as `audit.leaves.leaf_text` writes it (canonical JSON)."""
    return json.dumps([stream, seq, event_hash], separators=(",", ":"), ensure_ascii=False)


def upgrade() -> None:
    blocks = op.create_table(
        "audit_leaf_block",
        sa.Column("block", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("leaves", sa.Integer(), nullable=False),
        sa.Column("top_event_id", sa.Integer(), nullable=False),
        sa.Column("firsts", sa.Integer(), nullable=False),
        sa.Column("event_ids", sa.LargeBinary(), nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("block", name=op.f("pk_audit_leaf_block")),
    )
    assert blocks is not None
    op.create_index(op.f("ix_audit_leaf_block_top_event_id"), "audit_leaf_block", ["top_event_id"])
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        # Out of line, uncompressed: pglz trying to compress 8 KB of hashes and 20 KB of
        # leaf texts per block took 36–69 ms of a 10,000-event checkpoint (40 rows), and
        # saves about 5 % of the space.
        for column in ("event_ids", "hashes", "data"):
            op.execute(f"ALTER TABLE audit_leaf_block ALTER COLUMN {column} SET STORAGE EXTERNAL")
    leaf = sa.table(
        "audit_leaf",
        sa.column("idx", sa.Integer()),
        sa.column("event_id", sa.Integer()),
        sa.column("stream", sa.String()),
        sa.column("seq", sa.Integer()),
        sa.column("event_hash", sa.String()),
    )
    query = sa.select(leaf.c.idx, leaf.c.event_id, leaf.c.stream, leaf.c.seq, leaf.c.event_hash)
    current: list[tuple[int, int, str, int, str]] = []
    pending: list[dict[str, object]] = []

    def close() -> None:
        if not current:
            return
        texts = [_text(s, q, h) for _, _, s, q, h in current]
        ids = [e for _, e, _, _, _ in current]
        pending.append(
            {
                "block": current[0][0] // BLOCK,
                "leaves": len(current),
                "top_event_id": max(ids),
                "firsts": sum(1 for r in current if r[3] == 1),
                "event_ids": struct.pack(f">{len(ids)}q", *ids),
                "hashes": b"".join(hashlib.sha256(b"\x00" + t.encode()).digest() for t in texts),
                "data": "\n".join(texts),
            }
        )
        current.clear()
        if len(pending) >= 100:
            bind.execute(blocks.insert(), pending)
            pending.clear()

    for row in bind.execute(query.order_by(leaf.c.idx)):
        if current and row[0] // BLOCK != current[0][0] // BLOCK:
            close()
        current.append(tuple(row))  # type: ignore[arg-type]
    close()
    if pending:
        bind.execute(blocks.insert(), pending)
    op.drop_table("audit_leaf")


def downgrade() -> None:
    leaf = op.create_table(
        "audit_leaf",
        sa.Column("idx", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("stream", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("event_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_audit_leaf")),
        sa.UniqueConstraint("event_id", name=op.f("uq_audit_leaf_event_id")),
    )
    assert leaf is not None
    bind = op.get_bind()
    b = sa.table(
        "audit_leaf_block",
        sa.column("block", sa.Integer()),
        sa.column("event_ids", sa.LargeBinary()),
        sa.column("data", sa.Text()),
    )
    for block, packed, data in bind.execute(sa.select(b.c.block, b.c.event_ids, b.c.data)):
        ids = struct.unpack(f">{len(packed) // 8}q", packed)
        rows = []
        for offset, (event_id, text) in enumerate(zip(ids, data.split("\n"), strict=False)):
            stream, seq, event_hash = json.loads(text)
            rows.append(
                {
                    "idx": block * BLOCK + offset,
                    "event_id": event_id,
                    "stream": stream,
                    "seq": seq,
                    "event_hash": event_hash,
                }
            )
        if rows:
            bind.execute(leaf.insert(), rows)
    op.drop_index(op.f("ix_audit_leaf_block_top_event_id"), table_name="audit_leaf_block")
    op.drop_table("audit_leaf_block")
