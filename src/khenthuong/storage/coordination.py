"""State the processes of one installation share through the database: sign-in failures
counted for the throttle (when no Redis is configured) and the embedded scheduler's lease."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from khenthuong.storage.models import table_of


class RateLimitHit(SQLModel, table=True):
    """One counted hit of a rate limit key (a failed sign-in per user name or address).

    Written by `storage.ratelimit.DatabaseStorage`, the `limits` storage used when no Redis
    is configured; rows whose `expires_at` has passed count for nothing and are deleted by
    the next write.
    """

    __tablename__ = "rate_limit_hit"
    __table_args__ = (Index("ix_rate_limit_hit_key_at", "key", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300)
    at: float
    """When the hit was counted (seconds since the epoch, as `limits` keeps time)."""
    expires_at: float = Field(index=True)
    """When it stops counting (the end of its window)."""


class SchedulerLease(SQLModel, table=True):
    """Which process runs the embedded scheduler, on a database without advisory locks
    (SQLite): the holder renews the lease on every run; another process takes it over only
    once it has expired."""

    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=200)
    """host:pid of the process that holds it."""
    acquired_at: datetime
    expires_at: datetime


RATE_LIMIT_HITS = table_of(RateLimitHit)
SCHEDULER_LEASES = table_of(SchedulerLease)
