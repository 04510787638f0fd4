"""Sign-in through the organisation's directory: LDAP behind the ordinary sign-in form, and
OpenID Connect through /login/oidc (authorisation code with PKCE).

Between leaving for the provider and coming back, the browser carries the state, nonce and
PKCE verifier in a short-lived cookie signed with the secret key (itsdangerous); nothing is
kept on the server, so any web process can finish a sign-in another one started."""

from __future__ import annotations

import logging

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from khenthuong.directory import oidc
from khenthuong.directory.config import oidc_config
from khenthuong.directory.identity import DirectorySignInRefused, DirectoryUnavailable
from khenthuong.web.context import WebContext, ctx_of, log_denied
from khenthuong.web.directory_signin import provision, refusal_text
from khenthuong.web.i18n import translate
from khenthuong.web.sessions import secret_key
from khenthuong.web.ui_common import lang_of, redirect, render
from khenthuong.web.ui_signin import start_session

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

OIDC_COOKIE = "kt_oidc"
OIDC_MAX_AGE = 600


def _serializer(ctx: WebContext) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(ctx.rt.settings), salt="khenthuong-oidc")


def _callback_url(request: Request) -> str:
    base = ctx_of(request).rt.settings.base_url
    if base:
        return base.rstrip("/") + "/login/oidc/callback"
    return str(request.url_for("oidc_callback"))


def _login_page(request: Request, status: int, message: str) -> Response:
    return render(request, "login.html", None, status, error=message, login_token="", next=None)


@router.get("/login/oidc")
async def oidc_start(request: Request, next: str = "/queue") -> Response:
    ctx = ctx_of(request)
    cfg = oidc_config(ctx.rt.settings)
    if cfg is None:
        return redirect("/login")
    redirect_uri = _callback_url(request)
    try:
        url, pending = await run_in_threadpool(oidc.start, cfg, redirect_uri)
    except DirectoryUnavailable as exc:
        log.error("OpenID sign-in start: %s", exc)
        return _login_page(request, 503, translate("directory_down", lang_of(request)))
    cookie = _serializer(ctx).dumps(
        {"s": pending.state, "n": pending.nonce, "v": pending.verifier, "next": next}
    )
    response = redirect(url)
    response.set_cookie(
        OIDC_COOKIE, cookie, max_age=OIDC_MAX_AGE, httponly=True, samesite="lax",
        secure=ctx.secure_cookies, path="/login/oidc",
    )  # fmt: skip
    return response


@router.get("/login/oidc/callback", name="oidc_callback")
async def oidc_callback(
    request: Request, code: str = "", state: str = "", error: str = ""
) -> Response:
    ctx = ctx_of(request)
    lang = lang_of(request)
    cfg = oidc_config(ctx.rt.settings)
    if cfg is None:
        return redirect("/login")
    try:
        data = _serializer(ctx).loads(request.cookies.get(OIDC_COOKIE, ""), max_age=OIDC_MAX_AGE)
    except BadSignature:
        data = None
    if error or not code or not isinstance(data, dict) or data.get("s") != state:
        log_denied(ctx, request, "?", f"OpenID callback refused (error={error!r}, state checked)")
        return _login_page(request, 400, translate("oidc_failed", lang))
    pending = oidc.PendingSignIn(state=data["s"], nonce=data["n"], verifier=data["v"])
    try:
        identity = await run_in_threadpool(oidc.finish, cfg, pending, code, _callback_url(request))
        username = await run_in_threadpool(provision, ctx, identity)
    except DirectoryUnavailable as exc:
        log.error("OpenID sign-in: %s", exc)
        return _login_page(request, 503, translate("directory_down", lang))
    except ValueError as exc:
        log_denied(ctx, request, "?", f"OpenID sign-in refused: {exc}")
        return _login_page(request, 400, translate("oidc_failed", lang))
    except DirectorySignInRefused as exc:
        log_denied(ctx, request, identity.username, refusal_text(exc, "en"))
        return _login_page(request, 403, refusal_text(exc, lang))
    response = start_session(ctx, username, str(data.get("next") or "/queue"))
    response.delete_cookie(OIDC_COOKIE, path="/login/oidc")
    return response
