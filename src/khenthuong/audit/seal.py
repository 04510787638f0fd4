"""Seal the audit log: put new events in the global order and sign a checkpoint of it.

Steps never wait for this: events are written as before (one insert each), and the sealer
later gives every committed, unsealed event the next leaf index (in event id order), stored
in blocks of leaves (`audit_leaf_block`, `leaves.py`), extends the RFC 6962 tree over the
leaves and signs a checkpoint — tree size, root, time and number of streams
(`audit.checkpoint`, version 2) — with an Ed25519 key held outside the database. Like a
Certificate Transparency log's sequencer integrating queued entries, one sealer runs at a
time (a lock taken in its transaction).

An incremental checkpoint reads the sealed event ids of the last few blocks (the window),
selects the unsealed events, hashes their leaves in one list comprehension, writes them as a
few block rows (the partial last block rewritten, then one row per 256 leaves) and extends
the tree's right edge by them: linear in the new events, with no read of any stream's
earlier head and about 40 rows written per 10,000 events.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Connection, insert, select, text

from khenthuong.audit.chain import timestamp_text
from khenthuong.audit.checkpoint import Checkpoint, sign_checkpoint
from khenthuong.audit.leaves import (
    LeafGap,
    Tail,
    append_leaves,
    event_ids_above,
    first_leaves,
    hash_blocks,
    hashes_of,
    leaf_texts,
    tail,
)
from khenthuong.audit.merkle import CompactRange
from khenthuong.errors import KhenthuongError
from khenthuong.storage.models import EVENTS
from khenthuong.storage.seal import AUDIT_CHECKPOINTS

_LOCK_KEY = 0x6B686175  # "khau": the PostgreSQL advisory lock of the sealer


def stored_checkpoints(conn: Connection) -> list[tuple[int, Checkpoint]]:
    """(row id, checkpoint) of every stored checkpoint, oldest first; malformed rows skipped
    here (verification reports them)."""
    found = []
    for row in conn.execute(select(AUDIT_CHECKPOINTS).order_by(AUDIT_CHECKPOINTS.c.id)):
        try:
            found.append((int(row.id), Checkpoint.parse(row.body, row.signature)))
        except ValueError:
            continue
    return found


def _lock(conn: Connection) -> None:
    """One sealer at a time (SQLite: the caller's BEGIN IMMEDIATE already serialises)."""
    if conn.dialect.name == "postgresql":
        # The candidates' cost estimate over a large log crosses jit_above_cost, and
        # compiling the query took 355 ms of 485 (EXPLAIN ANALYZE, 10,000 new events): not
        # worth it for this transaction. One round trip for both.
        conn.execute(
            text("SELECT pg_advisory_xact_lock(:k), set_config('jit', 'off', true)"),
            {"k": _LOCK_KEY},
        )


class SealBroken(KhenthuongError):
    """The log no longer extends the last signed checkpoint: sealing stops (run verify)."""


def _edge(
    conn: Connection, public_key: Ed25519PublicKey, anchor: Checkpoint | None, last: Any, size: int
) -> CompactRange:
    """The tree's right edge, extending only what was signed.

    Fast path: the right edge stored with the newest checkpoint, when it yields the root that
    checkpoint signed and the anchor (the newest line of the checkpoint file, outside the
    database) is that same checkpoint. Otherwise the edge is rebuilt from every stored leaf and
    must pass through the signed roots of both at their sizes; a gap in the leaf indexes or a
    root that differs raises SealBroken rather than sign a rewritten log.
    """
    signed: Checkpoint | None = None
    if last is not None:
        try:
            signed = Checkpoint.parse(last.body, last.signature)
            edge = CompactRange(last.tree_size, [bytes.fromhex(p) for p in json.loads(last.peaks)])
        except ValueError:
            signed = None
        else:
            if (
                signed.signed_by(public_key)
                and last.tree_size == size == signed.size
                and edge.root().hex() == signed.root
                and (anchor is None or anchor.body == signed.body)
            ):
                return edge
            if not signed.signed_by(public_key):
                signed = None
    expected = {c.size: c.root for c in (signed, anchor) if c is not None}
    return rebuild_edge(conn, expected)


def rebuild_edge(conn: Connection, expected: Mapping[int, str] | None = None) -> CompactRange:
    """The tree's right edge from every stored leaf hash (read a chunk of blocks at a time,
    `leaves.hash_blocks`; the tree built in blocks: `CompactRange.extend`). The roots in
    `expected` (tree size -> signed root, hex) must be met on the way; a gap in the leaf
    indexes or a root that differs raises SealBroken rather than sign a rewritten log."""
    pending = dict(expected or {})
    edge = CompactRange()
    if 0 in pending and pending.pop(0) != edge.root().hex():
        raise SealBroken("nhật ký rỗng không khớp điểm niêm phong đã ký")
    try:
        for hashes in hash_blocks(conn):
            start = edge.size
            for size in sorted(k for k in pending if start < k <= start + len(hashes)):
                edge.extend(hashes[edge.size - start : size - start])
                if pending.pop(size) != edge.root().hex():
                    raise SealBroken(
                        f"các lá đến {size} không còn cho ra gốc đã ký: không niêm phong tiếp "
                        "(chạy audit verify)"
                    )
            edge.extend(hashes[edge.size - start :])
    except LeafGap as gap:
        raise SealBroken(
            f"bảng niêm phong thiếu lá {gap.missing}: không niêm phong tiếp (chạy audit verify)"
        ) from None
    if pending:
        raise SealBroken(
            f"nhật ký có {edge.size} lá, ít hơn điểm niêm phong đã ký ({max(pending)} lá): "
            "không niêm phong tiếp (chạy audit verify)"
        )
    return edge


WINDOW = 10_000
"""Event ids below the highest sealed one that the sealer still looks at: a transaction
that took its id earlier may commit later (PostgreSQL hands out ids at insert)."""
MANY_AWAITED = 1_000
"""Above this many unsealed ids below the highest sealed one, they are read as one id range
and filtered in Python rather than asked for by id."""
HOLE_WAIT = timedelta(hours=1)
"""How long an id missing below the window is still awaited (then taken as rolled back;
an event that does turn up later stays visible as not sealed to `audit verify`)."""


@dataclass
class _State:
    """Where the last checkpoint left the sealer (stored with it, not signed: wrong values
    can only leave events unsealed, fail the insert of a leaf that exists, or give a count
    that verification rejects)."""

    max_id: int | None = None
    holes: dict[int, str] = field(default_factory=dict)
    seen: set[int] = field(default_factory=set)
    """Sealed ids of the window, read before the candidates (`insert_leaves`)."""
    firsts: int = 0
    """Leaves of seq 1 just written."""
    streams: int | None = None
    """Sealed leaves of seq 1, when the last checkpoint is a version 2 one that signed it."""

    @classmethod
    def of(cls, last: Any, public_key: Ed25519PublicKey) -> _State:
        if last is None or not last.state:
            return cls()
        try:
            data = json.loads(last.state)
            signed = Checkpoint.parse(last.body, last.signature)
            state = cls(int(data["max_id"]), {int(k): str(v) for k, v in data["holes"].items()})
        except (ValueError, KeyError, TypeError, AttributeError):
            return cls()
        if signed.version == 2 and signed.signed_by(public_key):
            state.streams = signed.streams  # a version 1 count was of streams: recounted
        return state

    def known(self, conn: Connection) -> set[int]:
        """The sealed event ids the sealer must know about: those in the window below the
        highest sealed id and among the awaited holes (read from the last few blocks), or
        every sealed id when there is no usable state."""
        if self.max_id is None:
            return event_ids_above(conn)
        low = min([self.max_id - WINDOW, *(i - 1 for i in self.holes)])
        return {i for i in event_ids_above(conn, low) if i <= self.max_id}

    def candidates(self, conn: Connection, known: set[int]) -> Sequence[Any]:
        """Committed events not yet sealed, in id order, as (stream, seq, hash, id): every
        event above the highest sealed id, and those in the window or among the awaited
        holes that no leaf holds (`known`); with no usable state, every event no leaf holds."""
        e = EVENTS.c
        query = select(e.stream, e.seq, e.hash, e.id).order_by(e.id)
        if self.max_id is None:
            return [r for r in conn.execute(query).all() if r[3] not in known]
        # No leaf holds an event above `max_id` (the highest ever sealed, stored with the
        # leaves in one transaction): below it, only the ids of the window and the holes
        # that no leaf holds are asked for by id (usually none).
        window = range(max(self.max_id - WINDOW + 1, 1), self.max_id + 1)
        awaited = {i for i in window if i not in known}
        awaited.update(i for i in self.holes if i not in known)
        if len(awaited) > MANY_AWAITED:  # one range, filtered here (bound-parameter limits)
            rows = conn.execute(query.where(e.id >= min(awaited))).all()
            return [r for r in rows if r[3] > self.max_id or r[3] in awaited]
        where = e.id > self.max_id
        if awaited:
            where = where | e.id.in_(sorted(awaited))
        return conn.execute(query.where(where)).all()  # one fetchall, not a row at a time

    def insert_leaves(self, conn: Connection, last: Tail | None) -> tuple[list[int], list[bytes]]:
        """Give every candidate the next leaf index after `last` (in event id order) and
        store its leaf; the event ids and the leaf hashes written, in index order. The ids the
        window knew as sealed are kept for `advance` (read before the candidates)."""
        self.seen = self.known(conn)
        rows = self.candidates(conn, self.seen)
        texts = leaf_texts(rows)  # (stream, seq, hash, id): no slicing of 10,000 rows
        hashes = hashes_of(texts)
        ids = [r[3] for r in rows]
        firsts = [r[1] == 1 for r in rows]
        append_leaves(conn, last, ids, texts, hashes, firsts)
        self.firsts = sum(firsts)
        return ids, hashes

    def advance(self, sealed_ids: list[int], now: datetime) -> None:
        """Move the window past the ids just sealed, keeping the ids it leaves behind that
        no leaf holds as holes to await. Decided from the leaves (those known before the
        candidates were read, and the ones just written), not the events: an event that
        commits after the candidates were read would otherwise look present and be left
        behind unsealed."""
        previous = self.max_id if self.max_id is not None else 0
        top = max([previous, *sealed_ids])
        low, high = previous - WINDOW, top - WINDOW
        start = max(low + 1, 1)
        if high >= start:
            present = self.seen.union(sealed_ids)
            stamp = timestamp_text(now)
            self.holes.update((i, stamp) for i in range(start, high + 1) if i not in present)
        done = set(sealed_ids)
        oldest = timestamp_text(now - HOLE_WAIT)
        self.holes = {i: t for i, t in self.holes.items() if i not in done and t >= oldest}
        self.max_id = top

    def dump(self, streams: int) -> str:
        return json.dumps(
            {
                "max_id": self.max_id,
                "holes": {str(k): v for k, v in sorted(self.holes.items())},
                "streams": streams,
            }
        )


def _first_leaves(conn: Connection) -> int:
    """Sealed leaves of seq 1 (read when the last checkpoint did not sign their count)."""
    return first_leaves(conn)


def seal(
    conn: Connection,
    key: Ed25519PrivateKey,
    *,
    now: datetime | None = None,
    force: bool = False,
    anchor: Checkpoint | None = None,
) -> tuple[Checkpoint, bool]:
    """Seal every committed event not yet sealed and sign a checkpoint, in the caller's
    write transaction. Returns (checkpoint, new): when nothing new was sealed and a
    checkpoint exists, that one is returned unless `force`. `anchor` is the newest
    checkpoint kept outside the database (the checkpoint file): the log must still extend
    it (SealBroken otherwise)."""
    _lock(conn)
    public_key = key.public_key()
    if anchor is not None and not anchor.signed_by(public_key):
        anchor = None
    last = conn.execute(
        select(AUDIT_CHECKPOINTS).order_by(AUDIT_CHECKPOINTS.c.id.desc()).limit(1)
    ).first()
    last_block = tail(conn)
    edge = _edge(conn, public_key, anchor, last, 0 if last_block is None else last_block.size)
    state = _State.of(last, public_key)
    streams = state.streams if state.streams is not None else _first_leaves(conn)
    ids, hashes = state.insert_leaves(conn, last_block)
    if not ids and not force and last is not None:
        return Checkpoint.parse(last.body, last.signature), False
    edge.extend(hashes)
    streams += state.firsts
    now = now or datetime.now(UTC)
    state.advance(ids, now)
    checkpoint = sign_checkpoint(
        key, size=edge.size, root=edge.root().hex(), now=now, streams=streams
    )
    conn.execute(
        insert(AUDIT_CHECKPOINTS).values(
            tree_size=checkpoint.size,
            root_hash=checkpoint.root,
            created_at=now,
            streams=checkpoint.streams,
            heads_digest=None,
            key_id=checkpoint.key,
            body=checkpoint.body,
            signature=checkpoint.signature,
            peaks=json.dumps([p.hex() for p in edge.peaks]),
            state=state.dump(streams),
        )
    )
    return checkpoint, True
