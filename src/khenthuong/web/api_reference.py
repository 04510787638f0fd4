"""/api: the caller, units, persons, workflows with diagrams, audit queries."""

from __future__ import annotations

import io
import json
from collections import Counter
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from khenthuong.audit.query import AuditFilter, query_events
from khenthuong.audit.verify import verify_all
from khenthuong.dates import VNDate
from khenthuong.errors import NotFound
from khenthuong.rules.catalog import catalog_in
from khenthuong.services.access import (
    can_read,
    is_read_only,
    readable_paths,
    reads_everything,
)
from khenthuong.services.actors import Actor
from khenthuong.services.history_import import record_one
from khenthuong.services.org import add_person, add_user
from khenthuong.storage.db import reading, write_tx
from khenthuong.storage.history import AWARD_RECORDS, BLOCKERS, INITIATIVES, YEARLY_RATINGS
from khenthuong.storage.models import NOMINATIONS, PERSONS, UNITS, USER_ROLES, USERS
from khenthuong.storage.paths import path_filter
from khenthuong.tabular import write_csv
from khenthuong.textsearch import clean_name, fold
from khenthuong.web.context import Caller, api_caller, ctx_of, deny
from khenthuong.web.exports import (
    XLSX_RESPONSE,
    FormatQuery,
    LangQuery,
    Names,
    audit_xlsx,
    workflows_xlsx,
)
from khenthuong.web.paging import (
    CursorQuery,
    Page,
    bad_cursor,
    cut,
    decode_cursor,
    limit_query,
    page_in_memory,
)
from khenthuong.web.schemas import MAX_ID, EventOut, IdPath
from khenthuong.web.xlsx import XLSX_TYPE, xlsx_file
from khenthuong.workflow.diagram import to_dot, to_mermaid

router = APIRouter(prefix="/api")
CallerDep = Annotated[Caller, Depends(api_caller)]


class GrantOut(BaseModel):
    role: str
    scope: str


class MeOut(BaseModel):
    username: str
    unit_code: str
    email: str
    read_only: bool
    grants: list[GrantOut]
    inspecting: list[str]


@router.get("/me", response_model=MeOut, tags=["users"])
def me(request: Request, caller: CallerDep) -> MeOut:
    """The signed-in user, their roles and the units they inspect today."""
    a = caller.actor
    return MeOut(
        username=a.username,
        unit_code=a.unit_code,
        email=a.email,
        read_only=is_read_only(a, ctx_of(request).rt.roles),
        grants=[GrantOut(role=g.role, scope=g.scope_code) for g in a.grants],
        inspecting=list(caller.inspecting),
    )


class UserOut(BaseModel):
    username: str
    full_name: str
    email: str
    unit_code: str
    active: bool
    grants: list[GrantOut]


class UserIn(BaseModel):
    """A new officer (admin only); the password is set with `khenthuong users set-password`."""

    model_config = ConfigDict(extra="forbid")
    username: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{1,79}$")
    full_name: str = Field(min_length=1, max_length=200)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)
    unit_code: str = Field(min_length=1, max_length=40)
    grants: list[GrantOut] = Field(min_length=1, max_length=20)


def _users(conn: Any, paths: tuple[str, ...] | None, username: str | None = None) -> list[UserOut]:
    scope = UNITS.alias("scope")
    query = (
        select(USERS.c.id, USERS.c.username, USERS.c.full_name, USERS.c.email, USERS.c.active,
               UNITS.c.code)
        .join(UNITS, UNITS.c.id == USERS.c.unit_id)
        .where(path_filter(UNITS.c.path, paths))
        .order_by(USERS.c.username)
    )  # fmt: skip
    if username:
        query = query.where(USERS.c.username == username)
    users = conn.execute(query).all()
    grants: dict[int, list[GrantOut]] = {}
    for g in conn.execute(
        select(USER_ROLES.c.user_id, USER_ROLES.c.role, scope.c.code)
        .join(scope, scope.c.id == USER_ROLES.c.scope_unit_id)
        .order_by(USER_ROLES.c.id)
    ):
        grants.setdefault(g.user_id, []).append(GrantOut(role=g.role, scope=g.code))
    return [
        UserOut(username=u.username, full_name=u.full_name, email=u.email, unit_code=u.code,
                active=u.active, grants=grants.get(u.id, []))
        for u in users
    ]  # fmt: skip


