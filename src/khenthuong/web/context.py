"""What every request handler needs: the runtime, session codec, throttle and calendar."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime

from fastapi import Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import bindparam, select, update

from khenthuong import localtime
from khenthuong.audit.append import append_event
from khenthuong.calendar.workdays import WorkingCalendar, default_calendar
from khenthuong.errors import Forbidden, KhenthuongError, NotFound
from khenthuong.passwords import token_digest
from khenthuong.runtime import Runtime
from khenthuong.services.access import inspection_paths
from khenthuong.services.actors import Actor, load_actor
from khenthuong.storage.db import reading, write_tx
from khenthuong.storage.models import API_TOKENS, USERS
from khenthuong.web.caller_cache import NO_CALLER_CHANGE, CallerCache
from khenthuong.web.problems import ApiProblem
from khenthuong.web.ratelimit import LoginThrottle, login_throttle
from khenthuong.web.sessions import COOKIE_NAME, Session, SessionCodec

log = logging.getLogger("khenthuong.web.access")
ACCESS_STREAM = "access"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

local_today = localtime.local_today
"""Today's date in Việt Nam (khenthuong.localtime; kept here for the pages that import it)."""


@dataclass
class WebContext:
    """Shared by every request of one app."""

    rt: Runtime
    sessions: SessionCodec
    throttle: LoginThrottle
    calendar: WorkingCalendar
    secure_cookies: bool
    callers: CallerCache
    """Resolved callers by token and by session, for a few seconds (caller_cache)."""


@dataclass(frozen=True)
class Caller:
    """The signed-in actor, how they signed in, and the units they inspect today."""

    actor: Actor
    session: Session | None
    inspecting: tuple[str, ...] = ()


def ctx_of(request: Request) -> WebContext:
    """The app's context."""
    ctx: WebContext = request.app.state.ctx
    return ctx


def make_context(rt: Runtime, sessions: SessionCodec, secure: bool) -> WebContext:
    """Build the context for one app."""
    settings = rt.settings
    throttle = login_throttle(settings, rt.engine)
    callers = CallerCache(settings.caller_cache_seconds)
    return WebContext(rt, sessions, throttle, default_calendar(), secure, callers)


def log_denied(ctx: WebContext, request: Request, who: str, reason: str) -> None:
    """Record a refused access in the audit trail (stream `access`) and the log."""
    log.warning("denied %s %s for %s: %s", request.method, request.url.path, who, reason)
    client = request.client.host if request.client else None
    try:
        with write_tx(ctx.rt.engine) as conn:
            append_event(
                conn,
                ACCESS_STREAM,
                actor=who[:80],
                trigger="access_denied",
                payload={
                    "method": request.method,
                    "path": request.url.path[:500],
                    "reason": reason[:500],
                    "client": client,
                },
                comment=reason[:1000],
            )
    except Exception:  # the refusal itself must still reach the caller
        log.exception("could not record the denied access")


TOKEN_TOUCH_SECONDS = 60
"""`last_used_at` of a token is refreshed at most this often (no write on every request)."""


def _user_of_token(ctx: WebContext, token: str) -> str | None:
    digest = token_digest(token)
    with reading(ctx.rt.engine) as conn:
        row = conn.execute(
            select(API_TOKENS.c.id, API_TOKENS.c.last_used_at, USERS.c.username)
            .join(USERS, USERS.c.id == API_TOKENS.c.user_id)
            .where(API_TOKENS.c.token_sha256 == digest, API_TOKENS.c.revoked.is_(False))
        ).first()
    if row is None:
        return None
    now = datetime.now(UTC)
    last = row.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    if last is None or (now - last).total_seconds() >= TOKEN_TOUCH_SECONDS:
        with write_tx(ctx.rt.engine) as conn:
            conn.execute(
                update(API_TOKENS).where(API_TOKENS.c.id == row.id).values(last_used_at=now),
                execution_options={NO_CALLER_CHANGE: True},
            )
    return str(row.username)


def _token_actor(ctx: WebContext, token: str, today: date) -> tuple[Actor, tuple[str, ...]] | None:
    username = _user_of_token(ctx, token)
    if username is None:
        return None
    with reading(ctx.rt.engine) as conn:
        actor = load_actor(conn, username, today)
        return actor, inspection_paths(conn, actor, today)


def session_caller(ctx: WebContext, request: Request) -> Caller | None:
    """The caller of a session cookie, or None (absent, expired, user disabled)."""
    session = ctx.sessions.read(request.cookies.get(COOKIE_NAME))
    if session is None:
        return None
    today = local_today()
    found = ctx.callers.get_or_load(
        _session_key(session, today),
        lambda: _session_actor(ctx, session.username, session.epoch, today),
    )
    if found is None:
        return None
    actor, inspecting = found
    return Caller(actor, session, inspecting)


