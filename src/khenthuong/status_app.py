"""A small HTTP status service for operators: health, mode and nomination counts.

`khenthuong serve` runs it (with the embedded job scheduler when no broker is configured).
The officers' web UI and the full API come on top of this process.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import func, select, text

from khenthuong import __version__
from khenthuong.runtime import Runtime
from khenthuong.services import outbox, reminders
from khenthuong.storage.models import NOMINATIONS


def create_status_app(rt: Runtime) -> FastAPI:
    """The status application bound to a runtime."""
    app = FastAPI(title="khenthuong status", version=__version__)

    @app.get("/health")
    def health() -> JSONResponse:
        """200 when the database answers, 503 otherwise."""
        try:
            with rt.engine.connect() as conn:
                conn.execute(text("select 1"))
        except Exception as exc:
            return JSONResponse({"status": "error", "database": str(exc)}, status_code=503)
        return JSONResponse({"status": "ok", "version": __version__})

    @app.get("/api/status")
    def status() -> dict[str, Any]:
        """Open nominations per workflow and state, reminders and notices, and the job mode."""
        with rt.engine.connect() as conn:
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
