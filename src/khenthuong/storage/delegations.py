"""Delegations (ủy quyền, ký thay): a user's roles over a unit handed to another user for a
dated period."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from khenthuong.storage.models import table_of


class Delegation(SQLModel, table=True):
    """One delegation; it counts from `starts_on` to `ends_on` (both included) unless revoked."""

    __tablename__ = "delegation"

    id: int | None = Field(default=None, primary_key=True)
    delegator_id: int = Field(foreign_key="user_account.id", index=True)
    delegate_id: int = Field(foreign_key="user_account.id", index=True)
    scope_unit_id: int = Field(foreign_key="unit.id")
    """The delegated roles count over this unit's subtree only."""
    roles: str = Field(default="", max_length=400)
    """Comma-separated role codes; empty: every role the delegator holds over the scope."""
    mode: str = Field(max_length=3)
    """How the delegate signs (ND 30/2020, Art 13 and Appendix I): KT (ký thay, a deputy for
    the head), TL (thừa lệnh), TUQ (thừa ủy quyền)."""
    delegate_title: str = Field(max_length=200)
    """The delegate's own title printed under the delegator's (e.g. THỨ TRƯỞNG)."""
    starts_on: date
    ends_on: date
    reason: str = Field(sa_column=Column(Text, nullable=False))
    created_by: str = Field(max_length=80)
    created_at: datetime
    revoked_at: datetime | None = None
    revoked_by: str | None = Field(default=None, max_length=80)


DELEGATIONS = table_of(Delegation)
