"""The **Phong trào thi đua** pages: the campaigns a reader may see, launching one (theme,
kind, dates, targets, the plan document), a campaign's page with its plan, targets and
linked nominations, and linking nominations to it."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from khenthuong.commendation import COMMENDATION_TYPES
from khenthuong.dates import BadDate, parse_date
from khenthuong.errors import KhenthuongError
from khenthuong.services import campaigns as svc
from khenthuong.services.access import READ_ALL_ROLES, readable_paths
from khenthuong.storage.db import reading, write_tx
from khenthuong.web.attachment import content_disposition
from khenthuong.web.context import Caller, ctx_of
from khenthuong.web.i18n import STRINGS
from khenthuong.web.schemas import IdPath
from khenthuong.web.ui_common import (
    _chosen_file,
    _error_text,
    _form_id,
    _posted,
    check_csrf,
    date_refusal,
    redirect,
    refuse_read_only,
    render,
    ui_caller,
    worded,
)

router = APIRouter(include_in_schema=False)

CAMPAIGN_STRINGS: dict[str, tuple[str, str]] = {
    "campaigns": ("Phong trào thi đua", "Emulation campaigns"),
    "campaign": ("Phong trào", "Campaign"),
    "campaign_new": ("Phát động phong trào", "Launch a campaign"),
    "campaign_theme": ("Chủ đề phong trào", "Theme"),
    "campaign_kind": ("Loại phong trào", "Kind of campaign"),
    "launching_unit": ("Đơn vị phát động", "Launching unit"),
    "starts_on": ("Từ ngày", "From"),
    "ends_on": ("Đến ngày", "To"),
    "ends_never": ("không xác định", "open-ended"),
    "targets": ("Chỉ tiêu (mỗi dòng một chỉ tiêu)", "Targets (one per line)"),
    "targets_shown": ("Chỉ tiêu", "Targets"),
    "plan_number": ("Số kế hoạch", "Plan number"),
    "plan_file": ("Kế hoạch phát động (tệp)", "Launching plan (file)"),
    "linked": ("Hồ sơ đề nghị khen thưởng của phong trào", "Nominations of the campaign"),
    "link_nominations": ("Gắn hồ sơ vào phong trào", "Link nominations"),
    "nomination_ids": ("Số hồ sơ (cách nhau bởi dấu phẩy)", "Nomination numbers (comma separated)"),
    "link": ("Gắn", "Link"),
    "no_campaign": ("— không thuộc phong trào nào —", "— no campaign —"),
}
STRINGS.update(CAMPAIGN_STRINGS)


def _launchers(caller: Caller) -> list[str]:
    """Units where the caller may launch a campaign (any role that changes records)."""
    return sorted({g.scope_code for g in caller.actor.grants if g.role not in READ_ALL_ROLES})


def _list_page(
    request: Request, caller: Caller, error: str | None = None, status: int = 200,
    form: dict[str, str] | None = None,
) -> Response:  # fmt: skip
    with reading(ctx_of(request).rt.engine) as conn:
        rows = svc.list_campaigns(conn, readable_paths(caller.actor))
    return render(
        request, "campaigns.html", caller, status, campaigns=rows, kinds=svc.CAMPAIGN_KINDS,
        units=_launchers(caller), error=error, form=form or {},
    )  # fmt: skip


@router.get("/campaigns")
def campaigns_page(request: Request) -> Response:
    return _list_page(request, ui_caller(request))


def _date(text: str, what: str) -> date | None:
    if not text.strip():
        return None
    try:
        return parse_date(text)
    except BadDate as exc:
        raise date_refusal(exc, what) from None


@router.post("/campaigns")
async def create(request: Request) -> Response:
    """Launch a campaign; its plan file, when chosen, is stored with it."""
    caller, ctx, form = await _posted(request)
    values = {k: str(v) for k, v in form.items() if isinstance(v, str)}
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        starts_on = _date(values.get("starts_on", ""), "starts_on")
        if starts_on is None:
            raise worded("campaign_needs_start")
        chosen = await _chosen_file(form, ctx.rt.settings.max_attachment_bytes)
        with write_tx(ctx.rt.engine) as conn:
            cid = svc.create_campaign_in(
                conn, launching_unit=values.get("unit", ""), actor=caller.actor,
                title=values.get("title", ""), kind=values.get("kind", ""), starts_on=starts_on,
                ends_on=_date(values.get("ends_on", ""), "ends_on"),
                targets=values.get("targets", "").splitlines(),
                plan_number=values.get("plan_number") or None,
            )  # fmt: skip
            if chosen is not None:
                upload, content = chosen
                svc.attach_in(
                    conn, cid, doc_type="ke_hoach_phat_dong",
                    filename=upload.filename or "ke-hoach", content=content, actor=caller.actor,
                    max_bytes=ctx.rt.settings.max_attachment_bytes,
                    content_type=upload.content_type,
                )  # fmt: skip
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _list_page(request, caller, message, status, values)
    return redirect(f"/campaigns/{cid}")


def _campaign_page(
    request: Request, caller: Caller, cid: int, error: str | None = None, status: int = 200,
) -> Response:  # fmt: skip
    ctx = ctx_of(request)
    try:
        with reading(ctx.rt.engine) as conn:
            row = svc.campaign_row(conn, cid)
            if not _covers(caller, str(row["unit_path"])):
                raise worded("campaign_missing", id=cid)
            view = svc.view_campaign(conn, cid, caller.actor, ctx.rt.registry)
    except KhenthuongError as exc:
        message, code = _error_text(request, caller, exc)
        return _list_page(request, caller, message, code)
    return render(
        request, "campaign.html", caller, status, campaign=view, error=error,
        commendation_types=COMMENDATION_TYPES,
    )  # fmt: skip


def _covers(caller: Caller, unit_path: str) -> bool:
    """A campaign is visible to readers of its subtree and of the units it covers."""
    paths = readable_paths(caller.actor)
    return paths is None or any(unit_path.startswith(p) or p.startswith(unit_path) for p in paths)


@router.get("/campaigns/{cid}")
def campaign_page(request: Request, cid: IdPath) -> Response:
    return _campaign_page(request, ui_caller(request), cid)


@router.post("/campaigns/{cid}/link")
async def link(request: Request, cid: IdPath) -> Response:
    """Link the nominations whose numbers are typed (all of them or none)."""
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        typed = str(form.get("nominations", "")).replace("#", " ").replace(",", " ").split()
        ids = [_form_id(x) for x in typed]
        if not ids or None in ids:
            raise worded("bad_nomination_numbers")
        with write_tx(ctx.rt.engine) as conn:
            svc.link_in(conn, cid, [i for i in ids if i is not None], actor=caller.actor)
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _campaign_page(request, caller, cid, message, status)
    return redirect(f"/campaigns/{cid}")


@router.get("/campaigns/{cid}/documents/{doc_id}")
def document(request: Request, cid: IdPath, doc_id: IdPath) -> Response:
    """Download one document of the campaign (its plan)."""
    caller = ui_caller(request)
    ctx = ctx_of(request)
    try:
        with reading(ctx.rt.engine) as conn:
            row = svc.campaign_row(conn, cid)
            if not _covers(caller, str(row["unit_path"])):
                raise worded("campaign_missing", id=cid)
            doc = svc.document_content(conn, cid, doc_id)
    except KhenthuongError as exc:
        message, code = _error_text(request, caller, exc)
        return _list_page(request, caller, message, code)
    return Response(
        bytes(doc["content"]),
        media_type=str(doc["content_type"]),
        headers={"Content-Disposition": content_disposition(str(doc["filename"]))},
    )
