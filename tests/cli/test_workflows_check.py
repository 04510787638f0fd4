"""`khenthuong workflows check PATH`: one located message per problem, every problem in one run."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from khenthuong.cli.app import app

runner = CliRunner()

# A small valid workflow. Line numbers matter: the cases below name them.
VALID = """\
name: demo
version: 1
title: {vi: Thử nghiệm, en: Demo}
legal_basis: [Luật Thi đua, Khen thưởng 2022]
subject: [individual]
initial: draft
states:
  draft:
    title: {vi: Dự thảo, en: Draft}
    kind: proposal
    level: unit
    role: unit_officer
  review:
    title: {vi: Xem xét, en: Review}
    kind: review
    level: unit
    role: unit_head
  done:
    title: {vi: Đã xong, en: Done}
    kind: terminal
transitions:
  - trigger: submit
    source: draft
    dest: review
    title: {vi: Trình, en: Submit}
    roles: [unit_officer]
  - trigger: decide
    source: review
    dest: done
    title: {vi: Quyết định, en: Decide}
    roles: [unit_head]
"""
"""Lines 1-31; a state added before `transitions:` lands on line 21, a transition
appended after it on line 32 (33 when a state was added too)."""


def _state(name: str) -> str:
    return f"  {name}: {{title: {{vi: a, en: a}}, kind: review, level: unit, role: unit_head}}\n"


def _step(trigger: str, source: str, dest: str, extra: str = "") -> str:
    return (
        f"  - {{trigger: {trigger}, source: {source}, dest: {dest}, title: {{vi: b, en: b}},"
        f" roles: [unit_head]{extra}}}\n"
    )


def _on_draft(*lines: str) -> str:
    """VALID with `lines` added to the draft state (from line 13 on)."""
    added = "".join(f"    {line}\n" for line in lines)
    return VALID.replace(
        "    role: unit_officer\n  review:", f"    role: unit_officer\n{added}  review:"
    )


def add_state(text: str, line: str) -> str:
    return text.replace("transitions:\n", line + "transitions:\n")


def check(tmp_path: Path, text: str) -> tuple[int, Path, list[str]]:
    """Run the CLI on one file; its exit code, the file and the lines naming it."""
    file = tmp_path / "demo.yaml"
    file.write_text(text, encoding="utf-8")
    result = runner.invoke(app, ["workflows", "check", str(file)])
    lines = [line for line in result.output.splitlines() if line.startswith(f"{file}:")]
    return result.exit_code, file, lines


def test_the_valid_base_passes(tmp_path: Path) -> None:
    """The base file the cases break is itself valid, so each case has exactly one cause."""
    file = tmp_path / "demo.yaml"
    file.write_text(VALID, encoding="utf-8")
    result = runner.invoke(app, ["workflows", "check", str(file)])
    assert result.exit_code == 0, result.output
    assert "1 file(s) OK" in result.output


CASES = [
    pytest.param(
        VALID.replace(
            "    role: unit_officer\n  review:",
            "    role: unit_officer\n    colour: red\n  review:",
        ),
        ["13: unknown key 'colour'"],
        id="unknown-key",
    ),
    pytest.param(
        VALID + _step("escalate", "review", "nowhere"),
        ["32: transition 'escalate' goes to undeclared state 'nowhere'"],
        id="undeclared-state",
    ),
    pytest.param(
        add_state(VALID, _state("limbo")) + _step("close", "limbo", "done"),
        ["21: state 'limbo' cannot be reached from 'draft'"],
        id="unreachable-state",
    ),
    pytest.param(
        add_state(VALID, _state("stuck")) + _step("park", "review", "stuck"),
        ["21: state 'stuck' cannot reach any terminal state"],
        id="cannot-finish",
    ),
    pytest.param(
        VALID + _step("reopen", "done", "review"),
        ["32: transition 'reopen' leaves terminal state 'done'"],
        id="leaves-terminal",
    ),
    pytest.param(
        VALID + _step("decide", "review", "draft"),
        ["32: trigger 'decide' is declared twice from state 'review' (first at transition 2)"],
        id="trigger-twice",
    ),
    pytest.param(
        VALID.replace(
            "    roles: [unit_head]\n", "    roles: [unit_head]\n    guards: [moon_phase]\n"
        ),
        ["32: unknown guard 'moon_phase'"],
        id="unknown-guard",
    ),
    pytest.param(
        VALID.replace("    roles: [unit_head]\n", "    roles: [unit_head, wizard]\n"),
        ["31: unknown role 'wizard'"],
        id="unknown-role",
    ),
    pytest.param(
        _on_draft("deadline: {working_days: 5, basis: a}", "minimum: {working_days: 10, basis: b}"),
        [
            "14: minimum stay of state 'draft' (10 working days) must be shorter than its time "
            "limit (5 working days): entered on a day off, a step would be overdue before it is "
            "possible"
        ],
        id="minimum-longer-than-limit",
    ),
    pytest.param(
        _on_draft("deadline: {working_days: 5, basis: a}", "minimum: {working_days: 5, basis: b}"),
        [
            "14: minimum stay of state 'draft' (5 working days) must be shorter than its time "
            "limit (5 working days): entered on a day off, a step would be overdue before it is "
            "possible"
        ],
        id="minimum-as-long-as-limit",
    ),
    pytest.param(
        _on_draft("minimum: {working_days: 0, basis: b}"),
        ["13: minimum stay of state 'draft' must be at least 1 working day, not 0"],
        id="minimum-not-positive",
    ),
    pytest.param(
        _on_draft("minimum: {working_days: 366, basis: b}"),
        ["13: minimum stay of state 'draft' must be at most 365 working days, not 366"],
        id="minimum-too-long",
    ),
    pytest.param(
        VALID.replace(
            "    kind: terminal\n", "    kind: terminal\n    minimum: {working_days: 3, basis: b}\n"
        ),
        ["21: final state 'done' cannot have a minimum stay"],
        id="minimum-on-final-state",
    ),
    pytest.param(
        _on_draft("minimum: {working_days: 3, basis: b, steps: [decide]}"),
        ["13: minimum of state 'draft' holds back 'decide', which is not a step out of it"],
        id="minimum-holds-back-a-foreign-step",
    ),
    pytest.param(
        VALID.replace(
            "    role: unit_head\n  done:",
            "    role: unit_head\n    minimum: {working_days: 3, basis: b}\n  done:",
        ),
        [
            "18: minimum of state 'review' holds back no step (returns and ends never wait); "
            "list the steps that wait under `steps`"
        ],
        id="minimum-holds-back-nothing",
    ),
]


def test_a_minimum_within_the_time_limit_passes(tmp_path: Path) -> None:
    text = _on_draft(
        "deadline: {working_days: 5, basis: a}", "minimum: {working_days: 4, basis: b}"
    )
    code, _, lines = check(tmp_path, text)
    assert (code, lines) == (0, [])


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_each_error_is_reported_with_file_and_line(
    tmp_path: Path, text: str, expected: list[str]
) -> None:
    """One bad file per kind of error: exactly its FILE:LINE: message, exit code 1."""
    code, file, lines = check(tmp_path, text)
    assert code == 1
    assert lines == [f"{file}:{item}" for item in expected]


MANY_ERRORS = """\
name: demo
version: 1
title: {vi: Thử nghiệm, en: Demo}
colour: red
legal_basis: [Luật Thi đua, Khen thưởng 2022]
subject: [individual]
initial: draft
states:
  draft:
    title: {vi: Dự thảo, en: Draft}
    kind: proposal
    level: unit
    role: unit_officer
    icon: pen
  review:
    title: {vi: Xem xét, en: Review}
    kind: review
    level: unit
    role: unit_head
  stuck: {title: {vi: Kẹt, en: Stuck}, kind: review, level: unit, role: unit_head}
  limbo: {title: {vi: Treo, en: Limbo}, kind: review, level: unit, role: unit_head}
  done:
    title: {vi: Đã xong, en: Done}
    kind: terminal
