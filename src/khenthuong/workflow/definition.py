"""Typed model of one workflow file in `workflows/*.yaml`."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
)

IDENT = r"^[a-z][a-z0-9_]*$"


class Strict(BaseModel):
    """Base for definition models: unknown keys are errors, objects are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A label in Vietnamese (what officers read) and English."""

    vi: str = Field(min_length=1)
    en: str = Field(min_length=1)


class StateKind(StrEnum):
    """What happens in a state."""

    proposal = "proposal"
    review = "review"
    appraisal = "appraisal"
    council = "council"
    publicity = "publicity"
    decision = "decision"
    terminal = "terminal"


class Level(StrEnum):
    """The administrative level responsible for a state."""

    unit = "unit"
    ministry = "ministry"
    national = "national"


class Deadline(Strict):
    """A time limit for leaving a state, counted in Vietnamese working days."""

    working_days: int = Field(ge=1, le=365)
    basis: str = Field(min_length=1)
    """The legal text or practice the limit comes from (article, decree)."""


class Minimum(Strict):
    """A minimum stay in a state, counted in Vietnamese working days (e.g. a public listing).

    The working days are counted from the day the state is entered, that day included when it
    is a working day; a held-back step is possible from the day after the last of them (see
    `khenthuong.workflow.minimum`). `workflows check` requires 1 <= working_days <= 365 and,
    when the state has a time limit, working_days < that limit.
    """

    working_days: int
    basis: str = Field(min_length=1)
    """The legal text the minimum comes from (article, decree)."""
    steps: list[str] | None = None
    """The triggers held back until the minimum has passed. Omitted: every step out of the
    state except a return (into a `proposal` state) and an end (into a `terminal` state), so a
    withdrawal, a rejection or a return for supplementation never waits."""


class StateDef(Strict):
    """One state of a workflow."""

    title: Text
    kind: StateKind
    level: Level | None = None
    role: str | None = None
    """The role responsible for acting in this state (None for terminal states)."""
    deadline: Deadline | None = None
    minimum: Minimum | None = None
    """A minimum stay before the forward steps are possible (beside the time limit)."""
    closed: bool = False
    """True when the nomination is finished here (decision or terminal): no reminders."""

    @model_serializer(mode="wrap")
    def _without_absent_minimum(self, handler: SerializerFunctionWrapHandler) -> Any:
        # A state without a minimum dumps as it did before the key existed, so the
        # fingerprints of registered versions (services/definitions.py) do not change.
        data = handler(self)
        if self.minimum is None and isinstance(data, dict):
            data.pop("minimum", None)
        return data


class TransitionDef(Strict):
    """One step: a trigger from one or more source states to a destination."""

    trigger: str = Field(pattern=IDENT)
    source: list[str]
    dest: str
    title: Text
    roles: list[str] = Field(min_length=1)
    guards: list[str] = Field(default_factory=list)
    requires: list[str] = Field(default_factory=list)
    """Payload fields the actor must give, e.g. `reason` for a return or rejection."""
    optional: list[str] = Field(default_factory=list)
    """Payload fields the actor may give; any other field is refused."""
    allow_same_actor: bool = False
    """Explicitly relaxes the four-eyes rule for this step."""

    @field_validator("source", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class WorkflowDef(Strict):
    """A whole workflow: one award path, at one version."""

    name: str = Field(pattern=IDENT)
    version: int = Field(ge=1)
    title: Text
    legal_basis: list[str] = Field(min_length=1)
    subject: list[str] = Field(min_length=1)
    """Who may be nominated: `individual`, `collective` or both."""
    initial: str
    states: dict[str, StateDef] = Field(min_length=2)
    transitions: list[TransitionDef] = Field(min_length=1)

    @field_validator("subject")
    @classmethod
    def _subjects(cls, value: list[str]) -> list[str]:
        bad = [s for s in value if s not in ("individual", "collective")]
        if bad:
            raise ValueError(f"subject must be individual or collective, not {bad}")
        return value

    def state(self, name: str) -> StateDef:
        """The state called `name`."""
        return self.states[name]

    def transitions_from(self, state: str) -> list[TransitionDef]:
        """Transitions whose source includes `state`, in file order."""
        return [t for t in self.transitions if state in t.source]

    def held_back(self, state: str, transition: TransitionDef) -> Minimum | None:
        """The state's minimum when it holds back `transition` out of `state`, else None."""
        minimum = self.states[state].minimum
        if minimum is None:
            return None
        if minimum.steps is not None:
            return minimum if transition.trigger in minimum.steps else None
        dest = self.states.get(transition.dest)
        if dest is None or dest.kind in (StateKind.terminal, StateKind.proposal):
            return None
        return minimum

    def find(self, state: str, trigger: str) -> TransitionDef | None:
        """The transition fired by `trigger` in `state`, if any."""
        for t in self.transitions:
            if t.trigger == trigger and state in t.source:
                return t
        return None

    @property
    def key(self) -> tuple[str, int]:
        """(name, version): the identity a nomination pins at creation."""
        return (self.name, self.version)
