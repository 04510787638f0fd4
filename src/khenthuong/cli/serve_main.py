"""`khenthuong serve`: the long-running process (HTTP + in-process jobs when embedded)."""

from __future__ import annotations

import typer

from khenthuong.cli.common import console, report_errors, runtime


@report_errors
def serve(
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8000, "--port", min=1, max=65535),
) -> None:
    """Serve HTTP; without KHENTHUONG_BROKER_URL also run reminders and notices in-process."""
    import uvicorn  # noqa: PLC0415

    from khenthuong.embedded import EmbeddedScheduler  # noqa: PLC0415
    from khenthuong.web.app import create_app  # noqa: PLC0415

    rt = runtime()
    scheduler = None
    if not rt.settings.broker_url:
        scheduler = EmbeddedScheduler(rt)
        scheduler.start()
        console.print(f"Nhắc hạn, thông báo chạy trong tiến trình, mỗi {scheduler.interval:g} giây")
    try:
        # proxy_headers=False: uvicorn would otherwise trust X-Forwarded-For from 127.0.0.1;
        # the app reads it only from KHENTHUONG_TRUSTED_PROXIES (web/app.py).
        uvicorn.run(create_app(rt), host=host, port=port, log_level="info", proxy_headers=False)
    finally:
        if scheduler is not None:
            scheduler.stop()
