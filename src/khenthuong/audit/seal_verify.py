"""Prove the audit log against a signed checkpoint: every sealed event present, unchanged and
in order, and no stream or head removed or rolled back.

Only the public key and the checkpoint need to be trusted. The leaves are recomputed from
the events themselves (each event's hash from its content), placed in the order the seal
table records, and the tree over them must give the checkpoint's root; the copy each leaf
row keeps of what it sealed names the event that changed. The stream heads sealed by the
checkpoint (the newest leaf of each stream, bound by the root) may only have grown in the
database since, and the leaves must give the streams the checkpoint signed (version 2: their
count; version 1: their count and a digest of their heads).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, func, select

from khenthuong.audit.chain import HASHED_FIELDS, event_hash
from khenthuong.audit.checkpoint import Checkpoint, key_id
from khenthuong.audit.heads_v1 import heads_digest
from khenthuong.audit.leaves import leaf_of, leaf_text, read_leaves
from khenthuong.audit.merkle import MerkleTree, verify_consistency
from khenthuong.audit.seal import stored_checkpoints
from khenthuong.storage.models import EVENTS, NOMINATIONS, STREAM_HEADS
from khenthuong.storage.seal import AUDIT_CHECKPOINTS


@dataclass(frozen=True)
class SealFinding:
    """One piece of damage the checkpoint proves."""

    kind: str
    """missing, altered, moved, gap, truncated, root, stream_removed, rolled_back,
    head_changed, heads_digest or checkpoint."""
    message: str
    stream: str | None = None
    seq: int | None = None
    event_id: int | None = None

    def __str__(self) -> str:
        return self.message


@dataclass
class SealReport:
    """The outcome of checking the log against one checkpoint."""

    checkpoint: Checkpoint | None
    rejected: str | None = None
    """Why the checkpoint itself was refused (not signed by the key, malformed)."""
    leaves: int = 0
    unsealed: int = 0
    """Events after the checkpoint: not yet covered by any signature."""
    checkpoints: int = 0
    """Stored checkpoints found consistent with the log."""
    findings: list[SealFinding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the checkpoint is genuine and nothing it covers was damaged."""
        return self.rejected is None and not self.findings


@dataclass
class _Leaf:
    idx: int
    event_id: int
    sealed: tuple[str, int, str]
    current: tuple[str, int, str] | None


def _read_leaves(conn: Connection) -> tuple[list[_Leaf], int]:
    """Every stored leaf in index order with what its event holds now, and the number of
    events that no leaf holds (not yet sealed). The events are read once, in id order, and
    matched to their leaves by id."""
    stored = list(read_leaves(conn))
    where: dict[int, list[int]] = {}
    for n, lf in enumerate(stored):
        where.setdefault(lf.event_id, []).append(n)  # one place, unless a leaf was copied
    current: list[tuple[str, int, str] | None] = [None] * len(stored)
    unsealed = 0
    query = select(EVENTS.c.id, *(EVENTS.c[name] for name in HASHED_FIELDS)).order_by(EVENTS.c.id)
    for row in conn.execution_options(yield_per=10_000).execute(query).mappings():
        places = where.get(row["id"])
        if places is None:
            unsealed += 1
            continue
        found = (row["stream"], row["seq"], event_hash(row))
        for n in places:
            current[n] = found
    leaves = []
    for lf, now in zip(stored, current, strict=True):
        sealed = now if now is not None and leaf_text(*now) == lf.text else _parse(lf.text)
        leaves.append(_Leaf(lf.idx, lf.event_id, sealed, now))
    return leaves, unsealed


def _parse(text: str) -> tuple[str, int, str]:
    """The (stream, seq, hash) a stored leaf text sealed (unreadable text: empty values)."""
    try:
        stream, seq, head = json.loads(text)
        return str(stream), int(seq), str(head)
    except (ValueError, TypeError):
        return "", 0, ""


