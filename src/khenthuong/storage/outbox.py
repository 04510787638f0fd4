"""Transactional outbox and reminder ledger: side effects written with the state change."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Text
from sqlmodel import Column, Field, SQLModel

from khenthuong.storage.models import table_of


class OutboxMessage(SQLModel, table=True):
    """A notification to publish after the step that wrote it has committed."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_status_available", "status", "available_at"),)

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(max_length=200, unique=True)
    kind: str = Field(max_length=40)
    """step_notice, inspection_plan ..."""
    payload: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime
    available_at: datetime
    status: str = Field(default="pending", max_length=10)
    """pending (new, or waiting for a retry until available_at), queued, sending, sent,
    skipped (nobody to send it to) or failed (given up after the attempt limit)."""
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    sent_at: datetime | None = None


class ReminderLedger(SQLModel, table=True):
    """One reminder per (item, due date, kind): claimed here before it is sent."""

    __tablename__ = "reminder_ledger"
    __table_args__ = (Index("ix_reminder_ledger_status", "status", "claimed_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=200, unique=True)
    """e.g. nomination:42:2026-12-08:before."""
    recipient: str = Field(max_length=320)
    kind: str = Field(max_length=20)
    """before, due or overdue."""
    item_ref: str = Field(max_length=80)
    due_on: str = Field(max_length=10)
    status: str = Field(default="claimed", max_length=10)
    """claimed, sending (taken by a send), sent, retry (the last send failed: waits for its
    backoff) or failed (given up after the attempt limit)."""
    attempts: int = 0
    claimed_at: datetime
    sent_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    message_id: str | None = Field(default=None, max_length=200)


class JobRun(SQLModel, table=True):
    """When a periodic job last ran, written by every run: `reminders status` shows it."""

    __tablename__ = "job_runs"

    job: str = Field(primary_key=True, max_length=40)
    """scan_reminders or relay_outbox."""
    runner: str = Field(max_length=20)
    """embedded (in-process scheduler or `reminders run`) or celery (a beat-scheduled task)."""
    last_run_at: datetime
    last_result: str | None = Field(default=None, max_length=200)
    runs: int = 0


OUTBOX = table_of(OutboxMessage)
REMINDER_LEDGER = table_of(ReminderLedger)
JOB_RUNS = table_of(JobRun)
