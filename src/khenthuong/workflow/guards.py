"""Named guards that workflow transitions refer to.

A guard reads a `GuardContext` and returns None when the step may go ahead, or a
`Refusal` saying why not (in Vietnamese and English). Guards are registered by
name; workflow files name them and `workflows check` refuses unknown names.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from khenthuong.errors import Refusal


@dataclass
class BatchState:
    """What the steps of one batch share. A batch plans every step before it writes any,
    so a guard cannot see in the database what the batch's earlier steps will change."""

    quota_places: list[int] = field(default_factory=list)
    """Nominations given a quota place by earlier steps of this batch (not yet written)."""
    prefetched: dict[str, Any] = field(default_factory=dict)
    """What a guard's prefetch read once for the whole batch, by guard name."""
    fetched: dict[Any, Any] = field(default_factory=dict)
    """Facts read for one nomination, by (reader, nomination id): two guards of a step that
    read the same facts read them once."""


@dataclass
class GuardContext:
    """Everything a guard may look at for one proposed step."""

    nomination: Mapping[Any, Any]
    """The nomination row as a mapping of column name to value."""
    trigger: str
    source: str
    dest: str
    actor: Any
    payload: Mapping[Any, Any]
    now: datetime
    connection: Any = None
    """An open SQLAlchemy Connection inside the step's transaction (for history reads)."""
    extra: dict[str, Any] = field(default_factory=dict)
    batch: BatchState = field(default_factory=BatchState)
    """Shared by the steps of one batch; a single step has its own, empty one."""

    def prefetched(self, name: str) -> Any:
        """What guard `name`'s prefetch read for this batch, or None (single step)."""
        return self.batch.prefetched.get(name)


Guard = Callable[[GuardContext], Refusal | None]
Prefetch = Callable[[Any, Sequence[Mapping[Any, Any]], datetime], Any]
"""Reads, in one go, what a guard needs for many nominations: (connection, rows, now)."""

_REGISTRY: dict[str, Guard] = {}
_PREFETCH: dict[str, Prefetch] = {}


def guard(name: str, *, prefetch: Prefetch | None = None) -> Callable[[Guard], Guard]:
    """Register a guard under `name` (decorator).

    `prefetch`, when given, lets a batch read the guard's facts for all its nominations
    with a few queries instead of a few per nomination; the guard finds the result with
    `ctx.prefetched(name)` and reads for itself when that is None.
    """

    def register(fn: Guard) -> Guard:
        if name in _REGISTRY and _REGISTRY[name] is not fn:
            raise ValueError(f"guard {name!r} is registered twice")
        _REGISTRY[name] = fn
        if prefetch is not None:
            _PREFETCH[name] = prefetch
        return fn

    return register


def get_prefetch(name: str) -> Prefetch | None:
    """The batch prefetch of guard `name`, if it has one."""
    _load_builtin()
    return _PREFETCH.get(name)


def known_guards() -> frozenset[str]:
    """Names of all guards a workflow file may name: the built-in ones (`BUILTIN_GUARDS`,
    without importing their modules) and any other registered so far."""
    return BUILTIN_GUARDS | frozenset(_REGISTRY)


def get_guard(name: str) -> Guard:
    """The guard registered as `name`."""
    _load_builtin()
    return _REGISTRY[name]


GUARD_MODULES = (
    "khenthuong.services.guards",
    "khenthuong.services.unit_year_guards",
    "khenthuong.services.adhoc_guards",
)
"""Modules whose import registers the built-in guards. Named, not imported, here: the guards
read the database through the service layer above this package, and this package must not
import upwards (a test checks the package graph has no circle)."""

BUILTIN_GUARDS = frozenset(
    {
        "dossier_complete",
        "eligible",
        "not_blocked",
        "registered",
        "simplified_procedure",
        "vote_passed",
        "within_quota",
    }
)
"""The names `GUARD_MODULES` register, known without importing them: checking a workflow
file's guard names (every command that opens the runtime) does not import most of the
service layer. `tests/workflow/test_guard_names.py` checks it equals what the modules
register, so it cannot drift."""


def _load_builtin() -> None:
    for module in GUARD_MODULES:
        importlib.import_module(module)
