"""Which unit a person belonged to when: one row per stay, the open one has no end."""

from __future__ import annotations

from datetime import date

from sqlmodel import Field, SQLModel

from khenthuong.storage.models import table_of


class PersonMembership(SQLModel, table=True):
    """A person's stay in a unit, from `from_date` (None: before the register knew) until
    `to_date` (None: still there)."""

    __tablename__ = "person_membership"

    id: int | None = Field(default=None, primary_key=True)
    person_id: int = Field(foreign_key="person.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    from_date: date | None = None
    to_date: date | None = None


MEMBERSHIPS = table_of(PersonMembership)
