"""SQLModel tables: the organisation, nominations and the append-only event log."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Index, Table, Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION


class Unit(SQLModel, table=True):
    """An organisation unit in a tree (ministry, department, cipher branch...)."""

    __tablename__ = "unit"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=300)
    level: str = Field(max_length=20)
    """unit, ministry or national."""
    parent_id: int | None = Field(default=None, foreign_key="unit.id")
    path: str = Field(max_length=1000, index=True)
    """Materialised path of codes, '/ROOT/CHILD/', for subtree queries."""
    leader_email: str | None = Field(default=None, max_length=320)
    kind: str | None = Field(default=None, max_length=60)
    """What sort of unit it is, as the organisation names it (Cục, Vụ, Phòng...)."""


class Person(SQLModel, table=True):
    """A person who can be nominated."""

    __tablename__ = "person"

    id: int | None = Field(default=None, primary_key=True)
    full_name: str = Field(max_length=200, index=True)
    name_key: str = Field(default="", max_length=200, index=True)
    """full_name as typed names are matched: NFC, single spaces, case folded, diacritics kept
    (khenthuong.textsearch.name_key)."""
    unit_id: int = Field(foreign_key="unit.id", index=True)
    position: str | None = Field(default=None, max_length=200)
    gender: str | None = Field(default=None, max_length=10)
    birth_year: int | None = None
    """Tells apart people of the same name when a typed name matches several."""
    staff_code: str | None = Field(default=None, max_length=40, unique=True)
    """The organisation's staff number (mã cán bộ): how a re-imported staff list finds them."""
    left_on: date | None = None
    """The day the person left the organisation; they stay in the register with their history."""


class ApiToken(SQLModel, table=True):
    """A bearer token for API clients; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    name: str = Field(max_length=100)
    token_sha256: str = Field(max_length=64, unique=True)
    created_at: datetime
    last_used_at: datetime | None = None
    revoked: bool = False


class User(SQLModel, table=True):
    """An officer who logs in and acts on nominations."""

    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, unique=True)
    full_name: str = Field(max_length=200)
    email: str = Field(max_length=320)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    active: bool = True
    password_hash: str | None = Field(default=None, max_length=300)
    session_epoch: int = 0
    """Part of every session cookie; raised at sign-out and password change, so every
    earlier session of the user ends."""
    auth_source: str = Field(
        default="local", max_length=10, sa_column_kwargs={"server_default": "local"}
    )
    """Where the account signs in: 'local' (its own password), 'ldap' or 'oidc' (the
    directory; roles follow config/directory.yaml at every sign-in)."""
    directory_subject: str | None = Field(default=None, max_length=500)
    """The directory's id for the person: LDAP entry DN or OpenID `sub`."""


class UserRole(SQLModel, table=True):
    """A role granted to a user over one unit's subtree."""

    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role", "scope_unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    role: str = Field(max_length=40)
    scope_unit_id: int = Field(foreign_key="unit.id")


