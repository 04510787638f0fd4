"""Tables of the sealed audit log: the global order of events and the signed checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, Text
from sqlmodel import Column, Field, SQLModel

from khenthuong.storage.models import table_of

LEAF_BLOCK = 256
"""Leaves per block row: block b holds leaf indexes b*256 .. b*256+255."""


class AuditLeafBlock(SQLModel, table=True):
    """An aligned block of the global, append-only order of every stream's events (the
    Merkle leaves), one row per LEAF_BLOCK leaves.

    Written by the sealer (`khenthuong.audit.seal`), never on a step: leaf indexes run
    0, 1, 2 ... without gaps, so block `block` holds leaves `block * LEAF_BLOCK` onwards, in
    order; every block but the last is full, and the last is rewritten by the next checkpoint
    that extends it. Each leaf keeps what it sealed: its event id, its leaf text (canonical
    JSON of the stream, sequence number and event hash, the exact bytes the leaf hashes) and
    its Merkle leaf hash (`khenthuong.audit.leaves` packs and unpacks them).
    """

    __tablename__ = "audit_leaf_block"

    block: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    leaves: int
    """How many leaves the block holds (1 .. LEAF_BLOCK)."""
    top_event_id: int = Field(index=True)
    """The highest event id in the block (the sealer's window reads only blocks above it)."""
    firsts: int
    """How many of its leaves are a stream's first event (seq 1)."""
    event_ids: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    """Each leaf's event id, 8 bytes big-endian."""
    hashes: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    """Each leaf's Merkle leaf hash, 32 bytes."""
    data: str = Field(sa_column=Column(Text, nullable=False))
    """Each leaf's text, one a line (canonical JSON has no raw line break)."""


class AuditCheckpoint(SQLModel, table=True):
    """A signed tree head of the audit log (also appended to the checkpoint file)."""

    __tablename__ = "audit_checkpoint"

    id: int | None = Field(default=None, primary_key=True)
    tree_size: int = Field(index=True)
    root_hash: str = Field(max_length=64)
    created_at: datetime
    streams: int
    heads_digest: str | None = Field(default=None, max_length=64)
    """Version 1 checkpoints only: their signed digest of every stream's head."""
    key_id: str = Field(max_length=64)
    """SHA-256 of the raw Ed25519 public key that signed it."""
    body: str = Field(sa_column=Column(Text, nullable=False))
    """The signed text: canonical JSON of the format version, size, root, time, streams and
    key id (version 1: a heads digest instead of the version)."""
    signature: str = Field(max_length=128)
    """Ed25519 signature of `body`, hex."""
    peaks: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of the tree's right-edge subtree heads (hex), to extend it without
    reading earlier leaves. Not signed: checked against `root_hash` before use."""
    state: str = Field(sa_column=Column(Text, nullable=False))
    """JSON: where the sealer stopped (highest sealed event id, awaited missing ids) and the
    count of seq-1 leaves (version 1: a stream-head accumulator). Not signed."""


AUDIT_BLOCKS = table_of(AuditLeafBlock)
AUDIT_CHECKPOINTS = table_of(AuditCheckpoint)
