"""Sign-in, sign-out and the language switch."""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select

from khenthuong.passwords import verify_password
from khenthuong.storage.models import USERS
from khenthuong.web.context import WebContext, ctx_of, end_sessions, log_denied, session_epoch
from khenthuong.web.directory_signin import ldap_sign_in
from khenthuong.web.i18n import translate
from khenthuong.web.sessions import COOKIE_NAME, LANG_COOKIE
from khenthuong.web.ui_common import check_csrf, lang_of, redirect, render, ui_caller

router = APIRouter(include_in_schema=False)
LOGIN_COOKIE = "kt_login"


# --------------------------------------------------------------------------- sign-in


@router.get("/login")
def login_form(request: Request, next: str = "/queue") -> HTMLResponse:
    token = secrets.token_urlsafe(16)
    settings = ctx_of(request).rt.settings
    response = render(
        request, "login.html", None, error=None, login_token=token, next=next,
        oidc_provider=settings.oidc_provider_name if settings.oidc_issuer else None,
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
        str(form.get("login_token", "")).encode(), request.cookies.get(LOGIN_COOKIE, "-").encode()
    ):  # bytes: a str with non-ASCII characters cannot be compared in constant time
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
        ok, refusal = await run_in_threadpool(ldap_sign_in, ctx, username, password, lang)
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
