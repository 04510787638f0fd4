"""Render a workflow definition as a Mermaid or Graphviz DOT diagram (pure)."""

from __future__ import annotations

from khenthuong.workflow.definition import StateDef, StateKind, WorkflowDef


def _quote(text: str) -> str:
    return text.replace('"', "'")


def minimum_label(state: StateDef, lang: str = "vi") -> str | None:
    """The state's minimum stay in words (None without one)."""
    if state.minimum is None:
        return None
    n = state.minimum.working_days
    return f"tối thiểu {n} ngày làm việc" if lang == "vi" else f"at least {n} working days"


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
        minimum = minimum_label(state, lang)
        if minimum is not None:
            lines.append(f"    note right of {name} : {minimum}")
    return "\n".join(lines) + "\n"


def to_dot(wf: WorkflowDef, *, lang: str = "vi") -> str:
    """Graphviz DOT text."""
    lines = [f'digraph "{wf.name}_v{wf.version}" {{', "    rankdir=LR;"]
    for name, state in wf.states.items():
        label = state.title.vi if lang == "vi" else state.title.en
        minimum = minimum_label(state, lang)
        if minimum is not None:
            label += f"\\n({minimum})"
        shape = "doublecircle" if state.kind is StateKind.terminal else "box"
        lines.append(f'    {name} [label="{_quote(label)}", shape={shape}];')
    for t in wf.transitions:
        label = t.title.vi if lang == "vi" else t.title.en
        for source in t.source:
            lines.append(f'    {source} -> {t.dest} [label="{_quote(label)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


SIDE_TRIGGERS = frozenset({"return_for_supplement", "reject", "withdraw", "revoke"})
"""Steps off the main path; drawn dashed, their destinations on the lower row."""

BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 150, 74, 28, 90, 16


def _wrap(text: str, width: int = 19, lines: int = 3) -> list[str]:
    out: list[str] = []
    for word in text.split():
        if out and len(out[-1]) + 1 + len(word) <= width:
            out[-1] += " " + word
        else:
            out.append(word)
    if len(out) > lines:
        out = out[:lines]
        out[-1] = out[-1][: width - 1] + "…"
    return out


def _layout(wf: WorkflowDef) -> dict[str, tuple[int, int]]:
    """(x, y) of each state: the main path left to right, side states on the row below."""
    order: list[str] = [wf.initial]
    for state in order:  # breadth first over forward steps; `order` grows while iterating
        for t in wf.transitions_from(state):
            if t.trigger not in SIDE_TRIGGERS and t.dest not in order:
                order.append(t.dest)
    main = [s for s in order if wf.states[s].kind is not StateKind.terminal]
    side = [s for s in wf.states if s not in main]
    pos = {name: (PAD + i * (BOX_W + GAP_X), PAD) for i, name in enumerate(main)}
    width = max(len(main), 1) * (BOX_W + GAP_X) - GAP_X
    step = width / max(len(side), 1)
    for i, name in enumerate(side):
        x = PAD + int(i * step + (step - BOX_W) / 2)
        pos[name] = (max(PAD, x), PAD + BOX_H + GAP_Y)
    return pos


def _esc(text: str) -> str:
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def to_svg(
    wf: WorkflowDef,
    counts: dict[str, int],
    *,
    lang: str = "vi",
    link: str = "/nominations?workflow={workflow}&state={state}",
) -> str:
    """An SVG diagram: one box per state with its live count, arrows for the steps."""
    pos = _layout(wf)
    width = max(x for x, _ in pos.values()) + BOX_W + PAD
    height = max(y for _, y in pos.values()) + BOX_H + PAD
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" class="workflow-svg" role="group" '
        f'aria-label="{_esc(wf.title.vi if lang == "vi" else wf.title.en)}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" '
        'fill="#52606d"/></marker></defs>',
    ]
    for t in wf.transitions:
        side = t.trigger in SIDE_TRIGGERS
        for source in t.source:
            (x1, y1), (x2, y2) = pos[source], pos[t.dest]
            if source == t.dest:
                continue
            ax, ay = x1 + BOX_W / 2, y1 + BOX_H / 2
            bx, by = x2 + BOX_W / 2, y2 + BOX_H / 2
            if y1 == y2:  # same row: edge to edge, forward or back
                ax, bx = (x1 + BOX_W, x2) if x2 > x1 else (x1, x2 + BOX_W)
                if x2 < x1:
                    ay, by = ay + 14, by + 14
            else:  # between rows: bottom of the upper box to top of the lower one
                ay, by = (y1 + BOX_H, y2) if y2 > y1 else (y1, y2 + BOX_H)
            dash = ' stroke-dasharray="5 4" opacity="0.55"' if side else ""
            title = t.title.vi if lang == "vi" else t.title.en
            parts.append(
                f'<line x1="{ax:.0f}" y1="{ay:.0f}" x2="{bx:.0f}" y2="{by:.0f}" stroke="#52606d" '
                f'stroke-width="1.4" marker-end="url(#arrow)"{dash}><title>{_esc(title)}'
                "</title></line>"
            )
    for name, state in wf.states.items():
        x, y = pos[name]
        kind = state.kind.value
        label = state.title.vi if lang == "vi" else state.title.en
        href = _esc(link.format(workflow=wf.name, state=name))
        count = counts.get(name, 0)
        parts.append(
            f'<a href="{href}" data-state="{name}" aria-label="{_esc(label)}: {count}">'
            f'<g class="node kind-{kind}">'
        )
        parts.append(f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="8" class="box"/>')
        minimum = minimum_label(state, lang)
        for i, line in enumerate(_wrap(label, lines=3 if minimum is None else 2)):
            parts.append(
                f'<text x="{x + 10}" y="{y + 22 + i * 17}" class="label">{_esc(line)}</text>'
            )
        if minimum is not None and state.minimum is not None:
            parts.append(
                f'<text x="{x + 10}" y="{y + BOX_H - 10}" class="minimum">{_esc(minimum)}'
                f"<title>{_esc(state.minimum.basis)}</title></text>"
            )
        parts.append(
            f'<circle cx="{x + BOX_W - 4}" cy="{y + 4}" r="15" class="badge"/>'
            f'<text x="{x + BOX_W - 4}" y="{y + 9}" class="count" text-anchor="middle">'
            f"{count}</text></g></a>"
        )
    parts.append("</svg>")
    return "".join(parts)
