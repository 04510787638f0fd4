"""Seal the audit log: put new events in the global order and sign a checkpoint of it.

Steps never wait for this: events are written as before (one insert each), and the sealer
later gives every committed, unsealed event the next leaf index (in event id order) in
`audit_leaf`, extends the RFC 6962 tree over the leaves and signs a checkpoint — tree size,
root, time, number of streams and a digest of every stream's newest sealed event — with an
Ed25519 key held outside the database. Like a Certificate Transparency log's sequencer
integrating queued entries, one sealer runs at a time (a lock taken in its transaction).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Connection, String, and_, cast, func, insert, select, text

from khenthuong.audit.chain import canonical_json, timestamp_text
from khenthuong.audit.merkle import CompactRange, leaf_hash
from khenthuong.errors import KhenthuongError
from khenthuong.storage.models import EVENTS
from khenthuong.storage.seal import AUDIT_CHECKPOINTS, AUDIT_LEAVES

LOG_NAME = "khenthuong-audit"
"""Names the log in every signed checkpoint (a signature over another log's head fails)."""

_LOCK_KEY = 0x6B686175  # "khau": the PostgreSQL advisory lock of the sealer


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


_ACC_BYTES = 256
_ACC_MOD = 1 << (8 * _ACC_BYTES)


def head_term(stream: str, seq: int, head: str) -> int:
    """One stream's share of the heads accumulator: SHAKE-256 of its head, 2048 bits."""
    return int.from_bytes(hashlib.shake_256(leaf_data(stream, seq, head)).digest(_ACC_BYTES))


def heads_accumulator(heads: Iterable[tuple[str, int, str]]) -> int:
    """The sum of every stream's term modulo 2**2048: a set hash that a checkpoint extends
    by subtracting a stream's old head and adding its new one (no pass over every stream)."""
    return _terms_sum(list(heads)) % _ACC_MOD


def _terms_sum(heads: Sequence[tuple[str, int, str]]) -> int:
    """The sum of `head_term` of many heads (not reduced): when no stream or hash needs JSON
    escaping, the encoding and hashlib inlined in one generator, no Python call per head."""
    if not (
        _PLAIN.match("".join(h[0] for h in heads)) and _PLAIN.match("".join(h[2] for h in heads))
    ):
        return sum(head_term(*h) for h in heads)
    shake, number = hashlib.shake_256, int.from_bytes
    return sum(number(shake(f'["{s}",{q},"{h}"]'.encode()).digest(_ACC_BYTES)) for s, q, h in heads)


def accumulator_digest(accumulator: int) -> str:
    """The signed form of the accumulator: SHA-256 of its 256 bytes, hex."""
    return hashlib.sha256(accumulator.to_bytes(_ACC_BYTES)).hexdigest()


def heads_digest(heads: Iterable[tuple[str, int, str]]) -> str:
    """Digest of every stream's (name, last sealed seq, its hash)."""
    return accumulator_digest(heads_accumulator(heads))


def key_id(public_key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, hex: names the key in each checkpoint."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


@dataclass(frozen=True)
class Checkpoint:
    """A signed tree head. `body` is the exact signed text; the fields are read from it."""

    body: str
    signature: str
    size: int
    root: str
    time: str
    streams: int
    heads: str
    key: str

    @classmethod
    def parse(cls, body: str, signature: str) -> Checkpoint:
        """Read a checkpoint's fields from its signed text (ValueError when malformed)."""
        try:
            data = json.loads(body)
            if data.get("log") != LOG_NAME:
                raise ValueError(f"not a checkpoint of {LOG_NAME}")
            return cls(
                body,
                signature,
                int(data["size"]),
                str(data["root"]),
                str(data["time"]),
                int(data["streams"]),
                str(data["heads"]),
                str(data["key"]),
            )
        except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as exc:
            raise ValueError(f"malformed checkpoint: {exc}") from None

    def line(self) -> str:
        """One line of the checkpoint file."""
        return json.dumps({"checkpoint": self.body, "signature": self.signature})

    @classmethod
    def from_line(cls, line: str) -> Checkpoint:
        """The inverse of `line` (ValueError when malformed)."""
        try:
            data = json.loads(line)
            return cls.parse(str(data["checkpoint"]), str(data["signature"]))
        except (KeyError, TypeError, json.JSONDecodeError) as exc:
            raise ValueError(f"malformed checkpoint line: {exc}") from None

    def signed_by(self, public_key: Ed25519PublicKey) -> bool:
        """True when the signature is this key's over exactly `body`."""
        try:
            public_key.verify(bytes.fromhex(self.signature), self.body.encode("utf-8"))
        except (InvalidSignature, ValueError):
            return False
        return True


def sign_checkpoint(
    key: Ed25519PrivateKey, *, size: int, root: str, now: datetime, streams: int, heads: str
) -> Checkpoint:
    """A checkpoint of these values signed with `key`."""
    body = canonical_json(
        {
            "log": LOG_NAME,
            "size": size,
            "root": root,
            "time": timestamp_text(now),
            "streams": streams,
            "heads": heads,
            "key": key_id(key.public_key()),
        }
    )
    signature = key.sign(body.encode("utf-8")).hex()
    return Checkpoint.parse(body, signature)


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
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
        # The candidates' query is a few index probes per new event; its cost estimate
        # over a large log crosses jit_above_cost, and compiling it took 355 ms of 485
        # (EXPLAIN ANALYZE, 10,000 new events): not worth it for this transaction.
        conn.execute(text("SET LOCAL jit = off"))


class SealBroken(KhenthuongError):
    """The log no longer extends the last signed checkpoint: sealing stops (run verify)."""


def _edge(
    conn: Connection, public_key: Ed25519PublicKey, anchor: Checkpoint | None, last: Any
) -> CompactRange:
    """The tree's right edge, extending only what was signed.

    Fast path: the right edge stored with the newest checkpoint, when it yields the root that
    checkpoint signed and the anchor (the newest line of the checkpoint file, outside the
    database) is that same checkpoint. Otherwise the edge is rebuilt from every leaf row and
    must pass through the signed roots of both at their sizes; a gap in the leaf indexes or a
    root that differs raises SealBroken rather than sign a rewritten log.
    """
    # The next free index (counting rows would reuse an index after a deleted middle row).
    size = conn.execute(select(func.coalesce(func.max(AUDIT_LEAVES.c.idx), -1) + 1)).scalar_one()
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


READ_CHUNK = 65_536
"""Leaf rows read (and hashed) at a time when the tree is rebuilt."""


def _leaf_rows(conn: Connection) -> Iterator[Sequence[Any]]:
    """Every leaf row (stream, seq, event_hash, idx) in index order, a chunk at a time, in
    one streamed query."""
    leaf = AUDIT_LEAVES.c
    query = select(leaf.stream, leaf.seq, leaf.event_hash, leaf.idx).order_by(leaf.idx)
    options = {"yield_per": READ_CHUNK}  # this query only: the caller's connection writes next
    yield from conn.execute(query, execution_options=options).partitions()


def rebuild_edge(conn: Connection, expected: Mapping[int, str] | None = None) -> CompactRange:
    """The tree's right edge from every leaf row (one streamed query, leaves hashed a chunk
    at a time, the tree built in blocks: `CompactRange.extend`). The roots in `expected`
    (tree size -> signed root, hex) must be met on the way; a gap in the leaf indexes or a
    root that differs raises SealBroken rather than sign a rewritten log."""
    pending = dict(expected or {})
    edge = CompactRange()
    if 0 in pending and pending.pop(0) != edge.root().hex():
        raise SealBroken("nhật ký rỗng không khớp điểm niêm phong đã ký")
    for rows in _leaf_rows(conn):
        first, last = rows[0][3], rows[-1][3]
        if first != edge.size or last - first != len(rows) - 1:  # idx is unique: no gap
            missing = edge.size if first != edge.size else _first_gap(rows)
            raise SealBroken(
                f"bảng niêm phong thiếu lá {missing}: không niêm phong tiếp (chạy audit verify)"
            )
        hashes = leaf_hashes(rows)
        start = edge.size
        for size in sorted(k for k in pending if start < k <= start + len(rows)):
            edge.extend(hashes[edge.size - start : size - start])
            if pending.pop(size) != edge.root().hex():
                raise SealBroken(
                    f"các lá đến {size} không còn cho ra gốc đã ký: không niêm phong tiếp "
                    "(chạy audit verify)"
                )
        edge.extend(hashes[edge.size - start :])
    if pending:
        raise SealBroken(
            f"nhật ký có {edge.size} lá, ít hơn điểm niêm phong đã ký ({max(pending)} lá): "
            "không niêm phong tiếp (chạy audit verify)"
        )
    return edge


def _first_gap(rows: Sequence[Sequence[Any]]) -> int:
    return next(int(a[3]) + 1 for a, b in pairwise(rows) if b[3] != a[3] + 1)


def _insert_leaves(conn: Connection, start: int, rows: Sequence[Sequence[Any]]) -> None:
    """Write the leaf rows of candidate `rows` (stream, seq, hash, event id …) from index
    `start`, in the caller's transaction (COPY on PostgreSQL: a first seal of a large log
    writes a million rows)."""
    if conn.dialect.name == "postgresql" and len(rows) > 1_000:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        columns = "idx, event_id, stream, seq, event_hash"
        with cursor.copy(f"COPY audit_leaf ({columns}) FROM STDIN") as copy:
            for idx, r in enumerate(rows, start):
                copy.write_row((idx, r[3], r[0], r[1], r[2]))
        return
    conn.execute(
        insert(AUDIT_LEAVES),
        [{"idx": idx, "event_id": r[3], "stream": r[0], "seq": r[1], "event_hash": r[2]}
         for idx, r in enumerate(rows, start)],
    )  # fmt: skip


def _newest_sealed(conn: Connection) -> dict[str, tuple[int, str]]:
    """Every stream's newest sealed leaf: (seq, event hash) by stream."""
    leaf = AUDIT_LEAVES.c
    newest = select(leaf.stream, func.max(leaf.seq).label("seq")).group_by(leaf.stream).subquery()
    query = select(leaf.stream, leaf.seq, leaf.event_hash).select_from(
        AUDIT_LEAVES.join(newest, and_(leaf.stream == newest.c.stream, leaf.seq == newest.c.seq))
    )
    return {r.stream: (int(r.seq), str(r.event_hash)) for r in conn.execute(query)}


def _old_head(found: str | None) -> tuple[int | None, str | None]:
    """(seq, hash) of a candidate's previous sealed leaf, from the "seq:hash" it was read as."""
    if found is None:
        return None, None
    seq, _, head = found.partition(":")
    return int(seq), head


WINDOW = 10_000
"""Event ids below the highest sealed one that the sealer still looks at: a transaction
that took its id earlier may commit later (PostgreSQL hands out ids at insert)."""
HOLE_WAIT = timedelta(hours=1)
"""How long an id missing below the window is still awaited (then taken as rolled back;
an event that does turn up later stays visible as not sealed to `audit verify`)."""


@dataclass
class _State:
    """Where the last checkpoint left the sealer (stored with it, not signed: wrong values
    can only leave events unsealed or a digest that verification rejects)."""

    max_id: int | None = None
    holes: dict[int, str] = field(default_factory=dict)
    accumulator: int | None = None
    streams: int = 0

    @classmethod
    def of(cls, last: Any, public_key: Ed25519PublicKey) -> _State:
        if last is None or not last.state:
            return cls()
        try:
            data = json.loads(last.state)
            signed = Checkpoint.parse(last.body, last.signature)
            accumulator = int(data["acc"], 16)
            state = cls(
                int(data["max_id"]),
                {int(k): str(v) for k, v in data["holes"].items()},
                accumulator,
                int(data["streams"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            return cls()
        if not signed.signed_by(public_key) or accumulator_digest(accumulator) != signed.heads:
            state.accumulator = None
        return state

    def candidates(self) -> Any:
        """Committed events not yet sealed, as (stream, seq, hash, id, "sealed_seq:sealed_hash"):
        near or above the highest sealed id and the awaited holes, or (no
        usable state) every event. With a usable accumulator, each row also carries the
        sealed leaf of its stream's previous event (seq - 1), the head the accumulator holds
        for that stream (two index probes per new event, no table of heads to keep)."""
        sealed = AUDIT_LEAVES.c.event_id
        e = EVENTS.c
        if self.accumulator is None:
            columns: tuple[Any, ...] = (e.stream, e.seq, e.hash, e.id)
            query = select(*columns)
        else:
            # Correlated look-ups, not joins: PostgreSQL hash-joined the whole event and leaf
            # tables for them (linear in the log, most of an incremental checkpoint); a
            # subquery per candidate is two index probes (uq_event_stream, the leaf's
            # event_id).
            prev, leaf = EVENTS.alias("prev"), AUDIT_LEAVES.alias("prev_leaf")

            def previous(column: Any) -> Any:
                return (
                    select(column)
                    .select_from(prev.join(leaf, leaf.c.event_id == prev.c.id))
                    .where(prev.c.stream == e.stream, prev.c.seq == e.seq - 1)
                    .scalar_subquery()
                )

            # One look-up for both: "seq:hash" of the previous event's leaf (`_old_head`).
            old = cast(leaf.c.seq, String) + ":" + leaf.c.event_hash
            query = select(e.stream, e.seq, e.hash, e.id, previous(old))
        unsealed = select(sealed).where(sealed == e.id)
        if self.max_id is None:
            return query.where(~unsealed.exists()).order_by(e.id)
        # Every candidate id is above `low`, and no leaf holds an event above `max_id` (the
        # highest ever sealed, stored with the leaves in one transaction): bounding the
        # leaves looked at on both sides keeps the anti-join to the window's leaves (an
        # index range) instead of every leaf (a one-sided bound let PostgreSQL, with no
        # statistics yet on a freshly loaded log, read all of them).
        low = min([self.max_id - WINDOW, *(i - 1 for i in self.holes)])
        near = e.id > self.max_id - WINDOW
        if self.holes:
            near = near | e.id.in_(sorted(self.holes))
        unsealed = unsealed.where(sealed > low, sealed <= self.max_id)
        return query.where(near, ~unsealed.exists()).order_by(e.id)

    def extend(self, conn: Connection, rows: Sequence[Sequence[Any]]) -> tuple[int, int]:
        """(streams, accumulator) after moving the streams of the candidate `rows` (not yet
        written as leaves) to their new heads: each stream's old term is its previous
        event's sealed leaf, read with the row; when one is missing (an event given up as
        rolled back turned up), every stream's newest sealed leaf is read instead."""
        heads: dict[str, tuple[int, str]] = {}
        first: dict[str, Sequence[Any]] = {}
        for r in rows:
            first.setdefault(r[0], r)
            if r[0] not in heads or r[1] >= heads[r[0]][0]:
                heads[r[0]] = (r[1], r[2])
        if self.accumulator is not None:
            olds: list[tuple[str, Any, Any]] = [
                (r[0], *_old_head(r[4])) for r in first.values() if r[1] != 1
            ]
            if all(seq == first[stream][1] - 1 for stream, seq, _ in olds):
                news = [(stream, seq, head) for stream, (seq, head) in heads.items()]
                accumulator = self.accumulator - _terms_sum(olds) + _terms_sum(news)
                return self.streams + len(heads) - len(olds), accumulator % _ACC_MOD
        known = _newest_sealed(conn)
        for stream, (seq, head) in heads.items():
            if stream not in known or seq >= known[stream][0]:
                known[stream] = (seq, head)
        return len(known), heads_accumulator((s, q, h) for s, (q, h) in known.items())

    def advance(self, conn: Connection, sealed_ids: list[int], now: datetime) -> None:
        """Move the window past the ids just sealed, keeping the ids it leaves behind that
        no event holds yet as holes to await."""
        previous = self.max_id if self.max_id is not None else 0
        top = max([previous, *sealed_ids])
        low, high = previous - WINDOW, top - WINDOW
        start = max(low + 1, 1)
        if high >= start and self._gaps(conn, start - 1, high):
            present = set(
                conn.execute(
                    select(EVENTS.c.id).where(EVENTS.c.id > low, EVENTS.c.id <= high)
                ).scalars()
            )
            stamp = timestamp_text(now)
            self.holes.update(
                (i, stamp) for i in range(max(low + 1, 1), high + 1) if i not in present
            )
        done = set(sealed_ids)
        oldest = timestamp_text(now - HOLE_WAIT)
        self.holes = {i: t for i, t in self.holes.items() if i not in done and t >= oldest}
        self.max_id = top

    @staticmethod
    def _gaps(conn: Connection, low: int, high: int) -> bool:
        """True when some id in (low, high] holds no event: one count, not every id read
        (the window moves by every sealed event; ids are rarely missing)."""
        count = conn.execute(
            select(func.count()).where(EVENTS.c.id > low, EVENTS.c.id <= high)
        ).scalar_one()
        return int(count) != high - low

    def dump(self, accumulator: int, streams: int) -> str:
        return json.dumps(
            {
                "max_id": self.max_id,
                "holes": {str(k): v for k, v in sorted(self.holes.items())},
                "acc": f"{accumulator:x}",
                "streams": streams,
            }
        )


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
    edge = _edge(conn, public_key, anchor, last)
    state = _State.of(last, public_key)
    rows = conn.execute(state.candidates()).all()
    if not rows and not force and last is not None:
        return Checkpoint.parse(last.body, last.signature), False
    streams, accumulator = state.extend(conn, rows)
    if rows:
        _insert_leaves(conn, edge.size, rows)
        edge.extend(leaf_hashes(rows))
    now = now or datetime.now(UTC)
    state.advance(conn, [row[3] for row in rows], now)
    checkpoint = sign_checkpoint(
        key,
        size=edge.size,
        root=edge.root().hex(),
        now=now,
        streams=streams,
        heads=accumulator_digest(accumulator),
    )
    conn.execute(
        insert(AUDIT_CHECKPOINTS).values(
            tree_size=checkpoint.size,
            root_hash=checkpoint.root,
            created_at=now,
            streams=checkpoint.streams,
            heads_digest=checkpoint.heads,
            key_id=checkpoint.key,
            body=checkpoint.body,
            signature=checkpoint.signature,
            peaks=json.dumps([p.hex() for p in edge.peaks]),
            state=state.dump(accumulator, streams),
        )
    )
    return checkpoint, True