@router.get("/users", response_model=Page[UserOut], tags=["users"])
def users(
    request: Request, caller: CallerDep, cursor: CursorQuery = None, limit: int = limit_query()
) -> Page[UserOut]:
    """Officers whose home unit lies in the caller's units (everyone for auditors), by name."""
    with reading(ctx_of(request).rt.engine) as conn:
        found = _users(conn, readable_paths(caller.actor))
    return page_in_memory(found, lambda u: u.username, cursor, limit)


@router.post("/users", status_code=201, response_model=UserOut, tags=["users"])
def create_user(request: Request, caller: CallerDep, body: UserIn) -> UserOut:
    """Create an officer with roles over unit subtrees (administrators of that scope only)."""
    ctx = ctx_of(request)
    with reading(ctx.rt.engine) as conn:
        path = conn.execute(select(UNITS.c.path).where(UNITS.c.code == body.unit_code)).scalar()
    if path is None:
        raise NotFound(f"Không có đơn vị {body.unit_code!r}", en=f"No unit {body.unit_code!r}")
    if caller.actor.grant_for(["admin"], path) is None:
        raise deny(request, caller, "Chỉ quản trị hệ thống được tạo người dùng")
    with write_tx(ctx.rt.engine) as conn:
        add_user(
            conn, body.username, body.full_name, body.email, body.unit_code,
            [(g.role, g.scope) for g in body.grants], ctx.rt.roles,
        )  # fmt: skip
        return _users(conn, None, body.username)[0]


class UnitOut(BaseModel):
    code: str
    name: str
    level: str
    parent: str | None
    path: str


@router.get("/units", response_model=Page[UnitOut], tags=["units"])
def units(
    request: Request, caller: CallerDep, cursor: CursorQuery = None, limit: int = limit_query()
) -> Page[UnitOut]:
    """Units the caller may see (their subtrees; everything for auditors), parents first."""
    return page_in_memory(readable_units(request, caller), lambda u: u.path, cursor, limit)


def readable_units(request: Request, caller: Caller) -> list[UnitOut]:
    """Every unit the caller may see, in tree order."""
    paths = readable_paths(caller.actor, caller.inspecting)
    parent = UNITS.alias("parent")
    with reading(ctx_of(request).rt.engine) as conn:
        rows = conn.execute(
            select(
                UNITS.c.code, UNITS.c.name, UNITS.c.level, UNITS.c.path, parent.c.code.label("p")
            )
            .outerjoin(parent, parent.c.id == UNITS.c.parent_id)
            .where(path_filter(UNITS.c.path, paths))
            .order_by(UNITS.c.path)
        ).all()
    return [UnitOut(code=r.code, name=r.name, level=r.level, parent=r.p, path=r.path) for r in rows]


@router.get("/units/{code}", response_model=UnitOut, tags=["units"])
def unit(request: Request, caller: CallerDep, code: str) -> UnitOut:
    """One unit (404 if absent, 403 outside the caller's units)."""
    for u in readable_units(request, caller):
        if u.code == code:
            return u
    with reading(ctx_of(request).rt.engine) as conn:
        exists = conn.execute(select(UNITS.c.id).where(UNITS.c.code == code)).first()
    if exists is None:
        raise NotFound(f"Không có đơn vị {code!r}", en=f"No unit {code!r}")
    raise deny(request, caller, f"Đơn vị {code} ngoài phạm vi của bạn")


