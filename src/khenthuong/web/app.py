"""The FastAPI application: JSON API, web UI, static files, health and status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import func, select, text
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from khenthuong import __version__
from khenthuong.runtime import Runtime
from khenthuong.services import outbox, reminders
from khenthuong.storage.db import reading
from khenthuong.storage.models import NOMINATIONS
from khenthuong.web import (
    api_bloc_year,
    api_blocs,
    api_campaigns,
    api_councils,
    api_delegations,
    api_documents,
    api_inspections,
    api_nominations,
    api_org,
    api_proposals,
    api_reference,
    api_statistics,
    api_unit_year,
    problems,
    ui,
    ui_blocs_year,
    ui_campaigns,
    ui_delegations,
    ui_directory,
    ui_mail,
    ui_org_files,
    ui_password_links,
    ui_proposals,
    ui_statistics,
    ui_unit_year,
)
from khenthuong.web.context import make_context
from khenthuong.web.docs import install_docs
from khenthuong.web.headers import SecurityHeaders
from khenthuong.web.routing import add_routes
from khenthuong.web.sessions import SessionCodec, cookie_secure, secret_key

STATIC = Path(__file__).parent / "static"


def create_app(rt: Runtime) -> FastAPI:
    """The whole HTTP application bound to a runtime."""
    app = FastAPI(
        title="khenthuong",
        version=__version__,
        description=(
            "Quy trình thi đua, khen thưởng: hồ sơ đề nghị, Hội đồng, quyết định, nhật ký. "
            "Authenticate with `Authorization: Bearer <token>` (`khenthuong users token`)."
        ),
        docs_url=None,  # served by web.docs from the installed bundle, not a CDN
        redoc_url=None,
    )
    install_docs(app)
    sessions = SessionCodec(secret_key(rt.settings), rt.settings.session_hours * 3600)
    app.state.ctx = make_context(rt, sessions, cookie_secure(rt.settings))
    problems.install(app)
    app.add_middleware(SecurityHeaders)
    if rt.settings.trusted_proxy_list():
        # The real client address (sign-in throttle, access log) from X-Forwarded-For, read
        # only when the request comes from a configured proxy (uvicorn's own middleware).
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=rt.settings.trusted_proxy_list())
    add_routes(
        app.router,
        api_nominations.router,
        api_councils.router,
        api_blocs.router,
        api_reference.router,
        api_bloc_year.router,
        api_inspections.router,
        api_proposals.router,
        api_unit_year.router,
        api_documents.router,
        api_delegations.router,
        api_org.router,
        ui_org_files.router,
        ui_mail.router,
        ui_password_links.router,
        ui_proposals.router,
        ui_directory.router,
        ui_delegations.router,
        ui_unit_year.router,
        ui_blocs_year.router,  # before ui: /blocs/new is not a bloc code
        api_campaigns.router,
        api_statistics.router,
        ui_campaigns.router,
        ui_statistics.router,
        ui.router,
    )
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    ui.TEMPLATES.env.globals["htmx"] = (STATIC / "vendor" / "htmx.min.js").exists()

    @app.exception_handler(ui.NeedLogin)
    async def need_login(request: Request, exc: ui.NeedLogin) -> RedirectResponse:
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        return RedirectResponse(f"/login?next={target}" if target != "/" else "/login", 303)

    @app.get("/health", tags=["status"])
    def health() -> JSONResponse:
        """200 when the database answers, 503 otherwise."""
        try:
            with rt.engine.connect() as conn:
                conn.execute(text("select 1"))
        except Exception as exc:
            return JSONResponse({"status": "error", "database": str(exc)}, status_code=503)
        return JSONResponse({"status": "ok", "version": __version__})

    @app.get("/api/status", tags=["status"])
    def status() -> dict[str, Any]:
        """Open nominations per workflow and state, reminders and notices, and the job mode."""
        with reading(rt.engine) as conn:
            rows = conn.execute(
                select(NOMINATIONS.c.workflow, NOMINATIONS.c.state, func.count().label("n"))
                .group_by(NOMINATIONS.c.workflow, NOMINATIONS.c.state)
                .order_by(NOMINATIONS.c.workflow, NOMINATIONS.c.state)
            ).all()
            ledger = reminders.status_counts(conn)
            notices = outbox.counts(conn)
        return {
            "mode": "celery" if rt.settings.broker_url else "embedded",
            "nominations": [{"workflow": r.workflow, "state": r.state, "count": r.n} for r in rows],
            "reminders": ledger,
            "notices": notices,
            "workflows": [
                {
                    "name": w.definition.name,
                    "version": w.definition.version,
                    "title": w.definition.title.vi,
                }
                for w in rt.registry.latest()
            ],
        }

    return app
