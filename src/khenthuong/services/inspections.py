"""Cross-inspection plans (kiểm tra chéo): generate, store, publish, report, export."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from khenthuong.audit.append import append_event
from khenthuong.blocs.inspection_plan import InspectionPlan, Visit, check_plan, generate_plan
from khenthuong.calendar.workdays import add_working_days
from khenthuong.errors import Forbidden, KhenthuongError, NotFound
from khenthuong.services.access import READ_ALL_ROLES, reads_everything
from khenthuong.services.actors import Actor
from khenthuong.services.blocs import BlocView, bloc_view, leads, require_bloc_leader
from khenthuong.services.dossier import checked_file
from khenthuong.storage.blocs import (
    BLOCS,
    INSPECTION_DOCUMENTS,
    INSPECTION_PLANS,
    INSPECTION_VISITS,
)
from khenthuong.storage.db import inserted_id
from khenthuong.storage.models import UNITS
from khenthuong.storage.outbox import OUTBOX
from khenthuong.tabular import Column, Kind, workbook_bytes, write_csv

REPORT_DAYS = 5
"""Working days after a visit ends within which the inspector files its report."""


@dataclass(frozen=True)
class VisitRow:
    """A stored visit with unit codes and names."""

    id: int
    inspector: str
    inspector_name: str
    inspected: str
    inspected_name: str
    starts_on: date
    ends_on: date
    report_due_on: date
    score: float | None
    reported: bool


def _units(conn: Connection) -> dict[int, tuple[str, str]]:
    return {
        r.id: (r.code, r.name) for r in conn.execute(select(UNITS.c.id, UNITS.c.code, UNITS.c.name))
    }


def _stored_plans(conn: Connection, view: BlocView, before: int) -> list[InspectionPlan]:
    """The bloc's current plan of every year before `before`, oldest first."""
    plans = (
        conn.execute(
            select(INSPECTION_PLANS)
            .where(
                INSPECTION_PLANS.c.bloc_id == view.id,
                INSPECTION_PLANS.c.year < before,
                INSPECTION_PLANS.c.current.is_(True),
            )
            .order_by(INSPECTION_PLANS.c.year)
        )
        .mappings()
        .all()
    )
    if not plans:
        return []
    units = _units(conn)
    by_plan: dict[int, list[Visit]] = {int(p["id"]): [] for p in plans}
    for v in conn.execute(
        select(INSPECTION_VISITS)
        .where(INSPECTION_VISITS.c.plan_id.in_(list(by_plan)))
        .order_by(INSPECTION_VISITS.c.starts_on, INSPECTION_VISITS.c.id)
    ):
        by_plan[v.plan_id].append(
            Visit(
                units[v.inspector_unit_id][0], units[v.inspected_unit_id][0], v.starts_on, v.ends_on
            )
        )
    return [
        InspectionPlan(
            view.code,
            p["year"],
            p["seed"],
            tuple(by_plan[int(p["id"])]),
            frozenset(json.loads(p["early_resets"])),
        )
        for p in plans
    ]


def plan_history(conn: Connection, code: str, year: int) -> list[InspectionPlan]:
    """The bloc's current plans of every year before `year`, oldest first: the planner reads
    all of them, so a rotation cycle is whole however long ago it started (a bloc of 40
    members needs 39 years)."""
    return _stored_plans(conn, bloc_view(conn, code, year), year)


def plan_inspections(
    conn: Connection,
    code: str,
    year: int,
    *,
    actor: Actor,
    period_start: date | None = None,
    period_end: date | None = None,
    seed: int = 0,
) -> int:
    """Generate and store the year's plan; an earlier plan for the year is kept, not current."""
    view = bloc_view(conn, code, year)
    require_bloc_leader(conn, view, actor, admin=True)
    default_start, default_end = view.inspection_period(year)
    start = period_start or default_start
    end = period_end or default_end
    past = _stored_plans(conn, view, year)
    members = [c for c, _ in view.members]
    plan = generate_plan(
        code,
        year,
        members,
        period_start=start,
        period_end=end,
        history=past,
        seed=seed,
        window_days=view.window_days,
    )
    problems = check_plan(
        plan, members, past, window_days=view.window_days, period_start=start, period_end=end
    )
    if problems:
        raise KhenthuongError("Kế hoạch không hợp lệ: " + "; ".join(problems))
    conn.execute(
        update(INSPECTION_PLANS)
        .where(INSPECTION_PLANS.c.bloc_id == view.id, INSPECTION_PLANS.c.year == year)
        .values(current=False)
    )
    now = datetime.now(UTC)
    plan_id = inserted_id(
        conn.execute(
            insert(INSPECTION_PLANS).values(
                bloc_id=view.id,
                year=year,
                seed=seed,
                period_start=start,
                period_end=end,
                generated_by=actor.username,
                generated_at=now,
                current=True,
                early_resets=json.dumps(sorted(plan.early_resets)),
            )
        )
    )
    ids = {unit_code: unit_id for unit_id, (unit_code, _name) in _units(conn).items()}
    for visit in plan.visits:
        conn.execute(
            insert(INSPECTION_VISITS).values(
                plan_id=plan_id,
                inspector_unit_id=ids[visit.inspector],
                inspected_unit_id=ids[visit.inspected],
                starts_on=visit.start,
                ends_on=visit.end,
                report_due_on=add_working_days(visit.end, REPORT_DAYS),
            )
        )
    append_event(
        conn,
        f"inspection:{code}:{year}",
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger="plan_inspections",
        payload={
            "plan_id": plan_id,
            "seed": seed,
            "period": [start.isoformat(), end.isoformat()],
            "early_resets": sorted(plan.early_resets),
            "visits": [
                [v.inspector, v.inspected, v.start.isoformat(), v.end.isoformat()]
                for v in plan.visits
            ],
        },
        now=now,
    )
    return plan_id


