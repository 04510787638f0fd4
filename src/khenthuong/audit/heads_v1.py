"""The stream-head digest of version 1 checkpoints (read to verify them; no longer written).

A version 1 checkpoint signed SHA-256 of an additive set hash over every stream's newest
sealed event: the sum, modulo 2**2048, of SHAKE-256 (2,048 bits) of each head's leaf data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from khenthuong.audit.leaves import leaf_data

_ACC_BYTES = 256
_ACC_MOD = 1 << (8 * _ACC_BYTES)


def head_term(stream: str, seq: int, head: str) -> int:
    """One stream's share of the heads accumulator: SHAKE-256 of its head, 2048 bits."""
    return int.from_bytes(hashlib.shake_256(leaf_data(stream, seq, head)).digest(_ACC_BYTES))


def heads_digest(heads: Iterable[tuple[str, int, str]]) -> str:
    """Digest of every stream's (name, last sealed seq, its hash): SHA-256 of the 256 bytes
    of the accumulator, hex."""
    accumulator = sum(head_term(*h) for h in heads) % _ACC_MOD
    return hashlib.sha256(accumulator.to_bytes(_ACC_BYTES)).hexdigest()
