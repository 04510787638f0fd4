"""The officers' web UI: server-rendered pages (Jinja2), htmx-enhanced, no build step."""

from __future__ import annotations

import secrets
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import Connection, func, select
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload

from khenthuong.audit.query import AuditFilter, history
from khenthuong.audit.verify import verify_all
from khenthuong.commendation import COMMENDATION_TYPES, commendation_type_of
from khenthuong.dates import BadDate, parse_date
from khenthuong.doctypes import DOC_TYPES
from khenthuong.errors import (
    BatchRefused,
    Forbidden,
    KhenthuongError,
    NotFound,
    Refusal,
    StepRefused,
)
from khenthuong.localtime import LOCAL_TZ, local_today
from khenthuong.passwords import verify_password
from khenthuong.rules.catalog import catalog_in
from khenthuong.rules.eligibility import DISCIPLINE_LEVELS, MERIT
from khenthuong.rules.paths import Claim
from khenthuong.services import councils, decisions, dossier, inspections
from khenthuong.services import nominations as svc
from khenthuong.services.access import can_read, is_read_only, readable_paths
from khenthuong.services.actors import load_actor
from khenthuong.services.blocs import bloc_codes, bloc_view
from khenthuong.services.grounds import claim_of, grounds_for
from khenthuong.services.guard_facts import award_code_of
from khenthuong.services.guards import eligibility_preview
from khenthuong.services.history_import import COLUMNS as HISTORY_COLUMNS
from khenthuong.services.history_import import record_one
from khenthuong.services.listing import NominationFilter, list_nominations, my_queue
from khenthuong.storage.councils import COUNCIL_SESSIONS
from khenthuong.storage.db import write_tx
from khenthuong.storage.decisions import DECISION_ITEMS, DECISIONS
from khenthuong.storage.history import AWARD_RECORDS, BLOCKERS, INITIATIVES, YEARLY_RATINGS
from khenthuong.storage.models import PERSONS, UNITS, USERS
from khenthuong.web.api_councils import (
    decision_exists,
    decision_scope,
    duplicate_number,
    session_view,
)
from khenthuong.web.api_inspections import download_report_document
from khenthuong.web.api_reference import VERIFY_REFUSED, audit_rows, may_verify, state_counts
from khenthuong.web.context import (
    Caller,
    WebContext,
    ctx_of,
    end_sessions,
    log_denied,
    session_caller,
    session_epoch,
)
from khenthuong.web.directory_signin import ldap_sign_in
from khenthuong.web.i18n import translate
from khenthuong.web.problems import error_response
from khenthuong.web.schemas import MAX_ID, IdPath, as_utc, nomination_out
from khenthuong.web.sessions import COOKIE_NAME, LANG_COOKIE
from khenthuong.web.xlsx import xlsx_response
from khenthuong.workflow.diagram import to_svg
from khenthuong.workflow.minimum import waiting

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
LOGIN_COOKIE = "kt_login"
QUEUE_PAGE = 100
SIGNING_ROLES = frozenset({"unit_head", "minister", "prime_minister", "president"})
HISTORY_FIELDS = (
    "record", "year", "code", "decision_number", "decision_date", "ends_on", "title", "level",
    "commendation_type",
)  # fmt: skip
router = APIRouter(include_in_schema=False)


class NeedLogin(Exception):
    """Raised to send the browser to the sign-in page."""


def lang_of(request: Request) -> str:
    return "en" if request.cookies.get(LANG_COOKIE) == "en" else "vi"


async def _posted(request: Request) -> tuple[Caller, WebContext, FormData]:
    """A page's POST: the signed-in caller, the app's context and the form (its CSRF token is
    checked by the handler, inside the `try` that shows a refusal on the page)."""
    caller = ui_caller(request)
    return caller, ctx_of(request), await request.form()


def ui_caller(request: Request) -> Caller:
    """The signed-in caller of a page, or NeedLogin."""
    caller = session_caller(ctx_of(request), request)
    if caller is None:
        raise NeedLogin()
    request.state.username = caller.actor.username  # who a logged refusal names
    return caller


def render(
    request: Request,
    template: str,
    caller: Caller | None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    lang = lang_of(request)
    ctx = ctx_of(request)

    def t(key: str, **kw: object) -> str:
        return translate(key, lang, **kw)

    return TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "t": t,
            "lang": lang,
            "caller": caller,
            "csrf": caller.session.csrf if caller and caller.session else "",
            "read_only": bool(caller and is_read_only(caller.actor, ctx.rt.roles)),
            "state_title": lambda wf, ver, st: state_title(ctx, wf, ver, st, lang),
            "wf_title": lambda wf: wf_title(ctx, wf, lang),
            "fmt_dt": fmt_dt,
            "due_text": lambda item: due_text(item, lang),
            **values,
        },
        status_code=status_code,
    )


def state_title(ctx: WebContext, workflow: str, version: int, state: str, lang: str) -> str:
    try:
        st = ctx.rt.registry.get(workflow, version).definition.state(state)
    except (KhenthuongError, KeyError):
        return state
    return st.title.en if lang == "en" else st.title.vi


def wf_title(ctx: WebContext, workflow: str, lang: str) -> str:
    try:
        wf = ctx.rt.registry.get(workflow).definition
    except KhenthuongError:
        return workflow
    return wf.title.en if lang == "en" else wf.title.vi


def fmt_dt(value: datetime | None) -> str:

    value = as_utc(value)
    return value.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M") if value else ""


def due_text(item: Any, lang: str) -> str:
    n = item.working_days_left
    if n is None:
        return ""
    if n < 0:
        return translate("days_over", lang, n=-n)
    if n == 0:
        return translate("due_today", lang)
    return translate("days_left", lang, n=n)


def check_csrf(request: Request, caller: Caller, form: Any) -> None:
    """Every form posted with a session carries the session's CSRF token."""
    if caller.session is None or not secrets.compare_digest(
        str(form.get("csrf_token", "")), caller.session.csrf
    ):
        log_denied(ctx_of(request), request, caller.actor.username, "CSRF token mismatch")
        raise KhenthuongError(
            "Phiên làm việc hết hạn hoặc biểu mẫu không hợp lệ (CSRF); tải lại trang"
        )


def refuse_read_only(request: Request, caller: Caller) -> None:
    """Read-only accounts (auditors) change nothing: Forbidden, logged by `_error_text`."""
    if is_read_only(caller.actor, ctx_of(request).rt.roles) or not caller.actor.grants:
        raise Forbidden(
            f"{caller.actor.username} chỉ có quyền xem (read-only account: no changes allowed)"
        )


def _form_id(value: object) -> int | None:
    """A row id posted in a form, or None when it is not one."""
    text = str(value).strip()
    return int(text) if text.isdigit() and 0 < int(text) <= MAX_ID else None


