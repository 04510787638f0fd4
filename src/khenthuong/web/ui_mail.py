"""The **Thư và nhắc hạn** page (administrators): what the reminder scan and the outbox
relay are doing (counts by status, their last and next run) and the reminders and notices
given up after their last attempt, with whom and what they were about and their last error;
"Gửi lại" puts all or the chosen ones back, as `khenthuong reminders retry` does."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from khenthuong.errors import Forbidden, KhenthuongError
from khenthuong.services import mail_status
from khenthuong.storage.db import write_tx
from khenthuong.web.context import Caller, ctx_of
from khenthuong.web.ui_common import (
    _error_text,
    _form_ids,
    _posted,
    admin_refusal,
    check_csrf,
    done,
    render,
    require_admin,
    ui_caller,
    worded,
)

router = APIRouter(include_in_schema=False)
PATH = "/admin/mail"


def _page(
    request: Request, caller: Caller, error: str | None = None, status: int = 200, **extra: Any
) -> Response:
    rt = ctx_of(request).rt
    found = mail_status.overview(rt.engine, rt.settings)
    return render(request, "mail.html", caller, status, s=found, error=error,
                  stale_seconds=rt.settings.stale_claim_seconds,
                  max_attempts=rt.settings.send_max_attempts, **extra)  # fmt: skip


@router.get(PATH)
def mail_page(request: Request) -> Response:
    caller = ui_caller(request)
    if (refused := admin_refusal(request, caller, "mail_admin_only")) is not None:
        return refused
    return _page(request, caller)


@router.post(PATH + "/retry")
async def retry(request: Request) -> Response:
    """Put the given-up reminders and notices back (all, or the ticked ones): the next scan
    and relay send them with a fresh count of attempts."""
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        require_admin(caller, "mail_admin_only")
        every = form.get("all") == "1"
        chosen_r, chosen_n = _form_ids(form, "reminder"), _form_ids(form, "notice")
        if not every and not chosen_r and not chosen_n:
            raise worded("mail_retry_none_chosen")
        with write_tx(ctx.rt.engine) as conn:
            back_r, back_n = mail_status.retry(
                conn, None if every else chosen_r, None if every else chosen_n,
                actor=f"{caller.actor.username} (web)",
            )  # fmt: skip
    except Forbidden as exc:
        message, status = _error_text(request, caller, exc)
        return render(request, "error.html", caller, status, message=message)
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _page(request, caller, message, status)
    if not back_r and not back_n:
        return done(request, PATH, "mail_retried_none")
    return done(request, PATH, "mail_retried", r=len(back_r), n=len(back_n))
