"""/api/generated/{kind}: the generated DOCX or PDF of a decision, session, proposal or plan.

Read with the same scope as the object's page (services.documents checks it); a browser's
session cookie works too, so pages link here for "Tải DOCX" / "Tải PDF".
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from khenthuong.errors import Forbidden
from khenthuong.rules.catalog import catalog_in
from khenthuong.services.access import can_read
from khenthuong.services.documents import KINDS, DocumentRequest, decision_paths, render_document
from khenthuong.services.signatures import signed_file
from khenthuong.storage.db import reading
from khenthuong.web.context import Caller, api_caller, ctx_of, deny
from khenthuong.web.problems import ApiProblem
from khenthuong.web.schemas import IdPath

router = APIRouter(prefix="/api", tags=["documents"])
KEY_HELP = "Decision number or NUMBER:YEAR, session id, nomination ids 12,13 or BLOC:YEAR"
CallerDep = Annotated[Caller, Depends(api_caller)]


@router.get(
    "/generated/{kind}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}, "application/octet-stream": {}}}},
)
def get_document(
    request: Request,
    caller: CallerDep,
    kind: str,
    key: Annotated[str, Query(min_length=1, max_length=2000, description=KEY_HELP)],
    fmt: Annotated[Literal["docx", "pdf"], Query(alias="format")] = "pdf",
) -> Response:
    """Render KIND for KEY; the file's SHA-256 is written on the object's audit stream."""
    if kind not in KINDS:
        raise ApiProblem(404, f"Không có loại văn bản {kind!r}; các loại: {', '.join(KINDS)}")
    ctx = ctx_of(request)
    try:
        rendered = render_document(
            ctx.rt.engine,
            catalog_in(ctx.rt.settings.config_dir),
            ctx.rt.settings.config_dir,
            DocumentRequest(kind, key, fmt, caller.actor),
            inspecting=caller.inspecting,
            soffice=ctx.rt.settings.soffice,
        )
    except Forbidden as exc:
        raise deny(request, caller, str(exc)) from None
    return Response(
        rendered.content,
        media_type=rendered.media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(rendered.filename)}",
            "X-Content-SHA256": rendered.sha256,
        },
    )


@router.get(
    "/generated/signed/{file_id}",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def get_signed(request: Request, caller: CallerDep, file_id: IdPath) -> Response:
    """A stored signed decision PDF, for those who may read the decision."""
    ctx = ctx_of(request)
    decision_id, number, filename, content = signed_file(ctx.rt.engine, file_id)
    with reading(ctx.rt.engine) as conn:
        paths = decision_paths(conn, decision_id)
    if not all(can_read(caller.actor, p, caller.inspecting) for p in paths):
        raise deny(request, caller, f"Quyết định {number} ngoài phạm vi của bạn")
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )
