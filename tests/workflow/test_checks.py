"""The checker reports every problem of a file at once, not stage by stage."""

from __future__ import annotations

import pytest

from khenthuong.errors import InvalidDefinition
from khenthuong.roles import load_roles
from khenthuong.settings import PROJECT_ROOT
from khenthuong.workflow.loader import parse_workflow

ROLES = load_roles(PROJECT_ROOT / "config" / "roles.yaml")

HEAD = """\
name: demo
version: 1
title: {vi: Thử nghiệm, en: Demo}
legal_basis: [Luật Thi đua, Khen thưởng 2022]
subject: [individual]
initial: draft
states:
  draft: {title: {vi: a, en: a}, kind: proposal, level: unit, role: unit_officer}
  review: {title: {vi: b, en: b}, kind: review, level: unit, role: unit_head}
  stuck: {title: {vi: c, en: c}, kind: review, level: unit, role: unit_head}
  done: {title: {vi: d, en: d}, kind: terminal}
transitions:
  - {trigger: submit, source: draft, dest: review, title: {vi: e, en: e}, roles: [unit_officer]}
  - {trigger: decide, source: review, dest: done, title: {vi: f, en: f}, roles: [unit_head]}
  - {trigger: park, source: review, dest: stuck, title: {vi: g, en: g}, roles: [unit_head]}
"""


def messages(text: str) -> list[str]:
    with pytest.raises(InvalidDefinition) as caught:
        parse_workflow("demo.yaml", known_roles=ROLES, text=text)
    return [str(p) for p in caught.value.problems]


def test_graph_checks_run_beside_edge_errors() -> None:
    """A bad edge does not hide a state that cannot finish; the bad edge is left out."""
    text = HEAD + (
        "  - {trigger: lose, source: stuck, dest: nowhere, title: {vi: h, en: h},"
        " roles: [unit_head]}\n"
    )
    assert messages(text) == [
        "demo.yaml:16: transition 'lose' goes to undeclared state 'nowhere'",
        "demo.yaml:10: state 'stuck' cannot reach any terminal state",
    ]


def test_semantic_checks_run_beside_unknown_keys() -> None:
    """Unknown keys are reported, then the rest of the file is checked as if they were absent."""
    text = HEAD.replace("roles: [unit_head]}\n", "roles: [unit_head], colour: red}\n", 1)
    assert messages(text) == [
        "demo.yaml:14: unknown key 'colour'",
        "demo.yaml:10: state 'stuck' cannot reach any terminal state",
    ]


def test_other_type_errors_stop_before_the_semantic_checks() -> None:
    """When the rest cannot be typed, only the typed model's errors are reported."""
    text = HEAD.replace(
        "kind: review, level: unit, role: unit_head}\n  stuck", "kind: rev}\n  stuck"
    )
    found = messages(text)
    assert len(found) == 1
    assert found[0].startswith("demo.yaml:9: states.review.kind: Input should be")


def test_undeclared_initial_state_does_not_make_every_state_unreachable() -> None:
    """Reachability is skipped when the initial state is undeclared (reported once)."""
    text = HEAD.replace("initial: draft", "initial: drafted")
    assert messages(text) == [
        "demo.yaml:6: initial state 'drafted' is not declared under states",
        "demo.yaml:10: state 'stuck' cannot reach any terminal state",
    ]
