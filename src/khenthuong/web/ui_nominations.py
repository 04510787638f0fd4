"""The nomination pages: the list, one nomination (steps, documents, timeline), a new one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from khenthuong.audit.query import history
from khenthuong.commendation import COMMENDATION_TYPES, commendation_type_of
from khenthuong.doctypes import DOC_TYPES
from khenthuong.errors import Forbidden, KhenthuongError, Refusal, StepRefused
from khenthuong.rules.catalog import catalog_in
from khenthuong.rules.eligibility import MERIT
from khenthuong.rules.paths import Claim
from khenthuong.services import decisions, dossier, stepping
from khenthuong.services import nominations as svc
from khenthuong.services.access import can_read, is_read_only, readable_paths
from khenthuong.services.campaigns import campaigns_for, nominate_for_campaign
from khenthuong.services.grounds import claim_of, grounds_for
from khenthuong.services.guard_facts import award_code_of
from khenthuong.services.guards import eligibility_preview
from khenthuong.services.listing import NominationFilter, list_nominations
from khenthuong.storage.db import reading, write_tx
from khenthuong.storage.decisions import DECISION_ITEMS, DECISIONS
from khenthuong.storage.models import PERSONS, UNITS
from khenthuong.web import exports
from khenthuong.web.context import Caller, WebContext, ctx_of, local_today
from khenthuong.web.i18n import translate
from khenthuong.web.names import Names
from khenthuong.web.schemas import IdPath, nomination_out
from khenthuong.web.ui_common import (
    _error_text,
    _form_date,
    _form_id,
    _outside_scope,
    _posted,
    _required_file,
    check_csrf,
    done,
    lang_of,
    refuse_read_only,
    render,
    ui_caller,
)
from khenthuong.web.xlsx import xlsx_file
from khenthuong.workflow.definition import StateKind
from khenthuong.workflow.minimum import waiting

router = APIRouter(include_in_schema=False)
CONFIRMED_STEPS = frozenset({"withdraw", "reject", "decide", "revoke"})
"""Steps asked for again before they are taken (besides every step into a final state)."""


def _filter_from(request: Request) -> NominationFilter:
    q = request.query_params

    def num(name: str) -> int | None:
        value = q.get(name, "").strip()
        return _form_id(value)

    overdue = {"1": True, "0": False}.get(q.get("overdue", ""))
    closed = {"1": True, "0": False}.get(q.get("closed", ""))
    return NominationFilter(
        workflow=q.get("workflow") or None,
        state=q.get("state") or None,
        unit=q.get("unit") or None,
        year=num("year"),
        overdue=overdue,
        closed=closed,
        q=q.get("q") or None,
        after=num("after"),
        limit=min(num("limit") or 50, 500),
    )


def _export(request: Request, items: list[Any], filename: str) -> Response:
    """A list of nominations as the API exports it (web.exports.nominations_xlsx)."""
    ctx = ctx_of(request)
    with reading(ctx.rt.engine) as conn:
        content = exports.nominations_xlsx(exports.Names(ctx, conn, lang_of(request)), items)
    return xlsx_file(filename, content)


@router.get("/nominations")
def nominations_page(request: Request) -> Response:
    caller = ui_caller(request)
    ctx = ctx_of(request)
    f = _filter_from(request)
    now = datetime.now(UTC)
    if request.query_params.get("format") == "xlsx":
        f = NominationFilter(**{**f.__dict__, "limit": 100_000, "after": None})
    paths = readable_paths(caller.actor, caller.inspecting)
    with reading(ctx.rt.engine) as conn:
        rows, cursor = list_nominations(conn, f, paths, now)
        units = [  # the filter's choices: the units the caller reads, by name
            u
            for u in conn.execute(select(UNITS.c.code, UNITS.c.name, UNITS.c.path).order_by(
                UNITS.c.path))
            if paths is None or any(u.path.startswith(x) for x in paths)
        ]  # fmt: skip
    items = [nomination_out(r, ctx.calendar, now) for r in rows]
    if request.query_params.get("format") == "xlsx":
        return _export(request, items, "ho-so.xlsx")
    params = {k: v for k, v in request.query_params.items() if k not in ("after", "format")}
    next_url = f"/nominations?{urlencode({**params, 'after': cursor})}" if cursor else None
    export_url = f"/nominations?{urlencode({**params, 'format': 'xlsx'})}"
    template = (
        "nomination_rows.html" if request.headers.get("hx-target") == "rows" else "nominations.html"
    )
    return render(
        request, template, caller, items=items, f=f, next_url=next_url, export_url=export_url,
        workflows=ctx.rt.registry.latest(), units=units,
    )  # fmt: skip


# --------------------------------------------------------------------------- one nomination


def _nomination_page(
    request: Request, caller: Caller, nid: int, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    ctx = ctx_of(request)
    now = datetime.now(UTC)
    with reading(ctx.rt.engine) as conn:
        row = svc.get_row(conn, nid)
        if not can_read(caller.actor, row["unit_path"], caller.inspecting):
            return _outside_scope(
                request, caller, status_code, f"nomination #{nid} outside scope",
                translate("nomination_outside", lang_of(request), id=nid),
            )  # fmt: skip
        unit_code = conn.execute(
            select(UNITS.c.code).where(UNITS.c.id == row["proposing_unit_id"])
        ).scalar()
        events = history(conn, nid)
        docs = dossier.documents(conn, nid)
        claim = claim_of(conn, nid)
        decision = conn.execute(
            select(DECISIONS.c.number, DECISIONS.c.decided_on, DECISIONS.c.signer,
                   DECISION_ITEMS.c.amount_vnd, DECISION_ITEMS.c.coefficient)
            .join(DECISION_ITEMS, DECISION_ITEMS.c.decision_id == DECISIONS.c.id)
            .where(DECISION_ITEMS.c.nomination_id == nid)
            .order_by(DECISIONS.c.id.desc())
        ).first()  # fmt: skip
    wf = ctx.rt.registry.get(row["workflow"], row["workflow_version"]).definition
    actions = (
        []
        if is_read_only(caller.actor, ctx.rt.roles)
        else svc.allowed_triggers(ctx.rt.registry, row, caller.actor)
    )
    item = nomination_out({**dict(row), "unit_code": unit_code}, ctx.calendar, now)
    lang = lang_of(request)
    names = Names(ctx, lang)

    def step_title(trigger: str) -> str:
        return names.step(row["workflow"], trigger, row["workflow_version"])

    confirms = {  # the steps that end the file or sign for it ask first, naming the outcome
        a.trigger: translate(
            "confirm_step", lang, step=step_title(a.trigger), id=nid, name=item.nominee_name,
            state=names.state(row["workflow"], a.dest, row["workflow_version"]),
        )
        for a in actions
        if a.trigger in CONFIRMED_STEPS or wf.state(a.dest).kind is StateKind.terminal
    }  # fmt: skip

    return render(
        request, "nomination.html", caller, status_code, item=item, row=row, wf=wf,
        events=events, docs=docs, actions=actions, doc_types=DOC_TYPES, error=error,
        step_title=step_title, decision=decision, claim=claim, confirms=confirms,
        commendation_types=COMMENDATION_TYPES, today=local_today().isoformat(),
        waits=waiting(ctx.calendar, wf, row["state"], actions, row["state_entered_at"], now),
    )  # fmt: skip


@router.get("/nominations/{nid}")
def nomination_page(request: Request, nid: IdPath) -> Response:
    return _nomination_page(request, ui_caller(request), nid)


@router.post("/nominations/{nid}/advance")
async def advance_form(request: Request, nid: IdPath) -> Response:
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        trigger = str(form.get("trigger", ""))
        payload = {
            k[len("f_") :]: str(v).strip()
            for k, v in form.items()
            if k.startswith("f_") and str(v).strip()
        }
        version = str(form.get("version", ""))
        if "decision_date" in payload:  # typed dd/mm/yyyy (or ISO): kept as ISO
            day = _form_date(payload["decision_date"], "decision_date", local_today())
            payload["decision_date"] = day.isoformat()
        if trigger == "decide" and "decision_number" in payload:
            return _decide(request, caller, nid, form, payload)
        step = stepping.advance(
            ctx.rt.engine, ctx.rt.registry, nid, trigger, caller.actor, payload,
            comment=str(form.get("comment", "")).strip() or None,
            expected_version=_form_id(version),
        )  # fmt: skip
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _nomination_page(request, caller, nid, message, status)
    return _step_done(request, nid, step.trigger, step.to_state)


def _step_done(request: Request, nid: int, trigger: str, to_state: str) -> Response:
    """Back to the nomination, saying which step was taken and where the file is now."""
    ctx = ctx_of(request)
    with reading(ctx.rt.engine) as conn:
        row = svc.get_row(conn, nid)
    names = Names(ctx, lang_of(request))
    wf, version = row["workflow"], row["workflow_version"]
    return done(
        request, f"/nominations/{nid}", "step_done", step=names.step(wf, trigger, version),
        id=nid, state=names.state(wf, to_state, version),
    )  # fmt: skip


def _decide(
    request: Request, caller: Caller, nid: int, form: Any, payload: dict[str, str]
) -> Response:
    ctx = ctx_of(request)
    catalog = catalog_in(ctx.rt.settings.config_dir)
    day = payload.get("decision_date") or local_today().isoformat()
    with write_tx(ctx.rt.engine) as conn:
        row = svc.get_row(conn, nid)
        code = award_code_of(row, catalog)
        if code is None:
            stepping.advance_in(conn, ctx.rt.registry, nid, "decide", caller.actor, payload)
        else:
            grant = next((g for g in caller.actor.grants if row["unit_path"].startswith(
                g.scope_path)), None)  # fmt: skip
            decisions.create_decision(
                conn, ctx.rt.registry, catalog, number=payload["decision_number"],
                decided_on=_form_date(day, "decision_date", local_today()),
                signer=str(form.get("signer") or caller.actor.display_name),
                authority=grant.scope_code if grant else caller.actor.unit_code,
                award_code=code, nomination_ids=[nid], actor=caller.actor,
            )  # fmt: skip
    return done(request, f"/nominations/{nid}", "decision_signed", number=payload[
        "decision_number"], n=1)  # fmt: skip


@router.post("/nominations/{nid}/documents")
async def upload_form(request: Request, nid: IdPath) -> Response:
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        limit = ctx.rt.settings.max_attachment_bytes
        upload, content = await _required_file(form, limit, lang_of(request))
        with write_tx(ctx.rt.engine) as conn:
            row = svc.get_row(conn, nid)
            if not any(row["unit_path"].startswith(g.scope_path) for g in caller.actor.grants):
                raise Forbidden(translate("nomination_outside", lang_of(request), id=nid))
            dossier.attach(
                conn, nid, doc_type=str(form.get("doc_type", "")),
                filename=upload.filename or "tai-lieu", content=content, actor=caller.actor,
                max_bytes=limit, content_type=upload.content_type,
            )  # fmt: skip
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _nomination_page(request, caller, nid, message, status)
    return done(request, f"/nominations/{nid}", "doc_attached", file=upload.filename or "")


@router.get("/documents/{doc_id}")
def document_download(request: Request, doc_id: IdPath) -> Response:
    from khenthuong.web.api_nominations import download  # noqa: PLC0415

    return download(request, ui_caller(request), doc_id)


# --------------------------------------------------------------------------- new nomination


def _new_context(request: Request, caller: Caller) -> dict[str, Any]:
    ctx = ctx_of(request)
    paths = readable_paths(caller.actor)
    proposer_units = []
    persons = []
    with reading(ctx.rt.engine) as conn:
        for u in conn.execute(
            select(UNITS.c.code, UNITS.c.name, UNITS.c.path).order_by(UNITS.c.path)
        ):
            if any(
                u.path.startswith(g.scope_path) and g.role == "unit_officer"
                for g in caller.actor.grants
            ):
                proposer_units.append(u)
        for p in conn.execute(
            select(PERSONS.c.id, PERSONS.c.full_name, UNITS.c.code, UNITS.c.path)
            .join(UNITS, UNITS.c.id == PERSONS.c.unit_id)
            .order_by(PERSONS.c.full_name)
        ):
            if paths is None or any(p.path.startswith(x) for x in paths):
                persons.append(p)
    now = datetime.now(UTC)
    grounds = [
        (w.definition.title.vi, found)
        for w in ctx.rt.registry.latest()
        if (found := grounds_for(w.definition.name, None, "", now))
    ]
    return {
        "workflows": ctx.rt.registry.latest(),
        "units": proposer_units,
        "persons": persons,
        "year": local_today().year,
        "commendation_types": COMMENDATION_TYPES,
        "grounds": grounds,
        "campaigns": _campaign_choices(ctx, caller),
    }


def _campaign_choices(ctx: WebContext, caller: Caller) -> list[Any]:
    """The campaigns covering a unit where the caller may propose (services.campaigns)."""
    paths = [g.scope_path for g in caller.actor.grants if g.role == "unit_officer"]
    with reading(ctx.rt.engine) as conn:
        return campaigns_for(conn, paths)


@router.get("/new")
def new_form(request: Request) -> Response:
    caller = ui_caller(request)
    return render(request, "new.html", caller, **_new_context(request, caller), error=None, form={})


@router.get("/new/check")
def new_check(request: Request) -> Response:
    """Eligibility feedback for the chosen person, award path and year (htmx fragment)."""
    caller = ui_caller(request)
    ctx = ctx_of(request)
    q = request.query_params
    person = q.get("person_id", "")
    workflow = q.get("workflow", "")
    year = q.get("year", "")
    person_id, year_no = _form_id(person), _form_id(year)
    if person_id is None or not workflow or year_no is None or year_no > 9999:
        return HTMLResponse("")
    with reading(ctx.rt.engine) as conn:
        row = conn.execute(
            select(UNITS.c.path).join(PERSONS, PERSONS.c.unit_id == UNITS.c.id).where(
                PERSONS.c.id == person_id)
        ).first()  # fmt: skip
        if row is None or not can_read(caller.actor, row.path):
            return HTMLResponse("")
        kind = commendation_type_of(q.get("commendation_type", "")) or MERIT
        basis = q.get("basis", "").strip()
        claim = Claim(basis, q.get("attestation", "")) if basis else None
        code, refusals = eligibility_preview(
            conn, workflow, person_id, year_no, local_today(), commendation_type=kind, claim=claim
        )
    return render(
        request, "eligibility.html", caller, code=code, refusals=refusals, person_id=person_id
    )


@router.post("/new")
async def new_submit(request: Request) -> Response:
    caller, ctx, form = await _posted(request)
    values = {k: str(v) for k, v in form.items()}
    try:
        check_csrf(request, caller, form)
        person = values.get("person_id", "")
        year = values.get("year", "")
        kind, basis = values.get("commendation_type") or "cong_trang", values.get("basis") or None
        attestation = values.get("attestation", "").strip() or None
        if basis and attestation and not values.get("attested"):
            raise StepRefused([Refusal(
                "field:attested", "Cần đánh dấu ô xác nhận thành tích theo căn cứ đã chọn",
                "tick the box attesting the achievement of the chosen basis",
            )])  # fmt: skip
        nid = nominate_for_campaign(
            ctx.rt.engine, ctx.rt.registry, _form_id(values.get("campaign", "")),
            workflow=values.get("workflow", ""),
            proposing_unit=values.get("proposing_unit", ""), actor=caller.actor,
            nominee_person_id=_form_id(person),
            nominee_unit_code=values.get("nominee_unit_code") or None,
            nominee_name=values.get("nominee_name") or None,
            create_person=values.get("create_person") == "1",
            year=_form_id(year),
            comment=values.get("comment") or None,
            commendation_type=commendation_type_of(kind) or kind,
            basis=basis, attestation=attestation,
        )  # fmt: skip
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return render(
            request, "new.html", caller, status, **_new_context(request, caller),
            error=message, form=values,
        )  # fmt: skip
    return done(request, f"/nominations/{nid}", "nomination_created", id=nid)
