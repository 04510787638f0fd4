"""The Celery application: broker and limits from Settings, routing and the beat schedule.

Start a worker and beat (Redis broker):

    KHENTHUONG_BROKER_URL=redis://localhost:6379/0 celery -A workers.celery_app worker -l info
    KHENTHUONG_BROKER_URL=redis://localhost:6379/0 celery -A workers.celery_app beat -l info
"""

from __future__ import annotations

from celery import Celery

from khenthuong.settings import get_settings


def make_app() -> Celery:
    """A Celery app configured from KHENTHUONG_* settings."""
    settings = get_settings()
    app = Celery("khenthuong", include=["workers.tasks"])
    app.conf.update(
        broker_url=settings.broker_url or "redis://localhost:6379/0",
        result_backend=settings.result_backend,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        timezone="Asia/Ho_Chi_Minh",
        enable_utc=True,
        # Tasks are idempotent (database ledger), so a redelivery is safe and a
        # worker killed mid-task must not lose its message.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=300,
        task_soft_time_limit=240,
        # A few times the longest task, never tied to deadlines (no long ETAs here).
        broker_transport_options={
            "visibility_timeout": settings.broker_visibility_timeout,
            "unacked_restore_interval": max(2, min(10, settings.broker_visibility_timeout // 5)),
            # Sweep on every interval (kombu's default scans on every 10th): a message of a
            # killed worker comes back within visibility_timeout + interval.
            "unacked_restore_throttle": 1,
        },
        broker_connection_retry_on_startup=True,
        worker_soft_shutdown_timeout=10.0,
        task_routes={
            "khenthuong.send_digest": {"queue": "mail"},
            "khenthuong.deliver_notice": {"queue": "mail"},
            "khenthuong.*": {"queue": "default"},
        },
        task_default_queue="default",
        # One warning when the broker goes away and one when it is back, not a traceback a tick.
        beat_scheduler="workers.beat:QuietScheduler",
        beat_schedule={
            "scan-reminders": {
                "task": "khenthuong.scan_reminders",
                "schedule": float(settings.scan_interval_seconds),
            },
            "relay-outbox": {
                "task": "khenthuong.relay_outbox",
                "schedule": float(settings.relay_interval_seconds),
            },
        },
    )
    return app


app = make_app()
