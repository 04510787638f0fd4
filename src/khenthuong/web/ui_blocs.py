"""Emulation blocs and their cross-inspections."""

from __future__ import annotations

from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload

from khenthuong.errors import Forbidden, KhenthuongError
from khenthuong.services import inspections
from khenthuong.services.access import is_read_only
from khenthuong.services.blocs import bloc_codes, bloc_view
from khenthuong.storage.db import reading, write_tx
from khenthuong.web.api_inspections import download_report_document
from khenthuong.web.context import Caller, ctx_of, local_today
from khenthuong.web.exports import Names, blocs_xlsx, inspection_plan_xlsx, word
from khenthuong.web.i18n import translate
from khenthuong.web.schemas import IdPath
from khenthuong.web.ui_common import (
    _chosen_file,
    _error_text,
    _form_id,
    _posted,
    _required_file,
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


# --------------------------------------------------------------------------- blocs


@router.get("/blocs")
def blocs_page(request: Request) -> Response:
    """Emulation blocs and clusters with this year's leader."""
    caller = ui_caller(request)
    ctx = ctx_of(request)
    year = local_today().year
    views = []
    with reading(ctx.rt.engine) as conn:
        for code in bloc_codes(conn):
            try:
                views.append(bloc_view(conn, code, year))
            except KhenthuongError:
                continue  # no members this year
    if request.query_params.get("format") == "xlsx":
        with reading(ctx.rt.engine) as conn:  # the API's export (GET /api/blocs?format=xlsx)
            content = blocs_xlsx(Names(ctx, conn, lang_of(request)), views)
        return xlsx_file(f"khoi-thi-dua-{year}.xlsx", content)
    return render(request, "blocs.html", caller, views=views, year=year)


def _bloc_page(
    request: Request, caller: Caller, code: str, error: str | None = None, status_code: int = 200
) -> Response:
    ctx = ctx_of(request)
    q = request.query_params
    year = _form_id(q.get("year", "")) or local_today().year
    try:
        with reading(ctx.rt.engine) as conn:
            view = bloc_view(conn, code, year)
            try:
                visits = inspections.visits(conn, code, year)
            except KhenthuongError:
                visits = []
    except KhenthuongError as exc:
        return render(
            request, "error.html", caller, 404, message=refusal_text(exc, lang_of(request))
        )
    if q.get("format") == "xlsx":  # the API's export of the plan
        lang = lang_of(request)
        title = f"{word('inspection', lang)} {code} {year}"
        return xlsx_file(
            f"kiem-tra-cheo-{code}-{year}.xlsx", inspection_plan_xlsx(lang, title, visits)
        )
    mine = {g.scope_code for g in caller.actor.grants} | {caller.actor.unit_code}
    can_report = not is_read_only(caller.actor, ctx.rt.roles)
    docs: dict[int, list[inspections.ReportDocument]] = {}
    with reading(ctx.rt.engine) as conn:
        for v in visits:
            try:  # the service decides who reads a report; others see no documents
                docs[v.id] = inspections.report_documents(conn, v.id, caller.actor)
            except Forbidden:
                continue
    return render(
        request, "bloc.html", caller, status_code, b=view, visits=visits, year=year,
        mine=mine, can_report=can_report, error=error, docs=docs,
    )  # fmt: skip


@router.get("/blocs/{code}")
def bloc_page(request: Request, code: str) -> Response:
    """A bloc in a year: members, leader, the cross-inspection plan and its reports."""
    return _bloc_page(request, ui_caller(request), code)


@router.post("/blocs/{code}/visits/{vid}/report")
async def bloc_visit_report(request: Request, code: str, vid: IdPath) -> Response:
    """The inspecting unit files its findings and score for one visit."""
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        try:
            score = float(str(form.get("score", "")).replace(",", "."))
        except ValueError as exc:
            raise KhenthuongError(translate("bad_score", lang_of(request))) from exc
        limit = ctx.rt.settings.max_attachment_bytes
        chosen = await _chosen_file(form, limit)
        with write_tx(ctx.rt.engine) as conn:  # the report and its document, or neither
            inspections.record_report(
                conn, vid, findings=str(form.get("findings", "")), score=score,
                actor=caller.actor,
            )  # fmt: skip
            if chosen is not None:
                _attach_report_file(conn, vid, *chosen, caller, limit)
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _bloc_page(request, caller, code, message, status)
    return _back_to_bloc(request, code, form, "report_saved")


def _back_to_bloc(
    request: Request, code: str, form: FormData, key: str, **values: object
) -> RedirectResponse:
    """The bloc page of the year the form was posted from, with the message `key`."""
    year = _form_id(str(form.get("year", ""))) or local_today().year
    return done(request, f"/blocs/{quote(code, safe='')}?year={year}", key, **values)


def _attach_report_file(
    conn: Connection, vid: int, upload: StarletteUpload, content: bytes, caller: Caller, limit: int
) -> None:
    inspections.attach_report_document(
        conn, vid, filename=upload.filename or "tai-lieu", content=content, actor=caller.actor,
        max_bytes=limit, content_type=upload.content_type,
    )  # fmt: skip


@router.post("/blocs/{code}/visits/{vid}/documents")
async def bloc_visit_document(request: Request, code: str, vid: IdPath) -> Response:
    """The inspecting unit attaches one more document to its visit's report."""
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        limit = ctx.rt.settings.max_attachment_bytes
        upload, content = await _required_file(form, limit, lang_of(request))
        with write_tx(ctx.rt.engine) as conn:
            _attach_report_file(conn, vid, upload, content, caller, limit)
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _bloc_page(request, caller, code, message, status)
    return _back_to_bloc(request, code, form, "doc_attached", file=upload.filename or "")


@router.get("/inspections/documents/{doc_id}")
def inspection_document_download(request: Request, doc_id: IdPath) -> Response:
    """A report document, for the visit's two units, the bloc leader and auditors."""
    return download_report_document(request, ui_caller(request), doc_id)