class PersonOut(BaseModel):
    id: int
    full_name: str
    unit_code: str
    position: str | None
    gender: str | None
    birth_year: int | None = None


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    full_name: str = Field(min_length=1, max_length=200)
    unit_code: str = Field(min_length=1, max_length=40)
    position: str | None = Field(default=None, max_length=200)
    gender: Literal["nam", "nữ"] | None = None
    birth_year: int | None = Field(default=None, ge=1900, le=2100)


@router.get("/persons", response_model=Page[PersonOut], tags=["persons"])
def persons(
    request: Request,
    caller: CallerDep,
    q: str | None = Query(None, max_length=200),
    unit: str | None = Query(None, max_length=40),
    cursor: CursorQuery = None,
    limit: int = limit_query(100, 1000),
) -> Page[PersonOut]:
    """People in the caller's units, by id; `q` matches names without regard to accents."""
    paths = readable_paths(caller.actor, caller.inspecting)
    query = (
        select(PERSONS, UNITS.c.code.label("unit_code"), UNITS.c.path)
        .join(UNITS, UNITS.c.id == PERSONS.c.unit_id)
        .where(path_filter(UNITS.c.path, paths))
        .order_by(PERSONS.c.id)
    )
    if cursor:
        query = query.where(PERSONS.c.id > decode_cursor(cursor, [int])[0])
    if unit:
        query = query.where(UNITS.c.code == unit)
    words = fold(q).split() if q else []
    out = []
    with reading(ctx_of(request).rt.engine) as conn:
        for r in conn.execute(query).mappings():
            name = fold(r["full_name"])
            if all(w in name for w in words):
                out.append(
                    PersonOut(
                        id=r["id"],
                        full_name=r["full_name"],
                        unit_code=r["unit_code"],
                        position=r["position"],
                        gender=r["gender"],
                        birth_year=r["birth_year"],
                    )
                )
                if len(out) > limit:
                    break
    page, next_cursor = cut(out, limit, lambda p: [p.id])
    return Page[PersonOut](items=page, next_cursor=next_cursor)


@router.post("/persons", status_code=201, response_model=PersonOut, tags=["persons"])
def create_person(request: Request, caller: CallerDep, body: PersonIn) -> PersonOut:
    """Register a person in one of the caller's units."""
    ctx = ctx_of(request)
    if is_read_only(caller.actor, ctx.rt.roles):
        raise deny(request, caller, "Tài khoản chỉ có quyền xem")
    with reading(ctx.rt.engine) as conn:
        path = conn.execute(select(UNITS.c.path).where(UNITS.c.code == body.unit_code)).scalar()
    if path is None:
        raise NotFound(f"Không có đơn vị {body.unit_code!r}", en=f"No unit {body.unit_code!r}")
    if not any(path.startswith(g.scope_path) for g in caller.actor.grants):
        raise deny(request, caller, f"Đơn vị {body.unit_code} ngoài phạm vi của bạn")
    with write_tx(ctx.rt.engine) as conn:
        pid = add_person(
            conn, body.full_name, body.unit_code, body.position, body.gender, body.birth_year
        )
    return PersonOut(
        id=pid,
        full_name=clean_name(body.full_name),
        unit_code=body.unit_code,
        position=body.position,
        gender=body.gender,
        birth_year=body.birth_year,
    )


class HistoryIn(BaseModel):
    """One history entry: a past award, a yearly rating, an initiative or a blocker."""

    model_config = ConfigDict(extra="forbid")
    record: Literal["award", "rating", "initiative", "blocker"]
    unit_code: str = Field(min_length=1, max_length=40)
    person: str | None = Field(default=None, min_length=1, max_length=200)
    year: int | None = Field(default=None, ge=1945, le=2100)
    code: str = Field(
        min_length=1,
        max_length=40,
        description="award code; rating htxs|htt|ht|kht; initiative scope; blocker kind",
    )
    decision_number: str | None = Field(default=None, max_length=80)
    decision_date: VNDate | None = Field(default=None, description="or a blocker's start")
    ends_on: VNDate | None = None
    title: str | None = Field(default=None, max_length=500, description="initiative or note")
    commendation_type: str | None = Field(default=None, max_length=20)
    level: str | None = Field(
        default=None,
        max_length=40,
        description="a discipline's measure: khien_trach, canh_cao, ha_bac_luong, giang_chuc, "
        "cach_chuc, buoc_thoi_viec (or its Vietnamese name)",
    )


