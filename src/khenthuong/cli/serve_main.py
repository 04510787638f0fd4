"""`khenthuong serve`: the long-running process (HTTP + in-process jobs when embedded)."""

from __future__ import annotations

import subprocess

import typer

from khenthuong.cli.common import console, report_errors, runtime


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
    jobs = None
    if not rt.settings.broker_url:
        # A process of its own: a scan never takes CPU from the process answering requests.
        jobs = embedded.start_process()
        console.print(
            f"Nhắc hạn, thông báo chạy trong tiến trình riêng (pid {jobs.pid}), mỗi "
            f"{rt.settings.scan_interval_seconds:g} giây"
        )
    try:
        uvicorn.run(create_app(rt), host=host, port=port, log_level="info")
    finally:
        if jobs is not None:
            jobs.terminate()
            try:
                jobs.wait(timeout=30)
            except subprocess.TimeoutExpired:
                jobs.kill()
