"""Emulation blocs and clusters (khối, cụm thi đua): members per year and leaders."""

from __future__ import annotations

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from khenthuong.storage.models import table_of


class Bloc(SQLModel, table=True):
    """A khối or cụm thi đua organised by a unit (ministry, Ban TĐKT TW...)."""

    __tablename__ = "bloc"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=300)
    kind: str = Field(max_length=10)
    """khoi (bloc) or cum (cluster)."""
    organiser_unit_id: int = Field(foreign_key="unit.id")
    rotation: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of member codes: the order in which members lead the bloc."""
    rotation_start_year: int
    flag_quota: int | None = None
    """How many members the bloc may propose for Cờ thi đua của Chính phủ per year."""
    inspection_window_days: int = 2


class BlocMember(SQLModel, table=True):
    """A unit's membership of a bloc over a range of years."""

    __tablename__ = "bloc_member"
    __table_args__ = (UniqueConstraint("bloc_id", "unit_id", "from_year"),)

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    from_year: int
    to_year: int | None = None


class BlocLeader(SQLModel, table=True):
    """The leader (khối trưởng) and deputy (khối phó) elected for one year."""

    __tablename__ = "bloc_leader"
    __table_args__ = (UniqueConstraint("bloc_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    year: int
    leader_unit_id: int = Field(foreign_key="unit.id")
    deputy_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    source: str = Field(default="rotation", max_length=20)
    """rotation (computed) or elected (recorded from the year-end review)."""


BLOCS = table_of(Bloc)
BLOC_MEMBERS = table_of(BlocMember)
BLOC_LEADERS = table_of(BlocLeader)
