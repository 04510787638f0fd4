"""`khenthuong serve`: the long-running process (HTTP + in-process jobs when embedded)."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

import typer

from khenthuong.cli.common import console, err_console, report_errors, runtime
from khenthuong.runtime import Runtime

if TYPE_CHECKING:
    from fastapi import FastAPI

WORKER_START_SECONDS = 120
"""How long a uvicorn worker may take to start (and to answer a health check)."""


@report_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
    workers: int = typer.Option(
        1,
        "--workers",
        min=1,
        envvar="KHENTHUONG_WEB_WORKERS",
        help="Số tiến trình web của uvicorn dùng chung cổng; 1: chính tiến trình này phục vụ.",
    ),
) -> None:
    """Chạy máy chủ web và API; không có KHENTHUONG_BROKER_URL thì chạy cả nhắc hạn, thông báo.

    Nhắc hạn, thông báo chạy trong một tiến trình con riêng; khi nhiều máy chủ dùng chung một cơ sở
    dữ liệu, chỉ một máy chủ chạy chúng."""
    import uvicorn  # noqa: PLC0415

    from khenthuong import embedded  # noqa: PLC0415
    from khenthuong.web.app import create_app  # noqa: PLC0415
    from khenthuong.web.sessions import secret_key  # noqa: PLC0415

    rt = runtime()
    _refuse_unsafe_production(rt)
    secret_key(rt.settings)  # a generated key is created here, once, before any worker reads it
    jobs = None
    if not rt.settings.broker_url:
        # A process of its own: a scan never takes CPU from the process answering requests.
        jobs = embedded.start_process()
        console.print(
            f"Nhắc hạn, thông báo chạy trong tiến trình riêng (pid {jobs.pid}), mỗi "
            f"{rt.settings.scan_interval_seconds:g} giây"
        )
    try:
        # proxy_headers=False: uvicorn would otherwise trust X-Forwarded-For from 127.0.0.1;
        # the app reads it only from KHENTHUONG_TRUSTED_PROXIES (web/app.py).
        if workers == 1:
            uvicorn.run(create_app(rt), host=host, port=port, log_level="info", proxy_headers=False)
        else:
            # Each worker process builds its own app (engine pool, machines); they share the
            # database, the sign-in throttle's store and the secret key.
            uvicorn.run(
                f"{__name__}:web_app",
                factory=True,
                workers=workers,
                host=host,
                port=port,
                log_level="info",
                proxy_headers=False,
                # A worker loads every workflow before it answers: on a busy machine that
                # takes longer than uvicorn's 5 s, which would kill and restart it forever.
                timeout_worker_healthcheck=WORKER_START_SECONDS,
            )
    finally:
        if jobs is not None:
            jobs.terminate()
            try:
                jobs.wait(timeout=30)
            except subprocess.TimeoutExpired:
                jobs.kill()


def web_app() -> FastAPI:
    """The application of one uvicorn worker process (`serve --workers N`)."""
    from khenthuong.runtime import open_runtime  # noqa: PLC0415
    from khenthuong.web.app import create_app  # noqa: PLC0415

    return create_app(open_runtime())


def _refuse_unsafe_production(rt: Runtime) -> None:
    """In production (KHENTHUONG_ENV=production or an https base URL) the web process does
    not start with a missing or default secret key or with demo passwords."""
    from khenthuong.services.golive import production_problems  # noqa: PLC0415

    with rt.engine.connect() as conn:
        problems = production_problems(rt.settings, conn)
    if problems:
        for problem in problems:
            err_console.print(f"[red]Không khởi động trong môi trường production:[/] {problem}")
        raise typer.Exit(1)
