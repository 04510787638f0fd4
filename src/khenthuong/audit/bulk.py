"""Append many events at once, each to its own stream (an import touching thousands of
records): one read of the heads, one insert of the events, one write of the heads."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from khenthuong.audit.chain import GENESIS, canonical_json, event_hash
from khenthuong.storage.models import EVENTS, STREAM_HEADS

_CHUNK = 500


@dataclass(frozen=True)
class NewEvent:
    """One event to append: its stream, trigger and payload."""

    stream: str
    trigger: str
    payload: Mapping[str, Any]
    comment: str | None = None


def append_events(
    conn: Connection,
    events: Sequence[NewEvent],
    *,
    actor: str,
    actor_role: str | None = None,
    actor_unit: str | None = None,
    now: datetime | None = None,
) -> int:
    """Append `events` in order inside the caller's transaction (several may share a stream);
    the chains are exactly those `append_event` would build one by one. Returns the count."""
    if not events:
        return 0
    moment = now or datetime.now(UTC)
    streams = list(dict.fromkeys(e.stream for e in events))
    heads: dict[str, tuple[int, str]] = {}
    for start in range(0, len(streams), _CHUNK):
        query = select(STREAM_HEADS.c.stream, STREAM_HEADS.c.seq, STREAM_HEADS.c.hash).where(
            STREAM_HEADS.c.stream.in_(streams[start : start + _CHUNK])
        )
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        heads.update({r.stream: (r.seq, r.hash) for r in conn.execute(query)})
    known = set(heads)
    rows: list[dict[str, Any]] = []
    for event in events:
        seq, prev = heads.get(event.stream, (0, GENESIS))
        fields: dict[str, Any] = {
            "stream": event.stream,
            "seq": seq + 1,
            "nomination_id": None,
            "workflow": None,
            "occurred_at": moment,
            "actor": actor,
            "actor_role": actor_role,
            "actor_unit": actor_unit,
            "trigger": event.trigger,
            "from_state": None,
            "to_state": None,
            "comment": event.comment,
            "payload": canonical_json(dict(event.payload)),
            "prev_hash": prev,
        }
        fields["hash"] = event_hash(fields)
        rows.append(fields)
        heads[event.stream] = (seq + 1, fields["hash"])
    conn.execute(insert(EVENTS), rows)
    fresh = [
        {"stream": s, "seq": heads[s][0], "hash": heads[s][1]} for s in streams if s not in known
    ]
    if fresh:
        conn.execute(insert(STREAM_HEADS), fresh)
    moved = [{"s": s, "q": heads[s][0], "h": heads[s][1]} for s in streams if s in known]
    if moved:
        conn.execute(
            update(STREAM_HEADS)
            .where(STREAM_HEADS.c.stream == bindparam("s"))
            .values(seq=bindparam("q"), hash=bindparam("h")),
            moved,
        )
    return len(rows)