def _leaf_findings(leaves: list[_Leaf], size: int) -> list[SealFinding]:
    findings = []
    gap = False
    for position, lf in enumerate(leaves[:size]):
        stream, seq, _ = lf.sealed
        where = f"{stream} seq {seq} (lá {lf.idx}, sự kiện id {lf.event_id})"
        if lf.idx != position and not gap:
            gap = True
            findings.append(
                SealFinding(
                    "gap",
                    f"bảng niêm phong thiếu các lá {position}..{lf.idx - 1}: thứ tự toàn cục "
                    "đã bị xóa bớt",
                    stream,
                    seq,
                    lf.event_id,
                )
            )
        if lf.current is None:
            findings.append(
                SealFinding(
                    "missing",
                    f"{where}: sự kiện đã được niêm phong nhưng không còn trong cơ sở dữ liệu "
                    "(đã bị xóa)",
                    stream,
                    seq,
                    lf.event_id,
                )
            )
        elif lf.current[:2] != lf.sealed[:2]:
            findings.append(
                SealFinding(
                    "moved",
                    f"{where}: sự kiện này nay mang {lf.current[0]} seq {lf.current[1]}: "
                    "số thứ tự hoặc chuỗi đã bị đổi (sắp xếp lại)",
                    stream,
                    seq,
                    lf.event_id,
                )
            )
        elif lf.current[2] != lf.sealed[2]:
            findings.append(
                SealFinding(
                    "altered",
                    f"{where}: nội dung khác với nội dung đã niêm phong: sự kiện đã bị sửa",
                    stream,
                    seq,
                    lf.event_id,
                )
            )
    return findings


def _sealed_heads(data: list[tuple[str, int, str]]) -> dict[str, tuple[int, str]]:
    heads: dict[str, tuple[int, str]] = {}
    for stream, seq, head in data:
        if stream not in heads or seq >= heads[stream][0]:
            heads[stream] = (seq, head)
    return heads


def _database_heads(conn: Connection) -> dict[str, tuple[int, str]]:
    noms = NOMINATIONS.c
    heads = {
        f"nomination:{r.id}": (int(r.version), str(r.head_hash))
        for r in conn.execute(select(noms.id, noms.version, noms.head_hash))
    }
    heads.update((r.stream, (int(r.seq), str(r.hash))) for r in conn.execute(select(STREAM_HEADS)))
    return heads


def _head_findings(
    sealed: dict[str, tuple[int, str]], current: dict[str, tuple[int, str]]
) -> list[SealFinding]:
    findings = []
    for stream, (seq, head) in sorted(sealed.items()):
        now = current.get(stream)
        if now is None:
            findings.append(
                SealFinding(
                    "stream_removed",
                    f"{stream}: chuỗi đã được niêm phong đến seq {seq} nhưng đầu chuỗi không "
                    "còn trong cơ sở dữ liệu: cả chuỗi đã bị xóa",
                    stream,
                    seq,
                )
            )
        elif now[0] < seq:
            findings.append(
                SealFinding(
                    "rolled_back",
                    f"{stream}: đầu chuỗi ghi seq {now[0]} nhưng seq {seq} đã được niêm phong: "
                    "chuỗi đã bị quay lui",
                    stream,
                    seq,
                )
            )
        elif now[0] == seq and now[1] != head:
            findings.append(
                SealFinding(
                    "head_changed",
                    f"{stream}: đầu chuỗi tại seq {seq} khác mã băm đã niêm phong: "
                    "đầu chuỗi đã bị sửa",
                    stream,
                    seq,
                )
            )
    return findings


def verify_seal(
    conn: Connection, public_key: Ed25519PublicKey, checkpoint: Checkpoint | None = None
) -> SealReport:
    """Check the log against `checkpoint` (default: the newest stored one)."""
    stored = stored_checkpoints(conn)
    if checkpoint is None:
        if not stored:
            return SealReport(None, rejected="chưa có điểm niêm phong nào")
        checkpoint = stored[-1][1]
    report = SealReport(checkpoint)
    if not checkpoint.signed_by(public_key) or checkpoint.key != key_id(public_key):
        report.rejected = (
            "điểm niêm phong không được ký bằng khóa công khai đã cho: bị từ chối "
            f"(khóa của nó {checkpoint.key[:16]}…, khóa đã cho {key_id(public_key)[:16]}…)"
        )
        return report
    leaves, unsealed_events = _read_leaves(conn)
    size, total = checkpoint.size, len(leaves)
    report.leaves = total
    report.findings.extend(_leaf_findings(leaves, size))
    current = [lf.current or lf.sealed for lf in leaves]
    tree = MerkleTree([leaf_of(*data) for data in current])
    authentic = current
    intact = False
    if size > total:
        report.findings.append(
            SealFinding(
                "truncated",
                f"điểm niêm phong phủ {size} sự kiện nhưng nhật ký chỉ còn {total} lá: "
                f"{size - total} sự kiện cuối đã bị xóa cùng với dòng niêm phong của chúng",
            )
        )
    elif tree.root(size).hex() != checkpoint.root:
        intact = False
        sealed_tree = MerkleTree([leaf_of(*lf.sealed) for lf in leaves])
        if sealed_tree.root(size).hex() == checkpoint.root:
            authentic = [lf.sealed for lf in leaves]
        report.findings.append(_root_finding(tree, stored, public_key, size))
    else:
        intact = True
        proof = tree.consistency_proof(size, total)
        if not verify_consistency(size, total, bytes.fromhex(checkpoint.root), tree.root(), proof):
            report.findings.append(SealFinding("root", "bằng chứng nhất quán không hợp lệ"))
    sealed = authentic[: min(size, total)]
    sealed_heads = _sealed_heads(sealed)
    report.findings.extend(_signed_streams(checkpoint, sealed, sealed_heads))
    report.findings.extend(_head_findings(sealed_heads, _database_heads(conn)))
    report.findings.extend(
        _stored_findings(conn, stored, tree, public_key, checkpoint, intact=intact)
    )
    report.checkpoints = sum(
        1 for _, c in stored if c.size <= total and tree.root(c.size).hex() == c.root
    )
    report.unsealed = max(total - size, 0) + int(unsealed_events)
    return report