def _form_ids(form: Any, name: str) -> list[int]:
    """Every valid row id posted under `name` (checkbox lists), in order."""
    return [i for i in map(_form_id, form.getlist(name)) if i is not None]


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


# --------------------------------------------------------------------------- sign-in


@router.get("/login")
def login_form(request: Request, next: str = "/queue") -> HTMLResponse:
    token = secrets.token_urlsafe(16)
    response = render(
        request, "login.html", None, error=None, login_token=token, next=next,
        oidc_provider=(
            ctx_of(request).rt.settings.oidc_provider_name
            if ctx_of(request).rt.settings.oidc_issuer else None
        ),
    )  # fmt: skip
    response.set_cookie(
        LOGIN_COOKIE, token, httponly=True, samesite="lax", secure=ctx_of(request).secure_cookies
    )
    return response


@router.post("/login")
async def login(request: Request) -> Response:
    ctx = ctx_of(request)
    form = await request.form()
    username = str(form.get("username", "")).strip().lower()[:80]
    password = str(form.get("password", ""))
    lang = lang_of(request)
    client = request.client.host if request.client else "?"
    keys = (f"user:{username}", f"ip:{client}")
    if not secrets.compare_digest(
        str(form.get("login_token", "")), request.cookies.get(LOGIN_COOKIE, "-")
    ):
        log_denied(ctx, request, username or "?", "sign-in form token missing or wrong (CSRF)")
        return render(request, "login.html", None, 403, error="CSRF", login_token="")
    wait = ctx.throttle.retry_after(*keys)
    if wait:
        log_denied(ctx, request, username or "?", "sign-in throttled")
        response = render(
            request, "login.html", None, 429, error=translate("throttled", lang, s=wait),
            login_token=request.cookies.get(LOGIN_COOKIE, ""), next=form.get("next"),
        )  # fmt: skip
        response.headers["Retry-After"] = str(wait)
        return response
    with ctx.rt.engine.connect() as conn:
        row = conn.execute(
            select(USERS.c.password_hash, USERS.c.active).where(USERS.c.username == username)
        ).first()
    ok = verify_password(row.password_hash if row else None, password) and bool(row and row.active)
    refusal: str | None = None
    if not ok and ctx.rt.settings.ldap_url:
        ok, refusal = await run_in_threadpool(ldap_sign_in, ctx, username, password)
    if not ok:
        ctx.throttle.failed(*keys)
        log_denied(ctx, request, username or "?", refusal or "wrong user name or password")
        return render(
            request, "login.html", None, 403 if refusal else 401,
            error=refusal or translate("bad_login", lang),
            login_token=request.cookies.get(LOGIN_COOKIE, ""), next=form.get("next"),
        )  # fmt: skip
    ctx.throttle.succeeded(f"user:{username}")
    after = start_session(ctx, username, str(form.get("next") or "/queue"))
    after.delete_cookie(LOGIN_COOKIE)
    return after


def start_session(ctx: WebContext, username: str, target: str) -> Response:
    """Sign `username` in: a fresh session cookie and a redirect to `target` on this site."""
    cookie, _ = ctx.sessions.issue(username, session_epoch(ctx, username))
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = "/queue"  # never leave the site after signing in
    after: Response = redirect(target)
    after.set_cookie(
        COOKIE_NAME,
        cookie,
        max_age=int(ctx.sessions.max_age),
        httponly=True,
        samesite="lax",
        secure=ctx.secure_cookies,
    )
    return after


@router.post("/logout")
async def logout(request: Request) -> Response:
    caller = ui_caller(request)
    check_csrf(request, caller, await request.form())
    end_sessions(ctx_of(request), caller.actor.username)
    response = redirect("/login")
    response.delete_cookie(COOKIE_NAME)
    return response


LANG_MAX_AGE = 365 * 24 * 3600


def same_origin_path(request: Request, url: str | None) -> str:
    """The path (and query) of `url` when it points into this site, else "/".

    The Referer is the client's word: an absolute URL is followed only when its host is this
    server's (or the configured base URL's); anything else would be an open redirect.
    """
    if not url:
        return "/"
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return "/"
    if parts.scheme or parts.netloc:
        base = ctx_of(request).rt.settings.base_url
        hosts = {request.url.netloc.lower()}
        if base:
            hosts.add(urlsplit(base).netloc.lower())
        if parts.scheme not in ("http", "https") or parts.netloc.lower() not in hosts:
            return "/"
    path = parts.path or "/"
    if (
        not path.startswith("/")
        or path.startswith("//")
        or "\\" in path
        or path.startswith("/lang/")
        or any(ord(ch) < 32 for ch in path + parts.query)
    ):
        return "/"
    return path + (f"?{parts.query}" if parts.query else "")


@router.get("/lang/{lang}")
def switch_lang(request: Request, lang: str) -> Response:
    """Switch the UI language and go back to the page the switch was clicked on."""
    response = redirect(same_origin_path(request, request.headers.get("referer")))
    response.set_cookie(
        LANG_COOKIE,
        "en" if lang == "en" else "vi",
        max_age=LANG_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=ctx_of(request).secure_cookies,
    )
    return response


@router.get("/")
def home() -> Response:
    return redirect("/queue")


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
    with ctx.rt.engine.connect() as conn:
        rows = my_queue(conn, ctx.rt.registry, caller.actor, limit=page, after=after)
    items = [nomination_out(r, ctx.calendar, now) for r in rows]
    if export:
        return _export(request, items, "viec-cua-toi.xlsx")
    next_url = None
    if len(items) == page:
        last = rows[-1]
        cursor = {"after_id": last["id"]}
        if last["due_at"] is not None:
            cursor["after_due"] = as_utc(last["due_at"]).isoformat()  # type: ignore[union-attr]
        next_url = "/queue?" + urlencode(cursor)
    steps: dict[str, str] = {}  # trigger -> its title, for the steps offered on many at once
    for row in rows:
        wf = ctx.rt.registry.get(row["workflow"], row["workflow_version"]).definition
        for trigger in row.get("actions") or []:
            transition = wf.find(row["state"], trigger)
            if transition is not None and not svc.enters_decision(ctx.rt.registry, row, trigger):
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
            raise KhenthuongError("Chọn hồ sơ và bước cần thực hiện (tick nominations, a step)")
        reason = str(form.get("reason", "")).strip()
        done, refused = svc.advance_batch(
            ctx.rt.engine, ctx.rt.registry, ids, trigger, caller.actor,
            {"reason": reason} if reason else {}, partial=True,
        )  # fmt: skip
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _queue_page(request, caller, message, status)
    lines = [f"Đã thực hiện {len(done)} bước ({len(done)} done)."]
    lines += [
        f"#{nid}: " + "; ".join(r.message_vi for r in refusals) for nid, refusals in refused.items()
    ]
    return _queue_page(request, caller, " ".join(lines), 200 if not refused else 422)


