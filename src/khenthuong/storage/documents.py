"""Generated and signed documents: what was produced, its SHA-256, and signed files' bytes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary
from sqlmodel import Column, Field, SQLModel

from khenthuong.storage.models import table_of


class GeneratedFile(SQLModel, table=True):
    """One generated file (quyết định, biên bản …); a signed PDF keeps its content."""

    __tablename__ = "generated_file"

    id: int | None = Field(default=None, primary_key=True)
    stream: str = Field(max_length=80, index=True)
    """The audit stream it documents (decision:12, council:3 …)."""
    kind: str = Field(max_length=40)
    doc_key: str = Field(max_length=300)
    format: str = Field(max_length=10)
    filename: str = Field(max_length=300)
    size: int
    sha256: str = Field(max_length=64, index=True)
    signed: bool = False
    signer: str | None = Field(default=None, max_length=300)
    """Subject of the signing certificate (signed files only)."""
    content: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_by: str = Field(max_length=80)
    created_at: datetime


GENERATED_FILES = table_of(GeneratedFile)
