"""The leaves of the sealed log: what each leaf hashes, and how leaves are stored in blocks.

A leaf is canonical JSON of an event's stream, sequence number and hash; its Merkle hash is
RFC 6962's SHA-256(0x00 || leaf). The leaves are stored LEAF_BLOCK to a row
(`storage.seal.AuditLeafBlock`): each block keeps its leaves' event ids (8 bytes each), their
texts (one a line) and their leaf hashes (32 bytes each), so that a checkpoint of 10,000 new
events writes about 40 rows instead of 10,000, and a tree rebuild reads about 4,000 rows of
packed hashes for a million leaves instead of a million rows.
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from khenthuong.audit.chain import canonical_json
from khenthuong.audit.merkle import leaf_hash
from khenthuong.storage.seal import AUDIT_BLOCKS, LEAF_BLOCK

_PLAIN = re.compile(r'[^"\\\x00-\x1f]*\Z')


def leaf_data(stream: str, seq: int, event_hash: str) -> bytes:
    """What a leaf hashes: canonical JSON of the event's stream, sequence number and hash."""
    return leaf_text(stream, seq, event_hash).encode("utf-8")


def leaf_text(stream: str, seq: int, event_hash: str) -> str:
    """`leaf_data` as text (what a block stores, one a line)."""
    if _PLAIN.match(stream) and _PLAIN.match(event_hash):
        # The same text canonical_json writes, without the encoder (sealing a million).
        return f'["{stream}",{seq},"{event_hash}"]'
    return canonical_json([stream, seq, event_hash])


def leaf_of(stream: str, seq: int, event_hash: str) -> bytes:
    """The Merkle leaf hash of one event."""
    return leaf_hash(leaf_data(stream, seq, event_hash))


def leaf_texts(rows: Sequence[Sequence[Any]]) -> list[str]:
    """`leaf_text` of many (stream, seq, event hash, …) rows: when no stream or hash needs
    JSON escaping (checked once over all of them), one list comprehension."""
    plain = _PLAIN.match("".join(r[0] for r in rows)) and _PLAIN.match("".join(r[2] for r in rows))
    if not plain:
        return [leaf_text(r[0], r[1], r[2]) for r in rows]
    return [f'["{r[0]}",{r[1]},"{r[2]}"]' for r in rows]


def hashes_of(texts: Sequence[str]) -> list[bytes]:
    """The Merkle leaf hash of each leaf text (hashlib inlined, no Python call per leaf)."""
    sha, zero = hashlib.sha256, b"\x00"
    return [sha(zero + t.encode()).digest() for t in texts]


def leaf_hashes(rows: Sequence[Sequence[Any]]) -> list[bytes]:
    """`leaf_of` of many (stream, seq, event hash, …) rows."""
    return hashes_of(leaf_texts(rows))


class LeafGap(Exception):
    """The leaf indexes are not 0, 1, 2 … without a gap; `missing` is the first one absent."""

    def __init__(self, missing: int) -> None:
        super().__init__(missing)
        self.missing = missing


@dataclass(frozen=True)
class Tail:
    """The last block row: where the next leaf goes (`size`) and what a partial block holds."""

    block: int
    leaves: int
    top_event_id: int
    firsts: int
    event_ids: bytes
    hashes: bytes
    data: str

    @property
    def size(self) -> int:
        """The next free leaf index (after the last stored leaf, even past a missing block)."""
        return self.block * LEAF_BLOCK + self.leaves


def tail(conn: Connection) -> Tail | None:
    """The last block, or None for an empty log."""
    b = AUDIT_BLOCKS.c
    row = conn.execute(
        select(b.block, b.leaves, b.top_event_id, b.firsts, b.event_ids, b.hashes, b.data)
        .order_by(b.block.desc())
        .limit(1)
    ).first()
    return None if row is None else Tail(*row)


def _ids(packed: bytes) -> tuple[int, ...]:
    return struct.unpack(f">{len(packed) // 8}q", packed)


