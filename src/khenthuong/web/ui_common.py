"""What every page shares: the signed-in caller, form parsing, CSRF, refusals and render."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUpload

from khenthuong.dates import BadDate, parse_date
from khenthuong.errors import BatchRefused, Forbidden, KhenthuongError, Refusal, StepRefused
from khenthuong.formats import moment
from khenthuong.services.access import is_read_only
from khenthuong.web.context import Caller, WebContext, ctx_of, log_denied, session_caller
from khenthuong.web.formats import install as install_formats
from khenthuong.web.i18n import translate
from khenthuong.web.names import Names
from khenthuong.web.problems import error_response
from khenthuong.web.row_html import nomination_rows
from khenthuong.web.schemas import MAX_ID, as_utc
from khenthuong.web.sessions import FLASH_COOKIE, LANG_COOKIE

_E = TypeVar("_E", bound=KhenthuongError)
TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.add_extension("jinja2.ext.i18n")
install_formats(TEMPLATES.env)
TEMPLATES.env.globals["nomination_rows"] = nomination_rows


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
    """A page in the caller's language, with the message the previous action left (flash)."""
    lang = lang_of(request)
    ctx = ctx_of(request)

    def t(key: str, **kw: object) -> str:
        return translate(key, lang, **kw)

    flash = take_flash(request)
    titles: dict[object, str] = {}  # a page repeats the same workflows, states and days left
    response = TEMPLATES.TemplateResponse(
        request,
        template,
        {
            "t": t,
            "_": t,
            "gettext": t,
            "lang": lang,
            "caller": caller,
            "csrf": caller.session.csrf if caller and caller.session else "",
            "read_only": bool(caller and is_read_only(caller.actor, ctx.rt.roles)),
            "state_title": lambda wf, ver, st: _memo(
                titles, (wf, ver, st), lambda: state_title(ctx, wf, ver, st, lang)
            ),
            "wf_title": lambda wf: _memo(titles, wf, lambda: wf_title(ctx, wf, lang)),
            "fmt_dt": lambda value: moment(value, lang),
            "due_text": lambda item: _memo(
                titles, ("due", item.working_days_left), lambda: due_text(item, lang)
            ),
            "n": Names(ctx, lang),
            "flash": flash,
            "here": request.url.path,
            "status_code": status_code,
            **values,
        },
        status_code=status_code,
    )
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE)
    return response


def _memo(found: dict[object, str], key: object, make: Callable[[], str]) -> str:
    value = found.get(key)
    if value is None:
        value = found[key] = make()
    return value


def take_flash(request: Request) -> str | None:
    """The message the previous action left for this page (in this page's language)."""
    data = ctx_of(request).sessions.unseal(request.cookies.get(FLASH_COOKIE))
    if not isinstance(data, dict) or not isinstance(data.get("k"), str):
        return None
    values = data.get("v")
    if not isinstance(values, dict):
        values = {}
    try:
        return translate(data["k"], lang_of(request), **values)
    except (KeyError, IndexError, ValueError):
        return None


def done(request: Request, url: str, key: str, **values: object) -> RedirectResponse:
    """See `url` (303) and show there the message `key` (a flash cookie read once)."""
    response = redirect(url)
    response.set_cookie(
        FLASH_COOKIE,
        ctx_of(request).sessions.seal({"k": key, "v": values}),
        max_age=300,
        httponly=True,
        samesite="lax",
        secure=ctx_of(request).secure_cookies,
    )
    return response


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


def fmt_dt(value: datetime | None, lang: str = "vi") -> str:
    """A time as dd/mm/yyyy HH:mm in Hà Nội time."""
    return moment(as_utc(value), lang)


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
        str(form.get("csrf_token", "")).encode(), caller.session.csrf.encode()
    ):
        log_denied(ctx_of(request), request, caller.actor.username, "CSRF token mismatch")
        raise KhenthuongError(translate("csrf_expired", lang_of(request)))


