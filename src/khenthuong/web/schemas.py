"""Response and request bodies of the JSON API."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from khenthuong.calendar.workdays import WorkingCalendar
from khenthuong.localtime import LOCAL_TZ
from khenthuong.services.dossier import StoredDocument
from khenthuong.services.nominations import StepResult

MAX_ID = 2_147_483_647
"""Largest id a database row can have (PostgreSQL integer); larger ids are refused with 422."""
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]
IdPath = Annotated[int, PathParam(ge=1, le=MAX_ID)]


def as_utc(value: datetime | None) -> datetime | None:
    """SQLite returns naive UTC datetimes; make every timestamp explicit."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def working_days_left(cal: WorkingCalendar, due: datetime | None, now: datetime) -> int | None:
    """Working days from today to the due day (negative when overdue), or None."""
    if due is None:
        return None
    today = now.astimezone(LOCAL_TZ).date()
    day = due.astimezone(LOCAL_TZ).date()
    if day >= today:
        return cal.working_days_between(today, day)
    return -cal.working_days_between(day, today)


class NominationOut(BaseModel):
    """A nomination as the API shows it."""

    id: int
    workflow: str
    workflow_version: int
    state: str
    closed: bool
    version: int
    nominee_name: str
    nominee_kind: str | None = None
    """'individual' (a person of the register) or 'collective' (a unit)."""
    nominee_person_id: int | None = None
    nominee_unit_id: int | None = None
    year: int
    award_code: str | None = None
    unit_code: str | None = None
    created_by: str
    created_at: datetime
    state_entered_at: datetime
    due_at: datetime | None = None
    overdue: bool = False
    working_days_left: int | None = None
    actions: list[str] | None = None


def nomination_out(row: Mapping[Any, Any], cal: WorkingCalendar, now: datetime) -> NominationOut:
    """Build the API view of a nomination row."""
    return NominationOut(**nomination_fields(row, cal, now))


def nomination_fields(
    row: Mapping[Any, Any], cal: WorkingCalendar, now: datetime
) -> dict[str, Any]:
    """The fields of `NominationOut` for a row, in its order and with the types its validation
    gives them, without building the model: the queue (100 items a request) serialises these
    dicts directly, to the same JSON bytes (tests/web/test_queue_fast.py)."""
    due = as_utc(row["due_at"])
    closed = bool(row["closed"])
    return {
        "id": row["id"],
        "workflow": row["workflow"],
        "workflow_version": row["workflow_version"],
        "state": row["state"],
        "closed": closed,
        "version": row["version"],
        "nominee_name": row["nominee_name"],
        "nominee_kind": row.get("nominee_kind"),
        "nominee_person_id": row.get("nominee_person_id"),
        "nominee_unit_id": row.get("nominee_unit_id"),
        "year": row["year"],
        "award_code": row.get("award_code"),
        "unit_code": row.get("unit_code"),
        "created_by": row["created_by"],
        "created_at": as_utc(row["created_at"]) or now,
        "state_entered_at": as_utc(row["state_entered_at"]) or now,
        "due_at": due,
        "overdue": bool(due and not closed and due < now),
        "working_days_left": None if closed else working_days_left(cal, due, now),
        "actions": row.get("actions"),
    }


class ItemView(dict[str, Any]):
    """`nomination_fields` read by attribute, as the list pages read a `NominationOut`: the
    dict is its own attribute dict, so `item.id` is a plain attribute look-up (a page reads
    about 1,200 of them; a `__getattr__` in Python cost a tenth of the rows' HTML)."""

    def __init__(self, fields: dict[str, Any]) -> None:
        super().__init__(fields)
        self.__dict__ = self


class ActionOut(BaseModel):
    """A step the caller may take."""

    trigger: str
    title: str
    title_en: str
    dest: str
    requires: list[str]
    optional: list[str]
    guards: list[str]
    possible_from: date | None = None
    """Set while the state's minimum stay holds the step back: the first day it is possible."""


class AdvanceIn(BaseModel):
    """Fire a trigger."""

    model_config = ConfigDict(extra="forbid")
    trigger: str = Field(min_length=1, max_length=60)
    payload: dict[str, str] = Field(default_factory=dict)
    comment: str | None = Field(default=None, max_length=4000)
    expected_version: int | None = Field(
        default=None, ge=1, description="Refuse with 409 if the nomination moved on"
    )


class AdvanceOut(BaseModel):
    """What a step did."""

    nomination_id: int
    trigger: str
    from_state: str
    to_state: str
    version: int
    event_hash: str
    due_at: datetime | None = None

    @classmethod
    def of(cls, r: StepResult) -> AdvanceOut:
        return cls(
            nomination_id=r.nomination_id,
            trigger=r.trigger,
            from_state=r.from_state,
            to_state=r.to_state,
            version=r.version,
            event_hash=r.event_hash,
            due_at=as_utc(r.due_at),
        )


class BatchAdvanceIn(BaseModel):
    """Fire one trigger on many nominations."""

    model_config = ConfigDict(extra="forbid")
    nomination_ids: list[RowId] = Field(min_length=1, max_length=1000)
    trigger: str = Field(min_length=1, max_length=60)
    payload: dict[str, str] = Field(default_factory=dict)
    comment: str | None = Field(default=None, max_length=4000)
    partial: bool = False


class BatchAdvanceOut(BaseModel):
    """Steps written and, with partial=true, the refusals."""

    advanced: list[AdvanceOut]
    refused: dict[int, list[str]]


class EventOut(BaseModel):
    """One audit event."""

    stream: str
    seq: int
    nomination_id: int | None
    workflow: str | None
    occurred_at: datetime
    actor: str
    actor_role: str | None
    actor_unit: str | None
    trigger: str
    from_state: str | None
    to_state: str | None
    comment: str | None
    payload: dict[str, Any]
    hash: str

    @classmethod
    def of(cls, e: Mapping[str, Any]) -> EventOut:
        data = dict(e)
        data["occurred_at"] = as_utc(data["occurred_at"])
        return cls.model_validate(data)


class DocumentOut(BaseModel):
    """A stored document."""

    id: int
    doc_type: str
    filename: str
    size: int
    sha256: str

    @classmethod
    def of(cls, d: StoredDocument) -> DocumentOut:
        return cls(id=d.id, doc_type=d.doc_type, filename=d.filename, size=d.size, sha256=d.sha256)
