"""Việc của tôi: the caller's queue and a step on the ticked nominations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from khenthuong.errors import KhenthuongError
from khenthuong.services import stepping
from khenthuong.services.access import is_read_only
from khenthuong.services.listing import my_queue
from khenthuong.storage.db import reading
from khenthuong.web.context import Caller, ctx_of
from khenthuong.web.i18n import translate
from khenthuong.web.schemas import ItemView, as_utc, nomination_fields, nomination_out
from khenthuong.web.ui_common import (
    _error_text,
    _form_id,
    _form_ids,
    _posted,
    check_csrf,
    lang_of,
    refusal_line,
    refuse_read_only,
    render,
    ui_caller,
)
from khenthuong.web.ui_nominations import _export

router = APIRouter(include_in_schema=False)
QUEUE_PAGE = 100


# --------------------------------------------------------------------------- lists


@router.get("/queue")
def queue_page(request: Request) -> Response:
    return _queue_page(request, ui_caller(request))


def _queue_page(
    request: Request, caller: Caller, notice: str | None = None, status_code: int = 200
) -> Response:
    ctx = ctx_of(request)
    now = datetime.now(UTC)
    q = request.query_params
    export = q.get("format") == "xlsx"
    after = None
    after_id = _form_id(q.get("after_id", ""))
    if after_id is not None:
        try:
            due = datetime.fromisoformat(q["after_due"]) if q.get("after_due") else None
        except ValueError:
            due = None
        after = (due, after_id)
    page = 5000 if export else QUEUE_PAGE
    with reading(ctx.rt.engine) as conn:
        rows = my_queue(conn, ctx.rt.registry, caller.actor, limit=page, after=after)
    if export:
        return _export(
            request, [nomination_out(r, ctx.calendar, now) for r in rows], "viec-cua-toi.xlsx"
        )
    items = [ItemView(nomination_fields(r, ctx.calendar, now)) for r in rows]
    next_url = None
    if len(items) == page:
        last = rows[-1]
        cursor = {"after_id": last["id"]}
        if last["due_at"] is not None:
            cursor["after_due"] = as_utc(last["due_at"]).isoformat()  # type: ignore[union-attr]
        next_url = "/queue?" + urlencode(cursor)
    steps: dict[str, str] = {}  # trigger -> its title, for the steps offered on many at once
    seen: set[tuple[Any, ...]] = set()  # a page repeats a few (workflow, state, steps)
    for row in rows:
        shape = (
            row["workflow"],
            row["workflow_version"],
            row["state"],
            *(row.get("actions") or ()),
        )
        if shape in seen:
            continue
        seen.add(shape)
        wf = ctx.rt.registry.get(row["workflow"], row["workflow_version"]).definition
        for trigger in row.get("actions") or []:
            transition = wf.find(row["state"], trigger)
            if transition is not None and not stepping.enters_decision(
                ctx.rt.registry, row, trigger
            ):
                steps.setdefault(trigger, transition.title.vi)
    return render(
        request, "queue.html", caller, status_code, items=items, next_url=next_url,
        steps=steps, selectable=bool(steps) and not is_read_only(caller.actor, ctx.rt.roles),
        notice=notice,
    )  # fmt: skip


@router.post("/queue/advance")
async def queue_advance(request: Request) -> Response:
    """One step on the nominations ticked in the queue, in one transaction: the permitted
    steps are written and each refused one is listed with its reason."""
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        ids = _form_ids(form, "nomination_id")
        trigger = str(form.get("trigger", "")).strip()
        if not ids or not trigger:
            raise KhenthuongError(translate("pick_files_and_step", lang_of(request)))
        reason = str(form.get("reason", "")).strip()
        done, refused = stepping.advance_batch(
            ctx.rt.engine, ctx.rt.registry, ids, trigger, caller.actor,
            {"reason": reason} if reason else {}, partial=True,
        )  # fmt: skip
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _queue_page(request, caller, message, status)
    lines = [translate("batch_done", lang_of(request), n=len(done))]
    lines += [
        f"#{nid}: " + "; ".join(refusal_line(r, lang_of(request)) for r in refusals)
        for nid, refusals in refused.items()
    ]
    return _queue_page(request, caller, " ".join(lines), 200 if not refused else 422)
