"""/api/campaigns: emulation campaigns (phong trào thi đua), their plan documents and the
nominations linked to them (services.campaigns)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from khenthuong.dates import VNDate
from khenthuong.errors import NotFound
from khenthuong.services import campaigns as svc
from khenthuong.services.access import readable_paths
from khenthuong.storage.db import reading, write_tx
from khenthuong.web.api_nominations import require_writer
from khenthuong.web.attachment import content_disposition
from khenthuong.web.context import Caller, api_caller, ctx_of
from khenthuong.web.paging import CursorQuery, Page, limit_query, page_in_memory
from khenthuong.web.schemas import IdPath, RowId

router = APIRouter(prefix="/api", tags=["campaigns"])
CallerDep = Annotated[Caller, Depends(api_caller)]


class CampaignIn(BaseModel):
    """A campaign to launch."""

    unit: str = Field(max_length=40, description="Code of the launching unit")
    title: str = Field(min_length=1, max_length=500, description="Chủ đề (theme)")
    kind: str = Field(max_length=40, description="thuong_xuyen, theo_dot or chuyen_de")
    starts_on: VNDate
    ends_on: VNDate | None = Field(default=None, description="Required unless thuong_xuyen")
    targets: list[Annotated[str, Field(max_length=1000)]] = Field(
        default_factory=list, max_length=100
    )
    plan_number: str | None = Field(default=None, max_length=80, description="e.g. 12/KH-BCY")


class LinkIn(BaseModel):
    """Nominations to link to the campaign (all of them or none)."""

    nominations: list[RowId] = Field(min_length=1, max_length=1000)


def _visible(caller: Caller, unit_path: str) -> bool:
    paths = readable_paths(caller.actor)
    return paths is None or any(unit_path.startswith(p) or p.startswith(unit_path) for p in paths)


def _view(request: Request, caller: Caller, campaign_id: int) -> dict[str, Any]:
    ctx = ctx_of(request)
    with reading(ctx.rt.engine) as conn:
        row = svc.campaign_row(conn, campaign_id)
        if not _visible(caller, str(row["unit_path"])):
            raise NotFound(f"Không có phong trào thi đua #{campaign_id}")
        view = svc.view_campaign(conn, campaign_id, caller.actor, ctx.rt.registry)
    return {
        "id": view.id,
        "title": view.title,
        "kind": view.kind,
        "kind_name": view.kind_name,
        "unit": view.unit_code,
        "unit_name": view.unit_name,
        "starts_on": view.starts_on.isoformat(),
        "ends_on": view.ends_on.isoformat() if view.ends_on else None,
        "targets": view.targets,
        "plan_number": view.plan_number,
        "documents": [
            {"id": d.id, "doc_type": d.doc_type, "filename": d.filename, "size": d.size,
             "sha256": d.sha256}
            for d in view.documents
        ],
        "nominations": [
            {"nomination_id": n.nomination_id, "nominee": n.nominee_name, "unit": n.unit_code,
             "commendation_type": n.commendation_type, "workflow": n.workflow,
             "state": n.state, "state_title": n.state_title, "closed": n.closed}
            for n in view.nominations
        ],
    }  # fmt: skip


@router.get("/campaigns")
def list_campaigns(
    request: Request,
    caller: CallerDep,
    year: Annotated[int | None, Query(ge=1945, le=2100)] = None,
    cursor: CursorQuery = None,
    limit: int = limit_query(),
) -> Page[dict[str, Any]]:
    """Campaigns the caller may see (launched in or above their units), newest first;
    `year`: those running at some time that year."""
    with reading(ctx_of(request).rt.engine) as conn:
        rows = svc.list_campaigns(conn, readable_paths(caller.actor), year=year)
    items = [
        {"id": r["id"], "title": r["title"], "kind": r["kind"], "unit": r["unit_code"],
         "unit_name": r["unit_name"], "starts_on": r["starts_on"].isoformat(),
         "ends_on": r["ends_on"].isoformat() if r["ends_on"] else None,
         "nominations": int(r["nominations"])}
        for r in rows
    ]  # fmt: skip
    # newest first: the text key of a descending id
    return page_in_memory(items, lambda c: f"{10**12 - int(c['id']):013d}", cursor, limit)


@router.post("/campaigns", status_code=201)
def create(request: Request, caller: CallerDep, body: CampaignIn) -> dict[str, Any]:
    """Launch a campaign of `unit` (the caller holds a role there)."""
    require_writer(request, caller)
    with write_tx(ctx_of(request).rt.engine) as conn:
        cid = svc.create_campaign_in(
            conn, launching_unit=body.unit, actor=caller.actor, title=body.title,
            kind=body.kind, starts_on=body.starts_on, ends_on=body.ends_on,
            targets=body.targets, plan_number=body.plan_number,
        )  # fmt: skip
    return _view(request, caller, cid)


@router.get("/campaigns/{campaign_id}")
def show(request: Request, caller: CallerDep, campaign_id: IdPath) -> dict[str, Any]:
    """A campaign, its documents and the linked nominations the caller may read."""
    return _view(request, caller, campaign_id)


@router.post("/campaigns/{campaign_id}/nominations")
def link(request: Request, caller: CallerDep, campaign_id: IdPath, body: LinkIn) -> dict[str, Any]:
    """Link nominations to the campaign; refused as a whole (422) naming each problem."""
    require_writer(request, caller)
    with write_tx(ctx_of(request).rt.engine) as conn:
        svc.link_in(conn, campaign_id, body.nominations, actor=caller.actor)
    return _view(request, caller, campaign_id)


@router.post("/campaigns/{campaign_id}/documents", status_code=201)
async def attach(
    request: Request,
    caller: CallerDep,
    campaign_id: IdPath,
    file: Annotated[UploadFile, File()],
    doc_type: Annotated[str, Form(max_length=40)] = "ke_hoach_phat_dong",
) -> dict[str, Any]:
    """Attach the campaign's plan (kế hoạch phát động) or another of its documents."""
    require_writer(request, caller)
    ctx = ctx_of(request)
    limit = ctx.rt.settings.max_attachment_bytes
    content = await file.read(limit + 1)
    with write_tx(ctx.rt.engine) as conn:
        stored = svc.attach_in(
            conn, campaign_id, doc_type=doc_type, filename=file.filename or "ke-hoach",
            content=content, actor=caller.actor, max_bytes=limit, content_type=file.content_type,
        )  # fmt: skip
    return {"id": stored.id, "doc_type": stored.doc_type, "filename": stored.filename,
            "size": stored.size, "sha256": stored.sha256}  # fmt: skip


@router.get(
    "/campaigns/{campaign_id}/documents/{document_id}",
    response_class=Response,
    responses={200: {"content": {"application/octet-stream": {}}}},
)
def download(
    request: Request, caller: CallerDep, campaign_id: IdPath, document_id: IdPath
) -> Response:
    """One stored document of the campaign, as uploaded."""
    with reading(ctx_of(request).rt.engine) as conn:
        row = svc.campaign_row(conn, campaign_id)
        if not _visible(caller, str(row["unit_path"])):
            raise NotFound(f"Không có phong trào thi đua #{campaign_id}")
        doc = svc.document_content(conn, campaign_id, document_id)
    return Response(
        bytes(doc["content"]),
        media_type=str(doc["content_type"]),
        headers={"Content-Disposition": content_disposition(str(doc["filename"]))},
    )
