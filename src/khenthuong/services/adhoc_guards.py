"""The guard of the simplified procedure (thủ tục đơn giản, Luật TĐKT 2022, Điều 85) that
ad-hoc (đột xuất) award paths use: only the commendation types it is for, and its short
dossier (config/simplified.yaml) attached."""

from __future__ import annotations

from pathlib import Path

from khenthuong.commendation import COMMENDATION_TYPES
from khenthuong.doctypes import DOC_TYPES
from khenthuong.errors import Refusal
from khenthuong.rules.simplified import simplified_in
from khenthuong.services.guard_facts import council_facts, facts_for
from khenthuong.workflow.guards import GuardContext, guard


def _settings_dir() -> Path:
    from khenthuong.settings import get_settings  # noqa: PLC0415

    return get_settings().config_dir


@guard("simplified_procedure", prefetch=council_facts)
def simplified_procedure(ctx: GuardContext) -> Refusal | None:
    """The nomination is of a type the simplified procedure takes (đột xuất by default) and
    its dossier holds the documents that procedure asks for (tờ trình and a summary of the
    achievement by default); documents attached to its proposal batch count."""
    rules = simplified_in(_settings_dir())
    nom = ctx.nomination
    kind = nom["commendation_type"] or "cong_trang"
    if kind not in rules.commendation_types:
        allowed = " hoặc ".join(
            f"khen thưởng {COMMENDATION_TYPES[t]}" for t in rules.commendation_types
        )
        return Refusal(
            "simplified_procedure",
            f"Thủ tục đơn giản chỉ dành cho {allowed}; hồ sơ #{nom['id']} là khen thưởng "
            f"{COMMENDATION_TYPES.get(kind, kind)}: lập hồ sơ theo quy trình thường "
            f"(căn cứ: {rules.source})",
            f"the simplified procedure is only for {', '.join(rules.commendation_types)}; "
            f"nomination #{nom['id']} is {kind}",
            {"commendation_type": kind},
        )
    facts = facts_for(ctx, "simplified_procedure", council_facts)
    present = set(facts.present.get(nom["id"], frozenset()))
    missing = [d for d in rules.documents if d not in present]
    if not missing:
        return None
    return Refusal(
        "simplified_procedure",
        "Hồ sơ thủ tục đơn giản còn thiếu: " + "; ".join(DOC_TYPES[d] for d in missing),
        "missing documents of the simplified procedure: " + ", ".join(missing),
        {"missing": missing},
    )
