"""Decisions (quyết định khen thưởng) and the award money per nominee."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from khenthuong.storage.models import table_of


class Decision(SQLModel, table=True):
    """A signed decision covering one or many nominations."""

    __tablename__ = "decision"
    __table_args__ = (UniqueConstraint("number_key", "number_year"),)

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(max_length=80)
    """Official form as typed (NFC), e.g. 123/QĐ-BCY or 1234/QĐ-TTg."""
    number_key: str = Field(max_length=80)
    """The number case-folded (khenthuong.rules.issuers.number_key): 12/qđ-bcy is 12/QĐ-BCY."""
    number_year: int
    """Year of the decision date: serial numbers restart every 1 January (ND 30/2020)."""
    decided_on: date
    signer: str = Field(max_length=200)
    signer_mode: str | None = Field(default=None, max_length=3)
    """Under delegation, how the signer signed: KT, TL or TUQ; printed "KT. BỘ TRƯỞNG" above
    the signer's own title (ND 30/2020)."""
    signer_title: str | None = Field(default=None, max_length=200)
    """Under delegation, the signer's own title (e.g. THỨ TRƯỞNG); else the office's title."""
    on_behalf_of: str | None = Field(default=None, max_length=80)
    """Under delegation, the username of the delegator the signer signed for."""
    authority_unit_id: int = Field(foreign_key="unit.id")
    award_code: str = Field(max_length=40)
    created_by: str = Field(max_length=80)
    created_at: datetime


class DecisionItem(SQLModel, table=True):
    """One nominee in a decision and the money computed for them."""

    __tablename__ = "decision_item"
    __table_args__ = (UniqueConstraint("decision_id", "nomination_id"),)

    id: int | None = Field(default=None, primary_key=True)
    decision_id: int = Field(foreign_key="decision.id", index=True)
    nomination_id: int = Field(foreign_key="nomination.id", index=True)
    coefficient: float
    base_salary_vnd: int
    amount_vnd: int


DECISIONS = table_of(Decision)
DECISION_ITEMS = table_of(DecisionItem)