def _filter_from(request: Request) -> NominationFilter:
    q = request.query_params

    def num(name: str) -> int | None:
        value = q.get(name, "").strip()
        return _form_id(value)

    overdue = {"1": True, "0": False}.get(q.get("overdue", ""))
    closed = {"1": True, "0": False}.get(q.get("closed", ""))
    return NominationFilter(
        workflow=q.get("workflow") or None,
        state=q.get("state") or None,
        unit=q.get("unit") or None,
        year=num("year"),
        overdue=overdue,
        closed=closed,
        q=q.get("q") or None,
        after=num("after"),
        limit=min(num("limit") or 50, 500),
    )


def _export(request: Request, items: list[Any], filename: str) -> Response:
    lang = lang_of(request)
    ctx = ctx_of(request)

    def t(key: str) -> str:
        return translate(key, lang)

    return xlsx_response(
        filename,
        t("nominations"),
        [t("id"), t("nominee"), t("workflow"), t("state"), t("unit"), t("year"), t("due"),
         t("overdue")],
        (
            [i.id, i.nominee_name, wf_title(ctx, i.workflow, lang),
             state_title(ctx, i.workflow, i.workflow_version, i.state, lang), i.unit_code,
             i.year, fmt_dt(i.due_at), "x" if i.overdue else ""]
            for i in items
        ),
    )  # fmt: skip


@router.get("/nominations")
def nominations_page(request: Request) -> Response:
    caller = ui_caller(request)
    ctx = ctx_of(request)
    f = _filter_from(request)
    now = datetime.now(UTC)
    if request.query_params.get("format") == "xlsx":
        f = NominationFilter(**{**f.__dict__, "limit": 100_000, "after": None})
    with ctx.rt.engine.connect() as conn:
        rows, cursor = list_nominations(
            conn, f, readable_paths(caller.actor, caller.inspecting), now
        )
    items = [nomination_out(r, ctx.calendar, now) for r in rows]
    if request.query_params.get("format") == "xlsx":
        return _export(request, items, "ho-so.xlsx")
    params = {k: v for k, v in request.query_params.items() if k not in ("after", "format")}
    next_url = f"/nominations?{urlencode({**params, 'after': cursor})}" if cursor else None
    export_url = f"/nominations?{urlencode({**params, 'format': 'xlsx'})}"
    template = (
        "nomination_rows.html" if request.headers.get("hx-target") == "rows" else "nominations.html"
    )
    return render(
        request, template, caller, items=items, f=f, next_url=next_url, export_url=export_url,
        workflows=ctx.rt.registry.latest(),
    )  # fmt: skip


# --------------------------------------------------------------------------- one nomination


