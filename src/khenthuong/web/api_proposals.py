"""/api/proposals: proposal batches (đợt đề nghị) imported from a danh sách (XLSX or CSV).

`POST /api/proposals` (multipart: the list, optional báo cáo thành tích files its rows name,
and the batch's fields) checks every row first; a bad file is a 422 whose `errors` read
`FILE:ROW: message`; `dry_run` answers each row's eligibility verdict and writes nothing.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from khenthuong.commendation import accepted_types, commendation_type_of
from khenthuong.errors import Refusal
from khenthuong.localtime import LOCAL_TZ
from khenthuong.rules.catalog import catalog_in
from khenthuong.services import batches
from khenthuong.services import proposal_import as imp
from khenthuong.services.nominations import StepResult
from khenthuong.storage.db import reading, write_tx
from khenthuong.uploads import safe_name
from khenthuong.web.api_nominations import require_writer
from khenthuong.web.context import Caller, api_caller, ctx_of
from khenthuong.web.problems import ApiProblem
from khenthuong.web.schemas import IdPath

router = APIRouter(prefix="/api", tags=["proposal batches"])
CallerDep = Annotated[Caller, Depends(api_caller)]


class StepIn(BaseModel):
    """One step on every open member of a batch, or on one member alone."""

    trigger: str = Field(max_length=60)
    payload: dict[str, Any] = Field(default_factory=dict)
    comment: str | None = Field(default=None, max_length=2000)
    member: int | None = Field(default=None, description="Step this nomination alone")


def _view(view: batches.BatchView) -> dict[str, Any]:
    return {
        "id": view.id,
        "title": view.title,
        "unit": view.unit_code,
        "receiving_unit": view.receiving_unit,
        "year": view.year,
        "commendation_type": view.commendation_type,
        "state": view.summary,
        "counts": [{"state": t, "count": n} for t, n in view.counts],
        "members": [
            {
                "nomination_id": m.nomination_id,
                "stt": m.row_number,
                "nominee": m.nominee_name,
                "nominee_kind": m.nominee_kind,
                "state": m.state,
                "state_title": m.state_title,
                "closed": m.closed,
            }
            for m in view.members
        ],
        "documents": [
            {"id": d.id, "doc_type": d.doc_type, "filename": d.filename, "sha256": d.sha256}
            for d in view.documents
        ],
    }


@router.post(
    "/proposals",
    status_code=201,
    response_model=None,
    responses={
        200: {"description": "Dry run: the rows and their verdicts"},
        422: {"description": "Bad rows (FILE:ROW)"},
    },
)
async def import_list(
    request: Request,
    caller: CallerDep,
    file: Annotated[UploadFile, File(description="The danh sách, .xlsx or .csv")],
    unit: Annotated[str, Form(max_length=40)],
    reports: Annotated[list[UploadFile] | None, File(description="Báo cáo thành tích")] = None,
    title: Annotated[str | None, Form(max_length=500)] = None,
    commendation_type: Annotated[str, Form(max_length=40)] = "thuong_xuyen",
    workflow: Annotated[str | None, Form(max_length=80)] = None,
    year: Annotated[int | None, Form(ge=1945, le=2100)] = None,
    receiving_unit: Annotated[str | None, Form(max_length=40)] = None,
    create_persons: Annotated[bool, Form()] = False,
    dry_run: Annotated[bool, Form()] = False,
    campaign: Annotated[
        int | None, Form(ge=1, le=2_147_483_647, description="Link to this campaign")
    ] = None,
) -> dict[str, Any] | JSONResponse:
    """Import a danh sách as one batch (every row checked first; all rows or none)."""
    require_writer(request, caller)
    ctx = ctx_of(request)
    kind = commendation_type_of(commendation_type)
    if kind is None:
        raise ApiProblem(
            422,
            f"Loại hình khen thưởng {commendation_type!r} không hợp lệ; dùng: {accepted_types()}",
            field="commendation_type",
        )
    limit = ctx.rt.settings.max_attachment_bytes
    name = safe_name(file.filename or "danh-sach.xlsx")
    catalog = catalog_in(ctx.rt.settings.config_dir)
    with tempfile.TemporaryDirectory(prefix="khenthuong-import-") as folder:
        source = Path(folder) / name
        source.write_bytes(await file.read(limit + 1))
        for report in reports or []:
            (Path(folder) / safe_name(report.filename or "bao-cao")).write_bytes(
                await report.read(limit + 1)
            )
        try:
            with write_tx(ctx.rt.engine) as conn:
                planned = imp.check_file(
                    conn, catalog, source, proposing_unit=unit, workflow=workflow,
                    create_persons=create_persons, display_name=name,
                )  # fmt: skip
                if dry_run:
                    from datetime import datetime  # noqa: PLC0415

                    imp.preview(conn, planned, year or datetime.now(LOCAL_TZ).year)
                    conn.rollback()
                    rows = [_row(p) for p in planned]
                    return JSONResponse({"dry_run": True, "rows": rows}, status_code=200)
                made = imp.create_from(
                    conn, ctx.rt.registry, planned, source=source, proposing_unit=unit,
                    actor=caller.actor, title=title or f"Đề nghị khen thưởng ({source.stem})",
                    year=year, commendation_type=kind, receiving_unit=receiving_unit,
                    max_bytes=limit, display_name=name, campaign_id=campaign,
                )  # fmt: skip
                view = batches.view_batch(conn, ctx.rt.registry, made.batch_id)
        except imp.ImportRefused as exc:
            raise ApiProblem(422, str(exc), errors=exc.errors, **exc.details) from None
    return _view(view)


def _row(p: imp.PlannedRow) -> dict[str, Any]:
    return {
        "row": p.number, "stt": p.stt, "nominee_kind": p.kind, "name": p.name,
        "unit": p.unit_code, "award": p.award_code, "person_id": p.person_id,
        "create_person": p.create_person, "verdict": p.verdict, "refusals": p.refusals,
    }  # fmt: skip


@router.get("/proposals/{batch_id}")
def show(request: Request, caller: CallerDep, batch_id: IdPath) -> dict[str, Any]:
    """A batch, its members with their states and its derived state."""
    ctx = ctx_of(request)
    with reading(ctx.rt.engine) as conn:
        return _view(batches.view_batch(conn, ctx.rt.registry, batch_id, caller.actor))


@router.post("/proposals/{batch_id}/advance")
def advance(request: Request, caller: CallerDep, batch_id: IdPath, body: StepIn) -> dict[str, Any]:
    """One step on every open member (refused members listed with their reasons), or on
    `member` alone."""
    require_writer(request, caller)
    ctx = ctx_of(request)
    done: list[StepResult]
    refused: dict[int, list[Refusal]] = {}
    with write_tx(ctx.rt.engine) as conn:
        batches.view_batch(conn, ctx.rt.registry, batch_id, caller.actor)
        if body.member is not None:
            one = batches.step_member_in(
                conn, ctx.rt.registry, batch_id, body.member, body.trigger, caller.actor,
                body.payload, comment=body.comment,
            )  # fmt: skip
            done = [one]
        else:
            step = batches.advance_batch_members_in(
                conn, ctx.rt.registry, batch_id, body.trigger, caller.actor, body.payload,
                comment=body.comment,
            )  # fmt: skip
            done, refused = step.done, step.refused
        view = batches.view_batch(conn, ctx.rt.registry, batch_id)
    return {
        "done": [{"nomination_id": r.nomination_id, "from": r.from_state, "to": r.to_state}
                 for r in done],
        "refused": {
            str(nid): [{"code": r.code, "message": r.message_vi} for r in refs]
            for nid, refs in refused.items()
        },
        "batch": _view(view),
    }  # fmt: skip


@router.post("/proposals/{batch_id}/documents", status_code=201)
async def attach(
    request: Request,
    caller: CallerDep,
    batch_id: IdPath,
    doc_type: Annotated[str, Form(max_length=40)],
    file: Annotated[UploadFile, File()],
) -> dict[str, Any]:
    """Attach a document once for the whole batch (tờ trình, biên bản bình xét …)."""
    require_writer(request, caller)
    ctx = ctx_of(request)
    limit = ctx.rt.settings.max_attachment_bytes
    content = await file.read(limit + 1)
    with write_tx(ctx.rt.engine) as conn:
        stored = batches.attach_in(
            conn, batch_id, doc_type=doc_type, filename=file.filename or "tai-lieu",
            content=content, actor=caller.actor, max_bytes=limit,
            content_type=file.content_type,
        )  # fmt: skip
    return {"id": stored.id, "doc_type": stored.doc_type, "filename": stored.filename,
            "size": stored.size, "sha256": stored.sha256}  # fmt: skip