transitions:
  - trigger: submit
    source: draft
    dest: review
    title: {vi: Trình, en: Submit}
    roles: [unit_officer]
    colour: blue
  - {trigger: decide, source: review, dest: done, title: {vi: a, en: a}, roles: [wizard]}
  - {trigger: park, source: review, dest: stuck, title: {vi: a, en: a}, roles: [unit_head]}
  - {trigger: close, source: limbo, dest: done, title: {vi: a, en: a}, roles: [unit_head]}
  - {trigger: escalate, source: review, dest: nowhere, title: {vi: a, en: a}, roles: [unit_head]}
  - {trigger: reopen, source: done, dest: review, title: {vi: a, en: a}, roles: [unit_head]}
  - {trigger: decide, source: review, dest: draft, title: {vi: a, en: a}, roles: [unit_head]}
  - {trigger: sign, source: review, dest: done, title: {vi: a, en: a}, roles: [unit_head],
     guards: [moon_phase]}
"""


def test_every_kind_of_error_is_reported_in_one_run(tmp_path: Path) -> None:
    """Unknown keys do not hide the semantic errors, nor bad edges the graph errors."""
    code, file, lines = check(tmp_path, MANY_ERRORS)
    assert code == 1
    assert sorted(lines) == sorted(
        f"{file}:{item}"
        for item in [
            # the typed model: unknown keys
            "4: unknown key 'colour'",
            "14: unknown key 'icon'",
            "31: unknown key 'colour'",
            # the semantic checks, on the rest of the document
            "32: unknown role 'wizard'",
            "35: transition 'escalate' goes to undeclared state 'nowhere'",
            "36: transition 'reopen' leaves terminal state 'done'",
            "37: trigger 'decide' is declared twice from state 'review' (first at transition 2)",
            "39: unknown guard 'moon_phase'",
            # the graph checks, over the declared states
            "21: state 'limbo' cannot be reached from 'draft'",
            "20: state 'stuck' cannot reach any terminal state",
        ]
    )