def _nomination_page(
    request: Request, caller: Caller, nid: int, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    ctx = ctx_of(request)
    now = datetime.now(UTC)
    with ctx.rt.engine.connect() as conn:
        row = svc.get_row(conn, nid)
        if not can_read(caller.actor, row["unit_path"], caller.inspecting):
            return _outside_scope(
                request, caller, status_code, f"nomination #{nid} outside scope",
                f"Hồ sơ #{nid} thuộc đơn vị ngoài phạm vi của bạn",
            )  # fmt: skip
        unit_code = conn.execute(
            select(UNITS.c.code).where(UNITS.c.id == row["proposing_unit_id"])
        ).scalar()
        events = history(conn, nid)
        docs = dossier.documents(conn, nid)
        claim = claim_of(conn, nid)
        decision = conn.execute(
            select(DECISIONS.c.number, DECISIONS.c.decided_on, DECISIONS.c.signer,
                   DECISION_ITEMS.c.amount_vnd, DECISION_ITEMS.c.coefficient)
            .join(DECISION_ITEMS, DECISION_ITEMS.c.decision_id == DECISIONS.c.id)
            .where(DECISION_ITEMS.c.nomination_id == nid)
            .order_by(DECISIONS.c.id.desc())
        ).first()  # fmt: skip
    wf = ctx.rt.registry.get(row["workflow"], row["workflow_version"]).definition
    actions = (
        []
        if is_read_only(caller.actor, ctx.rt.roles)
        else svc.allowed_triggers(ctx.rt.registry, row, caller.actor)
    )
    item = nomination_out({**dict(row), "unit_code": unit_code}, ctx.calendar, now)
    lang = lang_of(request)
    titles = {t.trigger: (t.title.en if lang == "en" else t.title.vi) for t in wf.transitions}
    titles["create"] = "Lập hồ sơ" if lang == "vi" else "Created"

    def step_title(trigger: str) -> str:
        return titles.get(trigger, trigger)

    return render(
        request, "nomination.html", caller, status_code, item=item, row=row, wf=wf,
        events=events, docs=docs, actions=actions, doc_types=DOC_TYPES, error=error,
        step_title=step_title, decision=decision, claim=claim,
        commendation_types=COMMENDATION_TYPES, today=local_today().isoformat(),
        waits=waiting(ctx.calendar, wf, row["state"], actions, row["state_entered_at"], now),
    )  # fmt: skip


@router.get("/nominations/{nid}")
def nomination_page(request: Request, nid: IdPath) -> Response:
    return _nomination_page(request, ui_caller(request), nid)


def _outside_scope(
    request: Request, caller: Caller, status_code: int, reason: str, message: str
) -> HTMLResponse:
    """The refusal page for a caller outside a page's units, logged as a denied access;
    unless the page is shown again after a refused post (`status_code` 403), which
    `_error_text` already logged: one refused attempt, one entry in the access log."""
    if status_code != 403:
        log_denied(ctx_of(request), request, caller.actor.username, reason)
    return render(request, "error.html", caller, 403, message=message)


def _form_date(text: str, name: str, default: date) -> date:
    """A date field of a form, dd/mm/yyyy or ISO (empty: `default`); a bad one is a 422
    refusal naming the field."""
    if not text.strip():
        return default
    try:
        return parse_date(text)
    except BadDate as exc:
        raise StepRefused(
            [Refusal(f"field:{name}", str(exc), f"{name}: {text!r} is not a date")]
        ) from None


def _error_text(request: Request, caller: Caller, exc: KhenthuongError) -> tuple[str, int]:
    """The message and status of a refusal; a 403 is recorded as a denied attempt."""
    response = error_response(exc)
    if response.status_code == 403:
        log_denied(ctx_of(request), request, caller.actor.username, str(exc))
    if isinstance(exc, (StepRefused, BatchRefused)):
        refusals = exc.refusals if isinstance(exc, StepRefused) else [
            r for refs in exc.failures.values() for r in refs
        ]  # fmt: skip
        return "; ".join(r.message_vi for r in refusals), response.status_code
    return str(exc), response.status_code


@router.post("/nominations/{nid}/advance")
async def advance_form(request: Request, nid: IdPath) -> Response:
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        trigger = str(form.get("trigger", ""))
        payload = {
            k[len("f_") :]: str(v).strip()
            for k, v in form.items()
            if k.startswith("f_") and str(v).strip()
        }
        version = str(form.get("version", ""))
        if trigger == "decide" and "decision_number" in payload:
            return _decide(request, caller, nid, form, payload)
        svc.advance(
            ctx.rt.engine, ctx.rt.registry, nid, trigger, caller.actor, payload,
            comment=str(form.get("comment", "")).strip() or None,
            expected_version=_form_id(version),
        )  # fmt: skip
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _nomination_page(request, caller, nid, message, status)
    return redirect(f"/nominations/{nid}")


def _decide(
    request: Request, caller: Caller, nid: int, form: Any, payload: dict[str, str]
) -> Response:
    ctx = ctx_of(request)
    catalog = catalog_in(ctx.rt.settings.config_dir)
    day = payload.get("decision_date") or local_today().isoformat()
    with write_tx(ctx.rt.engine) as conn:
        row = svc.get_row(conn, nid)
        code = award_code_of(row, catalog)
        if code is None:
            svc.advance_in(conn, ctx.rt.registry, nid, "decide", caller.actor, payload)
        else:
            grant = next((g for g in caller.actor.grants if row["unit_path"].startswith(
                g.scope_path)), None)  # fmt: skip
            decisions.create_decision(
                conn, ctx.rt.registry, catalog, number=payload["decision_number"],
                decided_on=_form_date(day, "decision_date", local_today()),
                signer=str(form.get("signer") or caller.actor.username),
                authority=grant.scope_code if grant else caller.actor.unit_code,
                award_code=code, nomination_ids=[nid], actor=caller.actor,
            )  # fmt: skip
    return redirect(f"/nominations/{nid}")


@router.post("/nominations/{nid}/documents")
async def upload_form(request: Request, nid: IdPath) -> Response:
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        limit = ctx.rt.settings.max_attachment_bytes
        upload, content = await _required_file(form, limit)
        with write_tx(ctx.rt.engine) as conn:
            row = svc.get_row(conn, nid)
            if not any(row["unit_path"].startswith(g.scope_path) for g in caller.actor.grants):
                raise Forbidden(f"Hồ sơ #{nid} ngoài phạm vi của bạn (outside your units)")
            dossier.attach(
                conn, nid, doc_type=str(form.get("doc_type", "")),
                filename=upload.filename or "tai-lieu", content=content, actor=caller.actor,
                max_bytes=limit, content_type=upload.content_type,
            )  # fmt: skip
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _nomination_page(request, caller, nid, message, status)
    return redirect(f"/nominations/{nid}")


@router.get("/documents/{doc_id}")
def document_download(request: Request, doc_id: IdPath) -> Response:
    from khenthuong.web.api_nominations import download  # noqa: PLC0415

    return download(request, ui_caller(request), doc_id)


# --------------------------------------------------------------------------- new nomination


def _new_context(request: Request, caller: Caller) -> dict[str, Any]:
    ctx = ctx_of(request)
    paths = readable_paths(caller.actor)
    proposer_units = []
    persons = []
    with ctx.rt.engine.connect() as conn:
        for u in conn.execute(
            select(UNITS.c.code, UNITS.c.name, UNITS.c.path).order_by(UNITS.c.path)
        ):
            if any(
                u.path.startswith(g.scope_path) and g.role == "unit_officer"
                for g in caller.actor.grants
            ):
                proposer_units.append(u)
        for p in conn.execute(
            select(PERSONS.c.id, PERSONS.c.full_name, UNITS.c.code, UNITS.c.path)
            .join(UNITS, UNITS.c.id == PERSONS.c.unit_id)
            .order_by(PERSONS.c.full_name)
        ):
            if paths is None or any(p.path.startswith(x) for x in paths):
                persons.append(p)
    now = datetime.now(UTC)
    grounds = [
        (w.definition.title.vi, found)
        for w in ctx.rt.registry.latest()
        if (found := grounds_for(w.definition.name, None, "", now))
    ]
    return {
        "workflows": ctx.rt.registry.latest(),
        "units": proposer_units,
        "persons": persons,
        "year": local_today().year,
        "commendation_types": COMMENDATION_TYPES,
        "grounds": grounds,
        "campaigns": _campaign_choices(ctx, caller),
    }


def _campaign_choices(ctx: WebContext, caller: Caller) -> list[Any]:
    """The campaigns covering a unit where the caller may propose (services.campaigns)."""
    from khenthuong.services.campaigns import campaigns_for  # noqa: PLC0415

    paths = [g.scope_path for g in caller.actor.grants if g.role == "unit_officer"]
    with ctx.rt.engine.connect() as conn:
        return campaigns_for(conn, paths)


@router.get("/new")
def new_form(request: Request) -> Response:
    caller = ui_caller(request)
    return render(request, "new.html", caller, **_new_context(request, caller), error=None, form={})


@router.get("/new/check")
def new_check(request: Request) -> Response:
    """Eligibility feedback for the chosen person, award path and year (htmx fragment)."""
    caller = ui_caller(request)
    ctx = ctx_of(request)
    q = request.query_params
    person = q.get("person_id", "")
    workflow = q.get("workflow", "")
    year = q.get("year", "")
    person_id, year_no = _form_id(person), _form_id(year)
    if person_id is None or not workflow or year_no is None or year_no > 9999:
        return HTMLResponse("")
    with ctx.rt.engine.connect() as conn:
        row = conn.execute(
            select(UNITS.c.path).join(PERSONS, PERSONS.c.unit_id == UNITS.c.id).where(
                PERSONS.c.id == person_id)
        ).first()  # fmt: skip
        if row is None or not can_read(caller.actor, row.path):
            return HTMLResponse("")
        kind = commendation_type_of(q.get("commendation_type", "")) or MERIT
        basis = q.get("basis", "").strip()
        claim = Claim(basis, q.get("attestation", "")) if basis else None
        code, refusals = eligibility_preview(
            conn, workflow, person_id, year_no, local_today(), commendation_type=kind, claim=claim
        )
    return render(
        request, "eligibility.html", caller, code=code, refusals=refusals, person_id=person_id
    )


@router.post("/new")
async def new_submit(request: Request) -> Response:
    caller, ctx, form = await _posted(request)
    values = {k: str(v) for k, v in form.items()}
    try:
        check_csrf(request, caller, form)
        person = values.get("person_id", "")
        year = values.get("year", "")
        kind, basis = values.get("commendation_type") or "cong_trang", values.get("basis") or None
        attestation = values.get("attestation", "").strip() or None
        if basis and attestation and not values.get("attested"):
            raise StepRefused([Refusal(
                "field:attested", "Cần đánh dấu ô xác nhận thành tích theo căn cứ đã chọn",
                "tick the box attesting the achievement of the chosen basis",
            )])  # fmt: skip
        from khenthuong.services.campaigns import nominate_for_campaign  # noqa: PLC0415

        nid = nominate_for_campaign(
            ctx.rt.engine, ctx.rt.registry, _form_id(values.get("campaign", "")),
            workflow=values.get("workflow", ""),
            proposing_unit=values.get("proposing_unit", ""), actor=caller.actor,
            nominee_person_id=_form_id(person),
            nominee_unit_code=values.get("nominee_unit_code") or None,
            nominee_name=values.get("nominee_name") or None,
            create_person=values.get("create_person") == "1",
            year=_form_id(year),
            comment=values.get("comment") or None,
            commendation_type=commendation_type_of(kind) or kind,
            basis=basis, attestation=attestation,
        )  # fmt: skip
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return render(
            request, "new.html", caller, status, **_new_context(request, caller),
            error=message, form=values,
        )  # fmt: skip
    return redirect(f"/nominations/{nid}")


# --------------------------------------------------------------------------- people


def _person_page(
    request: Request, caller: Caller, pid: int, error: str | None = None, status_code: int = 200
) -> Response:
    ctx = ctx_of(request)
    with ctx.rt.engine.connect() as conn:
        person = conn.execute(
            select(PERSONS, UNITS.c.code, UNITS.c.path, UNITS.c.name.label("unit_name"))
            .join(UNITS, UNITS.c.id == PERSONS.c.unit_id)
            .where(PERSONS.c.id == pid)
        ).mappings().first()  # fmt: skip
        if person is None:
            return render(request, "error.html", caller, 404, message=f"Không có cá nhân #{pid}")
        if not can_read(caller.actor, person["path"], caller.inspecting):
            return _outside_scope(
                request, caller, status_code, f"person #{pid} outside scope",
                "Ngoài phạm vi của bạn",
            )  # fmt: skip

        def rows(table: Any, order: Any) -> list[Any]:
            return list(
                conn.execute(
                    select(table).where(table.c.person_id == pid).order_by(order)
                ).mappings()
            )

        history = {
            "awards": rows(AWARD_RECORDS, AWARD_RECORDS.c.year.desc()),
            "ratings": rows(YEARLY_RATINGS, YEARLY_RATINGS.c.year.desc()),
            "initiatives": rows(INITIATIVES, INITIATIVES.c.year.desc()),
            "blockers": rows(BLOCKERS, BLOCKERS.c.starts_on.desc()),
        }
    if request.query_params.get("format") == "xlsx":
        return _history_export(person, history)
    can_edit = not is_read_only(caller.actor, ctx.rt.roles) and any(
        person["path"].startswith(g.scope_path) for g in caller.actor.grants
    )
    return render(
        request, "person.html", caller, status_code, person=person, h=history, error=error,
        can_edit=can_edit, year=local_today().year, today=local_today().isoformat(),
        discipline_levels=DISCIPLINE_LEVELS, commendation_types=COMMENDATION_TYPES,
    )  # fmt: skip


def _history_export(person: Any, h: dict[str, list[Any]]) -> Response:
    """The person's history as one sheet in the import's columns (it can be imported again)."""
    name, unit = person["full_name"], person["code"]

    def line(record: str, **values: Any) -> list[Any]:
        return [
            record if c == "record" else name if c == "person" else unit if c == "unit"
            else values.get(c, "")
            for c in HISTORY_COLUMNS
        ]  # fmt: skip

    rows = (
        [line("award", year=a["year"], code=a["award_code"], decision_number=a["decision_number"],
              decision_date=a["decision_date"], commendation_type=a["commendation_type"],
              title="đã hủy (revoked)" if a["revoked"] else "") for a in h["awards"]]
        + [line("rating", year=r["year"], code=r["rating"]) for r in h["ratings"]]
        + [line("initiative", year=i["year"], code=i["scope"], title=i["title"])
           for i in h["initiatives"]]
        + [line("blocker", code=b["kind"], decision_date=b["starts_on"], ends_on=b["ends_on"] or "",
                title=b["note"] or "", level=b["level"] or "") for b in h["blockers"]]
    )  # fmt: skip
    return xlsx_response(f"lich-su-{person['id']}.xlsx", name[:31], list(HISTORY_COLUMNS), rows)


@router.get("/persons/{pid}")
def person_page(request: Request, pid: IdPath) -> Response:
    """A person's award history, yearly ratings, initiatives and blockers."""
    return _person_page(request, ui_caller(request), pid)


@router.post("/persons/{pid}/history")
async def person_history(request: Request, pid: IdPath) -> Response:
    """Record one history entry for the person (same checks as an import row)."""
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        with ctx.rt.engine.connect() as conn:
            person = conn.execute(
                select(PERSONS.c.full_name, UNITS.c.code, UNITS.c.path)
                .join(UNITS, UNITS.c.id == PERSONS.c.unit_id)
                .where(PERSONS.c.id == pid)
            ).first()  # fmt: skip
        if person is None:
            raise NotFound(f"Không có cá nhân #{pid}")
        if is_read_only(caller.actor, ctx.rt.roles) or not any(
            person.path.startswith(g.scope_path) for g in caller.actor.grants
        ):
            raise Forbidden(f"{person.full_name} thuộc đơn vị ngoài phạm vi của bạn")
        row = {k: str(form.get(k, "")).strip() for k in HISTORY_FIELDS}
        row |= {"person": person.full_name, "unit": person.code}
        catalog = catalog_in(ctx.rt.settings.config_dir)
        with write_tx(ctx.rt.engine) as conn:
            record_one(conn, row, catalog=catalog)
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _person_page(request, caller, pid, message, status)
    return redirect(f"/persons/{pid}")


# --------------------------------------------------------------------------- councils


def _council_units(caller: Caller, ctx: WebContext) -> list[Any]:
    with ctx.rt.engine.connect() as conn:
        return [
            u
            for u in conn.execute(select(UNITS.c.code, UNITS.c.name, UNITS.c.path))
            if caller.actor.grant_for(["council_secretary"], u.path) is not None
            and any(g.scope_path == u.path for g in caller.actor.grants)
        ]


@router.get("/councils")
def councils_page(request: Request) -> Response:
    """Council sessions in the caller's units; `?format=xlsx` exports them."""
    return _councils_page(request, ui_caller(request))


def _councils_page(
    request: Request, caller: Caller, error: str | None = None, status_code: int = 200
) -> Response:
    ctx = ctx_of(request)
    paths = readable_paths(caller.actor, caller.inspecting)
    with ctx.rt.engine.connect() as conn:
        sessions = [
            s
            for s in conn.execute(
                select(COUNCIL_SESSIONS, UNITS.c.code, UNITS.c.path)
                .join(UNITS, UNITS.c.id == COUNCIL_SESSIONS.c.unit_id)
                .order_by(COUNCIL_SESSIONS.c.id.desc())
                .limit(200)
            ).mappings()
            if paths is None or any(s["path"].startswith(p) for p in paths)
        ]
    if request.query_params.get("format") == "xlsx":
        lang = lang_of(request)
        return xlsx_response(
            "phien-hop.xlsx", translate("councils", lang),
            ["#", translate("unit", lang), translate("title", lang), translate("held_on", lang),
             translate("state", lang)],
            ([x["id"], x["code"], x["title"], x["held_on"], translate(x["status"], lang)]
             for x in sessions),
        )  # fmt: skip
    return render(
        request, "councils.html", caller, status_code, sessions=sessions,
        units=_council_units(caller, ctx), today=local_today().isoformat(), error=error,
    )  # fmt: skip


def _members(text: str) -> list[councils.MemberIn]:
    members = []
    for line in text.splitlines():
        name = line.strip()
        if not name:
            continue
        absent = name.endswith("(vắng)")
        name = name.removesuffix("(vắng)").strip()
        members.append(councils.MemberIn(full_name=name, present=not absent))
    return members


@router.post("/councils")
async def council_open(request: Request) -> Response:
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        held = str(form.get("held_on", ""))
        with write_tx(ctx.rt.engine) as conn:
            sid = councils.open_session(
                conn, str(form.get("unit", "")), title=str(form.get("title", "")).strip()
                or "Phiên họp", held_on=_form_date(held, "held_on", local_today()),
                members=_members(str(form.get("members", ""))), actor=caller.actor,
            )  # fmt: skip
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _councils_page(request, caller, message, status)
    except ValueError as exc:
        return _councils_page(request, caller, f"Ngày không hợp lệ (invalid date): {exc}", 422)
    return redirect(f"/councils/{sid}")


def _session_page(
    request: Request, caller: Caller, sid: int, error: str | None = None, status_code: int = 200
) -> HTMLResponse:
    ctx = ctx_of(request)
    with ctx.rt.engine.connect() as conn:
        try:
            view = session_view(conn, sid)
        except NotFound as exc:
            return render(request, "error.html", caller, 404, message=str(exc))
        if not can_read(caller.actor, view["unit_path"], caller.inspecting):
            return _outside_scope(
                request, caller, status_code, f"council session #{sid} outside scope",
                f"Phiên họp #{sid} ngoài phạm vi của bạn (outside your units)",
            )  # fmt: skip
        waiting: list[Any] = []
        if view["status"] == "open":
            from khenthuong.workflow.definition import StateKind  # noqa: PLC0415

            rows, _ = list_nominations(
                conn, NominationFilter(closed=False, limit=500), (view["unit_path"],),
                datetime.now(UTC),
            )  # fmt: skip
            on_agenda = {i["nomination_id"] for i in view["items"]}
            for r in rows:
                st = ctx.rt.registry.get(r["workflow"], r["workflow_version"]).definition.state(
                    r["state"]
                )
                if st.kind is StateKind.council and r["id"] not in on_agenda:
                    waiting.append(r)
    return render(
        request, "council.html", caller, status_code, s=view, waiting=waiting, error=error
    )


@router.get("/councils/{sid}")
def council_page(request: Request, sid: IdPath) -> Response:
    return _session_page(request, ui_caller(request), sid)


@router.post("/councils/{sid}/items")
async def council_items(request: Request, sid: IdPath) -> Response:
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        ids = _form_ids(form, "nomination_id")
        if not ids:
            raise KhenthuongError("Chưa chọn hồ sơ nào (nothing selected)")
        with write_tx(ctx.rt.engine) as conn:
            for nid in ids:
                councils.add_item(conn, ctx.rt.registry, sid, nid, actor=caller.actor)
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _session_page(request, caller, sid, message, status)
    return redirect(f"/councils/{sid}")


@router.post("/councils/{sid}/tallies")
async def council_tallies(request: Request, sid: IdPath) -> Response:
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)

        def num(key: str) -> int:
            value = str(form.get(key, "0")).strip() or "0"
            if not value.isdigit() or len(value) > 5:
                raise KhenthuongError(f"Số phiếu không hợp lệ ở ô {key} (invalid number)")
            return int(value)

        with write_tx(ctx.rt.engine) as conn:
            for nid in _form_ids(form, "nomination_id"):
                councils.record_tally(
                    conn, sid, nid, agree=num(f"agree_{nid}"), disagree=num(f"disagree_{nid}"),
                    abstain=num(f"abstain_{nid}"), actor=caller.actor,
                )  # fmt: skip
            if form.get("close"):
                catalog = catalog_in(ctx.rt.settings.config_dir)
                councils.close_session(conn, ctx.rt.registry, catalog, sid, actor=caller.actor)
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _session_page(request, caller, sid, message, status)
    return redirect(f"/councils/{sid}")