class WorkflowVersion(SQLModel, table=True):
    """A workflow definition as first loaded; later loads must match its fingerprint."""

    __tablename__ = "workflow_version"
    __table_args__ = (UniqueConstraint("name", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    version: int
    fingerprint: str = Field(max_length=64)
    definition_json: str = Field(sa_column=Column(Text, nullable=False))
    source: str = Field(max_length=500)
    registered_at: datetime


class Nomination(SQLModel, table=True):
    """One nomination travelling through its workflow; `version` guards every update."""

    __tablename__ = "nomination"
    __table_args__ = (
        Index("ix_nomination_workflow_state", "workflow", "state"),
        Index("ix_nomination_unit_path_state", "unit_path", "state"),
        Index("ix_nomination_open_due", "closed", "due_at"),
        # The work queue (services.listing.my_queue): per (workflow, version, state) key, open
        # items in due order with the scope on the entry itself, read without table rows.
        Index(
            "ix_nomination_queue",
            "workflow",
            "workflow_version",
            "state",
            "closed",
            "due_at",
            "id",
            "unit_path",
        ),
        CheckConstraint("nominee_kind IN ('individual', 'collective')", name="nominee_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    workflow: str = Field(max_length=80)
    workflow_version: int
    state: str = Field(max_length=60)
    closed: bool = False
    version: int = 1
    nominee_name: str = Field(max_length=300)
    search_key: str = Field(default="", max_length=300, index=True)
    """nominee_name folded for search: no diacritics, lower case (khenthuong.textsearch.fold)."""
    nominee_kind: str = Field(
        default="individual", max_length=12, sa_column_kwargs={"server_default": "individual"}
    )
    """The nominee's subject, 'individual' or 'collective': award money follows it."""
    nominee_person_id: int | None = Field(default=None, foreign_key="person.id", index=True)
    nominee_unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    proposing_unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(max_length=1000)
    """Path of the proposing unit, copied here so scope checks need no join."""
    year: int = Field(index=True)
    created_by: str = Field(max_length=80)
    created_at: datetime
    state_entered_at: datetime
    due_at: datetime | None = None
    head_hash: str = Field(max_length=64)
    """Hash of the newest event: the head of this nomination's chain."""
    entered_by: str | None = Field(default=None, max_length=80)
    """Who took the step into the current state (for the four-eyes rule)."""
    award_code: str | None = Field(default=None, max_length=40)
    """Catalog code of the title or form proposed (config/awards.yaml)."""
    commendation_type: str = Field(default="cong_trang", max_length=20)
    """Law Art 8 type: cong_trang, dot_xuat, chuyen_de, cong_hien, nien_han, doi_ngoai."""
    achievement_ref: str | None = Field(default=None, max_length=200)
    """Identifies the achievement rewarded: one achievement earns one award (Law Art 5)."""
    quota_taken: bool = False
    """Set when the within_quota guard let this nomination take a place in its quota."""


class Event(SQLModel, table=True):
    """An append-only, hash-chained audit event. Rows are never updated or deleted."""

    __tablename__ = "event"
    __table_args__ = (
        UniqueConstraint("stream", "seq"),
        Index("ix_event_actor_time", "actor", "occurred_at"),
        Index("ix_event_unit_time", "actor_unit", "occurred_at"),
        Index("ix_event_workflow_time", "workflow", "occurred_at"),
        Index("ix_event_trigger_time", "trigger", "occurred_at"),
        Index("ix_event_to_state_time", "to_state", "occurred_at"),
        Index("ix_event_from_state_time", "from_state", "occurred_at"),
        Index("ix_event_nomination", "nomination_id", "seq"),
    )

    id: int | None = Field(default=None, primary_key=True)
    stream: str = Field(max_length=80)
    """The chain this event belongs to, e.g. 'nomination:42'."""
    seq: int
    nomination_id: int | None = Field(default=None, foreign_key="nomination.id")
    workflow: str | None = Field(default=None, max_length=80)
    occurred_at: datetime = Field(index=True)
    actor: str = Field(max_length=80)
    actor_role: str | None = Field(default=None, max_length=40)
    actor_unit: str | None = Field(default=None, max_length=40)
    trigger: str = Field(max_length=60)
    from_state: str | None = Field(default=None, max_length=60)
    to_state: str | None = Field(default=None, max_length=60)
    comment: str | None = Field(default=None, sa_column=Column(Text))
    payload: str = Field(sa_column=Column(Text, nullable=False))
    """Canonical JSON text of the step's payload (hashed exactly as stored)."""
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class StreamHead(SQLModel, table=True):
    """Head of an event stream that is not a nomination (blocs, plans, definitions)."""

    __tablename__ = "stream_head"

    stream: str = Field(primary_key=True, max_length=80)
    seq: int
    hash: str = Field(max_length=64)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a SQLModel table class."""
    return model.__table__  # type: ignore[attr-defined,no-any-return]


UNITS = table_of(Unit)
PERSONS = table_of(Person)
USERS = table_of(User)
USER_ROLES = table_of(UserRole)
WORKFLOW_VERSIONS = table_of(WorkflowVersion)
NOMINATIONS = table_of(Nomination)
EVENTS = table_of(Event)
STREAM_HEADS = table_of(StreamHead)
API_TOKENS = table_of(ApiToken)
