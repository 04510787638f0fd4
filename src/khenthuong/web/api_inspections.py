"""/api/inspections: the documents of a cross-inspection report (biên bản, minh chứng).

Only the inspecting unit attaches them, and only the two units of the visit (their own
officers, or a grant over either of them), the officers and head of the unit leading the
bloc that year, an administrator over the organiser and auditors read them; the service enforces both
(`inspections.require_report_reader`), and any other unit gets a logged 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel

from khenthuong.documents.text import money
from khenthuong.errors import Forbidden, KhenthuongError, NotFound
from khenthuong.services import inspections
from khenthuong.services.access import is_read_only
from khenthuong.storage.db import reading, write_tx
from khenthuong.web.attachment import content_disposition
from khenthuong.web.context import Caller, api_caller, ctx_of, deny
from khenthuong.web.problems import ApiProblem
from khenthuong.web.schemas import IdPath

router = APIRouter(prefix="/api", tags=["blocs"])
CallerDep = Annotated[Caller, Depends(api_caller)]


class ReportDocumentOut(BaseModel):
    """A stored document of an inspection report (without its content)."""

    id: int
    visit_id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str

    @classmethod
    def of(cls, d: inspections.ReportDocument) -> ReportDocumentOut:
        return cls(
            id=d.id,
            visit_id=d.visit_id,
            filename=d.filename,
            content_type=d.content_type,
            size=d.size,
            sha256=d.sha256,
            uploaded_by=d.uploaded_by,
        )


@router.get(
    "/inspections/visits/{visit_id}/documents",
    response_model=list[ReportDocumentOut],
    responses={403: {"description": "Not a party of the visit"}, 404: {"description": "No visit"}},
)
def report_documents(
    request: Request, caller: CallerDep, visit_id: IdPath
) -> list[ReportDocumentOut]:
    """Documents of a visit's report, oldest first (without content)."""
    with reading(ctx_of(request).rt.engine) as conn:
        return [
            ReportDocumentOut.of(d)
            for d in inspections.report_documents(conn, visit_id, caller.actor)
        ]


@router.post(
    "/inspections/visits/{visit_id}/documents",
    status_code=201,
    response_model=ReportDocumentOut,
    responses={
        403: {"description": "Not the inspecting unit, or a read-only account"},
        404: {"description": "No visit"},
        413: {"description": "File larger than the attachment limit"},
    },
)
async def upload_report_document(
    request: Request,
    caller: CallerDep,
    visit_id: IdPath,
    file: Annotated[UploadFile, File()],
) -> ReportDocumentOut:
    """The inspecting unit attaches a document to its report (multipart): PDF, Word, Excel,
    JPEG, PNG or text, stored with SHA-256, size and type, size-limited, audited."""
    ctx = ctx_of(request)
    if is_read_only(caller.actor, ctx.rt.roles):
        raise deny(request, caller, "Tài khoản chỉ có quyền xem")
    limit = ctx.rt.settings.max_attachment_bytes
    content = await file.read(limit + 1)
    try:
        with write_tx(ctx.rt.engine) as conn:
            stored = inspections.attach_report_document(
                conn,
                visit_id,
                filename=file.filename or "tai-lieu",
                content=content,
                actor=caller.actor,
                max_bytes=limit,
                content_type=file.content_type,
            )
    except (Forbidden, NotFound):
        raise  # no such visit, or not the inspecting unit: checked before the file
    except KhenthuongError as exc:
        if len(content) > limit:
            raise ApiProblem(
                413,
                f"Tệp vượt quá {money(limit)} byte",
                field="file",
            ) from exc
        raise ApiProblem(422, str(exc), field="file") from exc
    return ReportDocumentOut.of(stored)


@router.get(
    "/inspections/documents/{document_id}",
    response_class=Response,
    responses={
        200: {"content": {"application/octet-stream": {}}},
        403: {"description": "Not a party of the visit"},
        404: {"description": "No such document"},
    },
)
def download_report_document(request: Request, caller: CallerDep, document_id: IdPath) -> Response:
    """A report document's content."""
    with reading(ctx_of(request).rt.engine) as conn:
        doc, content = inspections.report_document_content(conn, document_id, caller.actor)
    return Response(
        content=content,
        media_type=doc.content_type or "application/octet-stream",
        headers={
            "Content-Disposition": content_disposition(doc.filename),
            "X-Content-SHA256": doc.sha256,
        },
    )