def refuse_read_only(request: Request, caller: Caller) -> None:
    """Read-only accounts (auditors) change nothing: Forbidden, logged by `_error_text`."""
    if is_read_only(caller.actor, ctx_of(request).rt.roles) or not caller.actor.grants:
        raise Forbidden(
            translate("read_only_account", lang_of(request), user=caller.actor.display_name)
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
    refusal naming the field by its label."""
    if not text.strip():
        return default
    try:
        return parse_date(text)
    except BadDate as exc:
        refused = date_refusal(exc, name)
        raise StepRefused([Refusal(f"field:{name}", str(refused), str(refused.en))]) from None


def worded(
    key: str,
    cls: type[_E] = KhenthuongError,  # type: ignore[assignment]
    *,
    labels: Mapping[str, str] | None = None,
    **values: object,
) -> _E:
    """A page's refusal worded by the catalogs (`key`): the Vietnamese as its message (the
    log, the Vietnamese page), the English apart (`en`, the English page). `labels` fill
    placeholders with catalog keys (a field's label) read in each language."""

    def say(lang: str) -> str:
        named = {k: translate(v, lang) for k, v in (labels or {}).items()}
        return translate(key, lang, **values, **named)

    return cls(say("vi"), en=say("en"))


def require_admin(caller: Caller, refusal: str) -> None:
    """Refuse (403, worded by the catalogs' `refusal`) anyone who is not an administrator."""
    if not caller.actor.has_role("admin"):
        raise worded(refusal, Forbidden)


def admin_refusal(request: Request, caller: Caller, refusal: str) -> HTMLResponse | None:
    """The HTML error page for anyone who is not an administrator (`require_admin`), else
    None: the first lines of an admin page's GET."""
    try:
        require_admin(caller, refusal)
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return render(request, "error.html", caller, status, message=message)
    return None


def date_refusal(exc: BadDate, field: str | None = None) -> KhenthuongError:
    """A bad date in both languages, after the label of `field` (a catalog key, e.g.
    `starts_on`) when given."""

    def say(lang: str) -> str:
        text = translate(f"bad_date_{exc.reason}", lang, value=repr(exc.value))
        return f"{translate(field, lang)}: {text}" if field else text

    return KhenthuongError(say("vi"), en=say("en"))


def _error_text(request: Request, caller: Caller, exc: KhenthuongError) -> tuple[str, int]:
    """The message and status of a refusal; a 403 is recorded as a denied attempt."""
    response = error_response(exc)
    if response.status_code == 403:
        log_denied(ctx_of(request), request, caller.actor.username, str(exc))
    return refusal_text(exc, lang_of(request)), response.status_code


async def _chosen_file(form: FormData, limit: int) -> tuple[StarletteUpload, bytes] | None:
    """The form's `file` and its first `limit` + 1 bytes (enough to refuse a larger file);
    None when none was chosen (a browser then sends an unnamed empty part)."""
    upload = form.get("file")
    if not isinstance(upload, StarletteUpload) or not upload.filename:
        return None
    return upload, await upload.read(limit + 1)


async def _required_file(
    form: FormData, limit: int, lang: str = "vi"
) -> tuple[StarletteUpload, bytes]:
    """`_chosen_file`, refused with a clear message when no file was chosen."""
    chosen = await _chosen_file(form, limit)
    if chosen is None:
        raise KhenthuongError(translate("no_file", lang))
    return chosen


def wants_page(request: Request) -> bool:
    """A browser asking for a page (HTML, outside /api): errors are shown as pages."""
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get(
        "accept", ""
    )


def error_page(request: Request, status: int, message: str | None = None) -> HTMLResponse:
    """An error as a page in the reader's language: its title, what went wrong, a way back."""
    lang = lang_of(request)
    try:
        caller = session_caller(ctx_of(request), request)
    except Exception:  # the database may be what failed: the page still shows
        caller = None
    title = translate(f"error_{status}", lang)
    if title == f"error_{status}":
        title = translate("error_400", lang) if status < 500 else translate("error_500", lang)
    if message is None:
        page_text = translate(f"error_page_{status}", lang)
        message = page_text if page_text != f"error_page_{status}" else title
    return render(request, "error.html", caller, status, title=title, message=message)


def refusal_text(exc: KhenthuongError, lang: str) -> str:
    """A refusal's message in `lang` (each refusal of a step in that language)."""
    if isinstance(exc, (StepRefused, BatchRefused)):
        refusals = exc.refusals if isinstance(exc, StepRefused) else [
            r for refs in exc.failures.values() for r in refs
        ]  # fmt: skip
        return "; ".join(refusal_line(r, lang) for r in refusals)
    if lang == "en" and exc.en:
        return exc.en
    return one_language(str(exc), lang)


POINTERS = {
    "missing_rating": "hint_enter_ratings",
    "unregistered": "hint_register",
    "no_award": "hint_award_catalog",
    "sign_apart": "hint_sign_decisions_page",
    "unlisted": "hint_add_person",
    "namesakes": "hint_choose_person",
}
"""A refusal's detail that tells what is missing → where the pages put it right (catalog
key); the CLI names its own commands (`cli.common.refusal_line`)."""


def refusal_line(refusal: Refusal, lang: str) -> str:
    """One refusal of a step in `lang`, with where to put it right on the pages when the
    refusal tells what is missing (a year's rating: the unit-year page)."""
    text = refusal.message_en if lang == "en" else refusal.message_vi
    for detail, key in POINTERS.items():
        if detail in refusal.details:
            text += " " + translate(key, lang)
    return text


_GLOSS = re.compile(
    r"^(?P<vi>.*\S)\s+\((?P<en>[\x20-\x7e]*[a-z][\x20-\x7e]* [\x20-\x7e]*)\)\.?$", re.S
)


def one_language(text: str, lang: str) -> str:
    """A service message written "Vietnamese (English gloss)" in one language: the
    Vietnamese part, or in English the gloss (capitalised); other messages as they are."""
    found = _GLOSS.match(text)
    if found is None:
        return text
    if lang == "en":
        gloss = found["en"].strip()
        return gloss[:1].upper() + gloss[1:]
    return found["vi"]