# --------------------------------------------------------------------------- decisions


def _decisions_page(
    request: Request, caller: Caller, error: str | None = None, status_code: int = 200
) -> Response:
    ctx = ctx_of(request)
    paths = readable_paths(caller.actor, caller.inspecting)
    with ctx.rt.engine.connect() as conn:
        signed = list(
            conn.execute(
                select(
                    DECISIONS.c.number, DECISIONS.c.decided_on, DECISIONS.c.signer,
                    DECISIONS.c.award_code, UNITS.c.code, UNITS.c.path,
                    func.count(DECISION_ITEMS.c.id).label("items"),
                    func.sum(DECISION_ITEMS.c.amount_vnd).label("total"),
                )
                .join(UNITS, UNITS.c.id == DECISIONS.c.authority_unit_id)
                .join(DECISION_ITEMS, DECISION_ITEMS.c.decision_id == DECISIONS.c.id)
                .where(decision_scope(paths))
                .group_by(DECISIONS.c.id, UNITS.c.code, UNITS.c.path)
                .order_by(DECISIONS.c.id.desc())
                .limit(500)
            ).mappings()
        )  # fmt: skip
        waiting = [
            r
            for r in my_queue(conn, ctx.rt.registry, caller.actor, limit=500)
            if "decide" in r["actions"]
        ]
    if request.query_params.get("format") == "xlsx":
        lang = lang_of(request)
        return xlsx_response(
            "quyet-dinh.xlsx", translate("decision", lang),
            [translate("decision_number", lang), translate("decided_on", lang),
             translate("signer", lang), translate("authority", lang), "award", "n",
             translate("money", lang)],
            ([d["number"], d["decided_on"], d["signer"], d["code"], d["award_code"], d["items"],
              d["total"]] for d in signed),
        )  # fmt: skip
    authorities = [g.scope_code for g in caller.actor.grants if g.role in SIGNING_ROLES]
    return render(
        request, "decisions.html", caller, status_code, signed=signed, waiting=waiting,
        authorities=authorities, today=local_today().isoformat(), error=error,
    )  # fmt: skip


