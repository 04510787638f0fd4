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
    moment = moment.astimezone(UTC)
    if moment.year < 1000:  # strftime's %Y does not pad the year to four digits
        return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    # The same text as that strftime, at about two thirds of its cost.
    return f"{moment.isoformat(timespec='microseconds')[:26]}Z"


def event_hash(fields: Mapping[Any, Any]) -> str:
    """SHA-256 hex digest of an event's hashed fields (payload as its stored JSON text)."""
    material = {name: fields.get(name) for name in HASHED_FIELDS}
    material["occurred_at"] = timestamp_text(fields["occurred_at"])
    return hashlib.sha256(_material_json(material).encode("utf-8")).hexdigest()


def _material_json(material: dict[str, Any]) -> str:
    """`canonical_json(material)`, the same text, written directly when every value is a
    string, an integer or None (an event's fields always are): the encoder's set-up and
    key sort per call were most of a step's hashing (BENCHMARKS.md, issue 19)."""
    parts = []
    for prefix, name in _MATERIAL_KEYS:
        value = material[name]
        kind = type(value)
        if kind is str:
            parts.append(prefix + _encode_string(value))
        elif value is None:
            parts.append(prefix + "null")
        elif kind is int:
            parts.append(prefix + int.__repr__(value))
        else:  # anything else (a bool, a float …): the encoder itself
            return canonical_json(material)
    return "{" + ",".join(parts) + "}"


_MATERIAL_KEYS = tuple((json.dumps(name) + ":", name) for name in sorted(HASHED_FIELDS))
"""(the key as the encoder writes it, with its colon; the name), in the encoder's order."""
_encode_string = json.encoder.encode_basestring  # the encoder's own, with ensure_ascii=False
