"""RFC 6962 Merkle trees over the audit log: tree heads and consistency proofs (pure).

Leaf hash = SHA-256(0x00 || leaf), node hash = SHA-256(0x01 || left || right), and the
tree over n > 1 leaves splits at the largest power of two below n (RFC 6962 §2.1). A
consistency proof between sizes m <= n is RFC 6962 §2.1.2 PROOF(m, D[n]); its check is
the algorithm of RFC 9162 §2.1.4.2.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""The head of a tree with no leaves."""


def leaf_hash(data: bytes) -> bytes:
    """SHA-256(0x00 || data)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _parents(level: Sequence[bytes]) -> list[bytes]:
    """The node hashes over consecutive pairs of `level` (an odd last one is left out): one
    list comprehension with hashlib inlined, no Python call per node (a million leaves)."""
    sha, one = hashlib.sha256, b"\x01"
    return [sha(one + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)]


def _perfect_root(leaves: Sequence[bytes]) -> bytes:
    """The head of 2**k leaf hashes."""
    level = list(leaves)
    while len(level) > 1:
        level = _parents(level)
    return level[0]


def _split(n: int) -> int:
    """The largest power of two strictly below n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


class MerkleTree:
    """Every level of the tree over a list of leaf hashes, for heads and proofs of any size.

    levels[0] holds the leaf hashes; levels[k][j] is the head of the perfect subtree of
    2**k leaves starting at j * 2**k. Building costs one hash per node (about n); the head
    of any prefix and a consistency proof then cost O(log n).
    """

    def __init__(self, leaves: Sequence[bytes]) -> None:
        self.levels: list[list[bytes]] = [list(leaves)]
        level = self.levels[0]
        while len(level) > 1:
            level = _parents(level)
            self.levels.append(level)

    @property
    def size(self) -> int:
        """How many leaves."""
        return len(self.levels[0])

    def _subtree(self, start: int, count: int) -> bytes:
        """The head of leaves [start, start + count)."""
        if count == 0:
            return EMPTY_ROOT
        if count & (count - 1) == 0 and start % count == 0:
            return self.levels[count.bit_length() - 1][start // count]
        k = _split(count)
        return node_hash(self._subtree(start, k), self._subtree(start + k, count - k))

    def root(self, size: int | None = None) -> bytes:
        """The tree head over the first `size` leaves (all of them by default)."""
        size = self.size if size is None else size
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} is outside 0..{self.size}")
        return self._subtree(0, size)

    def consistency_proof(self, old_size: int, new_size: int | None = None) -> list[bytes]:
        """RFC 6962 §2.1.2 PROOF(old_size, D[new_size])."""
        new_size = self.size if new_size is None else new_size
        if not 0 <= old_size <= new_size <= self.size:
            raise ValueError(f"no consistency proof from size {old_size} to {new_size}")
        if old_size in (0, new_size):
            return []
        return self._subproof(old_size, 0, new_size, True)

    def _subproof(self, m: int, start: int, n: int, complete: bool) -> list[bytes]:
        if m == n:
            return [] if complete else [self._subtree(start, n)]
        k = _split(n)
        if m <= k:
            return [*self._subproof(m, start, k, complete), self._subtree(start + k, n - k)]
        return [*self._subproof(m - k, start + k, n - k, False), self._subtree(start, k)]


class CompactRange:
    """The right edge of a tree: the heads of its perfect subtrees, largest first.

    Enough to append leaves and compute the new head without reading earlier leaves
    (how a checkpoint after k new events costs O(k), not O(size)).
    """

    def __init__(self, size: int = 0, peaks: Sequence[bytes] = ()) -> None:
        if len(peaks) != bin(size).count("1"):
            raise ValueError(f"a tree of {size} leaves has {bin(size).count('1')} peaks")
        self.size = size
        self.peaks = list(peaks)

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash."""
        self.peaks.append(leaf)
        size = self.size
        while size & 1:
            right = self.peaks.pop()
            self.peaks[-1] = node_hash(self.peaks[-1], right)
            size >>= 1
        self.size += 1

    def _push(self, head: bytes, height: int) -> None:
        """Add the head of 2**height leaves (the size must be a multiple of 2**height)."""
        self.peaks.append(head)
        size = self.size >> height
        while size & 1:
            right = self.peaks.pop()
            self.peaks[-1] = node_hash(self.peaks[-1], right)
            size >>= 1
        self.size += 1 << height

    def extend(self, leaves: Sequence[bytes]) -> None:
        """Add many leaf hashes: the same as appending each, but the largest aligned blocks
        of 2**k leaves are hashed level by level (a full build of a million leaves costs
        about one hashlib call per node and no Python loop per leaf)."""
        done, total = 0, len(leaves)
        while done < total:
            height = (total - done).bit_length() - 1
            if self.size:
                height = min(height, (self.size & -self.size).bit_length() - 1)
            block = 1 << height
            if block == 1:
                self.append(leaves[done])
            else:
                self._push(_perfect_root(leaves[done : done + block]), height)
            done += block

    def root(self) -> bytes:
        """The tree head."""
        if not self.peaks:
            return EMPTY_ROOT
        head = self.peaks[-1]
        for peak in reversed(self.peaks[:-1]):
            head = node_hash(peak, head)
        return head


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """True when `proof` shows the tree of `new_size` extends the one of `old_size`."""
    if not 0 <= old_size <= new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    if not path:
        return False
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
