"""The **Đợt đề nghị** pages: upload a danh sách, see each row's eligibility verdict, create
the batch on confirm; a batch's page shows its members, its derived state and steps it whole.

The uploaded list (and the báo cáo thành tích files its rows name) waits for the confirmation
in `<state_dir>/imports/<random token>/` (only the token travels in the form); the folder is
deleted once the batch is created.
"""

from __future__ import annotations

import re
import secrets
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from starlette.datastructures import UploadFile as StarletteUpload

from khenthuong.commendation import COMMENDATION_TYPES, commendation_type_of
from khenthuong.doctypes import DOC_TYPES
from khenthuong.errors import KhenthuongError
from khenthuong.localtime import LOCAL_TZ
from khenthuong.rules.catalog import catalog_in
from khenthuong.services import batches
from khenthuong.services import proposal_import as imp
from khenthuong.services.access import readable_paths
from khenthuong.services.campaigns import campaigns_for
from khenthuong.services.nominations import allowed_triggers
from khenthuong.storage.db import reading, write_tx
from khenthuong.uploads import safe_name
from khenthuong.web.context import Caller, ctx_of
from khenthuong.web.i18n import STRINGS
from khenthuong.web.names import Names
from khenthuong.web.schemas import IdPath
from khenthuong.web.ui import (
    _error_text,
    _form_id,
    _posted,
    _required_file,
    check_csrf,
    done,
    lang_of,
    refuse_read_only,
    render,
    ui_caller,
)
from khenthuong.web.ui_common import refusal_line, worded

router = APIRouter(include_in_schema=False)
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
STRINGS.update(
    {
        "batch_step_target": ("Áp dụng cho", "Apply to"),
        "batch_every_open": (
            "Cả đợt (mọi hồ sơ đang xử lý)",
            "The whole batch (every open member)",
        ),
        "batch_member_done": ("Đã chuyển hồ sơ #{nid}: {state}", "Member #{nid} moved: {state}"),
    }
)


def _folder(request: Request) -> Path:
    folder = Path(ctx_of(request).rt.settings.state_dir) / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _units(caller: Caller) -> list[str]:
    return sorted({g.scope_code for g in caller.actor.grants if g.role == "unit_officer"})


def _list_page(
    request: Request, caller: Caller, error: str | None = None, status: int = 200, **extra: Any
) -> Response:
    officer = [g.scope_path for g in caller.actor.grants if g.role == "unit_officer"]
    with reading(ctx_of(request).rt.engine) as conn:
        rows = batches.list_batches(conn, readable_paths(caller.actor))
        campaigns = campaigns_for(conn, officer)
    return render(
        request, "proposals.html", caller, status, batches=rows, units=_units(caller),
        types=COMMENDATION_TYPES, campaigns=campaigns, error=error, **extra,
    )  # fmt: skip


@router.get("/proposals")
def proposals_page(request: Request) -> Response:
    return _list_page(request, ui_caller(request))


@router.get("/proposals/template.xlsx")
def template(request: Request) -> Response:
    ui_caller(request)
    out = Path(tempfile.mkdtemp(prefix="khenthuong-template-")) / "mau-danh-sach.xlsx"
    imp.write_template(out)
    return FileResponse(out, filename="mau-danh-sach.xlsx")


def _fields(form: Any) -> dict[str, Any]:
    kind = commendation_type_of(str(form.get("commendation_type") or "cong_trang"))
    if kind is None:
        raise worded("bad_commendation_type")
    return {
        "unit": str(form.get("unit", "")),
        "title": str(form.get("title", "")).strip(),
        "commendation_type": kind,
        "create_persons": form.get("create_persons") in ("on", "true", "1"),
        "campaign": _form_id(form.get("campaign", "")),
    }


@router.post("/proposals/preview")
async def preview(request: Request) -> Response:
    """Check the uploaded list; show every row with its verdict, or every FILE:ROW error."""
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        fields = _fields(form)
        upload, content = await _required_file(form, ctx.rt.settings.max_attachment_bytes)
        name = safe_name(upload.filename or "danh-sach.xlsx")
        suffix = name.rsplit(".", 1)[-1].lower()
        if suffix not in ("xlsx", "csv"):
            raise worded("csv_or_xlsx", file=name)
        token = secrets.token_hex(16)
        folder = _folder(request) / token
        folder.mkdir()
        saved = folder / name
        saved.write_bytes(content)
        for report in form.getlist("reports"):  # the báo cáo thành tích the rows name
            if isinstance(report, StarletteUpload) and report.filename:
                limit = ctx.rt.settings.max_attachment_bytes
                (folder / safe_name(report.filename)).write_bytes(await report.read(limit + 1))
        with reading(ctx.rt.engine) as conn:
            planned = imp.check_file(
                conn, catalog_in(ctx.rt.settings.config_dir), saved,
                proposing_unit=fields["unit"], create_persons=fields["create_persons"],
                display_name=name,
            )  # fmt: skip
            imp.preview(conn, planned, datetime.now(LOCAL_TZ).year)
    except imp.ImportRefused as exc:
        return _list_page(request, caller, None, 422, import_errors=exc.errors)
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _list_page(request, caller, message, status)
    return _list_page(request, caller, rows=planned, token=token, filename=name, fields=fields)


