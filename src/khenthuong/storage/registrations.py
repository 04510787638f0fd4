"""Emulation registration (đăng ký thi đua): a unit's collective targets for a year and the
titles its people and collectives aim for; and the per-title votes of a unit council's
year-end review (bình xét), one record per title of a session."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from khenthuong.storage.models import table_of


class Registration(SQLModel, table=True):
    """A unit's registration for one year: the date and its collective targets."""

    __tablename__ = "emulation_registration"
    __table_args__ = (UniqueConstraint("unit_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(max_length=400, index=True)
    """Path of the registering unit (who may read and change it)."""
    year: int
    registered_on: date
    targets: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    """The collective targets (chỉ tiêu), one per line."""
    created_by: str = Field(max_length=80)
    created_at: datetime


class RegistrationEntry(SQLModel, table=True):
    """One title a person (or a collective: a unit) registered for in a year."""

    __tablename__ = "registration_entry"
    __table_args__ = (UniqueConstraint("year", "nominee_key", "award_code"),)

    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = Field(foreign_key="emulation_registration.id", index=True)
    year: int
    nominee_key: str = Field(max_length=20)
    """'p:<person id>' or 'u:<unit id>': one registration of a title per nominee and year."""
    person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    award_code: str = Field(max_length=40)
    note: str | None = Field(default=None, max_length=500)


class CouncilTitleVote(SQLModel, table=True):
    """The secret-ballot result a council session gave a whole title's list at once (e.g.
    every person proposed for Lao động tiên tiến): one record per title of the session."""

    __tablename__ = "council_title_vote"
    __table_args__ = (UniqueConstraint("session_id", "award_code"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: int = Field(foreign_key="council_session.id", index=True)
    award_code: str = Field(max_length=40)
    batch_id: int | None = Field(default=None, foreign_key="proposal_batch.id")
    agree: int
    disagree: int = 0
    abstain: int = 0
    written_agree: int = 0
    items: int = 0
    """Nominations of the list the tally was applied to."""


REGISTRATIONS = table_of(Registration)
REGISTRATION_ENTRIES = table_of(RegistrationEntry)
COUNCIL_TITLE_VOTES = table_of(CouncilTitleVote)