def _session_actor(
    ctx: WebContext, username: str, epoch: int, today: date
) -> tuple[Actor, tuple[str, ...]] | None:
    with reading(ctx.rt.engine) as conn:
        current = conn.execute(_EPOCH, {"username": username}).scalar()
        if current is None or epoch != current:
            return None  # signed out elsewhere, password changed, or user gone
        try:
            actor = load_actor(conn, username, today)
        except NotFound:
            return None
        return actor, inspection_paths(conn, actor, today)


_EPOCH = select(USERS.c.session_epoch).where(USERS.c.username == bindparam("username"))


def session_epoch(ctx: WebContext, username: str) -> int:
    """The user's current session epoch (-1 when the user is gone)."""
    with reading(ctx.rt.engine) as conn:
        epoch = conn.execute(_EPOCH, {"username": username}).scalar()
    return -1 if epoch is None else int(epoch)


def end_sessions(ctx: WebContext, username: str) -> None:
    """End every session of the user (sign-out)."""
    with write_tx(ctx.rt.engine) as conn:
        conn.execute(
            update(USERS)
            .where(USERS.c.username == username)
            .values(session_epoch=USERS.c.session_epoch + 1)
        )


def _session_key(session: Session, today: date) -> tuple[object, ...]:
    return ("session", session.username, session.epoch, today)


def _token_key(token: str, today: date) -> tuple[object, ...]:
    return ("token", token_digest(token), today)


def _csrf_ok(request: Request, session: Session) -> bool:
    return request.method in SAFE_METHODS or hmac.compare_digest(
        request.headers.get("x-csrf-token", "").encode(), session.csrf.encode()
    )


async def api_caller(request: Request) -> Caller:
    """FastAPI dependency: a bearer token, or a session cookie (with X-CSRF-Token to change).

    A caller the cache holds is answered here, in the event loop (no thread hop: about a
    twentieth of `GET /api/queue`'s CPU); one to read from the database, or a refusal to
    record in the audit trail, is worked out in the thread pool (`_api_caller`)."""
    cached = _cached_api_caller(request)
    if cached is not None:
        return cached
    return await run_in_threadpool(_api_caller, request)


def _cached_api_caller(request: Request) -> Caller | None:
    """The caller when everything needed is in memory and the request passes, else None (the
    full check then runs: it loads, refuses and records what this does not)."""
    ctx = ctx_of(request)
    header = request.headers.get("authorization", "")
    session = None
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return None
        found = ctx.callers.peek(_token_key(token.strip(), local_today()))
    else:
        session = ctx.sessions.read(request.cookies.get(COOKIE_NAME))
        if session is None or not _csrf_ok(request, session):
            return None
        found = ctx.callers.peek(_session_key(session, local_today()))
    if not isinstance(found, tuple):
        return None  # not cached, or cached as refused
    actor, inspecting = found
    request.state.username = actor.username
    return Caller(actor, session, inspecting)


def _api_caller(request: Request) -> Caller:
    ctx = ctx_of(request)
    header = request.headers.get("authorization", "")
    if header:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiProblem(
                401,
                "Tiêu đề Authorization phải là 'Bearer <mã truy cập>'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        token = token.strip()
        today = local_today()
        try:
            found = ctx.callers.get_or_load(
                _token_key(token, today), lambda: _token_actor(ctx, token, today)
            )
        except NotFound as exc:
            raise ApiProblem(401, str(exc), headers={"WWW-Authenticate": "Bearer"}) from exc
        if found is None:
            log_denied(ctx, request, "?", "invalid or revoked API token")
            raise ApiProblem(
                401,
                "Mã truy cập không hợp lệ hoặc đã bị thu hồi",
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        actor, inspecting = found
        request.state.username = actor.username
        return Caller(actor, None, inspecting)
    caller = session_caller(ctx, request)
    if caller is None:
        raise ApiProblem(
            401,
            "Cần đăng nhập hoặc mã truy cập",
            headers={"WWW-Authenticate": "Bearer"},
        )
    assert caller.session is not None
    request.state.username = caller.actor.username
    if not _csrf_ok(request, caller.session):
        log_denied(ctx, request, caller.actor.username, "missing or wrong CSRF token")
        raise ApiProblem(403, "Thiếu mã chống giả mạo CSRF")
    return caller


def deny(request: Request, caller: Caller, reason: str) -> KhenthuongError:
    """Log a refused access and return the 403 error to raise."""
    log_denied(ctx_of(request), request, caller.actor.username, reason)
    refused = Forbidden(reason)
    refused.logged = True  # type: ignore[attr-defined]
    return refused
