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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Connection, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from khenthuong.audit.chain import canonical_json, timestamp_text
from khenthuong.audit.merkle import CompactRange, leaf_hash
from khenthuong.errors import KhenthuongError
from khenthuong.storage.models import EVENTS
from khenthuong.storage.seal import AUDIT_CHECKPOINTS, AUDIT_LEAVES, AUDIT_SEAL_HEADS

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


_ACC_BYTES = 256
_ACC_MOD = 1 << (8 * _ACC_BYTES)


def head_term(stream: str, seq: int, head: str) -> int:
    """One stream's share of the heads accumulator: SHAKE-256 of its head, 2048 bits."""
    return int.from_bytes(hashlib.shake_256(leaf_data(stream, seq, head)).digest(_ACC_BYTES))


def heads_accumulator(heads: Iterable[tuple[str, int, str]]) -> int:
    """The sum of every stream's term modulo 2**2048: a set hash that a checkpoint extends
    by subtracting a stream's old head and adding its new one (no pass over every stream)."""
    return sum(head_term(*h) for h in heads) % _ACC_MOD


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
    edge = CompactRange()
    if 0 in expected and expected.pop(0) != edge.root().hex():
        raise SealBroken("nhật ký rỗng không khớp điểm niêm phong đã ký")
    for row in conn.execute(
        select(
            AUDIT_LEAVES.c.idx, AUDIT_LEAVES.c.stream, AUDIT_LEAVES.c.seq, AUDIT_LEAVES.c.event_hash
        ).order_by(AUDIT_LEAVES.c.idx)
    ):
        if row.idx != edge.size:
            raise SealBroken(
                f"bảng niêm phong thiếu lá {edge.size}: không niêm phong tiếp (chạy audit verify)"
            )
        edge.append(leaf_of(row.stream, row.seq, row.event_hash))
        root = expected.pop(edge.size, None)
        if root is not None and root != edge.root().hex():
            raise SealBroken(
                f"các lá đến {edge.size} không còn cho ra gốc đã ký: không niêm phong tiếp "
                "(chạy audit verify)"
            )
    if expected:
        raise SealBroken(
            f"nhật ký có {edge.size} lá, ít hơn điểm niêm phong đã ký ({max(expected)} lá): "
            "không niêm phong tiếp (chạy audit verify)"
        )
    return edge


def _upsert_heads(conn: Connection, heads: Mapping[str, tuple[int, str]]) -> None:
    """Set each touched stream's newest sealed event (one executemany of an upsert)."""
    if not heads:
        return
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(AUDIT_SEAL_HEADS)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=[AUDIT_SEAL_HEADS.c.stream],
            set_={"seq": statement.excluded.seq, "hash": statement.excluded.hash},
        ),
        [{"stream": s, "seq": q, "hash": h} for s, (q, h) in heads.items()],
    )


def _insert_leaves(conn: Connection, leaves: list[dict[str, Any]]) -> None:
    """Write leaf rows in the caller's transaction (COPY on PostgreSQL: a first seal of a
    large log writes a million rows)."""
    if conn.dialect.name == "postgresql" and len(leaves) > 1_000:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        columns = ("idx", "event_id", "stream", "seq", "event_hash")
        with cursor.copy(f"COPY audit_leaf ({', '.join(columns)}) FROM STDIN") as copy:
            for leaf in leaves:
                copy.write_row([leaf[c] for c in columns])
        return
    conn.execute(insert(AUDIT_LEAVES), leaves)


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
        """Committed events not yet sealed: near or above the highest sealed id and the
        awaited holes, or (no usable state) every event."""
        sealed = AUDIT_LEAVES.c.event_id
        query = (
            select(EVENTS.c.id, EVENTS.c.stream, EVENTS.c.seq, EVENTS.c.hash)
            .where(~select(sealed).where(sealed == EVENTS.c.id).exists())
            .order_by(EVENTS.c.id)
        )
        if self.max_id is None:
            return query
        near = EVENTS.c.id > self.max_id - WINDOW
        if self.holes:
            near = near | EVENTS.c.id.in_(sorted(self.holes))
        return query.where(near)

    def extend(self, conn: Connection, heads: Mapping[str, tuple[int, str]]) -> tuple[int, int]:
        """(streams, accumulator) after moving the touched streams to their new heads."""
        if self.accumulator is None:
            known = {r.stream: (r.seq, r.hash) for r in conn.execute(select(AUDIT_SEAL_HEADS))}
            known.update(heads)
            return len(known), heads_accumulator((s, q, h) for s, (q, h) in known.items())
        accumulator, streams = self.accumulator, self.streams
        old = AUDIT_SEAL_HEADS.c
        found: dict[str, tuple[int, str]] = {}
        names = list(heads)
        for start in range(0, len(names), 5_000):
            chunk = names[start : start + 5_000]
            found.update(
                (r.stream, (r.seq, r.hash))
                for r in conn.execute(
                    select(old.stream, old.seq, old.hash).where(old.stream.in_(chunk))
                )
            )
        for stream, (seq, head) in heads.items():
            if stream in found:
                accumulator -= head_term(stream, *found[stream])
            else:
                streams += 1
            accumulator += head_term(stream, seq, head)
        return streams, accumulator % _ACC_MOD

    def advance(self, conn: Connection, sealed_ids: list[int], now: datetime) -> None:
        """Move the window past the ids just sealed, keeping the ids it leaves behind that
        no event holds yet as holes to await."""
        previous = self.max_id if self.max_id is not None else 0
        top = max([previous, *sealed_ids])
        low, high = previous - WINDOW, top - WINDOW
        if high > low:
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
    leaves: list[dict[str, Any]] = []
    heads: dict[str, tuple[int, str]] = {}
    for row in rows:
        leaves.append(
            {
                "idx": edge.size,
                "event_id": row.id,
                "stream": row.stream,
                "seq": row.seq,
                "event_hash": row.hash,
            }
        )
        edge.append(leaf_of(row.stream, row.seq, row.hash))
        heads[row.stream] = (row.seq, row.hash)
    if leaves:
        _insert_leaves(conn, leaves)
    streams, accumulator = state.extend(conn, heads)
    _upsert_heads(conn, heads)
    now = now or datetime.now(UTC)
    state.advance(conn, [row.id for row in rows], now)
    now = now or datetime.now(UTC)
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
