"""The audit trail: search, export and chain verification."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from khenthuong.audit.query import AuditFilter
from khenthuong.audit.verify import verify_all
from khenthuong.dates import BadDate, parse_date
from khenthuong.services.access import readable_paths
from khenthuong.storage.db import reading
from khenthuong.storage.models import UNITS, USERS
from khenthuong.web.api_reference import VERIFY_REFUSED, audit_rows, may_verify
from khenthuong.web.context import Caller, ctx_of, log_denied
from khenthuong.web.exports import Names, audit_xlsx
from khenthuong.web.i18n import keys_with, translate
from khenthuong.web.ui_common import _form_id, lang_of, render, ui_caller
from khenthuong.web.xlsx import xlsx_file

router = APIRouter(include_in_schema=False)


@router.get("/audit")
def audit_page(request: Request) -> Response:
    caller = ui_caller(request)
    ctx = ctx_of(request)
    q = request.query_params

    def day(name: str) -> datetime | None:
        if not q.get(name):
            return None
        try:  # dd/mm/yyyy as typed, or ISO
            found = parse_date(q[name])
        except BadDate:
            return None
        return datetime(found.year, found.month, found.day, tzinfo=UTC)

    nid = q.get("nomination_id", "")
    f = AuditFilter(
        actor=q.get("actor") or None, unit=q.get("unit") or None,
        workflow=q.get("workflow") or None, trigger=q.get("trigger") or None,
        state=q.get("state") or None, nomination_id=_form_id(nid),
        since=day("since"), until=day("until"), limit=2000,
    )  # fmt: skip
    searched = any(q.get(k) for k in ("actor", "unit", "workflow", "trigger", "state",
                                       "nomination_id", "since", "until"))  # fmt: skip
    rows = audit_rows(request, caller, f) if searched else []
    if q.get("format") == "xlsx":  # as GET /api/audit/events?format=xlsx: oldest first
        with reading(ctx.rt.engine) as conn:
            content = audit_xlsx(Names(ctx, conn, lang_of(request)), rows)
        return xlsx_file("nhat-ky.xlsx", content)
    rows = list(reversed(rows))
    report = None
    if q.get("verify"):
        if not may_verify(caller.actor):
            log_denied(ctx, request, caller.actor.username, VERIFY_REFUSED)
            return render(request, "error.html", caller, 403, message=VERIFY_REFUSED)
        with ctx.rt.engine.connect() as conn:
            report = verify_all(conn)
    export_url = f"/audit?{urlencode({**dict(q.items()), 'format': 'xlsx'})}"
    return render(
        request, "audit.html", caller, rows=rows, q=q, searched=searched, report=report,
        export_url=export_url, can_verify=may_verify(caller.actor),
        workflows=ctx.rt.registry.latest(), **_choices(request, caller),
    )  # fmt: skip


def _choices(request: Request, caller: Caller) -> dict[str, Any]:
    """The filter's choices by name, each with its code as the value: the units the caller
    reads, the officers of those units, the steps (kinds of event) and the states of the
    award paths."""
    ctx = ctx_of(request)
    lang = lang_of(request)
    paths = readable_paths(caller.actor, caller.inspecting)

    def text(label: Any) -> str:
        return str(label.en if lang == "en" else label.vi)

    with reading(ctx.rt.engine) as conn:
        units = [
            u
            for u in conn.execute(
                select(UNITS.c.code, UNITS.c.name, UNITS.c.path).order_by(UNITS.c.path)
            )
            if paths is None or any(u.path.startswith(p) for p in paths)
        ]
        codes = {u.code for u in units}
        officers = [
            o
            for o in conn.execute(
                select(USERS.c.username, USERS.c.full_name, UNITS.c.code)
                .join(UNITS, UNITS.c.id == USERS.c.unit_id, isouter=True)
                .order_by(USERS.c.full_name)
            )
            if paths is None or o.code in codes
        ]
    steps: dict[str, str] = {}
    states: dict[str, str] = {}
    for w in ctx.rt.registry.latest():
        for t in w.definition.transitions:
            steps.setdefault(t.trigger, text(t.title))
    steps.setdefault("create", translate("step_create", lang))
    for key in keys_with("trigger_", lang):  # events outside the award paths, by name
        steps.setdefault(key.removeprefix("trigger_"), translate(key, lang))
        for name, state in w.definition.states.items():
            states.setdefault(name, text(state.title))
    q = request.query_params  # a code asked for by link keeps its place in the choices
    for chosen, names in ((q.get("trigger"), steps), (q.get("state"), states)):
        if chosen:
            names.setdefault(chosen, chosen)
    return {
        "units": units,
        "officers": officers,
        "steps": sorted(steps.items(), key=lambda kv: kv[1]),
        "states": sorted(states.items(), key=lambda kv: kv[1]),
    }
