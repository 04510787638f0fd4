"""Dossier attachments (hồ sơ): stored with SHA-256, size and type."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary
from sqlmodel import Column, Field, SQLModel

from khenthuong.storage.models import table_of


class Attachment(SQLModel, table=True):
    """One document attached to a nomination (tờ trình, biên bản, báo cáo thành tích...)."""

    __tablename__ = "attachment"

    id: int | None = Field(default=None, primary_key=True)
    nomination_id: int = Field(foreign_key="nomination.id", index=True)
    doc_type: str = Field(max_length=40)
    filename: str = Field(max_length=300)
    content_type: str = Field(max_length=120)
    size: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_by: str = Field(max_length=80)
    uploaded_at: datetime
    state_secret: bool = False
    """Dossiers with state secrets are excluded from electronic transfer (ND 152 Art 42)."""


ATTACHMENTS = table_of(Attachment)