class HistoryOut(BaseModel):
    """What eligibility is judged on: awards, yearly ratings, initiatives, blockers."""

    awards: list[dict[str, Any]]
    ratings: list[dict[str, Any]]
    initiatives: list[dict[str, Any]]
    blockers: list[dict[str, Any]]


@router.get("/persons/{person_id}/history", response_model=HistoryOut, tags=["persons"])
def person_history(request: Request, caller: CallerDep, person_id: IdPath) -> HistoryOut:
    """A person's history, newest first (404 if absent, 403 outside the caller's units)."""
    with reading(ctx_of(request).rt.engine) as conn:
        path = conn.execute(
            select(UNITS.c.path)
            .join(PERSONS, PERSONS.c.unit_id == UNITS.c.id)
            .where(PERSONS.c.id == person_id)
        ).scalar()
        if path is None:
            raise NotFound(f"Không có cá nhân #{person_id}", en=f"No person #{person_id}")
        if not can_read(caller.actor, path, caller.inspecting):
            forbidden = True
        else:
            forbidden = False

            def rows(table: Any, columns: tuple[str, ...], order: Any) -> list[dict[str, Any]]:
                query = select(*(table.c[c] for c in columns)).where(table.c.person_id == person_id)
                return [
                    {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in r.items()}
                    for r in conn.execute(query.order_by(order)).mappings()
                ]

            out = HistoryOut(
                awards=rows(AWARD_RECORDS, ("award_code", "year", "decision_number",
                            "decision_date", "commendation_type", "revoked"),
                            AWARD_RECORDS.c.year.desc()),
                ratings=rows(YEARLY_RATINGS, ("year", "rating"), YEARLY_RATINGS.c.year.desc()),
                initiatives=rows(INITIATIVES, ("year", "title", "scope", "recognised_on"),
                                 INITIATIVES.c.year.desc()),
                blockers=rows(BLOCKERS, ("kind", "level", "starts_on", "ends_on", "note"),
                              BLOCKERS.c.starts_on.desc()),
            )  # fmt: skip
    if forbidden:
        raise deny(request, caller, f"Cá nhân #{person_id} ngoài phạm vi của bạn")
    return out


@router.post("/history", status_code=201, tags=["persons"])
def record_history(request: Request, caller: CallerDep, body: HistoryIn) -> dict[str, str]:
    """Record history an eligibility check reads (unit officers of the person's unit)."""
    ctx = ctx_of(request)
    with reading(ctx.rt.engine) as conn:
        path = conn.execute(select(UNITS.c.path).where(UNITS.c.code == body.unit_code)).scalar()
    if path is None:
        raise NotFound(f"Không có đơn vị {body.unit_code!r}", en=f"No unit {body.unit_code!r}")
    if is_read_only(caller.actor, ctx.rt.roles) or not any(
        path.startswith(g.scope_path) for g in caller.actor.grants
    ):
        raise deny(request, caller, f"Đơn vị {body.unit_code} ngoài phạm vi của bạn")
    row = {
        "record": body.record, "person": body.person or "", "unit": body.unit_code,
        "year": str(body.year or ""), "code": body.code,
        "decision_number": body.decision_number or "",
        "decision_date": body.decision_date.isoformat() if body.decision_date else "",
        "ends_on": body.ends_on.isoformat() if body.ends_on else "", "title": body.title or "",
        "commendation_type": body.commendation_type or "", "level": body.level or "",
    }  # fmt: skip
    catalog = catalog_in(ctx.rt.settings.config_dir)
    with write_tx(ctx.rt.engine) as conn:
        record_one(conn, row, catalog=catalog)
    return {"record": body.record, "status": "recorded"}