@router.post("/proposals")
async def create(request: Request) -> Response:
    """Create the batch from the previewed list (checked again: the register may have moved)."""
    caller, ctx, form = await _posted(request)
    token = str(form.get("token", ""))
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        fields = _fields(form)
        name = safe_name(str(form.get("filename") or "danh-sach.xlsx"))
        folder = _folder(request) / token
        saved = folder / name
        if not _TOKEN.match(token) or not saved.is_file():
            raise worded("list_expired")
        with write_tx(ctx.rt.engine) as conn:
            planned = imp.check_file(
                conn, catalog_in(ctx.rt.settings.config_dir), saved,
                proposing_unit=fields["unit"], create_persons=fields["create_persons"],
                display_name=name,
            )  # fmt: skip
            made = imp.create_from(
                conn, ctx.rt.registry, planned, source=saved, proposing_unit=fields["unit"],
                actor=caller.actor, title=fields["title"] or f"Đề nghị khen thưởng ({name})",
                year=None, commendation_type=fields["commendation_type"], receiving_unit=None,
                max_bytes=ctx.rt.settings.max_attachment_bytes, display_name=name,
                campaign_id=fields["campaign"],
            )  # fmt: skip
        shutil.rmtree(folder, ignore_errors=True)
    except imp.ImportRefused as exc:
        return _list_page(request, caller, None, 422, import_errors=exc.errors)
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _list_page(request, caller, message, status)
    return done(request, f"/proposals/{made.batch_id}", "batch_created")


def _batch_page(
    request: Request, caller: Caller, bid: int, error: str | None = None, status: int = 200,
    **extra: Any,
) -> Response:  # fmt: skip
    ctx = ctx_of(request)
    try:
        with reading(ctx.rt.engine) as conn:
            view = batches.view_batch(conn, ctx.rt.registry, bid, caller.actor)
    except KhenthuongError as exc:
        message, code = _error_text(request, caller, exc)
        return _list_page(request, caller, message, code)
    return render(
        request, "proposal.html", caller, status, batch=view, error=error,
        steps=_batch_steps(request, caller, view), doc_types=DOC_TYPES, **extra,
    )  # fmt: skip


def _batch_steps(request: Request, caller: Caller, view: batches.BatchView) -> dict[str, str]:
    """The steps the caller may take on at least one open member, by name (code as value)."""
    ctx = ctx_of(request)
    names = Names(ctx, lang_of(request))
    steps: dict[str, str] = {}
    for m in view.members:
        if m.closed:
            continue
        row = {"workflow": m.workflow, "workflow_version": m.workflow_version,
               "state": m.state, "unit_path": view.unit_path}  # fmt: skip
        for t in allowed_triggers(ctx.rt.registry, row, caller.actor):
            steps.setdefault(t.trigger, names.step(m.workflow, t.trigger, m.workflow_version))
    return steps


@router.get("/proposals/{bid}")
def batch_page(request: Request, bid: IdPath) -> Response:
    return _batch_page(request, ui_caller(request), bid)


@router.post("/proposals/{bid}/advance")
async def advance(request: Request, bid: IdPath) -> Response:
    """One step on every open member (the refused ones listed with their reasons), or on
    the one member chosen (returned or withdrawn alone; the others stay where they are)."""
    caller, ctx, form = await _posted(request)
    trigger = str(form.get("trigger", "")).strip()
    member = str(form.get("member") or "").strip()
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        payload = {"reason": str(form["reason"])} if form.get("reason") else {}
        if member and not member.isdigit():
            raise worded("bad_member", value=repr(member))
        with write_tx(ctx.rt.engine) as conn:
            batches.view_batch(conn, ctx.rt.registry, bid, caller.actor)
            if member:
                batches.step_member_in(
                    conn, ctx.rt.registry, bid, int(member), trigger, caller.actor, payload
                )
            else:
                step = batches.advance_batch_members_in(
                    conn, ctx.rt.registry, bid, trigger, caller.actor, payload
                )
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _batch_page(request, caller, bid, message, status)
    if member:  # shown once committed
        return _batch_page(request, caller, bid, None, 200, moved=int(member))
    refused = {
        nid: "; ".join(refusal_line(r, lang_of(request)) for r in refs)
        for nid, refs in step.refused.items()
    }
    return _batch_page(request, caller, bid, None, 200, done=len(step.done), refused=refused)
