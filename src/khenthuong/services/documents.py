"""Generated documents: gather a decision's, session's, proposal's or bloc plan's data, check
who may read it, render it (khenthuong.documents) and record the file's SHA-256 on the audit
stream of what it documents (decision:ID, council:ID, inspection:BLOC:YEAR, proposal:UNIT).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, insert, select

from khenthuong.audit.append import append_event
from khenthuong.documents.render import Rendered, render, template_path
from khenthuong.documents.settings import DocumentsConfig, documents_config
from khenthuong.documents.text import date_line, decision_wording, long_date, money, short_date
from khenthuong.errors import Forbidden, KhenthuongError, NotFound
from khenthuong.localtime import LOCAL_TZ
from khenthuong.rules.catalog import Catalog
from khenthuong.services.access import can_read, inspection_paths
from khenthuong.services.actors import Actor
from khenthuong.services.decision_checks import find_decision
from khenthuong.services.decisions import decision_lines
from khenthuong.services.guard_facts import award_code_of
from khenthuong.services.nominations import get_row
from khenthuong.storage.councils import COUNCIL_ITEMS, COUNCIL_MEMBERS, COUNCIL_SESSIONS, RECUSALS
from khenthuong.storage.db import write_tx
from khenthuong.storage.decisions import DECISION_ITEMS
from khenthuong.storage.documents import GENERATED_FILES
from khenthuong.storage.models import NOMINATIONS, PERSONS, UNITS

KINDS = (
    "quyet-dinh", "danh-sach", "bang-khen", "bien-ban", "to-trinh", "ke-hoach-kiem-tra",
    "bao-cao-so-ket", "bao-cao-tong-ket",
)  # fmt: skip
"""What `khenthuong documents render KIND` makes; each has config/templates/KIND.docx."""
COMMENDATION_NAMES = {
    "cong_trang": "khen thưởng theo công trạng và thành tích đạt được",
    "dot_xuat": "khen thưởng đột xuất",
    "chuyen_de": "khen thưởng theo chuyên đề",
    "cong_hien": "khen thưởng quá trình cống hiến",
    "nien_han": "khen thưởng theo niên hạn",
    "doi_ngoai": "khen thưởng đối ngoại",
}
"""ND 98 Mẫu 01 footnote 5: the award types a tờ trình names."""
PART_ROWS = 200
"""Rows per table of a danh sách (templates loop over `individual_parts`): LibreOffice lays out
one table of thousands of rows in quadratic time, tables of a few hundred rows in linear."""


@dataclass(frozen=True)
class DocumentRequest:
    """What to render: the kind, the object's key, the format and who asks."""

    kind: str
    key: str
    fmt: str
    actor: Actor


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    path: str
    level: str
    parent_name: str | None
    parent_level: str | None


def _unit(conn: Connection, unit_id: int | None = None, code: str | None = None) -> Unit:
    parent = UNITS.alias("parent")
    query = select(
        UNITS.c.code, UNITS.c.name, UNITS.c.path, UNITS.c.level,
        parent.c.name.label("parent_name"), parent.c.level.label("parent_level"),
    ).outerjoin(parent, parent.c.id == UNITS.c.parent_id)  # fmt: skip
    query = query.where(UNITS.c.id == unit_id if code is None else UNITS.c.code == code)
    row = conn.execute(query).first()
    if row is None:
        raise NotFound(f"Không có đơn vị {code or unit_id!r}", en="No such unit")
    return Unit(*row)


def _parent_body(cfg: DocumentsConfig, unit: Unit) -> str:
    """The line above the issuer: configured, else the parent unit (none under the State)."""
    configured = cfg.unit(unit.code).parent_body
    if configured is not None:
        return configured
    if unit.parent_name is None or unit.parent_level == "national":
        return ""
    return unit.parent_name.upper()


def _head(cfg: DocumentsConfig, unit: Unit, number: str, on: date | None) -> dict[str, Any]:
    """Boxes 1–4 and the signer block shared by every administrative document."""
    settings = cfg.unit(unit.code)
    return {
        "parent_body": _parent_body(cfg, unit),
        "issuer": unit.name.upper(),
        "number": number,
        "date_line": date_line(settings.place or cfg.place, on),
        "signer_prefix": settings.signer_prefix,
        "signer_title": settings.signer_title or cfg.default_signer_title,
        "signer_name": "",
    }