class WorkflowOut(BaseModel):
    name: str
    version: int
    title: str
    title_en: str
    subject: list[str]
    legal_basis: list[str]


@router.get(
    "/workflows", response_model=Page[WorkflowOut], tags=["workflows"], responses=XLSX_RESPONSE
)
def workflows(
    request: Request,
    caller: CallerDep,
    cursor: CursorQuery = None,
    limit: int = limit_query(),
    format: FormatQuery = "json",
    lang: LangQuery = "vi",
) -> Any:
    """Every registered workflow version, by name and version (xlsx: the latest versions)."""
    ctx = ctx_of(request)
    if format == "xlsx":
        with reading(ctx.rt.engine) as conn:
            content = workflows_xlsx(
                Names(ctx, conn, lang), [w.definition for w in ctx.rt.registry.latest()]
            )
        return xlsx_file("quy-trinh.xlsx", content)
    found = [
        WorkflowOut(
            name=w.definition.name,
            version=w.definition.version,
            title=w.definition.title.vi,
            title_en=w.definition.title.en,
            subject=w.definition.subject,
            legal_basis=w.definition.legal_basis,
        )
        for w in ctx_of(request).rt.registry.all()
    ]
    return page_in_memory(found, lambda w: f"{w.name}:{w.version:06d}", cursor, limit)


@router.get("/workflows/{name}", tags=["workflows"])
def workflow(
    request: Request, caller: CallerDep, name: str, version: int | None = Query(None, ge=1)
) -> dict[str, Any]:
    """The validated definition (latest version unless `version` is given)."""
    loaded = ctx_of(request).rt.registry.get(name, version)
    return loaded.definition.model_dump(mode="json")


class DiagramOut(BaseModel):
    name: str
    version: int
    mermaid: str
    dot: str
    counts: dict[str, int]


def state_counts(request: Request, caller: Caller, name: str, version: int) -> dict[str, int]:
    """Nominations per state of one workflow version within the caller's units."""
    paths = readable_paths(caller.actor, caller.inspecting)
    n = NOMINATIONS
    with reading(ctx_of(request).rt.engine) as conn:
        rows = conn.execute(
            select(n.c.state, func.count())
            .where(
                n.c.workflow == name,
                n.c.workflow_version == version,
                path_filter(n.c.unit_path, paths),
            )
            .group_by(n.c.state)
        ).all()
    return Counter({r[0]: r[1] for r in rows})


@router.get("/workflows/{name}/diagram", response_model=DiagramOut, tags=["workflows"])
def diagram(
    request: Request,
    caller: CallerDep,
    name: str,
    version: int | None = Query(None, ge=1),
    lang: Literal["vi", "en"] = "vi",
) -> DiagramOut:
    """Mermaid and Graphviz text of the workflow, with live counts per state."""
    wf = ctx_of(request).rt.registry.get(name, version).definition
    return DiagramOut(
        name=wf.name,
        version=wf.version,
        mermaid=to_mermaid(wf, lang=lang),
        dot=to_dot(wf, lang=lang),
        counts=dict(state_counts(request, caller, wf.name, wf.version)),
    )


def _audit_filter(
    actor: str | None, unit: str | None, workflow: str | None, trigger: str | None,
    state: str | None, nomination_id: int | None, since: datetime | None,
    until: datetime | None, limit: int,
) -> AuditFilter:  # fmt: skip
    return AuditFilter(actor, unit, workflow, trigger, state, nomination_id, since, until, limit)


def audit_rows(request: Request, caller: Caller, f: AuditFilter) -> list[dict[str, Any]]:
    """Events matching `f` that the caller may read (auditors: all; officers: their units)."""
    scoped = replace(f, within=readable_paths(caller.actor, caller.inspecting))
    with reading(ctx_of(request).rt.engine) as conn:
        return list(query_events(conn, scoped))


