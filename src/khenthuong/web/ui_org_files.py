"""The **Tổ chức và cá nhân** page (administrators): export the unit tree, the person register
and the officer accounts, upload a changed file, see every difference it would apply (or
every bad row as FILE:ROW), then apply them, each audited.

The uploaded file waits for the confirmation in `<state_dir>/org-imports/<random token>/`
(only the token travels in the form) and is checked again when applied; the folder is
deleted once applied.
"""

from __future__ import annotations

import re
import secrets
import shutil
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from khenthuong.errors import KhenthuongError
from khenthuong.localtime import LOCAL_TZ
from khenthuong.services.account_files import new_accounts
from khenthuong.services.org_files import CHANGE_NAMES, ImportPlan, OrgFileRefused
from khenthuong.services.org_imports import KINDS, apply_plan, plan_file
from khenthuong.services.password_links import LINK_HOURS, IssuedLink, issue_links
from khenthuong.storage.db import write_tx
from khenthuong.uploads import safe_name
from khenthuong.web.api_org import site_url
from khenthuong.web.context import Caller, ctx_of
from khenthuong.web.i18n import STRINGS
from khenthuong.web.ui_common import (
    _error_text,
    _form_date,
    _posted,
    _required_file,
    admin_refusal,
    check_csrf,
    render,
    require_admin,
    ui_caller,
    worded,
)

router = APIRouter(include_in_schema=False)
_TOKEN = re.compile(r"^[0-9a-f]{32}$")
_CHANGES_EN = {
    "unit_added": "new unit",
    "unit_renamed": "unit renamed",
    "unit_changed": "unit changed",
    "unit_moved": "unit moved",
    "person_added": "new person",
    "person_moved": "moved",
    "person_changed": "details changed",
    "person_left": "left",
    "person_returned": "returned",
    "account_added": "new account",
    "account_changed": "account changed",
    "roles_changed": "roles changed",
    "account_disabled": "account disabled",
    "account_enabled": "account enabled",
}
STRINGS.update(
    {
        "org_files": ("Tổ chức và cá nhân", "Organisation and people"),
        "org_intro": (
            "Nhập theo thứ tự: đơn vị, cá nhân, tài khoản. Mỗi tệp được kiểm tra hết các dòng "
            "trước; xem trước các thay đổi rồi mới áp dụng. Tệp tài khoản không chứa mật khẩu.",
            "Import in this order: units, people, accounts. Every row is checked first; "
            "preview the changes, then apply them. Account files carry no passwords.",
        ),
        "org_units": ("Đơn vị", "Units"),
        "org_persons": ("Cá nhân", "People"),
        "org_users": ("Tài khoản", "Accounts"),
        "org_export": ("Tải về", "Download"),
        "org_file": ("Tệp (.xlsx, .csv)", "File (.xlsx, .csv)"),
        "org_effective": (
            "Ngày hiệu lực của việc chuyển, nghỉ",
            "Date moves and leaving take effect",
        ),
        "org_absent_leave": (
            "Người của các đơn vị trong tệp mà tệp không ghi: coi như đã nghỉ",
            "People of the file's units whom it leaves out have left",
        ),
        "org_apply": ("Áp dụng các thay đổi", "Apply the changes"),
        "org_applied": ("Đã áp dụng", "Applied"),
        "org_change": ("Thay đổi", "Change"),
        "org_what": ("Nội dung", "Details"),
        "org_nothing": ("Tệp khớp với dữ liệu: không có thay đổi", "The file matches: no changes"),
        "org_links": (
            "Tạo liên kết đặt mật khẩu (dùng một lần) cho tài khoản mới",
            "Make a one-time set-password link for each new account",
        ),
        "org_links_shown": (
            "Liên kết đặt mật khẩu, hết hạn sau {h} giờ; chỉ hiện một lần: gửi riêng cho từng "
            "người",
            "Set-password links, valid {h} hours; shown only now: send each to its officer",
        ),
        "org_unchanged": ("{n}/{rows} dòng không đổi", "{n} of {rows} rows unchanged"),
        **{f"change_{k}": (v, _CHANGES_EN[k]) for k, v in CHANGE_NAMES.items()},
    }
)