def _current_plan_id(conn: Connection, view: BlocView, year: int) -> int:
    plan_id = conn.execute(
        select(INSPECTION_PLANS.c.id).where(
            INSPECTION_PLANS.c.bloc_id == view.id,
            INSPECTION_PLANS.c.year == year,
            INSPECTION_PLANS.c.current.is_(True),
        )
    ).scalar()
    if plan_id is None:
        raise NotFound(f"Khối {view.code} chưa có kế hoạch kiểm tra chéo năm {year}", en="No plan")
    return int(plan_id)


def visits(conn: Connection, code: str, year: int) -> list[VisitRow]:
    """The current plan's visits, in date order."""
    view = bloc_view(conn, code, year)
    plan_id = _current_plan_id(conn, view, year)
    units = _units(conn)
    return [
        VisitRow(
            v.id,
            *units[v.inspector_unit_id],
            *units[v.inspected_unit_id],
            v.starts_on,
            v.ends_on,
            v.report_due_on,
            v.score,
            v.reported_at is not None,
        )
        for v in conn.execute(
            select(INSPECTION_VISITS)
            .where(INSPECTION_VISITS.c.plan_id == plan_id)
            .order_by(INSPECTION_VISITS.c.starts_on, INSPECTION_VISITS.c.id)
        )
    ]


def publish(conn: Connection, code: str, year: int, *, actor: Actor) -> int:
    """Queue one notice per member (its visits as inspector and as inspected); returns count."""
    view = bloc_view(conn, code, year)
    rows = visits(conn, code, year)
    now = datetime.now(UTC)
    plan_id = _current_plan_id(conn, view, year)
    count = 0
    for member, _name in view.members:
        payload = {
            "bloc": code,
            "bloc_name": view.name,
            "year": year,
            "unit": member,
            "as_inspector": [
                [r.inspected_name, r.starts_on.isoformat(), r.ends_on.isoformat()]
                for r in rows
                if r.inspector == member
            ],
            "as_inspected": [
                [r.inspector_name, r.starts_on.isoformat(), r.ends_on.isoformat()]
                for r in rows
                if r.inspected == member
            ],
        }
        key = f"inspection:{plan_id}:{member}"
        if conn.execute(select(OUTBOX.c.id).where(OUTBOX.c.dedup_key == key)).first():
            continue
        conn.execute(
            insert(OUTBOX).values(
                dedup_key=key,
                kind="inspection_plan",
                payload=json.dumps(payload, ensure_ascii=False),
                created_at=now,
                available_at=now,
                status="pending",
                attempts=0,
            )
        )
        count += 1
    conn.execute(
        update(INSPECTION_PLANS).where(INSPECTION_PLANS.c.id == plan_id).values(published_at=now)
    )
    append_event(
        conn,
        f"inspection:{code}:{year}",
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger="publish_plan",
        payload={"plan_id": plan_id, "notices": count},
        now=now,
    )
    return count


def _visit(conn: Connection, visit_id: int) -> Row[Any]:
    visit = conn.execute(
        select(INSPECTION_VISITS).where(INSPECTION_VISITS.c.id == visit_id)
    ).first()
    if visit is None:
        raise NotFound(f"Không có lượt kiểm tra #{visit_id}", en=f"No visit #{visit_id}")
    return visit