@router.get("/decisions")
def decisions_page(request: Request) -> Response:
    """Signed decisions in scope, and the nominations waiting for the caller's signature."""
    return _decisions_page(request, ui_caller(request))


@router.post("/decisions")
async def sign_decision(request: Request) -> Response:
    """One decision covering every selected nomination (the same award for all)."""
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        ids = _form_ids(form, "nomination_id")
        if not ids:
            raise KhenthuongError("Chưa chọn hồ sơ nào (nothing selected)")
        catalog = catalog_in(ctx.rt.settings.config_dir)
        number = str(form.get("number", "")).strip()
        day = str(form.get("decided_on", "")).strip()
        decided_on = _form_date(day, "decided_on", local_today())
        with write_tx(ctx.rt.engine) as conn:
            if decision_exists(conn, number, decided_on):
                return _decisions_page(request, caller, duplicate_number(number), 409)
            codes = {award_code_of(svc.get_row(conn, nid), catalog) for nid in ids}
            if len(codes) != 1 or None in codes:
                raise KhenthuongError(
                    "Các hồ sơ trong một quyết định phải cùng một hình thức khen thưởng "
                    "(one decision covers one award)"
                )
            decisions.create_decision(
                conn, ctx.rt.registry, catalog, number=number, decided_on=decided_on,
                signer=str(form.get("signer") or caller.actor.username),
                authority=str(form.get("authority") or caller.actor.unit_code),
                award_code=str(codes.pop()), nomination_ids=ids, actor=caller.actor,
            )  # fmt: skip
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _decisions_page(request, caller, message, status)
    except ValueError as exc:
        return _decisions_page(request, caller, f"Ngày không hợp lệ: {exc}", 422)
    return redirect(f"/decisions/{quote(number, safe='')}?year={decided_on.year}")


