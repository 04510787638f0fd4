"""Alternative grounds of one award (pure): the points of an article, any one of which is
enough, e.g. the four points of Luật TĐKT 2022 Điều 74(1) for the Bằng khen cấp Bộ.

A ladder rule (khenthuong.rules.eligibility) judges the point that history can show (its
`basis`, e.g. 74.1.d: 2 consecutive CSTĐCS); the other points (`paths`) are shown by what
the officer attests for the nomination (the basis claimed and a short statement) and by the
document that confirms it in the dossier (Law Art 84(2): confirmations of special or sudden
achievements, of socio-economic or charitable contributions). A nomination passes when any
point is met; a refusal lists every point with what is missing for it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from khenthuong.doctypes import DOC_TYPES
from khenthuong.errors import Refusal

BASIS_PATTERN = r"^\d{1,3}(\.\d{1,2})?\.[a-zđ]$"
"""article.clause.point as the officer names it: 74.1.a (Điều 74 khoản 1 điểm a)."""


def basis_label(basis: str) -> str:
    """'74.1.a' -> 'Điều 74(1)(a)'; '75.b' -> 'Điều 75(b)'."""
    article, *rest = basis.split(".")
    return f"Điều {article}" + "".join(f"({part})" for part in rest)


class AttestedPath(BaseModel):
    """One point of the article that history cannot show: the officer attests it and the
    dossier holds the document that confirms it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    basis: str = Field(pattern=BASIS_PATTERN)
    """The point, e.g. 74.1.a."""
    title: str = Field(min_length=1)
    """What the point requires, in Vietnamese (what the officer attests)."""
    documents: tuple[str, ...] = ()
    """Document types (khenthuong.doctypes) the dossier must hold for this point."""
    source: str | None = None


@dataclass(frozen=True)
class Claim:
    """The basis a nomination claims and the officer's statement of the achievement."""

    basis: str
    statement: str = ""


def _missing(path: AttestedPath, claim: Claim | None, present: Collection[str]) -> list[str]:
    """What point `path` still lacks, in Vietnamese (empty: the point is met)."""
    missing = []
    if claim is None or claim.basis != path.basis:
        missing.append(f"hồ sơ chưa chọn căn cứ {path.basis} và xác nhận thành tích")
    elif not claim.statement.strip():
        missing.append("chưa có nội dung xác nhận thành tích")
    lacking = [d for d in path.documents if d not in present]
    if lacking:
        missing.append("thiếu " + ", ".join(DOC_TYPES.get(d, d) for d in lacking))
    return missing


def judge_grounds(
    ladder: Any,
    history_refusal: Refusal | None,
    claim: Claim | None,
    present: Collection[str],
) -> Refusal | None:
    """Any point of the article: the one history shows (`history_refusal` is the ladder's
    verdict on it) or an attested one (`ladder.paths`) with its claim and documents.

    With no attested paths the ladder's verdict stands unchanged."""
    paths: tuple[AttestedPath, ...] = getattr(ladder, "paths", ())
    if history_refusal is None or not paths:
        return history_refusal
    lines: list[tuple[str, str, list[str]]] = []
    for path in paths:
        missing = _missing(path, claim, present)
        if not missing:
            return None
        lines.append((path.basis, f"{basis_label(path.basis)} ({path.title})", missing))
    basis = getattr(ladder, "basis", None) or ""
    history_label = basis_label(basis) if basis else "Theo lịch sử thi đua"
    lines.append(
        (
            basis or "history",
            f"{history_label} (theo lịch sử thi đua)",
            [history_refusal.message_vi],
        )
    )
    lines.sort(key=lambda line: line[0])
    known = {p.basis for p in paths} | ({basis} if basis else set())
    unknown = (
        f"\nCăn cứ đã chọn {claim.basis} không thuộc các căn cứ của quy định áp dụng"
        if claim is not None and claim.basis not in known
        else ""
    )
    return Refusal(
        "eligible",
        "Chưa đáp ứng căn cứ nào (chỉ cần một căn cứ):\n"
        + "\n".join(f"- {label}: {'; '.join(missing)}" for _, label, missing in lines)
        + unknown,
        "meets none of the grounds: "
        + "; ".join(f"{b}: {len(m)} requirement(s) missing" for b, _, m in lines),
        {"grounds": {b: missing for b, _, missing in lines}},
    )
