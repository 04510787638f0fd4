"""The leaves of the sealed log: what each leaf hashes, and every leaf's hash read in bulk.

A leaf is canonical JSON of an event's stream, sequence number and hash; its Merkle hash is
RFC 6962's SHA-256(0x00 || leaf). Reading a million of them for a tree rebuild is the slow
part, so PostgreSQL writes each leaf's text itself (one query per block of leaves, one text
column) and Python hashes the texts: no SQLAlchemy rows, no per-leaf formatting.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Sequence
from itertools import pairwise
from typing import Any

from sqlalchemy import Connection, func, select

from khenthuong.audit.chain import canonical_json
from khenthuong.audit.merkle import leaf_hash
from khenthuong.storage.seal import AUDIT_LEAVES

_PLAIN = re.compile(r'[^"\\\x00-\x1f]*\Z')


def leaf_data(stream: str, seq: int, event_hash: str) -> bytes:
    """What a leaf hashes: canonical JSON of the event's stream, sequence number and hash."""
    if _PLAIN.match(stream) and _PLAIN.match(event_hash):
        # The same text canonical_json writes, without the encoder (sealing a million).
        return f'["{stream}",{seq},"{event_hash}"]'.encode()
    return canonical_json([stream, seq, event_hash]).encode("utf-8")


def leaf_of(stream: str, seq: int, event_hash: str) -> bytes:
    """The Merkle leaf hash of one event."""
    return leaf_hash(leaf_data(stream, seq, event_hash))


def leaf_hashes(rows: Sequence[Sequence[Any]]) -> list[bytes]:
    """`leaf_of` of many (stream, seq, event hash, …) rows: when no stream or hash needs
    JSON escaping (checked once over all of them), one list comprehension with the encoding
    and hashlib inlined, no Python call per leaf."""
    plain = _PLAIN.match("".join(r[0] for r in rows)) and _PLAIN.match("".join(r[2] for r in rows))
    if not plain:
        return [leaf_of(r[0], r[1], r[2]) for r in rows]
    sha, zero = hashlib.sha256, b"\x00"
    return [sha(zero + f'["{r[0]}",{r[1]},"{r[2]}"]'.encode()).digest() for r in rows]


READ_CHUNK = 65_536
"""Leaf rows read (and hashed) at a time when the tree is rebuilt."""

_LINES = (
    "SELECT '[\"' || stream || '\",' || seq || ',\"' || event_hash || '\"]' FROM audit_leaf "
    "WHERE idx >= %s AND idx < %s ORDER BY idx"
)
"""Each leaf's text as canonical JSON writes it when nothing needs escaping."""
_UNESCAPED = re.compile(r"[^\\\x00-\x1f]*\Z")


class LeafGap(Exception):
    """The leaf indexes are not 0, 1, 2 … without a gap; `missing` is the first one absent."""

    def __init__(self, missing: int) -> None:
        super().__init__(missing)
        self.missing = missing


def hash_blocks(conn: Connection) -> Iterator[list[bytes]]:
    """Every leaf's hash in index order, a block of up to READ_CHUNK at a time (LeafGap when
    an index is missing)."""
    leaf = AUDIT_LEAVES.c
    count, low, high = conn.execute(
        select(func.count(), func.min(leaf.idx), func.max(leaf.idx))
    ).one()
    if conn.dialect.name != "postgresql" or (count and (low != 0 or high != count - 1)):
        yield from _row_blocks(conn)  # idx is unique: 0 .. count-1 means no gap
        return
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    sha, zero = hashlib.sha256, b"\x00"
    for start in range(0, count, READ_CHUNK):
        stop = min(start + READ_CHUNK, count)
        lines = [row[0] for row in cursor.execute(_LINES, (start, stop)).fetchall()]
        joined = "".join(lines)  # 4 quotes a line are the template's: none in the values
        if (
            len(lines) != stop - start
            or joined.count('"') != 4 * len(lines)
            or not _UNESCAPED.match(joined)
        ):
            yield from _row_blocks(conn, start, stop)
            continue
        yield [sha(zero + line.encode()).digest() for line in lines]


def _row_blocks(conn: Connection, start: int = 0, stop: int | None = None) -> Iterator[list[bytes]]:
    """`hash_blocks` from leaf rows (SQLite, a gap, or leaves needing JSON escaping): one
    streamed query, LeafGap at the first missing index."""
    leaf = AUDIT_LEAVES.c
    query = select(leaf.stream, leaf.seq, leaf.event_hash, leaf.idx).where(leaf.idx >= start)
    if stop is not None:
        query = query.where(leaf.idx < stop)
    options = {"yield_per": READ_CHUNK}  # this query only: the caller's connection writes next
    expected = start
    for rows in conn.execute(query.order_by(leaf.idx), execution_options=options).partitions():
        first, last = rows[0][3], rows[-1][3]
        if first != expected or last - first != len(rows) - 1:
            raise LeafGap(expected if first != expected else _first_gap(rows))
        expected = last + 1
        yield leaf_hashes(rows)
    if stop is not None and expected != stop:
        raise LeafGap(expected)


def _first_gap(rows: Sequence[Sequence[Any]]) -> int:
    return next(int(a[3]) + 1 for a, b in pairwise(rows) if b[3] != a[3] + 1)