@router.get("/decisions/{number:path}")
def decision_page(request: Request, number: str) -> Response:
    """A decision with its nominees and award money; `?format=xlsx` exports it; `?year=`
    tells apart the same number in two years (serials restart every 1 January)."""
    caller = ui_caller(request)
    ctx = ctx_of(request)
    year = request.query_params.get("year", "")
    try:
        with ctx.rt.engine.connect() as conn:
            head, lines = decisions.decision_lines(
                conn, number, int(year) if year.isdigit() else None
            )
            paths = [svc.get_row(conn, x.nomination_id)["unit_path"] for x in lines]
    except KhenthuongError as exc:
        return render(request, "error.html", caller, 404, message=str(exc))
    if not all(can_read(caller.actor, p, caller.inspecting) for p in paths):
        log_denied(ctx, request, caller.actor.username, f"decision {number} outside scope")
        return render(request, "error.html", caller, 403, message="Ngoài phạm vi của bạn")
    if request.query_params.get("format") == "xlsx":
        lang = lang_of(request)
        return xlsx_response(
            "quyet-dinh-" + number.replace("/", "-") + ".xlsx", number,
            ["#", translate("nominee", lang), "hệ số", "lương cơ sở", translate("money", lang)],
            ([x.nomination_id, x.nominee_name, x.coefficient, x.base_salary_vnd, x.amount_vnd]
             for x in lines),
        )  # fmt: skip
    from khenthuong.services.signatures import signed_files  # noqa: PLC0415

    return render(
        request, "decision.html", caller, d=head, lines=lines,
        total=sum(x.amount_vnd for x in lines), quoted=quote(number, safe=""),
        doc_key=quote(f"{head['number']}:{head['number_year']}", safe=""),
        signed=signed_files(ctx.rt.engine, int(str(head["id"])), ctx.rt.settings.trust_roots),
    )  # fmt: skip


# --------------------------------------------------------------------------- blocs


@router.get("/blocs")
def blocs_page(request: Request) -> Response:
    """Emulation blocs and clusters with this year's leader."""
    caller = ui_caller(request)
    ctx = ctx_of(request)
    year = local_today().year
    views = []
    with ctx.rt.engine.connect() as conn:
        for code in bloc_codes(conn):
            try:
                views.append(bloc_view(conn, code, year))
            except KhenthuongError:
                continue  # no members this year
    if request.query_params.get("format") == "xlsx":
        lang = lang_of(request)
        return xlsx_response(
            f"khoi-thi-dua-{year}.xlsx", f"{translate('blocs', lang)} {year}",
            [translate("code", lang), translate("title", lang), translate("leader", lang),
             translate("deputy", lang), translate("members_n", lang)],
            ([b.code, b.name, b.name_of(b.leader) if b.leader else translate("not_chosen", lang),
              b.name_of(b.deputy) if b.deputy else "", ", ".join(m[1] for m in b.members)]
             for b in views),
        )  # fmt: skip
    return render(request, "blocs.html", caller, views=views, year=year)


def _bloc_page(
    request: Request, caller: Caller, code: str, error: str | None = None, status_code: int = 200
) -> Response:
    ctx = ctx_of(request)
    q = request.query_params
    year = _form_id(q.get("year", "")) or local_today().year
    try:
        with ctx.rt.engine.connect() as conn:
            view = bloc_view(conn, code, year)
            try:
                visits = inspections.visits(conn, code, year)
            except KhenthuongError:
                visits = []
    except KhenthuongError as exc:
        return render(request, "error.html", caller, 404, message=str(exc))
    if q.get("format") == "xlsx":
        lang = lang_of(request)
        return xlsx_response(
            f"kiem-tra-cheo-{code}-{year}.xlsx", f"{code} {year}",
            ["đơn vị kiểm tra", "đơn vị được kiểm tra", translate("from", lang),
             translate("to", lang), "hạn báo cáo", "điểm"],
            ([v.inspector_name, v.inspected_name, v.starts_on, v.ends_on, v.report_due_on,
              v.score] for v in visits),
        )  # fmt: skip
    mine = {g.scope_code for g in caller.actor.grants} | {caller.actor.unit_code}
    can_report = not is_read_only(caller.actor, ctx.rt.roles)
    docs: dict[int, list[inspections.ReportDocument]] = {}
    with ctx.rt.engine.connect() as conn:
        for v in visits:
            try:  # the service decides who reads a report; others see no documents
                docs[v.id] = inspections.report_documents(conn, v.id, caller.actor)
            except Forbidden:
                continue
    return render(
        request, "bloc.html", caller, status_code, b=view, visits=visits, year=year,
        mine=mine, can_report=can_report, error=error, docs=docs,
    )  # fmt: skip


