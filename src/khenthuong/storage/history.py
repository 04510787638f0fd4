"""Award history tables: decided awards, yearly ratings, initiatives, blockers."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from khenthuong.storage.models import table_of


class AwardRecord(SQLModel, table=True):
    """An award or title a person or unit received (from a decision or imported)."""

    __tablename__ = "award_record"
    __table_args__ = (
        Index("ix_award_record_person_year", "person_id", "year"),
        Index("ix_award_record_unit_award_year", "unit_id", "award_code", "year"),
    )

    id: int | None = Field(default=None, primary_key=True)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    award_code: str = Field(max_length=40)
    year: int
    decision_number: str = Field(max_length=80)
    decision_date: date
    commendation_type: str = Field(default="cong_trang", max_length=20)
    achievement_ref: str | None = Field(default=None, max_length=200, index=True)
    nomination_id: int | None = Field(default=None, foreign_key="nomination.id")
    source: str = Field(default="decision", max_length=20)
    """decision (written by the engine) or import (from a file)."""
    revoked: bool = False
    created_at: datetime


class YearlyRating(SQLModel, table=True):
    """A person's yearly rating: htxs (excellent), htt (good), ht (done), kht (not done)."""

    __tablename__ = "yearly_rating"
    __table_args__ = (Index("uq_yearly_rating_person_year", "person_id", "year", unique=True),)

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id")
    year: int
    rating: str = Field(max_length=10)


class Initiative(SQLModel, table=True):
    """A recognised initiative (sáng kiến) or research work, with its scope."""

    __tablename__ = "initiative"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    year: int
    title: str = Field(max_length=500)
    scope: str = Field(max_length=20)
    """grassroots, ministry or national."""
    recognised_on: date | None = None
    reference: str | None = Field(default=None, max_length=200)


class Blocker(SQLModel, table=True):
    """A discipline, investigation or complaint verification that blocks proposals."""

    __tablename__ = "blocker"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    kind: str = Field(max_length=20)
    """discipline, investigation or complaint."""
    starts_on: date
    ends_on: date | None = None
    note: str | None = Field(default=None, max_length=500)
    level: str | None = Field(default=None, max_length=20)
    """A discipline's measure (rules.eligibility.DISCIPLINE_LEVELS: khien_trach, canh_cao …);
    None when not recorded (counted as heavy enough by the collective standards)."""


AWARD_RECORDS = table_of(AwardRecord)
YEARLY_RATINGS = table_of(YearlyRating)
INITIATIVES = table_of(Initiative)
BLOCKERS = table_of(Blocker)