def _require_inspecting_unit(conn: Connection, inspector_unit_id: int, actor: Actor) -> None:
    """Only the inspecting unit itself files its report: its own officers, or a grant scoped
    exactly to it; a grant over a unit above it (the ministry) or a read-only role is not
    enough."""
    inspector = conn.execute(
        select(UNITS.c.path, UNITS.c.code).where(UNITS.c.id == inspector_unit_id)
    ).one()
    own = [g for g in actor.grants if g.role not in READ_ALL_ROLES]
    if not own or (
        actor.unit_code != inspector.code and not any(g.scope_path == inspector.path for g in own)
    ):
        raise Forbidden(
            f"{actor.display_name} không thuộc đơn vị kiểm tra {inspector.code}",
            en=f"Not of the inspecting unit {inspector.code}",
        )


def record_report(
    conn: Connection, visit_id: int, *, findings: str, score: float, actor: Actor
) -> None:
    """The inspector files its report (findings and score) for one visit."""
    visit = _visit(conn, visit_id)
    if not 0 <= score <= 100:
        raise KhenthuongError(f"Điểm {score} phải từ 0 đến 100", en="Score must be 0..100")
    if not findings.strip():
        raise KhenthuongError("Cần ghi kết quả kiểm tra", en="Findings are required")
    _require_inspecting_unit(conn, visit.inspector_unit_id, actor)
    conn.execute(
        update(INSPECTION_VISITS)
        .where(INSPECTION_VISITS.c.id == visit_id)
        .values(
            findings=findings,
            score=score,
            reported_at=datetime.now(UTC),
            reported_by=actor.username,
        )
    )
    append_event(
        conn,
        f"inspection-visit:{visit_id}",
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger="report_inspection",
        payload={"score": score, "findings": findings},
    )


@dataclass(frozen=True)
class ReportDocument:
    """A document of an inspection report, as stored (without its content)."""

    id: int
    visit_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str


@dataclass(frozen=True)
class VisitParties:
    """Who a visit concerns: the two units (code and tree path) and the bloc's organiser."""

    visit_id: int
    inspector: str
    inspector_path: str
    inspected: str
    inspected_path: str
    bloc: str
    organiser_path: str
    year: int = 0
    """The year of the visit's plan (whose leader reads every report of that year)."""


def visit_parties(conn: Connection, visit_id: int) -> VisitParties:
    """The parties of a visit; NotFound when there is no such visit."""
    inspector = UNITS.alias("inspector")
    inspected = UNITS.alias("inspected")
    organiser = UNITS.alias("organiser")
    v = INSPECTION_VISITS
    row = conn.execute(
        select(
            inspector.c.code.label("inspector"),
            inspector.c.path.label("inspector_path"),
            inspected.c.code.label("inspected"),
            inspected.c.path.label("inspected_path"),
            BLOCS.c.code.label("bloc"),
            organiser.c.path.label("organiser_path"),
            INSPECTION_PLANS.c.year,
        )
        .select_from(v)
        .join(inspector, inspector.c.id == v.c.inspector_unit_id)
        .join(inspected, inspected.c.id == v.c.inspected_unit_id)
        .join(INSPECTION_PLANS, INSPECTION_PLANS.c.id == v.c.plan_id)
        .join(BLOCS, BLOCS.c.id == INSPECTION_PLANS.c.bloc_id)
        .join(organiser, organiser.c.id == BLOCS.c.organiser_unit_id)
        .where(v.c.id == visit_id)
    ).first()
    if row is None:
        raise NotFound(f"Không có lượt kiểm tra #{visit_id}", en=f"No visit #{visit_id}")
    return VisitParties(
        visit_id,
        row.inspector,
        row.inspector_path,
        row.inspected,
        row.inspected_path,
        row.bloc,
        row.organiser_path,
        int(row.year),
    )


def may_read_report(actor: Actor, parties: VisitParties) -> bool:
    """Auditors, either unit of the visit (or a grant over it), an administrator over the
    organiser (the year's leader: `require_report_reader`)."""
    if reads_everything(actor) or actor.unit_code in (parties.inspector, parties.inspected):
        return True
    paths = (parties.inspector_path, parties.inspected_path)
    if any(p.startswith(g.scope_path) for g in actor.grants for p in paths):
        return True
    return actor.grant_for(["admin"], parties.organiser_path) is not None


def report_refusal(actor: Actor, parties: VisitParties) -> str:
    return (
        f"{actor.display_name} không thuộc đơn vị kiểm tra {parties.inspector}, đơn vị được kiểm "
        f"tra {parties.inspected} hay khối trưởng khối {parties.bloc}"
    )


