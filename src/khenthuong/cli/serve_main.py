"""`khenthuong serve`: the long-running process (HTTP + in-process jobs when embedded)."""

from __future__ import annotations

import subprocess

import typer

from khenthuong.cli.common import console, err_console, report_errors, runtime
from khenthuong.runtime import Runtime


@report_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
) -> None:
    """Serve HTTP; without KHENTHUONG_BROKER_URL also run reminders and notices (in a child
    process of their own)."""
    import uvicorn  # noqa: PLC0415

    from khenthuong import embedded  # noqa: PLC0415
    from khenthuong.web.app import create_app  # noqa: PLC0415

    rt = runtime()
    _refuse_unsafe_production(rt)
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
        uvicorn.run(create_app(rt), host=host, port=port, log_level="info", proxy_headers=False)
    finally:
        if jobs is not None:
            jobs.terminate()
            try:
                jobs.wait(timeout=30)
            except subprocess.TimeoutExpired:
                jobs.kill()


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
