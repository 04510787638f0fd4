"""Canonical encoding and SHA-256 chaining of audit events (pure)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

GENESIS = "0" * 64
"""prev_hash of the first event in every stream."""

HASHED_FIELDS = (
    "stream",
    "seq",
    "nomination_id",
    "workflow",
    "occurred_at",
    "actor",
    "actor_role",
    "actor_unit",
    "trigger",
    "from_state",
    "to_state",
    "comment",
    "payload",
    "prev_hash",
)


# One encoder for every call: json.dumps with non-default options builds a new one each time,
# which is a measurable share of a batch step (bench/transitions.py --profile).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys, no spaces and raw UTF-8: one text per value."""
    return _CANONICAL.encode(value)


# A batch stamps every event with the same moment: format it once.
@lru_cache(maxsize=256)
def timestamp_text(moment: datetime) -> str:
    """UTC ISO-8601 with microseconds, the form hashed for `occurred_at`."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(fields: Mapping[Any, Any]) -> str:
    """SHA-256 hex digest of an event's hashed fields (payload as its stored JSON text)."""
    material = {name: fields.get(name) for name in HASHED_FIELDS}
    material["occurred_at"] = timestamp_text(fields["occurred_at"])
    return hashlib.sha256(canonical_json(material).encode("utf-8")).hexdigest()
