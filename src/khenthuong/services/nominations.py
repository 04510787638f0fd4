"""Nominations: the row, its allowed steps, and what every nomination use case shares.

The use cases themselves live beside this module: creating a nomination in
`services.new_nominations`, checking a step in `services.step_plan`, taking steps (one
nomination or a batch) in `services.stepping`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, RowMapping, bindparam, select

from khenthuong.calendar.workdays import add_working_days
from khenthuong.commendation import COMMENDATION_TYPES as TYPE_NAMES
from khenthuong.errors import NotFound
from khenthuong.localtime import LOCAL_TZ
from khenthuong.services.actors import Actor
from khenthuong.storage.models import NOMINATIONS
from khenthuong.workflow.definition import StateDef, TransitionDef
from khenthuong.workflow.loader import WorkflowRegistry

COMMENDATION_TYPES = tuple(TYPE_NAMES)
"""Law 06/2022 Art 8: the types of commendation (khenthuong.commendation)."""


@dataclass(frozen=True)
class StepResult:
    """What one successful step did."""

    nomination_id: int
    trigger: str
    from_state: str
    to_state: str
    version: int
    event_hash: str
    due_at: datetime | None


def nfc(value: Any) -> Any:
    """Normalise every string in `value` to Unicode NFC (recursively)."""
    if value is None:  # most comments: no isinstance checks (Mapping's is not cheap)
        return None
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, Mapping):
        return {nfc(k): nfc(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [nfc(v) for v in value]
    return value


def due_date(state: StateDef, entered: datetime) -> datetime | None:
    """End of the last working day of the state's time limit, in UTC (None if no limit)."""
    if state.deadline is None:
        return None
    return _due_after(entered.astimezone(LOCAL_TZ).date(), state.deadline.working_days)


@lru_cache(maxsize=4096)
def _due_after(local_day: date, working_days: int) -> datetime:
    # Cached: every step of a batch (and most steps of a day) share the same answer.
    last_day = add_working_days(local_day, working_days)
    return datetime.combine(last_day, time(23, 59, 59), LOCAL_TZ).astimezone(UTC)


def stream_of(nomination_id: int) -> str:
    """The audit stream name of a nomination."""
    return f"nomination:{nomination_id}"


# --------------------------------------------------------------------------- reading


# Built once with a bind parameter: SQLAlchemy reuses the compiled SQL (see BENCHMARKS.md).
_SELECT_ONE = select(NOMINATIONS).where(NOMINATIONS.c.id == bindparam("nid"))


def get_row(conn: Connection, nomination_id: int) -> RowMapping:
    """The nomination row as a mapping; NotFound names the id."""
    row = conn.execute(_SELECT_ONE, {"nid": nomination_id}).mappings().first()
    if row is None:
        raise NotFound(f"Không có hồ sơ #{nomination_id}", en=f"No nomination #{nomination_id}")
    return row


def allowed_triggers(
    registry: WorkflowRegistry, nomination: Mapping[Any, Any], actor: Actor
) -> list[TransitionDef]:
    """Transitions from the current state that the actor's roles and unit scope permit.

    Guards are not evaluated here (they may need the database and the payload);
    `advance` evaluates them and explains a refusal.
    """
    loaded = registry.get(nomination["workflow"], nomination["workflow_version"])
    return [
        t
        for t in loaded.definition.transitions_from(nomination["state"])
        if actor.grant_for(
            t.roles,
            nomination["unit_path"],
            role_levels=role_levels(loaded.definition.state(nomination["state"])),
        )
        is not None
    ]


def role_levels(state: StateDef) -> dict[str, str]:
    """The state's responsible role must be held at the state's level."""
    if state.role is None or state.level is None:
        return {}
    return {state.role: state.level.value}
