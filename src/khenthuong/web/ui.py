"""The officers' web UI: server-rendered pages (Jinja2), htmx-enhanced, no build step.

The pages live in one module per area (`ui_queue`, `ui_nominations`, `ui_councils`,
`ui_decisions`, `ui_blocs`, `ui_persons`, `ui_audit`, `ui_workflows`, `ui_signin`), as the
API routers do; what they share is in `ui_common` and re-exported here.
"""

from __future__ import annotations

from fastapi import APIRouter

from khenthuong.services.actors import load_actor
from khenthuong.web import (
    ui_audit,
    ui_blocs,
    ui_councils,
    ui_decisions,
    ui_nominations,
    ui_persons,
    ui_queue,
    ui_signin,
    ui_workflows,
)
from khenthuong.web.routing import add_routes
from khenthuong.web.ui_common import (
    TEMPLATES,
    NeedLogin,
    _error_text,
    _form_date,
    _form_id,
    _form_ids,
    _posted,
    _required_file,
    check_csrf,
    done,
    lang_of,
    redirect,
    refuse_read_only,
    render,
    ui_caller,
)

router = APIRouter(include_in_schema=False)
_AREAS = (
    ui_signin, ui_queue, ui_nominations, ui_persons, ui_councils, ui_decisions, ui_blocs,
    ui_workflows, ui_audit,
)  # fmt: skip
add_routes(router, *(area.router for area in _AREAS))

__all__ = [
    "TEMPLATES",
    "NeedLogin",
    "_error_text",
    "_form_date",
    "_form_id",
    "_form_ids",
    "_posted",
    "_required_file",
    "check_csrf",
    "done",
    "lang_of",
    "load_actor",
    "redirect",
    "refuse_read_only",
    "render",
    "router",
    "ui_caller",
]
