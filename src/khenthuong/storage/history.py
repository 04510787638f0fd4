"""Award history tables: decided awards, yearly ratings, initiatives, blockers."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Index, func, select, text
from sqlmodel import Field, SQLModel

from khenthuong.storage.models import PERSONS, UNITS, table_of


class AwardRecord(SQLModel, table=True):
    """An award or title a person or unit received (from a decision or imported)."""

    __tablename__ = "award_record"
    __table_args__ = (
        Index("ix_award_record_person_year", "person_id", "year"),
        Index("ix_award_record_unit_award_year", "unit_id", "award_code", "year"),
        # The statistics report's whole read (services.statistics): an index-only scan on
        # PostgreSQL (bench/stats.py, BENCHMARKS.md).
        Index(
            "ix_award_record_statistics",
            "year",
            "award_code",
            "commendation_type",
            "female",
            "unit_path",
            postgresql_include=["person_id"],
            postgresql_where=text("NOT revoked"),
            sqlite_where=text("NOT revoked"),
        ),
        Index(
            "ix_award_record_unplaced",
            "id",
            postgresql_where=text("unit_path IS NULL"),
            sqlite_where=text("unit_path IS NULL"),
        ),
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
    unit_path: str | None = Field(default=None, max_length=1000)
    """Where the award counts in statistics (services.statistics): the path of a
    collective's own unit, or of an individual's unit when it was recorded (`placement`).
    None only for a row written without it: the report then places it through the register."""
    female: bool = False
    """The individual was a woman ("nữ" in the register) when it was recorded."""


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


FEMALE_NAMES = ("nữ", "nu", "Nữ", "Nu", "NỮ", "NU")
"""How the register writes a woman's gender (`Person.gender`)."""


def placement(conn: Connection, person_id: int | None, unit_id: int | None) -> dict[str, Any]:
    """The statistics columns of a new award record (`unit_path`, `female`): an individual
    counts under their unit in the register now, a collective under its own unit."""
    if person_id is not None:
        row = conn.execute(
            select(UNITS.c.path, PERSONS.c.gender)
            .join(UNITS, UNITS.c.id == PERSONS.c.unit_id)
            .where(PERSONS.c.id == person_id)
        ).first()
        if row is None:
            return {"unit_path": None, "female": False}
        return {"unit_path": row.path, "female": (row.gender or "").strip() in FEMALE_NAMES}
    path = (
        conn.execute(select(UNITS.c.path).where(UNITS.c.id == unit_id)).scalar()
        if unit_id is not None
        else None
    )
    return {"unit_path": path, "female": False}


def placement_sql() -> dict[str, Any]:
    """`placement` as correlated SQL expressions over AWARD_RECORDS (a migration's or a bulk
    writer's UPDATE … SET)."""
    person_unit = (
        select(PERSONS.c.unit_id).where(PERSONS.c.id == AWARD_RECORDS.c.person_id).scalar_subquery()
    )
    gender = (
        select(PERSONS.c.gender).where(PERSONS.c.id == AWARD_RECORDS.c.person_id).scalar_subquery()
    )
    path = (
        select(UNITS.c.path)
        .where(UNITS.c.id == func.coalesce(person_unit, AWARD_RECORDS.c.unit_id))
        .scalar_subquery()
    )
    return {"unit_path": path, "female": func.coalesce(gender.in_(FEMALE_NAMES), False)}


YEARLY_RATINGS = table_of(YearlyRating)
INITIATIVES = table_of(Initiative)
BLOCKERS = table_of(Blocker)