def _folder(request: Request) -> Path:
    folder = Path(ctx_of(request).rt.settings.state_dir) / "org-imports"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _page(
    request: Request, caller: Caller, error: str | None = None, status: int = 200, **extra: Any
) -> Response:
    today = datetime.now(LOCAL_TZ).date()
    return render(request, "org_files.html", caller, status, kinds=KINDS, error=error,
                  today=today.strftime("%d/%m/%Y"), link_hours=LINK_HOURS, **extra)  # fmt: skip


@router.get("/admin/org")
def org_page(request: Request) -> Response:
    caller = ui_caller(request)
    if (refused := admin_refusal(request, caller, "org_files_admin_only")) is not None:
        return refused
    return _page(request, caller)


def _options(form: Any) -> tuple[date, bool]:
    today = datetime.now(LOCAL_TZ).date()
    effective = _form_date(str(form.get("effective", "")), "effective", today)
    return effective, form.get("absent_leave") in ("on", "true", "1")


def _plan(request: Request, caller: Caller, kind: str, path: Path, form: Any, name: str,
          apply: bool) -> tuple[ImportPlan, list[IssuedLink]]:  # fmt: skip
    ctx = ctx_of(request)
    effective, absent_leave = _options(form)
    links: list[IssuedLink] = []
    with write_tx(ctx.rt.engine) if apply else ctx.rt.engine.connect() as conn:
        plan = plan_file(
            conn, kind, path, caller.actor, ctx.rt.roles, effective=effective,
            absent_leave=absent_leave, display_name=name,
        )  # fmt: skip
        if apply:
            apply_plan(conn, plan, caller.actor)
            if kind == "users" and form.get("password_links") in ("on", "true", "1"):
                links = issue_links(conn, new_accounts(plan), base_url=site_url(request),
                                    actor=caller.actor.username)  # fmt: skip
    return plan, links


@router.post("/admin/org/{kind}/preview")
async def preview(request: Request, kind: str) -> Response:
    """Check the uploaded file; show every difference, or every FILE:ROW error."""
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        require_admin(caller, "org_files_admin_only")
        if kind not in KINDS:
            raise worded("no_file_kind", kind=repr(kind))
        upload, content = await _required_file(form, ctx.rt.settings.max_attachment_bytes)
        name = safe_name(upload.filename or f"{kind}.xlsx")
        if name.rsplit(".", 1)[-1].lower() not in ("xlsx", "csv"):
            raise worded("csv_or_xlsx", file=name)
        token = secrets.token_hex(16)
        folder = _folder(request) / token
        folder.mkdir()
        (folder / name).write_bytes(content)
        plan, _ = _plan(request, caller, kind, folder / name, form, name, apply=False)
    except OrgFileRefused as exc:
        return _page(request, caller, None, 422, import_errors=exc.errors, kind=kind)
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _page(request, caller, message, status)
    return _page(request, caller, plan=plan, kind=kind, token=token, filename=name,
                 effective=str(form.get("effective", "")),
                 absent_leave=form.get("absent_leave") in ("on", "true", "1"),
                 password_links=form.get("password_links") in ("on", "true", "1"))  # fmt: skip


@router.post("/admin/org/{kind}/import")
async def apply(request: Request, kind: str) -> Response:
    """Apply the previewed file (checked again: the record may have changed since)."""
    caller, _ctx, form = await _posted(request)
    token = str(form.get("token", ""))
    try:
        check_csrf(request, caller, form)
        require_admin(caller, "org_files_admin_only")
        name = safe_name(str(form.get("filename") or ""))
        folder = _folder(request) / token
        if kind not in KINDS or not _TOKEN.match(token) or not (folder / name).is_file():
            raise worded("file_expired")
        plan, links = _plan(request, caller, kind, folder / name, form, name, apply=True)
        shutil.rmtree(folder, ignore_errors=True)
    except OrgFileRefused as exc:
        return _page(request, caller, None, 422, import_errors=exc.errors, kind=kind)
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _page(request, caller, message, status)
    return _page(request, caller, plan=plan, kind=kind, applied=True, links=links)
