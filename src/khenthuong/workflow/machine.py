"""Build one `transitions` Machine per (workflow, version) and fire events through it.

The machine is built once from the validated definition with `model=None` and
`auto_transitions=False` and shared by every nomination. Rows are never attached:
each step wraps the row's state in a throw-away `FlowAdapter` and dispatches the
event directly (`machine.events[trigger].trigger(adapter)`), the pattern the
transitions FAQ recommends for persisted objects. Nothing stays bound after a
step, so there is no `add_model` cost and no leak.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from transitions import Machine

from khenthuong.errors import Refusal
from khenthuong.workflow.definition import WorkflowDef

GuardRunner = Callable[[], list[Refusal]]


@dataclass
class FlowAdapter:
    """Carries one nomination's state through a machine event.

    `transitions` reads and writes `state` and calls `check_guards` as the
    transition's condition; refusals collected there explain a False.
    """

    state: str
    run_guards: GuardRunner | None = None
    refusals: list[Refusal] = field(default_factory=list)

    def check_guards(self) -> bool:
        """Condition callback: evaluates the step's named guards."""
        if self.run_guards is None:
            return True
        self.refusals = self.run_guards()
        return not self.refusals


def build_machine(wf: WorkflowDef) -> Machine:
    """The shared machine for one workflow version."""
    transitions = []
    for t in wf.transitions:
        spec: dict[str, object] = {
            "trigger": t.trigger,
            "source": list(t.source),
            "dest": t.dest,
        }
        if t.guards:
            spec["conditions"] = ["check_guards"]
        transitions.append(spec)
    return Machine(
        model=None,
        states=list(wf.states),
        transitions=transitions,
        initial=wf.initial,
        auto_transitions=False,
        send_event=False,
    )


def fire(machine: Machine, adapter: FlowAdapter, trigger: str) -> bool:
    """Fire `trigger` on `adapter`; True when the state changed."""
    return bool(machine.events[trigger].trigger(adapter))