def _position_unit(conn: Connection, nom: Any) -> tuple[bool, str]:
    """(is_collective, 'position, unit' of a person or the parent unit of a collective)."""
    if nom["nominee_person_id"] is not None:
        person = conn.execute(
            select(PERSONS.c.position, UNITS.c.name)
            .join(UNITS, UNITS.c.id == PERSONS.c.unit_id)
            .where(PERSONS.c.id == nom["nominee_person_id"])
        ).first()
        parts = [p for p in (person or ()) if p]
        return False, ", ".join(str(p) for p in parts)
    if nom["nominee_unit_id"] is not None:
        unit = _unit(conn, nom["nominee_unit_id"])
        return True, unit.parent_name or ""
    return False, ""


def _parts(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [rows[i : i + PART_ROWS] for i in range(0, len(rows), PART_ROWS)]


def _lists(rows: list[tuple[bool, dict[str, Any], int]]) -> dict[str, Any]:
    """Individuals and collectives numbered separately, with subtotals and the total."""
    individuals = [r for c, r, _ in rows if not c]
    collectives = [r for c, r, _ in rows if c]
    for group in (individuals, collectives):
        for i, r in enumerate(group, 1):
            r["no"] = str(i)
    ind_money = sum(m for c, _, m in rows if not c)
    col_money = sum(m for c, _, m in rows if c)
    counts = [f"{len(individuals)} cá nhân"] if individuals else []
    counts += [f"{len(collectives)} tập thể"] if collectives else []
    each = ["cá nhân"] if individuals else []
    each += ["tập thể"] if collectives else []
    return {
        "individuals": individuals,
        "collectives": collectives,
        "individual_parts": _parts(individuals),
        "collective_parts": _parts(collectives),
        "individual_heading": "I",
        "collective_heading": "II" if individuals else "I",
        "individual_count": len(individuals),
        "collective_count": len(collectives),
        "individual_money": money(ind_money),
        "collective_money": money(col_money),
        "total_money": money(ind_money + col_money),
        "counts_text": " và ".join(counts),
        "reward_each": "mỗi " + ", ".join(each),
    }


# --------------------------------------------------------------------------- decisions


def decision_of_key(conn: Connection, key: str) -> RowMapping:
    """The decision a document key names: its number (refused, naming the years, when the
    number exists in several years: serials restart every 1 January), or NUMBER:YEAR."""
    number, sep, year = key.rpartition(":")
    if sep and number and len(year) == 4 and year.isdigit():
        return find_decision(conn, number, int(year))
    return find_decision(conn, key)


def decision_key(decision: Any) -> str:
    """The unambiguous document key of a decision row: NUMBER:YEAR."""
    return f"{decision['number']}:{decision['number_year']}"


def decision_paths(conn: Connection, decision_id: int) -> list[str]:
    """Unit paths of a decision's nominations (the decision page reads them all)."""
    nominations = select(DECISION_ITEMS.c.nomination_id).where(
        DECISION_ITEMS.c.decision_id == decision_id
    )
    return [str(p) for p in conn.execute(
        select(NOMINATIONS.c.unit_path).where(NOMINATIONS.c.id.in_(nominations))
    ).scalars()]  # fmt: skip


def decision_context(
    conn: Connection, catalog: Catalog, cfg: DocumentsConfig, decision: RowMapping
) -> dict[str, Any]:
    """Everything the quyết định, its danh sách and its certificates show."""
    number = str(decision["number"])
    head, lines = decision_lines(conn, number, int(decision["number_year"]))
    authority = _unit(conn, int(str(head["authority_unit_id"])))
    award = catalog.award(str(head["award_code"]))
    decided_on = head["decided_on"]
    assert isinstance(decided_on, date)
    settings = cfg.unit(authority.code)
    rows: list[tuple[bool, dict[str, Any], int]] = []
    certificates = []
    years = set()
    proposers: dict[str, None] = {}
    for line in lines:
        nom = get_row(conn, line.nomination_id)
        years.add(int(nom["year"]))
        proposers[_unit(conn, nom["proposing_unit_id"]).name] = None
        collective, where = _position_unit(conn, nom)
        rows.append(
            (
                collective,
                {
                    "name": nom["nominee_name"],
                    "position_unit": where,
                    "award": award.name.vi,
                    "money": money(line.amount_vnd),
                },
                line.amount_vnd,
            )
        )
        certificates.append(
            {
                "heading": _certificate_heading(award.name.vi),
                "name": nom["nominee_name"],
                "position_unit": where,
                "achievement": (
                    f"Đã có thành tích xuất sắc trong công tác năm {nom['year']}"
                    if award.category == "form"
                    else f"Đạt danh hiệu {award.name.vi} năm {nom['year']}"
                ),
                "book_no": f"{line.nomination_id:05d}",
            }
        )
    issuer_title = settings.certificate_issuer or (
        f"{settings.signer_title or cfg.default_signer_title} {authority.name.upper()}"
    )
    lists = _lists(rows)
    year_text = ", ".join(str(y) for y in sorted(years))
    return {
        **_head(cfg, authority, number, decided_on),
        **_delegated_signer_block(head, settings.signer_title or cfg.default_signer_title),
        **lists,
        **decision_wording(award.name.vi, award.recognised, str(lists["counts_text"]), year_text),
        "signer_name": str(head["signer"]),
        "authority_title": issuer_title,
        "authority_name": authority.name,
        "issuer_title": issuer_title,
        "legal_bases": [f"Căn cứ {b}" for b in cfg.legal_bases],
        "proposal_line": "Xét đề nghị của "
        + ", ".join(proposers)
        + " và của Hội đồng Thi đua – Khen thưởng "
        + authority.name,
        "award_name": award.name.vi,
        "award_name_upper": award.name.vi.upper(),
        "year": year_text,
        "money_source": cfg.money_source,
        "executors": "Thủ trưởng các đơn vị có liên quan",
        "decided_short": short_date(decided_on),
        "recipients": cfg.recipients.get("quyet-dinh", []),
        "certificates": certificates,
    }


def _delegated_signer_block(head: Mapping[str, object], authority_title: str) -> dict[str, str]:
    """ND 30/2020's signer block of a decision signed under a delegation: the mode and the
    head's title on the first line (KT. BỘ TRƯỞNG), the signer's own title on the second."""
    mode = head.get("signer_mode")
    if not mode:
        return {}
    return {
        "signer_prefix": f"{mode}. {authority_title}",
        "signer_title": str(head.get("signer_title") or ""),
    }


def _certificate_heading(award_name: str) -> str:
    """BẰNG KHEN or GIẤY KHEN from the award's name; a title's certificate otherwise."""
    lowered = award_name.lower()
    for word in ("bằng khen", "giấy khen"):
        if lowered.startswith(word):
            return word.upper()
    return "BẰNG CHỨNG NHẬN"


# --------------------------------------------------------------------------- councils


def council_context(conn: Connection, catalog: Catalog, cfg: DocumentsConfig, session_id: int
                    ) -> tuple[str, dict[str, Any]]:  # fmt: skip
    """The biên bản of a closed session: (its unit path, the template context)."""
    session = (
        conn.execute(select(COUNCIL_SESSIONS).where(COUNCIL_SESSIONS.c.id == session_id))
        .mappings()
        .first()
    )
    if session is None:
        raise NotFound(f"Không có phiên họp #{session_id}", en=f"No council session #{session_id}")
    unit = _unit(conn, session["unit_id"])
    if session["status"] != "closed":
        raise KhenthuongError(
            f"Phiên họp #{session_id} chưa kết thúc: biên bản chỉ lập khi phiên họp đã đóng"
        )
    members = conn.execute(
        select(COUNCIL_MEMBERS)
        .where(COUNCIL_MEMBERS.c.session_id == session_id)
        .order_by(COUNCIL_MEMBERS.c.id)
    ).all()
    present = sum(1 for m in members if m.present)
    written = sum(1 for m in members if m.written_vote)
    items = []
    for i, item in enumerate(
        conn.execute(
            select(COUNCIL_ITEMS)
            .where(COUNCIL_ITEMS.c.session_id == session_id)
            .order_by(COUNCIL_ITEMS.c.id)
        ),
        1,
    ):
        nom = get_row(conn, item.nomination_id)
        code = award_code_of(nom, catalog)
        recused = conn.execute(
            select(COUNCIL_MEMBERS.c.full_name)
            .join(RECUSALS, RECUSALS.c.member_id == COUNCIL_MEMBERS.c.id)
            .where(RECUSALS.c.item_id == item.id)
        ).scalars().all()  # fmt: skip
        items.append(
            {
                "no": str(i),
                "name": nom["nominee_name"],
                "award": catalog.award(code).name.vi if code in catalog.awards else "",
                "agree": str(item.agree or 0)
                + (f" (+{item.written_agree} văn bản)" if item.written_agree else ""),
                "disagree": str(item.disagree or 0),
                "abstain": str(item.abstain or 0),
                "result": "Đạt" if item.result == "passed" else "Không đạt",
                "explanation": item.explanation or "",
                "recusal": f" (miễn biểu quyết: {', '.join(recused)})" if recused else "",
            }
        )
    closed_at = session["closed_at"]
    closed_local = (
        closed_at.replace(tzinfo=closed_at.tzinfo or UTC).astimezone(LOCAL_TZ)
        if isinstance(closed_at, datetime) else None
    )  # fmt: skip
    held_on = session["held_on"]
    return unit.path, {
        **_head(cfg, unit, "     /BB-HĐTĐKT", held_on),
        "parent_body": unit.name.upper(),
        "issuer": "HỘI ĐỒNG THI ĐUA – KHEN THƯỞNG",
        "summary": f"Họp Hội đồng Thi đua – Khen thưởng {unit.name}",
        "title": session["title"],
        "held_long": long_date(held_on),
        "members_total": len(members),
        "present": present,
        "absent": len(members) - present,
        "written": written,
        "members": [
            {
                "no": str(i),
                "name": m.full_name,
                "position": m.position or "Ủy viên",
                "attendance": "Có mặt"
                if m.present
                else ("Vắng (có ý kiến bằng văn bản)" if m.written_vote else "Vắng"),
            }
            for i, m in enumerate(members, 1)
        ],
        "quorum_text": "Phiên họp đủ số lượng thành viên theo quy định để biểu quyết.",
        "items": items,
        "chair": _office_holder(members, "chủ tịch", but_not="phó"),
        "secretary": _office_holder(members, "thư ký"),
        "closed_line": _closed_line(closed_local),
    }


def _office_holder(members: Sequence[Any], office: str, *, but_not: str = "") -> str:
    """The present member whose position names `office` (the chair signs as chủ tọa, the
    secretary as thư ký), else the vice-chair for the chair; empty when the minutes leave the
    name to be written by hand."""

    def holds(m: Any, word: str, exclude: str = "") -> bool:
        position = (m.position or "").casefold()
        return m.present and word in position and not (exclude and exclude in position)

    for m in members:
        if holds(m, office, but_not):
            return str(m.full_name)
    if office == "chủ tịch":
        return next((str(m.full_name) for m in members if holds(m, "phó chủ tịch")), "")
    return ""


def _closed_line(at: datetime | None) -> str:
    """'lúc 16 giờ 05 phút, ngày 10 tháng 12 năm 2026' (local time), empty if unknown."""
    return f"lúc {at:%H} giờ {at:%M} phút, {long_date(at.date())}" if at else ""


# --------------------------------------------------------------------------- tờ trình


def proposal_context(
    conn: Connection, catalog: Catalog, cfg: DocumentsConfig, nomination_ids: Sequence[int]
) -> tuple[Unit, list[str], dict[str, Any]]:
    """The tờ trình of nominations of one proposing unit: (unit, their paths, context).

    A proposal batch (đợt đề nghị) calls this with its members' ids."""
    ids = list(dict.fromkeys(nomination_ids))
    if not ids:
        raise KhenthuongError("Tờ trình cần ít nhất một hồ sơ", en="Give nomination ids")
    noms = [get_row(conn, i) for i in ids]
    proposers = {int(n["proposing_unit_id"]) for n in noms}
    if len(proposers) != 1:
        raise KhenthuongError(
            "Một tờ trình chỉ gồm hồ sơ của một đơn vị đề nghị: các hồ sơ "
            f"{', '.join(f'#{i}' for i in ids)} thuộc {len(proposers)} đơn vị"
        )
    unit = _unit(conn, proposers.pop())
    rows: list[tuple[bool, dict[str, Any], int]] = []
    awards: dict[str, None] = {}
    types: dict[str, None] = {}
    for nom in noms:
        code = award_code_of(nom, catalog)
        name = catalog.award(code).name.vi if code in catalog.awards else str(nom["workflow"])
        awards[name] = None
        types[COMMENDATION_NAMES.get(nom["commendation_type"], nom["commendation_type"])] = None
        collective, where = _position_unit(conn, nom)
        rows.append((collective, {"name": nom["nominee_name"], "position_unit": where,
                                  "award": name, "money": ""}, 0))  # fmt: skip
    receiver = unit.parent_name or unit.name
    awards_text = ", ".join(awards)
    year = ", ".join(sorted({str(n["year"]) for n in noms}))
    context = {
        **_head(cfg, unit, f"     /TTr-{unit.code}", None),
        **_lists(rows),
        "total_money": "",
        "summary": f"Về việc đề nghị tặng {awards_text}",
        "receiver": receiver,
        "proposer_name": unit.name,
        "legal_bases": cfg.legal_bases,
        "awards_text": awards_text,
        "awards_text_upper": awards_text.upper(),
        "commendation_type": "; ".join(types),
        "year": year,
        "dated": "",
        "recipients": cfg.recipients.get("to-trinh", []),
    }
    return unit, [str(n["unit_path"]) for n in noms], context


# --------------------------------------------------------------------------- kế hoạch


def plan_context(conn: Connection, cfg: DocumentsConfig, code: str, year: int) -> dict[str, Any]:
    """The kế hoạch kiểm tra chéo of a bloc's year (its current plan)."""
    from khenthuong.services.blocs import bloc_view  # noqa: PLC0415
    from khenthuong.services.inspections import REPORT_DAYS, visits  # noqa: PLC0415

    view = bloc_view(conn, code, year)
    rows = visits(conn, code, year)
    leader = _unit(conn, code=view.leader or view.organiser)
    start, end = view.inspection_period(year)
    return {
        **_head(cfg, leader, f"     /KH-{leader.code}", None),
        "parent_body": view.name.upper(),
        "summary": f"Kiểm tra chéo công tác thi đua, khen thưởng năm {year}",
        "signer_prefix": "TM. KHỐI THI ĐUA",
        "signer_title": "TRƯỞNG KHỐI",
        "signer_name": leader.name,
        "bloc_name": view.name,
        "year": year,
        "period_start": short_date(start),
        "period_end": short_date(end),
        "visit_count": len(rows),
        "visits": [
            {
                "no": str(i),
                "inspector": r.inspector_name,
                "inspected": r.inspected_name,
                "starts": short_date(r.starts_on),
                "ends": short_date(r.ends_on),
                "due": short_date(r.report_due_on),
            }
            for i, r in enumerate(rows, 1)
        ],
        "report_days": REPORT_DAYS,
        "leader_name": leader.name,
        "recipients": cfg.recipients.get("ke-hoach-kiem-tra", []),
    }


# --------------------------------------------------------------------------- render


def _stem(kind: str, key: str) -> str:
    safe = "".join(c if c.isalnum() else "-" for c in key).strip("-")
    return f"{kind}-{safe}"


def _require(actor: Actor, paths: Sequence[str], inspecting: tuple[str, ...], what: str) -> None:
    if not all(can_read(actor, p, inspecting) for p in paths):
        raise Forbidden(f"{what} ngoài phạm vi của {actor.display_name}", en="Outside your units")


def _bloc_key(key: str) -> tuple[str, int]:
    code, sep, year = key.rpartition(":")
    if not sep or not year.isdigit():
        raise KhenthuongError(f"{key!r}: ghi khối và năm dạng KHỐI:NĂM, ví dụ CY:2026")
    return code, int(year)


def record_file(
    conn: Connection,
    stream: str,
    req: DocumentRequest,
    rendered: Rendered,
    *,
    signer: str | None = None,
) -> None:
    """A row for the generated file: its hash always, its bytes when it is signed."""
    conn.execute(
        insert(GENERATED_FILES).values(
            stream=stream,
            kind=req.kind,
            doc_key=req.key,
            format=req.fmt,
            filename=rendered.filename,
            size=len(rendered.content),
            sha256=rendered.sha256,
            signed=signer is not None,
            signer=signer,
            content=rendered.content if signer is not None else None,
            created_by=req.actor.username,
            created_at=datetime.now(UTC),
        )
    )


def render_document(
    engine: Engine,
    catalog: Catalog,
    config_dir: Path,
    req: DocumentRequest,
    *,
    inspecting: tuple[str, ...] | None = None,
    soffice: str | None = None,
    stream: str | None = None,
) -> Rendered:
    """Check the actor may read the object, render KIND, and record the file's SHA-256.

    Keys: a decision number or NUMBER:YEAR (quyet-dinh, danh-sach, bang-khen), a session id
    (bien-ban),
    nomination ids separated by commas (to-trinh; `stream` names a batch's stream when a
    batch asks), BLOC:YEAR (ke-hoach-kiem-tra, bao-cao-so-ket, bao-cao-tong-ket)."""
    if req.kind not in KINDS:
        raise KhenthuongError(f"Loại văn bản {req.kind!r} không có: chọn {', '.join(KINDS)}")
    cfg = documents_config(config_dir)
    with engine.connect() as conn:
        if inspecting is None:
            inspecting = inspection_paths(conn, req.actor, datetime.now(LOCAL_TZ).date())
        if req.kind in ("quyet-dinh", "danh-sach", "bang-khen"):
            decision = decision_of_key(conn, req.key)
            _require(req.actor, decision_paths(conn, int(decision["id"])), inspecting,
                     f"Quyết định {decision['number']}")  # fmt: skip
            context = decision_context(conn, catalog, cfg, decision)
            target = f"decision:{decision['id']}"
        elif req.kind == "bien-ban":
            if not req.key.isdigit():
                raise KhenthuongError(f"{req.key!r}: ghi số phiên họp, ví dụ 12")
            path, context = council_context(conn, catalog, cfg, int(req.key))
            _require(req.actor, [path], inspecting, f"Phiên họp #{req.key}")
            target = f"council:{req.key}"
        elif req.kind == "to-trinh":
            try:
                ids = [int(x) for x in req.key.split(",") if x.strip()]
            except ValueError:
                raise KhenthuongError(
                    f"{req.key!r}: ghi số hồ sơ cách nhau bởi dấu phẩy, ví dụ 12,13,15"
                ) from None
            unit, paths, context = proposal_context(conn, catalog, cfg, ids)
            _require(req.actor, paths, inspecting, "Hồ sơ của tờ trình")
            target = stream or f"proposal:{unit.code}"
        elif req.kind in ("bao-cao-so-ket", "bao-cao-tong-ket"):
            from khenthuong.services import bloc_reports  # noqa: PLC0415
            from khenthuong.services.blocs import bloc_view  # noqa: PLC0415

            code, year = _bloc_key(req.key)
            view = bloc_view(conn, code, year)
            issuer = _unit(conn, code=view.leader or view.organiser)
            head = _head(cfg, issuer, f"     /BC-{issuer.code}", None)
            context = bloc_reports.review_context(
                conn, cfg, req.kind, code, year, req.actor, inspecting, head
            )
            target = f"bloc:{code}:{year}"
        else:
            code, year = _bloc_key(req.key)
            context = plan_context(conn, cfg, code, year)
            target = f"inspection:{code}:{year}"
    rendered = render(
        template_path(config_dir / "templates", req.kind),
        context,
        fmt=req.fmt,
        stem=_stem(req.kind, req.key),
        soffice=soffice,
    )
    with write_tx(engine) as conn:
        record_file(conn, target, req, rendered)
        append_event(
            conn,
            target,
            actor=req.actor.username,
            actor_unit=req.actor.unit_code,
            trigger="generate_document",
            payload={
                "kind": req.kind,
                "key": req.key,
                "format": req.fmt,
                "filename": rendered.filename,
                "bytes": len(rendered.content),
                "sha256": rendered.sha256,
            },
        )
    return rendered
