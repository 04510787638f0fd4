"""/api/org: the unit tree, the person register and officer accounts as files (administrators).

`GET /api/org/{kind}.xlsx` (or `.csv`) exports; `POST /api/org/{kind}` (multipart `file`)
imports, every row checked first: a bad file is a 422 problem whose `errors` read
`FILE:ROW: message` and whose `rows` give each row number; `dry_run` answers the differences
and writes nothing. `kind` is units, persons or users; a users file never carries passwords:
with `password_links` the answer carries a one-time set-password link per new account.
"""

from __future__ import annotations

import re
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from khenthuong.dates import VNDate
from khenthuong.localtime import LOCAL_TZ
from khenthuong.services.account_files import new_accounts
from khenthuong.services.org_files import ImportPlan, OrgFileRefused
from khenthuong.services.org_imports import apply_plan, export, plan_file
from khenthuong.services.password_links import issue_links
from khenthuong.storage.db import reading, write_tx
from khenthuong.uploads import safe_name
from khenthuong.web.attachment import content_disposition
from khenthuong.web.context import Caller, api_caller, ctx_of, deny
from khenthuong.web.problems import ApiProblem
from khenthuong.web.xlsx import XLSX_TYPE

router = APIRouter(prefix="/api/org", tags=["organisation files"])
CallerDep = Annotated[Caller, Depends(api_caller)]
Kind = Literal["units", "persons", "users"]
_ROW = re.compile(r"^[^:]*:(\d+): (.*)$", re.DOTALL)


def site_url(request: Request) -> str:
    """The address officers open: KHENTHUONG_BASE_URL, else the one this request came to."""
    return ctx_of(request).rt.settings.base_url or str(request.base_url)


def require_admin(request: Request, caller: Caller) -> None:
    """Only administrators import or export the organisation."""
    if not caller.actor.has_role("admin"):
        raise deny(
            request, caller, "Chỉ quản trị hệ thống được nhập, xuất đơn vị, cá nhân, tài khoản"
        )


def plan_out(plan: ImportPlan, applied: bool) -> dict[str, Any]:
    """A plan as JSON: every change with its row, what it is and what the audit records."""
    return {
        "kind": plan.what,
        "file": plan.source,
        "dry_run": not applied,
        "rows": plan.rows,
        "unchanged": plan.unchanged,
        "counts": plan.counts(),
        "summary": plan.summary(),
        "changes": [
            {"row": c.row, "change": c.kind, "text": c.text, "details": c.payload}
            for c in plan.in_row_order()
        ],
        "notes": plan.notes,
    }


def refused(exc: OrgFileRefused) -> ApiProblem:
    """422 naming every bad row."""
    rows = []
    for line in exc.errors:
        match = _ROW.match(line)
        if match:
            rows.append({"row": int(match[1]), "message": match[2]})
    return ApiProblem(
        422, f"Tệp có {len(exc.errors)} dòng lỗi; không nhập gì", errors=exc.errors, rows=rows
    )


@router.get("/{kind}.{fmt}", response_class=Response)
def export_file(
    request: Request, caller: CallerDep, kind: Kind, fmt: Literal["xlsx", "csv"]
) -> Response:
    """The unit tree, the register or the accounts in the import's columns."""
    require_admin(request, caller)
    with tempfile.TemporaryDirectory(prefix="khenthuong-export-") as folder:
        path = Path(folder) / f"{kind}.{fmt}"
        with reading(ctx_of(request).rt.engine) as conn:
            export(conn, kind, path)
        body = path.read_bytes()
    media = XLSX_TYPE if fmt == "xlsx" else "text/csv; charset=utf-8"
    return Response(
        body, media_type=media, headers={"Content-Disposition": content_disposition(path.name)}
    )


@router.post(
    "/{kind}",
    response_model=None,
    responses={422: {"description": "Bad rows: errors as FILE:ROW: message"}},
)
async def import_file(
    request: Request,
    caller: CallerDep,
    kind: Kind,
    file: Annotated[UploadFile, File(description="The file, .xlsx or .csv")],
    dry_run: Annotated[bool, Form()] = False,
    effective: Annotated[VNDate | None, Form(description="persons: date of moves")] = None,
    absent_leave: Annotated[bool, Form(description="persons: people left out have left")] = False,
    password_links: Annotated[
        bool, Form(description="users: a one-time set-password link for each new account")
    ] = False,
) -> dict[str, Any]:
    """Apply the differences between the file and the record, each audited (or, with
    `dry_run`, only list them)."""
    require_admin(request, caller)
    ctx = ctx_of(request)
    name = safe_name(file.filename or f"{kind}.xlsx")
    limit = ctx.rt.settings.max_attachment_bytes
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise ApiProblem(413, f"{name}: tệp lớn quá {limit} byte", field="file")
    with tempfile.TemporaryDirectory(prefix="khenthuong-org-") as folder:
        path = Path(folder) / name
        path.write_bytes(content)
        try:
            with write_tx(ctx.rt.engine) as conn:
                plan = plan_file(
                    conn, kind, path, caller.actor, ctx.rt.roles,
                    effective=effective or datetime.now(LOCAL_TZ).date(),
                    absent_leave=absent_leave, display_name=name,
                )  # fmt: skip
                links = []
                if not dry_run:
                    apply_plan(conn, plan, caller.actor)
                    if password_links and kind == "users":
                        links = issue_links(
                            conn, new_accounts(plan), base_url=site_url(request),
                            actor=caller.actor.username,
                        )  # fmt: skip
        except OrgFileRefused as exc:
            raise refused(exc) from None
    out = plan_out(plan, applied=not dry_run)
    if password_links and kind == "users":
        out["password_links"] = [
            {"username": x.username, "email": x.email, "url": x.url,
             "expires_at": x.expires_at.isoformat()}
            for x in links
        ]  # fmt: skip
    return out
