"""Named guards that workflow transitions refer to.

A guard reads a `GuardContext` and returns None when the step may go ahead, or a
`Refusal` saying why not (in Vietnamese and English). Guards are registered by
name; workflow files name them and `workflows check` refuses unknown names.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from khenthuong.errors import Refusal


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


Guard = Callable[[GuardContext], Refusal | None]

_REGISTRY: dict[str, Guard] = {}


def guard(name: str) -> Callable[[Guard], Guard]:
    """Register a guard under `name` (decorator)."""

    def register(fn: Guard) -> Guard:
        if name in _REGISTRY and _REGISTRY[name] is not fn:
            raise ValueError(f"guard {name!r} is registered twice")
        _REGISTRY[name] = fn
        return fn

    return register


def known_guards() -> frozenset[str]:
    """Names of all registered guards."""
    _load_builtin()
    return frozenset(_REGISTRY)


def get_guard(name: str) -> Guard:
    """The guard registered as `name`."""
    _load_builtin()
    return _REGISTRY[name]


def _load_builtin() -> None:
    # Guards live in khenthuong.rules; importing it registers them.
    import khenthuong.rules  # noqa: F401, PLC0415
