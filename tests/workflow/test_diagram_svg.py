"""The SVG diagram: every state once with its count, a link to its list, and the arrows."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from khenthuong.roles import roles_in
from khenthuong.workflow.diagram import SIDE_TRIGGERS, to_dot, to_mermaid, to_svg
from khenthuong.workflow.loader import load_registry
from tests.conftest import CONFIG, WORKFLOWS

NS = {"svg": "http://www.w3.org/2000/svg"}


def test_every_shipped_workflow_draws_as_valid_svg_with_counts() -> None:
    registry = load_registry([WORKFLOWS], known_roles=roles_in(CONFIG))
    for loaded in registry.latest():
        wf = loaded.definition
        counts = {name: i + 1 for i, name in enumerate(wf.states)}
        root = ET.fromstring(to_svg(wf, counts))
        links = root.findall("svg:a", NS)
        assert [a.get("data-state") for a in links] == list(wf.states)
        for a in links:
            state = a.get("data-state")
            assert a.get("href") == f"/nominations?workflow={wf.name}&state={state}"
            texts = [t.text for t in a.iter("{http://www.w3.org/2000/svg}text")]
            assert texts[-1] == str(counts[state])
        edges = sum(len(t.source) for t in wf.transitions)
        assert len(root.findall("svg:line", NS)) == edges
        dashed = [ln for ln in root.findall("svg:line", NS) if ln.get("stroke-dasharray")]
        assert len(dashed) == sum(
            len(t.source) for t in wf.transitions if t.trigger in SIDE_TRIGGERS
        )


def test_main_path_runs_left_to_right_and_side_states_sit_below() -> None:
    registry = load_registry([WORKFLOWS], known_roles=roles_in(CONFIG))
    wf = registry.get("bang_khen_bo").definition
    root = ET.fromstring(to_svg(wf, {}))
    where = {}
    for a in root.findall("svg:a", NS):
        rect = a.find(".//svg:rect", NS)
        assert rect is not None
        where[a.get("data-state")] = (float(rect.get("x", 0)), float(rect.get("y", 0)))
    main = ["draft", "unit_review", "ministry_appraisal", "ministry_council",
            "minister_decision", "decided"]  # fmt: skip
    xs = [where[s][0] for s in main]
    assert xs == sorted(xs) and len({where[s][1] for s in main}) == 1
    for side in ("rejected", "withdrawn", "revoked", "returned_to_unit"):
        assert where[side][1] > where["draft"][1]
    title = ET.fromstring(to_svg(wf, {}, lang="en")).find("svg:a//svg:text", NS)
    assert title is not None and title.text == "Unit drafts the"


def test_a_minimum_stay_is_drawn_in_its_state() -> None:
    """The Labour Order's public listing shows its minimum, with the legal basis as tooltip;
    mermaid and DOT say it too."""
    wf = load_registry([WORKFLOWS], known_roles=roles_in(CONFIG)).get("huan_chuong_lao_dong")
    definition = wf.definition
    root = ET.fromstring(to_svg(definition, {}))
    shown = {
        a.get("data-state"): a.find(".//svg:text[@class='minimum']", NS)
        for a in root.findall("svg:a", NS)
    }
    listing = shown.pop("publicity")
    assert listing is not None and listing.text == "tối thiểu 10 ngày làm việc"
    tooltip = listing.find("svg:title", NS)
    assert tooltip is not None and "Điều 46(2)" in (tooltip.text or "")
    assert all(found is None for found in shown.values())
    assert "note right of publicity : tối thiểu 10 ngày làm việc" in to_mermaid(definition)
    assert "(at least 10 working days)" in to_dot(definition, lang="en")
