"""Tables of the sealed audit log: the global order of events and the signed checkpoints."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Column, Field, SQLModel

from khenthuong.storage.models import table_of


class AuditLeaf(SQLModel, table=True):
    """One event's place in the global, append-only order of every stream (a Merkle leaf).

    Written by the sealer (`khenthuong.audit.seal`), never on a step: leaf `idx` runs
    0, 1, 2 ... without gaps, and the leaf copies what it sealed.
    """

    __tablename__ = "audit_leaf"

    idx: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    event_id: int = Field(unique=True)
    stream: str = Field(max_length=80)
    seq: int
    event_hash: str = Field(max_length=64)


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


AUDIT_LEAVES = table_of(AuditLeaf)
AUDIT_CHECKPOINTS = table_of(AuditCheckpoint)
