"""Council sessions: open one, set its agenda, enter the secret-ballot tallies, close it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from khenthuong.errors import KhenthuongError, NotFound
from khenthuong.rules.catalog import catalog_in
from khenthuong.services import councils
from khenthuong.services.access import can_read, readable_paths
from khenthuong.services.listing import NominationFilter, list_nominations
from khenthuong.services.registers import council_sessions
from khenthuong.storage.councils import COUNCIL_SESSIONS
from khenthuong.storage.db import reading, write_tx
from khenthuong.storage.models import UNITS
from khenthuong.web.api_councils import catalog_of, session_view
from khenthuong.web.context import Caller, WebContext, ctx_of, local_today
from khenthuong.web.exports import XLSX_ROWS, Names, councils_xlsx
from khenthuong.web.i18n import translate
from khenthuong.web.schemas import IdPath
from khenthuong.web.ui_common import (
    _error_text,
    _form_date,
    _form_ids,
    _outside_scope,
    _posted,
    check_csrf,
    done,
    lang_of,
    refusal_text,
    refuse_read_only,
    render,
    ui_caller,
)
from khenthuong.web.xlsx import xlsx_file

router = APIRouter(include_in_schema=False)


# --------------------------------------------------------------------------- councils


def _council_units(caller: Caller, ctx: WebContext) -> list[Any]:
    with reading(ctx.rt.engine) as conn:
        return [
            u
            for u in conn.execute(select(UNITS.c.code, UNITS.c.name, UNITS.c.path))
            if caller.actor.grant_for(["council_secretary"], u.path) is not None
            and any(g.scope_path == u.path for g in caller.actor.grants)
        ]


@router.get("/councils")
def councils_page(request: Request) -> Response:
    """Council sessions in the caller's units; `?format=xlsx` exports them."""
    return _councils_page(request, ui_caller(request))


def _councils_page(
    request: Request, caller: Caller, error: str | None = None, status_code: int = 200
) -> Response:
    ctx = ctx_of(request)
    paths = readable_paths(caller.actor, caller.inspecting)
    with reading(ctx.rt.engine) as conn:
        sessions = [
            s
            for s in conn.execute(
                select(COUNCIL_SESSIONS, UNITS.c.code, UNITS.c.path)
                .join(UNITS, UNITS.c.id == COUNCIL_SESSIONS.c.unit_id)
                .order_by(COUNCIL_SESSIONS.c.id.desc())
                .limit(200)
            ).mappings()
            if paths is None or any(s["path"].startswith(p) for p in paths)
        ]
    if request.query_params.get("format") == "xlsx":
        with reading(ctx.rt.engine) as conn:  # the API's export (GET /api/councils?format=xlsx)
            rows = council_sessions(conn, paths, limit=XLSX_ROWS)
            content = councils_xlsx(Names(ctx, conn, lang_of(request)), rows)
        return xlsx_file("phien-hop.xlsx", content)
    return render(
        request, "councils.html", caller, status_code, sessions=sessions,
        units=_council_units(caller, ctx), today=local_today().isoformat(), error=error,
    )  # fmt: skip


ABSENT_MARKS = ("(vắng)", "(absent)")
"""How a line of the members box marks an absent member, in either language of the form."""


def _members(text: str) -> list[councils.MemberIn]:
    members = []
    for line in text.splitlines():
        name = line.strip()
        if not name:
            continue
        absent = name.endswith(ABSENT_MARKS)
        for mark in ABSENT_MARKS:
            name = name.removesuffix(mark)
        name, _, position = name.partition(",")
        members.append(
            councils.MemberIn(
                full_name=" ".join(name.split()),
                present=not absent,
                position=" ".join(position.split()) or None,
            )
        )
    return members


@router.post("/councils")
async def council_open(request: Request) -> Response:
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        held = str(form.get("held_on", ""))
        title = str(form.get("title", "")).strip() or translate(
            "default_session_title", lang_of(request)
        )
        with write_tx(ctx.rt.engine) as conn:
            sid = councils.open_session(
                conn, str(form.get("unit", "")), title=title,
                held_on=_form_date(held, "held_on", local_today()),
                members=_members(str(form.get("members", ""))), actor=caller.actor,
            )  # fmt: skip
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _councils_page(request, caller, message, status)
    except ValueError as exc:
        message = translate("bad_date", lang_of(request), text=exc)
        return _councils_page(request, caller, message, 422)
    return done(request, f"/councils/{sid}", "session_opened", title=title)


def _session_page(
    request: Request, caller: Caller, sid: int, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    ctx = ctx_of(request)
    with reading(ctx.rt.engine) as conn:
        try:
            view = session_view(conn, sid, catalog_of(request))
        except NotFound as exc:
            return render(
                request, "error.html", caller, 404, message=refusal_text(exc, lang_of(request))
            )
        if not can_read(caller.actor, view["unit_path"], caller.inspecting):
            return _outside_scope(
                request, caller, status_code, f"council session #{sid} outside scope",
                translate("session_outside", lang_of(request), id=sid),
            )  # fmt: skip
        waiting: list[Any] = []
        if view["status"] == "open":
            from khenthuong.workflow.definition import StateKind  # noqa: PLC0415

            rows, _ = list_nominations(
                conn, NominationFilter(closed=False, limit=500), (view["unit_path"],),
                datetime.now(UTC),
            )  # fmt: skip
            on_agenda = {i["nomination_id"] for i in view["items"]}
            for r in rows:
                st = ctx.rt.registry.get(r["workflow"], r["workflow_version"]).definition.state(
                    r["state"]
                )
                if st.kind is StateKind.council and r["id"] not in on_agenda:
                    waiting.append(r)
    return render(
        request, "council.html", caller, status_code, s=view, waiting=waiting, error=error
    )


@router.get("/councils/{sid}")
def council_page(request: Request, sid: IdPath) -> Response:
    return _session_page(request, ui_caller(request), sid)


@router.post("/councils/{sid}/items")
async def council_items(request: Request, sid: IdPath) -> Response:
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        ids = _form_ids(form, "nomination_id")
        if not ids:
            raise KhenthuongError(translate("nothing_selected", lang_of(request)))
        with write_tx(ctx.rt.engine) as conn:
            for nid in ids:
                councils.add_item(conn, ctx.rt.registry, sid, nid, actor=caller.actor)
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _session_page(request, caller, sid, message, status)
    return done(request, f"/councils/{sid}", "items_added", n=len(ids))


@router.post("/councils/{sid}/tallies")
async def council_tallies(request: Request, sid: IdPath) -> Response:
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)

        def num(key: str) -> int:
            value = str(form.get(key, "0")).strip() or "0"
            if not value.isdigit() or len(value) > 5:
                raise KhenthuongError(translate("bad_number", lang_of(request), field=key))
            return int(value)

        ids = _form_ids(form, "nomination_id")
        with write_tx(ctx.rt.engine) as conn:
            for nid in ids:
                councils.record_tally(
                    conn, sid, nid, agree=num(f"agree_{nid}"), disagree=num(f"disagree_{nid}"),
                    abstain=num(f"abstain_{nid}"), actor=caller.actor,
                )  # fmt: skip
            if form.get("close"):
                catalog = catalog_in(ctx.rt.settings.config_dir)
                councils.close_session(conn, ctx.rt.registry, catalog, sid, actor=caller.actor)
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _session_page(request, caller, sid, message, status)
    if form.get("close"):
        return done(request, f"/councils/{sid}", "session_closed", n=len(ids))
    return done(request, f"/councils/{sid}", "tallies_saved")
