"""Render a workflow definition as a Mermaid or Graphviz DOT diagram (pure)."""

from __future__ import annotations

from khenthuong.workflow.definition import StateKind, WorkflowDef


def _quote(text: str) -> str:
    return text.replace('"', "'")


def to_mermaid(wf: WorkflowDef, *, lang: str = "vi") -> str:
    """Mermaid `stateDiagram-v2` text."""
    lines = ["stateDiagram-v2", f"    [*] --> {wf.initial}"]
    for name, state in wf.states.items():
        label = state.title.vi if lang == "vi" else state.title.en
        lines.append(f'    state "{_quote(label)}" as {name}')
    for t in wf.transitions:
        label = t.title.vi if lang == "vi" else t.title.en
        for source in t.source:
            lines.append(f"    {source} --> {t.dest}: {_quote(label)}")
    for name, state in wf.states.items():
        if state.kind is StateKind.terminal:
            lines.append(f"    {name} --> [*]")
    return "\n".join(lines) + "\n"


def to_dot(wf: WorkflowDef, *, lang: str = "vi") -> str:
    """Graphviz DOT text."""
    lines = [f'digraph "{wf.name}_v{wf.version}" {{', "    rankdir=LR;"]
    for name, state in wf.states.items():
        label = state.title.vi if lang == "vi" else state.title.en
        shape = "doublecircle" if state.kind is StateKind.terminal else "box"
        lines.append(f'    {name} [label="{_quote(label)}", shape={shape}];')
    for t in wf.transitions:
        label = t.title.vi if lang == "vi" else t.title.en
        for source in t.source:
            lines.append(f'    {source} -> {t.dest} [label="{_quote(label)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"
