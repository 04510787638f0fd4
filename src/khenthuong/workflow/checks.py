"""Semantic checks on a parsed workflow definition (pure; no I/O)."""

from __future__ import annotations

from collections import deque
from collections.abc import Collection

from khenthuong.errors import Problem
from khenthuong.workflow.definition import Minimum, StateKind, WorkflowDef
from khenthuong.yamlsource import SourceDoc

RESERVED_FIELDS = frozenset({"reason", "comment", "decision_number", "decision_date"})
MAX_MINIMUM = 365
"""The longest minimum stay, in working days (the same bound as a time limit)."""


def check_workflow(
    wf: WorkflowDef,
    doc: SourceDoc,
    *,
    known_roles: Collection[str],
    known_guards: Collection[str],
) -> list[Problem]:
    """Every semantic problem of `wf`, located in `doc`."""
    problems: list[Problem] = []
    states = wf.states

    def at(path: tuple[str | int, ...], message: str) -> None:
        problems.append(doc.problem(path, message))

    if wf.initial not in states:
        at(("initial",), f"initial state {wf.initial!r} is not declared under states")
    elif states[wf.initial].kind is StateKind.terminal:
        at(("initial",), "initial state cannot be terminal")

    for name, state in states.items():
        path: tuple[str | int, ...] = ("states", name)
        if not name.isidentifier() or name != name.lower():
            at(path, f"state name {name!r} must be lower_snake_case")
        if state.kind is StateKind.terminal:
            if state.role is not None:
                at((*path, "role"), f"terminal state {name!r} has no responsible role")
            if state.deadline is not None:
                at((*path, "deadline"), f"terminal state {name!r} cannot have a deadline")
        else:
            if state.role is None:
                at(path, f"state {name!r} must name the responsible role")
            if state.level is None:
                at(path, f"state {name!r} must name its level (unit, ministry, national)")
        if state.role is not None and state.role not in known_roles:
            at((*path, "role"), f"unknown role {state.role!r}")
        if state.minimum is not None:
            problems += _check_minimum(wf, name, state.minimum, doc)

    seen: dict[tuple[str, str], int] = {}
    for index, t in enumerate(wf.transitions):
        path = ("transitions", index)
        if t.dest not in states:
            at((*path, "dest"), f"transition {t.trigger!r} goes to undeclared state {t.dest!r}")
        for source in t.source:
            if source not in states:
                at(
                    (*path, "source"),
                    f"transition {t.trigger!r} leaves undeclared state {source!r}",
                )
                continue
            if states[source].kind is StateKind.terminal:
                at(
                    (*path, "source"),
                    f"transition {t.trigger!r} leaves terminal state {source!r}",
                )
            key = (source, t.trigger)
            if key in seen:
                at(
                    (*path, "trigger"),
                    f"trigger {t.trigger!r} is declared twice from state {source!r} "
                    f"(first at transition {seen[key] + 1})",
                )
            else:
                seen[key] = index
        for role in t.roles:
            if role not in known_roles:
                at((*path, "roles"), f"unknown role {role!r}")
        for guard in t.guards:
            if guard not in known_guards:
                at((*path, "guards"), f"unknown guard {guard!r}")
        for required in t.requires:
            if not required.isidentifier():
                at((*path, "requires"), f"field name {required!r} is not an identifier")

    # Graph checks run even when the checks above found problems: they use the
    # declared states only and leave out every edge to or from an undeclared
    # state (already reported), so one run reports every kind of error.
    edges: dict[str, set[str]] = {name: set() for name in states}
    for t in wf.transitions:
        if t.dest not in states:
            continue
        for source in t.source:
            if source in states:
                edges[source].add(t.dest)

    # Reachability from the initial state (skipped when the initial state is not
    # declared: that is reported above, and every state would look unreachable).
    reached = _closure(wf.initial, edges) if wf.initial in states else set(states)
    for name in states:
        if name not in reached:
            at(("states", name), f"state {name!r} cannot be reached from {wf.initial!r}")

    # Every state must be able to reach a terminal state.
    reverse: dict[str, set[str]] = {name: set() for name in states}
    for source, dests in edges.items():
        for dest in dests:
            reverse[dest].add(source)
    terminals = [n for n, s in states.items() if s.kind is StateKind.terminal]
    if not terminals:
        at(("states",), "no terminal state is declared")
    can_finish: set[str] = set()
    for terminal in terminals:
        can_finish |= _closure(terminal, reverse)
    for name in states:
        if name in reached and name not in can_finish:
            at(("states", name), f"state {name!r} cannot reach any terminal state")
    return problems


def _check_minimum(wf: WorkflowDef, name: str, minimum: Minimum, doc: SourceDoc) -> list[Problem]:
    """The problems of state `name`'s minimum stay."""
    state = wf.states[name]
    path: tuple[str | int, ...] = ("states", name, "minimum")
    found: list[Problem] = []
    n = minimum.working_days
    if state.kind is StateKind.terminal or state.closed:
        found.append(doc.problem(path, f"final state {name!r} cannot have a minimum stay"))
        return found
    if n < 1:
        found.append(
            doc.problem(
                (*path, "working_days"),
                f"minimum stay of state {name!r} must be at least 1 working day, not {n}",
            )
        )
    elif n > MAX_MINIMUM:
        found.append(
            doc.problem(
                (*path, "working_days"),
                f"minimum stay of state {name!r} must be at most {MAX_MINIMUM} working days, "
                f"not {n}",
            )
        )
    elif state.deadline is not None and n >= state.deadline.working_days:
        limit = state.deadline.working_days
        found.append(
            doc.problem(
                (*path, "working_days"),
                f"minimum stay of state {name!r} ({n} working days) must be shorter than its "
                f"time limit ({limit} working days): entered on a day off, a step would be "
                "overdue before it is possible",
            )
        )
    leaving = {t.trigger for t in wf.transitions_from(name)}
    for index, trigger in enumerate(minimum.steps or []):
        if trigger not in leaving:
            found.append(
                doc.problem(
                    (*path, "steps", index),
                    f"minimum of state {name!r} holds back {trigger!r}, which is not a step "
                    "out of it",
                )
            )
    held = [t for t in wf.transitions_from(name) if wf.held_back(name, t) is not None]
    if not found and not held:
        found.append(
            doc.problem(
                path,
                f"minimum of state {name!r} holds back no step (returns and ends never wait); "
                "list the steps that wait under `steps`",
            )
        )
    return found


def _closure(start: str, edges: dict[str, set[str]]) -> set[str]:
    seen = {start}
    queue = deque([start])
    while queue:
        for nxt in edges[queue.popleft()]:
            if nxt not in seen:
                seen.add(nxt)
                queue.append(nxt)
    return seen
