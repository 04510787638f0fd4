"""The award paths and their diagrams."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from khenthuong.errors import KhenthuongError
from khenthuong.storage.db import reading
from khenthuong.web.api_reference import state_counts
from khenthuong.web.context import ctx_of
from khenthuong.web.exports import Names, workflows_xlsx
from khenthuong.web.ui_common import lang_of, refusal_text, render, ui_caller
from khenthuong.web.xlsx import xlsx_file
from khenthuong.workflow.diagram import to_svg

router = APIRouter(include_in_schema=False)


# --------------------------------------------------------------------------- workflows, audit


@router.get("/workflows")
def workflows_page(request: Request) -> Response:
    """Every award path (latest version); `?format=xlsx` exports the list."""
    caller = ui_caller(request)
    workflows = ctx_of(request).rt.registry.latest()
    if request.query_params.get("format") == "xlsx":  # as GET /api/workflows?format=xlsx
        ctx = ctx_of(request)
        with reading(ctx.rt.engine) as conn:
            content = workflows_xlsx(
                Names(ctx, conn, lang_of(request)), [w.definition for w in workflows]
            )
        return xlsx_file("quy-trinh.xlsx", content)
    return render(request, "workflows.html", caller, workflows=workflows)


@router.get("/workflows/{name}")
def workflow_page(request: Request, name: str) -> Response:
    caller = ui_caller(request)
    ctx = ctx_of(request)
    try:
        wf = ctx.rt.registry.get(name).definition
    except KhenthuongError as exc:
        return render(
            request, "error.html", caller, 404, message=refusal_text(exc, lang_of(request))
        )
    counts = state_counts(request, caller, wf.name, wf.version)
    svg = to_svg(wf, counts, lang=lang_of(request))
    return render(request, "workflow.html", caller, wf=wf, counts=counts, svg=svg)
