"""The texts an event's hash is taken over are the same whichever way they are written:
the direct JSON of the hashed fields against the canonical encoder, the timestamp against
strftime (a hash chain written before must verify after)."""

from __future__ import annotations

import hashlib
import random
from datetime import UTC, datetime, timedelta, timezone

from khenthuong.audit.chain import (
    HASHED_FIELDS,
    _material_json,
    canonical_json,
    event_hash,
    timestamp_text,
)

CHARACTERS = [
    "a",
    "ế",
    "Ư",
    '"',
    "\\",
    "/",
    "\n",
    "\t",
    "\x00",
    "\x1f",
    "\x7f",
    "\u2028",
    "😀",
    " ",
]
OTHERS = [None, 0, -1, 7, 2**70, True, False, 1.5, ""]


def test_the_direct_json_is_the_canonical_encoders() -> None:
    rnd = random.Random(19)
    for _ in range(20_000):
        material = {
            name: (
                "".join(rnd.choice(CHARACTERS) for _ in range(rnd.randint(0, 10)))
                if rnd.random() < 0.6
                else rnd.choice(OTHERS)
            )
            for name in HASHED_FIELDS
        }
        assert _material_json(material) == canonical_json(material), material


def test_the_timestamp_is_strftimes() -> None:
    rnd = random.Random(7)
    zones = [UTC, None, timezone(timedelta(hours=7)), timezone(-timedelta(hours=3, minutes=30))]
    for _ in range(20_000):
        moment = datetime(
            rnd.randint(1, 9998),
            rnd.randint(1, 12),
            rnd.randint(1, 28),
            rnd.randint(0, 23),
            rnd.randint(0, 59),
            rnd.randint(0, 59),
            rnd.choice([0, rnd.randint(0, 999_999)]),
            tzinfo=rnd.choice(zones),
        )
        utc = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
        assert timestamp_text(moment) == utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), moment


def test_an_events_hash_is_unchanged() -> None:
    """A fixed event and its hash as the encoder and strftime gave it (value of `main`)."""
    event = {
        "stream": "nomination:42",
        "seq": 3,
        "nomination_id": 42,
        "workflow": "giay_khen",
        "occurred_at": datetime(2026, 12, 7, 8, 5, 6, 0, tzinfo=UTC),
        "actor": "tt.qd",
        "actor_role": "unit_head",
        "actor_unit": "CCYQD",
        "trigger": "unit_approve",
        "from_state": "unit_review",
        "to_state": "council",
        "comment": 'Đồng ý "đề nghị"\n',
        "payload": '{"reason":"Thành tích xuất sắc"}',
        "prev_hash": "ab" * 32,
        "hash": "not hashed",
    }
    material = {name: event[name] for name in HASHED_FIELDS}
    material["occurred_at"] = "2026-12-07T08:05:06.000000Z"
    expected = hashlib.sha256(canonical_json(material).encode("utf-8")).hexdigest()
    assert event_hash(event) == expected
    assert expected == "32b56ecc813346dffe0f474dc01995d56434da60983711e000d9c7c90272b168"