def append_leaves(
    conn: Connection,
    last: Tail | None,
    ids: Sequence[int],
    texts: Sequence[str],
    hashes: Sequence[bytes],
    firsts: Sequence[bool],
) -> None:
    """Store new leaves after `last` (a partial last block is rewritten with them appended,
    then one row per further block): a few rows per checkpoint, one INSERT for all."""
    start = 0 if last is None else last.size
    done = 0
    if last is not None and last.leaves < LEAF_BLOCK and ids:
        take = min(LEAF_BLOCK - last.leaves, len(ids))
        b = AUDIT_BLOCKS.c
        conn.execute(
            update(AUDIT_BLOCKS)
            .where(b.block == last.block)
            .values(
                leaves=last.leaves + take,
                top_event_id=max(last.top_event_id, *ids[:take]),
                firsts=last.firsts + sum(firsts[:take]),
                event_ids=last.event_ids + struct.pack(f">{take}q", *ids[:take]),
                hashes=last.hashes + b"".join(hashes[:take]),
                data=last.data + "\n" + "\n".join(texts[:take]),
            )
        )
        done = take
    rows = []
    while done < len(ids):
        block = (start + done) // LEAF_BLOCK
        take = min(LEAF_BLOCK, len(ids) - done)
        part = slice(done, done + take)
        rows.append(
            {
                "block": block,
                "leaves": take,
                "top_event_id": max(ids[part]),
                "firsts": sum(firsts[part]),
                "event_ids": struct.pack(f">{take}q", *ids[part]),
                "hashes": b"".join(hashes[part]),
                "data": "\n".join(texts[part]),
            }
        )
        done += take
    if rows:
        conn.execute(insert(AUDIT_BLOCKS), rows)


def event_ids_above(conn: Connection, low: int | None = None) -> set[int]:
    """Every sealed event id above `low` (all of them when None): read from the blocks that
    hold one (`top_event_id`; ids grow with the leaves, so these are the last few blocks and
    any block that sealed a late event)."""
    b = AUDIT_BLOCKS.c
    query = select(b.event_ids)
    if low is not None:
        query = query.where(b.top_event_id > low)
    found: set[int] = set()
    for (packed,) in conn.execute(query):
        found.update(_ids(packed))
    if low is not None:
        found = {i for i in found if i > low}
    return found


def first_leaves(conn: Connection) -> int:
    """Sealed leaves of seq 1 (the sum kept per block)."""
    return int(conn.execute(select(func.coalesce(func.sum(AUDIT_BLOCKS.c.firsts), 0))).scalar_one())


def leaf_count(conn: Connection) -> int:
    """How many leaves are stored."""
    return int(conn.execute(select(func.coalesce(func.sum(AUDIT_BLOCKS.c.leaves), 0))).scalar_one())


READ_BLOCKS = 256
"""Block rows read at a time when the tree is rebuilt (65,536 leaves)."""


def hash_blocks(conn: Connection) -> Iterator[list[bytes]]:
    """Every leaf's hash in index order, up to READ_BLOCKS blocks at a time (LeafGap when
    an index is missing: a block absent, or a block before the last one not full). Reads only
    the packed hashes: about 4,000 rows for a million leaves, in primary-key order."""
    b = AUDIT_BLOCKS.c
    query = select(b.block, b.leaves, b.hashes).order_by(b.block)
    options = {"yield_per": READ_BLOCKS}  # this query only: the caller's connection writes next
    expected = 0
    for rows in conn.execute(query, execution_options=options).partitions():
        out: list[bytes] = []
        for block, leaves, packed in rows:
            start = block * LEAF_BLOCK
            if start != expected or len(packed) != 32 * leaves:
                raise LeafGap(expected)
            out.extend(packed[i : i + 32] for i in range(0, 32 * leaves, 32))
            expected = start + leaves
        yield out


@dataclass(frozen=True)
class StoredLeaf:
    """One stored leaf: its index, the event it sealed and the leaf text it hashed."""

    idx: int
    event_id: int
    text: str


def read_leaves(conn: Connection) -> Iterator[StoredLeaf]:
    """Every stored leaf in index order (a missing block shows as a jump in `idx`)."""
    b = AUDIT_BLOCKS.c
    query = select(b.block, b.event_ids, b.data).order_by(b.block)
    for block, packed, data in conn.execute(query, execution_options={"yield_per": READ_BLOCKS}):
        start = block * LEAF_BLOCK
        for offset, (event_id, text) in enumerate(
            zip(_ids(packed), data.split("\n"), strict=False)
        ):
            yield StoredLeaf(start + offset, event_id, text)


def rewrite_leaves(conn: Connection, leaves: Sequence[tuple[int, str]]) -> None:
    """Replace every stored leaf by (event id, leaf text) pairs, indexes 0, 1, 2 … (what an
    insider with write access can do; tests use it to damage the log)."""
    conn.execute(delete(AUDIT_BLOCKS))
    texts = [t for _, t in leaves]
    append_leaves(
        conn,
        None,
        [i for i, _ in leaves],
        texts,
        hashes_of(texts),
        [t.rsplit(",", 2)[1] == "1" for t in texts],
    )
