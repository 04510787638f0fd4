"""Decisions: those signed in scope, signing one, one decision with its money."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import func, select

from khenthuong.errors import KhenthuongError
from khenthuong.rules.catalog import catalog_in
from khenthuong.services import decisions
from khenthuong.services import nominations as svc
from khenthuong.services.access import can_read, readable_paths
from khenthuong.services.guard_facts import award_code_of
from khenthuong.services.listing import my_queue
from khenthuong.services.registers import decision_summaries
from khenthuong.storage.db import reading, write_tx
from khenthuong.storage.decisions import DECISION_ITEMS, DECISIONS
from khenthuong.storage.models import UNITS
from khenthuong.web.api_councils import (
    decision_exists,
    decision_scope,
    decision_workbook,
    duplicate_number,
)
from khenthuong.web.context import Caller, ctx_of, local_today, log_denied
from khenthuong.web.exports import XLSX_ROWS, Names, decisions_xlsx
from khenthuong.web.i18n import translate
from khenthuong.web.ui_common import (
    _error_text,
    _form_date,
    _form_ids,
    _posted,
    check_csrf,
    done,
    lang_of,
    refusal_text,
    render,
    ui_caller,
)
from khenthuong.web.xlsx import xlsx_file

router = APIRouter(include_in_schema=False)
SIGNING_ROLES = frozenset({"unit_head", "minister", "prime_minister", "president"})


# --------------------------------------------------------------------------- decisions


def _decisions_page(
    request: Request, caller: Caller, error: str | None = None, status_code: int = 200
) -> Response:
    ctx = ctx_of(request)
    paths = readable_paths(caller.actor, caller.inspecting)
    with reading(ctx.rt.engine) as conn:
        signed = list(
            conn.execute(
                select(
                    DECISIONS.c.number, DECISIONS.c.decided_on, DECISIONS.c.signer,
                    DECISIONS.c.award_code, UNITS.c.code, UNITS.c.path,
                    func.count(DECISION_ITEMS.c.id).label("items"),
                    func.sum(DECISION_ITEMS.c.amount_vnd).label("total"),
                )
                .join(UNITS, UNITS.c.id == DECISIONS.c.authority_unit_id)
                .join(DECISION_ITEMS, DECISION_ITEMS.c.decision_id == DECISIONS.c.id)
                .where(decision_scope(paths))
                .group_by(DECISIONS.c.id, UNITS.c.code, UNITS.c.path)
                .order_by(DECISIONS.c.id.desc())
                .limit(500)
            ).mappings()
        )  # fmt: skip
        waiting = [
            r
            for r in my_queue(conn, ctx.rt.registry, caller.actor, limit=500)
            if "decide" in r["actions"]
        ]
    if request.query_params.get("format") == "xlsx":
        with reading(ctx.rt.engine) as conn:  # the API's export (GET /api/decisions?format=xlsx)
            rows = decision_summaries(conn, paths, limit=XLSX_ROWS)
            content = decisions_xlsx(Names(ctx, conn, lang_of(request)), rows)
        return xlsx_file("quyet-dinh.xlsx", content)
    authorities = [g.scope_code for g in caller.actor.grants if g.role in SIGNING_ROLES]
    return render(
        request, "decisions.html", caller, status_code, signed=signed, waiting=waiting,
        authorities=authorities, today=local_today().isoformat(), error=error,
    )  # fmt: skip


@router.get("/decisions")
def decisions_page(request: Request) -> Response:
    """Signed decisions in scope, and the nominations waiting for the caller's signature."""
    return _decisions_page(request, ui_caller(request))


@router.post("/decisions")
async def sign_decision(request: Request) -> Response:
    """One decision covering every selected nomination (the same award for all)."""
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        ids = _form_ids(form, "nomination_id")
        if not ids:
            raise KhenthuongError(translate("nothing_selected", lang_of(request)))
        catalog = catalog_in(ctx.rt.settings.config_dir)
        number = str(form.get("number", "")).strip()
        day = str(form.get("decided_on", "")).strip()
        decided_on = _form_date(day, "decided_on", local_today())
        with write_tx(ctx.rt.engine) as conn:
            if decision_exists(conn, number, decided_on):
                return _decisions_page(request, caller, duplicate_number(number), 409)
            codes = {award_code_of(svc.get_row(conn, nid), catalog) for nid in ids}
            if len(codes) != 1 or None in codes:
                raise KhenthuongError(translate("one_award_per_decision", lang_of(request)))
            decisions.create_decision(
                conn, ctx.rt.registry, catalog, number=number, decided_on=decided_on,
                signer=str(form.get("signer") or caller.actor.display_name),
                authority=str(form.get("authority") or caller.actor.unit_code),
                award_code=str(codes.pop()), nomination_ids=ids, actor=caller.actor,
            )  # fmt: skip
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _decisions_page(request, caller, message, status)
    except ValueError as exc:
        message = translate("bad_date", lang_of(request), text=exc)
        return _decisions_page(request, caller, message, 422)
    url = f"/decisions/{quote(number, safe='')}?year={decided_on.year}"
    return done(request, url, "decision_signed", number=number, n=len(ids))


@router.get("/decisions/{number:path}")
def decision_page(request: Request, number: str) -> Response:
    """A decision with its nominees and award money; `?format=xlsx` exports it; `?year=`
    tells apart the same number in two years (serials restart every 1 January)."""
    caller = ui_caller(request)
    ctx = ctx_of(request)
    year = request.query_params.get("year", "")
    try:
        with reading(ctx.rt.engine) as conn:
            head, lines = decisions.decision_lines(
                conn, number, int(year) if year.isdigit() else None
            )
            paths = [svc.get_row(conn, x.nomination_id)["unit_path"] for x in lines]
    except KhenthuongError as exc:
        return render(
            request, "error.html", caller, 404, message=refusal_text(exc, lang_of(request))
        )
    if not all(can_read(caller.actor, p, caller.inspecting) for p in paths):
        log_denied(ctx, request, caller.actor.username, f"decision {number} outside scope")
        return render(
            request, "error.html", caller, 403, message=translate("outside_scope", lang_of(request))
        )
    if request.query_params.get("format") == "xlsx":
        with reading(ctx.rt.engine) as conn:  # the API's export of the decision
            content = decision_workbook(
                Names(ctx, conn, lang_of(request)), number, int(str(head["number_year"]))
            )
        return xlsx_file("quyet-dinh-" + str(head["number"]).replace("/", "-") + ".xlsx", content)
    from khenthuong.services.signatures import signed_files  # noqa: PLC0415

    return render(
        request, "decision.html", caller, d=head, lines=lines,
        total=sum(x.amount_vnd for x in lines), quoted=quote(number, safe=""),
        doc_key=quote(f"{head['number']}:{head['number_year']}", safe=""),
        signed=signed_files(ctx.rt.engine, int(str(head["id"])), ctx.rt.settings.trust_roots),
    )  # fmt: skip
