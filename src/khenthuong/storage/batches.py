"""Proposal batches (đợt đề nghị): one tờ trình with its danh sách for many nominations,
its member nominations and the documents attached once for all of them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary
from sqlmodel import Column, Field, SQLModel

from khenthuong.storage.models import table_of


class ProposalBatch(SQLModel, table=True):
    """One proposal (tờ trình) of a unit: its members are nominations."""

    __tablename__ = "proposal_batch"

    id: int | None = Field(default=None, primary_key=True)
    proposing_unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(max_length=400, index=True)
    """Path of the proposing unit (who may read the batch)."""
    receiving_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    """The level the tờ trình is addressed to (the unit that decides), when known."""
    year: int
    commendation_type: str = Field(max_length=40)
    title: str = Field(max_length=500)
    created_by: str = Field(max_length=80)
    created_at: datetime


class ProposalBatchMember(SQLModel, table=True):
    """A nomination belongs to at most one batch."""

    __tablename__ = "proposal_batch_member"

    nomination_id: int = Field(foreign_key="nomination.id", primary_key=True)
    batch_id: int = Field(foreign_key="proposal_batch.id", index=True)
    row_number: int | None = None
    """The STT of the danh sách (the row of the imported file), when imported."""


class BatchAttachment(SQLModel, table=True):
    """A document attached once to a batch (tờ trình, danh sách, biên bản bình xét)."""

    __tablename__ = "batch_attachment"

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="proposal_batch.id", index=True)
    doc_type: str = Field(max_length=40)
    filename: str = Field(max_length=300)
    content_type: str = Field(max_length=120)
    size: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_by: str = Field(max_length=80)
    uploaded_at: datetime


BATCHES = table_of(ProposalBatch)
BATCH_MEMBERS = table_of(ProposalBatchMember)
BATCH_ATTACHMENTS = table_of(BatchAttachment)