def _signed_streams(
    checkpoint: Checkpoint,
    sealed: list[tuple[str, int, str]],
    heads: dict[str, tuple[int, str]],
) -> list[SealFinding]:
    """The streams the checkpoint signed, against the sealed leaves: version 2 counts the
    leaves of seq 1; version 1 signed the number of streams and a digest of their heads."""
    if checkpoint.version == 1:
        digest = heads_digest((s, q, h) for s, (q, h) in heads.items())
        if digest == checkpoint.heads and len(heads) == checkpoint.streams:
            return []
        message = (
            f"đầu các chuỗi suy ra từ nhật ký ({len(heads)} chuỗi) không khớp bản "
            f"tóm tắt đã ký ({checkpoint.streams} chuỗi)"
        )
        return [SealFinding("heads_digest", message)]
    begun = sum(1 for _, seq, _ in sealed if seq == 1)
    if begun == checkpoint.streams:
        return []
    message = (
        f"nhật ký đã niêm phong có {begun} chuỗi (sự kiện seq 1) nhưng điểm niêm phong đã ký "
        f"{checkpoint.streams} chuỗi"
    )
    return [SealFinding("heads_digest", message)]


def _root_finding(
    tree: MerkleTree, stored: list[tuple[int, Checkpoint]], public_key: Ed25519PublicKey, size: int
) -> SealFinding:
    """The signed root does not match: say up to which genuine checkpoint the log still holds."""
    intact = 0
    for _, c in stored:
        if (
            c.size <= min(size, tree.size)
            and c.signed_by(public_key)
            and tree.root(c.size).hex() == c.root
        ):
            intact = max(intact, c.size)
    return SealFinding(
        "root",
        f"các sự kiện đến lá {size} không cho ra gốc cây đã ký: sự kiện đã bị sửa, xóa hoặc "
        f"sắp xếp lại (nhật ký còn nguyên đến lá {intact}; hư hỏng nằm trong các lá "
        f"{intact}..{size - 1})",
    )


def _stored_findings(
    conn: Connection,
    stored: list[tuple[int, Checkpoint]],
    tree: MerkleTree,
    public_key: Ed25519PublicKey,
    checkpoint: Checkpoint,
    *,
    intact: bool,
) -> list[SealFinding]:
    """Stored checkpoints: genuine, consistent with the log (checked by a consistency proof
    from the given checkpoint when the log matched it), and the given one among them."""
    findings = []
    rows = conn.execute(select(func.count()).select_from(AUDIT_CHECKPOINTS)).scalar_one()
    if rows != len(stored):
        findings.append(
            SealFinding("checkpoint", f"{rows - len(stored)} điểm niêm phong lưu trữ bị hỏng")
        )
    for row_id, c in stored:
        if not c.signed_by(public_key):
            findings.append(
                SealFinding(
                    "checkpoint",
                    f"điểm niêm phong lưu trữ #{row_id} không được ký bằng khóa này",
                )
            )
        elif c.size > tree.size or (
            intact
            and c.size > checkpoint.size
            and not verify_consistency(
                checkpoint.size,
                c.size,
                bytes.fromhex(checkpoint.root),
                bytes.fromhex(c.root),
                tree.consistency_proof(checkpoint.size, c.size),
            )
        ):
            findings.append(
                SealFinding(
                    "checkpoint",
                    f"điểm niêm phong lưu trữ #{row_id} ({c.size} lá, {c.time}) không nhất quán "
                    "với nhật ký hiện tại",
                )
            )
    if all(c.body != checkpoint.body for _, c in stored):
        findings.append(
            SealFinding(
                "checkpoint",
                f"điểm niêm phong đã cho ({checkpoint.size} lá, {checkpoint.time}) không còn "
                "trong cơ sở dữ liệu: các điểm niêm phong lưu trữ đã bị xóa",
            )
        )
    return findings