@router.get("/blocs/{code}")
def bloc_page(request: Request, code: str) -> Response:
    """A bloc in a year: members, leader, the cross-inspection plan and its reports."""
    return _bloc_page(request, ui_caller(request), code)


@router.post("/blocs/{code}/visits/{vid}/report")
async def bloc_visit_report(request: Request, code: str, vid: IdPath) -> Response:
    """The inspecting unit files its findings and score for one visit."""
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        try:
            score = float(str(form.get("score", "")).replace(",", "."))
        except ValueError as exc:
            raise KhenthuongError("Điểm phải là một số từ 0 đến 100 (score)") from exc
        limit = ctx.rt.settings.max_attachment_bytes
        chosen = await _chosen_file(form, limit)
        with write_tx(ctx.rt.engine) as conn:  # the report and its document, or neither
            inspections.record_report(
                conn, vid, findings=str(form.get("findings", "")), score=score,
                actor=caller.actor,
            )  # fmt: skip
            if chosen is not None:
                _attach_report_file(conn, vid, *chosen, caller, limit)
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _bloc_page(request, caller, code, message, status)
    return _back_to_bloc(code, form)


def _back_to_bloc(code: str, form: FormData) -> RedirectResponse:
    """The bloc page of the year the form was posted from."""
    year = _form_id(str(form.get("year", ""))) or local_today().year
    return redirect(f"/blocs/{quote(code, safe='')}?year={year}")


async def _chosen_file(form: FormData, limit: int) -> tuple[StarletteUpload, bytes] | None:
    """The form's `file` and its first `limit` + 1 bytes (enough to refuse a larger file);
    None when none was chosen (a browser then sends an unnamed empty part)."""
    upload = form.get("file")
    if not isinstance(upload, StarletteUpload) or not upload.filename:
        return None
    return upload, await upload.read(limit + 1)


async def _required_file(form: FormData, limit: int) -> tuple[StarletteUpload, bytes]:
    """`_chosen_file`, refused with a clear message when no file was chosen."""
    chosen = await _chosen_file(form, limit)
    if chosen is None:
        raise KhenthuongError("Chưa chọn tệp (no file chosen)")
    return chosen


def _attach_report_file(
    conn: Connection, vid: int, upload: StarletteUpload, content: bytes, caller: Caller, limit: int
) -> None:
    inspections.attach_report_document(
        conn, vid, filename=upload.filename or "tai-lieu", content=content, actor=caller.actor,
        max_bytes=limit, content_type=upload.content_type,
    )  # fmt: skip


@router.post("/blocs/{code}/visits/{vid}/documents")
async def bloc_visit_document(request: Request, code: str, vid: IdPath) -> Response:
    """The inspecting unit attaches one more document to its visit's report."""
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        limit = ctx.rt.settings.max_attachment_bytes
        upload, content = await _required_file(form, limit)
        with write_tx(ctx.rt.engine) as conn:
            _attach_report_file(conn, vid, upload, content, caller, limit)
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _bloc_page(request, caller, code, message, status)
    return _back_to_bloc(code, form)


@router.get("/inspections/documents/{doc_id}")
def inspection_document_download(request: Request, doc_id: IdPath) -> Response:
    """A report document, for the visit's two units, the bloc leader and auditors."""
    return download_report_document(request, ui_caller(request), doc_id)


# --------------------------------------------------------------------------- workflows, audit


@router.get("/workflows")
def workflows_page(request: Request) -> Response:
    """Every award path (latest version); `?format=xlsx` exports the list."""
    caller = ui_caller(request)
    workflows = ctx_of(request).rt.registry.latest()
    if request.query_params.get("format") == "xlsx":
        lang = lang_of(request)
        return xlsx_response(
            "quy-trinh.xlsx", translate("workflows", lang),
            [translate("code", lang), "version", translate("title", lang), "subject",
             "legal basis"],
            ([w.definition.name, w.definition.version,
              w.definition.title.en if lang == "en" else w.definition.title.vi,
              ", ".join(w.definition.subject), "; ".join(w.definition.legal_basis)]
             for w in workflows),
        )  # fmt: skip
    return render(request, "workflows.html", caller, workflows=workflows)


@router.get("/workflows/{name}")
def workflow_page(request: Request, name: str) -> Response:
    caller = ui_caller(request)
    ctx = ctx_of(request)
    try:
        wf = ctx.rt.registry.get(name).definition
    except KhenthuongError as exc:
        return render(request, "error.html", caller, 404, message=str(exc))
    counts = state_counts(request, caller, wf.name, wf.version)
    svg = to_svg(wf, counts, lang=lang_of(request))
    return render(request, "workflow.html", caller, wf=wf, counts=counts, svg=svg)


@router.get("/audit")
def audit_page(request: Request) -> Response:
    caller = ui_caller(request)
    ctx = ctx_of(request)
    q = request.query_params

    def day(name: str) -> datetime | None:
        try:
            return datetime.fromisoformat(q[name]).replace(tzinfo=UTC) if q.get(name) else None
        except ValueError:
            return None

    nid = q.get("nomination_id", "")
    f = AuditFilter(
        actor=q.get("actor") or None, unit=q.get("unit") or None,
        workflow=q.get("workflow") or None, trigger=q.get("trigger") or None,
        state=q.get("state") or None, nomination_id=_form_id(nid),
        since=day("since"), until=day("until"), limit=2000,
    )  # fmt: skip
    searched = any(q.get(k) for k in ("actor", "unit", "workflow", "trigger", "state",
                                       "nomination_id", "since", "until"))  # fmt: skip
    rows = audit_rows(request, caller, f) if searched else []
    rows = list(reversed(rows))
    if q.get("format") == "xlsx":
        lang = lang_of(request)
        return xlsx_response(
            "nhat-ky.xlsx", translate("audit", lang),
            ["#", "stream", "seq", "time", "actor", "role", "unit", "trigger", "from", "to",
             "comment", "hash"],
            ([r["id"], r["stream"], r["seq"], fmt_dt(r["occurred_at"]), r["actor"],
              r["actor_role"], r["actor_unit"], r["trigger"], r["from_state"], r["to_state"],
              r["comment"], r["hash"]] for r in rows),
        )  # fmt: skip
    report = None
    if q.get("verify"):
        if not may_verify(caller.actor):
            log_denied(ctx, request, caller.actor.username, VERIFY_REFUSED)
            return render(request, "error.html", caller, 403, message=VERIFY_REFUSED)
        with ctx.rt.engine.connect() as conn:
            report = verify_all(conn)
    export_url = f"/audit?{urlencode({**dict(q.items()), 'format': 'xlsx'})}"
    return render(
        request, "audit.html", caller, rows=rows, q=q, searched=searched, report=report,
        export_url=export_url, can_verify=may_verify(caller.actor),
    )  # fmt: skip


__all__ = ["NeedLogin", "load_actor", "router"]