def require_report_reader(conn: Connection, visit_id: int, actor: Actor) -> VisitParties:
    """The visit's parties when `actor` may read its report and documents; Forbidden (with
    who may) otherwise, NotFound when there is no such visit."""
    parties = visit_parties(conn, visit_id)
    if not may_read_report(actor, parties) and not leads(
        conn, bloc_view(conn, parties.bloc, parties.year), actor
    ):
        raise Forbidden(report_refusal(actor, parties))
    return parties


def attach_report_document(
    conn: Connection,
    visit_id: int,
    *,
    filename: str,
    content: bytes,
    actor: Actor,
    max_bytes: int,
    content_type: str | None = None,
) -> ReportDocument:
    """Store one document of the visit's report (biên bản, minh chứng...) with its SHA-256,
    size and type, audited. The same checks as a dossier attachment: only the inspecting
    unit, not empty, within `max_bytes`, PDF, Word, Excel, JPEG, PNG or text."""
    visit = _visit(conn, visit_id)
    _require_inspecting_unit(conn, visit.inspector_unit_id, actor)
    name, kind = checked_file(filename, content, max_bytes, content_type)
    digest = hashlib.sha256(content).hexdigest()
    now = datetime.now(UTC)
    document_id = inserted_id(
        conn.execute(
            insert(INSPECTION_DOCUMENTS).values(
                visit_id=visit_id,
                filename=name,
                content_type=kind,
                size=len(content),
                sha256=digest,
                content=content,
                uploaded_by=actor.username,
                uploaded_at=now,
            )
        )
    )
    append_event(
        conn,
        f"inspection-visit:{visit_id}",
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger="attach_report_document",
        payload={
            "document_id": document_id,
            "filename": name,
            "content_type": kind,
            "size": len(content),
            "sha256": digest,
        },
        now=now,
    )
    return ReportDocument(document_id, visit_id, name, kind, len(content), digest, actor.username)


_DOCUMENT_FIELDS = select(
    *(
        INSPECTION_DOCUMENTS.c[name]
        for name in ("id", "visit_id", "filename", "content_type", "size", "sha256", "uploaded_by")
    )
)
"""A report document's stored fields in `ReportDocument`'s order (its content apart)."""


def report_documents(conn: Connection, visit_id: int, actor: Actor) -> list[ReportDocument]:
    """The documents of a visit's report, oldest first (without content), for a reader of
    the report (`require_report_reader`)."""
    require_report_reader(conn, visit_id, actor)
    docs = INSPECTION_DOCUMENTS.c
    query = _DOCUMENT_FIELDS.where(docs.visit_id == visit_id).order_by(docs.id)
    return [ReportDocument(*r) for r in conn.execute(query)]


def report_document(conn: Connection, document_id: int) -> ReportDocument:
    """What is stored about one report document (not its content); NotFound names the id."""
    row = conn.execute(_DOCUMENT_FIELDS.where(INSPECTION_DOCUMENTS.c.id == document_id)).first()
    if row is None:
        raise NotFound(
            f"Không có tài liệu kiểm tra #{document_id}",
            en=f"No inspection document #{document_id}",
        )
    return ReportDocument(*row)


def report_document_content(
    conn: Connection, document_id: int, actor: Actor
) -> tuple[ReportDocument, bytes]:
    """One report document and its bytes, for a reader of the visit's report."""
    document = report_document(conn, document_id)
    require_report_reader(conn, document.visit_id, actor)
    content = conn.execute(
        select(INSPECTION_DOCUMENTS.c.content).where(INSPECTION_DOCUMENTS.c.id == document_id)
    ).scalar_one()
    return document, bytes(content)


def export(rows: list[VisitRow], path: Path) -> None:
    """Write visits to CSV or XLSX (by the file name's suffix)."""
    header = [
        "Đơn vị kiểm tra",
        "Mã",
        "Đơn vị được kiểm tra",
        "Mã",
        "Từ ngày",
        "Đến ngày",
        "Hạn báo cáo",
        "Điểm",
    ]
    data = [
        [
            r.inspector_name,
            r.inspector,
            r.inspected_name,
            r.inspected,
            r.starts_on,
            r.ends_on,
            r.report_due_on,
            "" if r.score is None else r.score,
        ]
        for r in rows
    ]
    if path.suffix.lower() == ".xlsx":
        kinds: tuple[Kind, ...] = ("text",) * 4 + ("date",) * 3 + ("decimal",)
        columns = [Column(h, k) for h, k in zip(header, kinds, strict=True)]
        path.write_bytes(workbook_bytes("Kiểm tra chéo", columns, data))
        return
    text = [[f"{v:%d/%m/%Y}" if isinstance(v, date) else v for v in line] for line in data]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        write_csv(handle, header, text)
