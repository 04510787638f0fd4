"""The báo cáo sơ kết / tổng kết of a bloc's year as a document (DOCX/PDF through
`services.documents`): covenant and targets, every member's values, score and how it was
computed, the ranking and, at the year-end, the proposals of the vote."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from khenthuong.documents.settings import DocumentsConfig
from khenthuong.documents.text import short_date
from khenthuong.errors import Forbidden, KhenthuongError
from khenthuong.services import bloc_reviews
from khenthuong.services.access import can_read
from khenthuong.services.actors import Actor
from khenthuong.services.blocs import BlocView, bloc_view, unit_path
from khenthuong.services.covenants import covenant_of

ROUND_OF_KIND = {"bao-cao-so-ket": "so_ket", "bao-cao-tong-ket": "tong_ket"}
ROUND_TITLES = {"so_ket": "Sơ kết", "tong_ket": "Tổng kết"}


def require_report_reader(
    conn: Connection, view: BlocView, actor: Actor, inspecting: tuple[str, ...]
) -> None:
    """Members of the bloc that year, its organiser, and those who read them."""
    paths = [unit_path(conn, c) for c, _ in view.members] + [unit_path(conn, view.organiser)]
    if not any(can_read(actor, p, inspecting) for p in paths):
        raise Forbidden(f"Báo cáo của {view.name} ngoài phạm vi của {actor.display_name}")


def rule_text(view: BlocView) -> str:
    """The scoring rule in words, as the report states it."""
    rule = view.scoring
    text = (
        f"Mỗi chỉ tiêu đạt được tính điểm của chỉ tiêu (mặc định {rule.points_per_target:g}) "
        "nhân hệ số; chỉ tiêu không đạt không được điểm"
    )
    if rule.deductions:
        text += "; trừ điểm: " + ", ".join(
            f"{d.description} {d.points:g} điểm/trường hợp" for d in rule.deductions
        )
    return text + "."


def review_context(
    conn: Connection, cfg: DocumentsConfig, kind: str, code: str, year: int, actor: Actor,
    inspecting: tuple[str, ...], head: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """What the report template needs; `head` is the leader unit's document head."""
    round_ = ROUND_OF_KIND[kind]
    view = bloc_view(conn, code, year)
    require_report_reader(conn, view, actor, inspecting)
    covenant = covenant_of(conn, code, year)
    if covenant is None:
        raise KhenthuongError(f"{view.name} chưa phát động giao ước thi đua năm {year}")
    rows = bloc_reviews.score_table(conn, code, year, round_)
    proposals = bloc_reviews.proposals(conn, code, year) if round_ == "tong_ket" else []
    title = ROUND_TITLES[round_]
    return {
        **head,
        "parent_body": view.name.upper(),
        "summary": f"{title} phong trào thi đua năm {year} của {view.name}",
        "signer_prefix": f"TM. {view.kind_label.upper()}",
        "signer_title": view.leader_title.upper(),
        "signer_name": view.name_of(view.leader) if view.leader else "",
        "theme": covenant.theme,
        "launched": short_date(covenant.launched_on),
        "signed_count": sum(1 for s in covenant.signatures if s.signed_on),
        "member_count": len(covenant.signatures),
        "targets": [
            {
                "no": str(i),
                "code": t.code,
                "description": t.description,
                "condition": t.wording(),
                "points": f"{t.points or 0:g}",
                "weight": f"{t.weight:g}",
            }
            for i, t in enumerate(covenant.targets, 1)
        ],
        "rule_text": rule_text(view),
        "rows": [
            {
                "rank": str(r.rank),
                "name": r.unit_name,
                "values": "; ".join(f"{x.code}: {x.value:g}" for x in r.score.lines)
                if r.score
                else "chưa báo cáo",
                "how": r.score.explain() if r.score else "",
                "total": f"{r.total:g}",
            }
            for r in rows
        ],
        "proposals": [
            {
                "rank": str(p.rank),
                "name": p.unit_name,
                "score": f"{p.score:g}",
                "votes": str(p.votes),
                "award": p.award or "—",
            }
            for p in proposals
        ],
        "recipients": cfg.recipients.get(kind, []),
    }