@router.get(
    "/audit/events",
    response_model=Page[EventOut],
    tags=["audit"],
    responses={200: {"content": {"text/csv": {}, XLSX_TYPE: {}}}},
)
def audit_events(
    request: Request,
    caller: CallerDep,
    actor: str | None = Query(None, max_length=80),
    unit: str | None = Query(None, max_length=40),
    workflow: str | None = Query(None, max_length=80),
    trigger: str | None = Query(None, max_length=60),
    state: str | None = Query(None, max_length=60),
    nomination_id: int | None = Query(None, ge=1, le=MAX_ID),
    since: datetime | None = None,
    until: datetime | None = None,
    cursor: CursorQuery = None,
    limit: int = limit_query(1000, 10000),
    format: Literal["json", "csv", "xlsx"] = "json",
    lang: LangQuery = "vi",
) -> Any:
    """Who did what, when and why, oldest first; JSON pages, or CSV or Excel (one file of
    `limit` events from `cursor`; CSV with the payload as JSON, Excel with names)."""
    f = _audit_filter(actor, unit, workflow, trigger, state, nomination_id, since, until, limit)
    if cursor:
        at, last = decode_cursor(cursor, [str, int])
        try:
            f = replace(f, after=(datetime.fromisoformat(at), last))
        except ValueError:
            raise bad_cursor() from None
    if format == "json":
        rows, next_cursor = cut(
            audit_rows(request, caller, replace(f, limit=limit + 1)),
            limit,
            lambda r: [r["occurred_at"].isoformat(), r["id"]],
        )
        return Page[EventOut](items=[EventOut.of(r) for r in rows], next_cursor=next_cursor)
    if format == "xlsx":
        ctx = ctx_of(request)
        rows = audit_rows(request, caller, f)
        with reading(ctx.rt.engine) as conn:
            return xlsx_file("nhat-ky.xlsx", audit_xlsx(Names(ctx, conn, lang), rows))
    events = [EventOut.of(r) for r in audit_rows(request, caller, f)]
    buf = io.StringIO()
    fields = list(EventOut.model_fields)
    lines = []
    for e in events:
        data = e.model_dump(mode="json")
        data["payload"] = json.dumps(data["payload"], ensure_ascii=False, sort_keys=True)
        lines.append([data[k] for k in fields])
    write_csv(buf, fields, lines)
    return Response(buf.getvalue(), media_type="text/csv; charset=utf-8")


class VerifyOut(BaseModel):
    ok: bool
    events: int
    streams: int
    problem: str | None = Field(
        description="The first break, in Vietnamese (stream: event: what happened)"
    )
    problem_en: str | None = Field(default=None, description="The same in English")


VERIFY_REFUSED = "Chỉ kiểm tra viên và quản trị hệ thống được kiểm tra toàn vẹn toàn bộ nhật ký"


def may_verify(actor: Actor) -> bool:
    """Verifying reads every stream of the trail: auditors and administrators only."""
    return reads_everything(actor) or actor.has_role("admin")


@router.get(
    "/audit/verify",
    response_model=VerifyOut,
    tags=["audit"],
    responses={403: {"description": "Not an auditor or administrator"}},
)
def audit_verify(request: Request, caller: CallerDep) -> VerifyOut:
    """Check the whole hash chain; names the first altered, deleted or reordered event.

    The check spans every unit's records, so only auditors and administrators may run it.
    """
    if not may_verify(caller.actor):
        raise deny(request, caller, VERIFY_REFUSED)
    with ctx_of(request).rt.engine.connect() as conn:
        report = verify_all(conn)
    first = report.findings[0] if report.findings else None
    return VerifyOut(
        ok=report.ok,
        events=report.events,
        streams=report.streams,
        problem=first.text("vi") if first is not None else None,
        problem_en=first.text("en") if first is not None else None,
    )
