"""Council sessions (phiên họp Hội đồng TĐKT): members, attendance, tallies, recusals."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from khenthuong.storage.models import table_of


class CouncilSession(SQLModel, table=True):
    """One meeting of a unit's emulation and commendation council."""

    __tablename__ = "council_session"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    title: str = Field(max_length=300)
    held_on: date
    status: str = Field(default="open", max_length=10)
    """open or closed."""
    created_by: str = Field(max_length=80)
    created_at: datetime
    closed_at: datetime | None = None
    minutes: str | None = Field(default=None, sa_column=Column(Text))
    """The minutes (biên bản) written when the session closes."""


class CouncilMember(SQLModel, table=True):
    """A member of the council for one session, with attendance."""

    __tablename__ = "council_member"
    __table_args__ = (UniqueConstraint("session_id", "full_name"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="council_session.id", index=True)
    full_name: str = Field(max_length=200)
    position: str | None = Field(default=None, max_length=200)
    person_id: int | None = Field(default=None, foreign_key="person.id")
    heads_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    present: bool = True
    written_vote: bool = False
    """An absent member who sent a written opinion."""


class CouncilItem(SQLModel, table=True):
    """A nomination on a session's agenda and its secret-ballot tally."""

    __tablename__ = "council_item"
    __table_args__ = (UniqueConstraint("session_id", "nomination_id"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="council_session.id", index=True)
    nomination_id: int = Field(foreign_key="nomination.id", index=True)
    agree: int | None = None
    disagree: int | None = None
    abstain: int | None = None
    written_agree: int = 0
    recused: int = 0
    result: str | None = Field(default=None, max_length=10)
    """passed or failed, set when the session closes."""
    ratio: float | None = None
    explanation: str | None = Field(default=None, sa_column=Column(Text))


class Recusal(SQLModel, table=True):
    """A member recused from one agenda item (the nominee, or head of the nominated unit)."""

    __tablename__ = "council_recusal"
    __table_args__ = (UniqueConstraint("item_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    item_id: int = Field(foreign_key="council_item.id", index=True)
    member_id: int = Field(foreign_key="council_member.id")
    reason: str = Field(max_length=300)


COUNCIL_SESSIONS = table_of(CouncilSession)
COUNCIL_MEMBERS = table_of(CouncilMember)
COUNCIL_ITEMS = table_of(CouncilItem)
RECUSALS = table_of(Recusal)
