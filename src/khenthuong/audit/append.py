"""Append events to streams that are not nominations (definitions, blocs, plans)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from khenthuong.audit.chain import GENESIS, canonical_json, event_hash
from khenthuong.storage.models import EVENTS, STREAM_HEADS

HEADS = STREAM_HEADS


def append_event(
    conn: Connection,
    stream: str,
    *,
    actor: str,
    trigger: str,
    payload: Mapping[str, Any],
    actor_role: str | None = None,
    actor_unit: str | None = None,
    workflow: str | None = None,
    from_state: str | None = None,
    to_state: str | None = None,
    comment: str | None = None,
    now: datetime | None = None,
) -> str:
    """Append one event to `stream` inside the caller's transaction; returns its hash."""
    query = select(HEADS.c.seq, HEADS.c.hash).where(HEADS.c.stream == stream)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    head = conn.execute(query).first()
    seq, prev = (head.seq + 1, head.hash) if head else (1, GENESIS)
    fields: dict[str, Any] = {
        "stream": stream,
        "seq": seq,
        "nomination_id": None,
        "workflow": workflow,
        "occurred_at": now or datetime.now(UTC),
        "actor": actor,
        "actor_role": actor_role,
        "actor_unit": actor_unit,
        "trigger": trigger,
        "from_state": from_state,
        "to_state": to_state,
        "comment": comment,
        "payload": canonical_json(dict(payload)),
        "prev_hash": prev,
    }
    fields["hash"] = event_hash(fields)
    conn.execute(insert(EVENTS).values(**fields))
    if head is None:
        conn.execute(insert(HEADS).values(stream=stream, seq=seq, hash=fields["hash"]))
    else:
        conn.execute(
            update(HEADS).where(HEADS.c.stream == stream).values(seq=seq, hash=fields["hash"])
        )
    return str(fields["hash"])
