"""RFC 6962 tree heads and consistency proofs: known vectors and a naive reference."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from khenthuong.audit.chain import canonical_json
from khenthuong.audit.leaves import leaf_data
from khenthuong.audit.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MerkleTree,
    leaf_hash,
    node_hash,
    verify_consistency,
)

# Certificate Transparency's reference leaves and the tree head of each prefix (sizes 0..8),
# as published with RFC 6962 test data (certificate-transparency, transparency-dev/merkle).
CT_LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def naive_root(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) exactly as RFC 6962 §2.1 writes it."""
    n = len(leaves)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return leaves[0]
    k = 1
    while k * 2 < n:
        k *= 2
    return node_hash(naive_root(leaves[:k]), naive_root(leaves[k:]))


def naive_proof(m: int, leaves: list[bytes], complete: bool = True) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 6962 §2.1.2."""
    n = len(leaves)
    if m == n:
        return [] if complete else [naive_root(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*naive_proof(m, leaves[:k], complete), naive_root(leaves[k:])]
    return [*naive_proof(m - k, leaves[k:], False), naive_root(leaves[:k])]


def test_heads_match_the_rfc_6962_vectors() -> None:
    """The head of every prefix of the CT reference leaves is the published one."""
    tree = MerkleTree([leaf_hash(d) for d in CT_LEAVES])
    assert [tree.root(n).hex() for n in range(9)] == CT_ROOTS
    assert EMPTY_ROOT.hex() == CT_ROOTS[0]


def test_compact_range_matches_the_vectors() -> None:
    """Appending the reference leaves one by one gives every published head."""
    edge = CompactRange()
    heads = [edge.root().hex()]
    for data in CT_LEAVES:
        edge.append(leaf_hash(data))
        heads.append(edge.root().hex())
    assert heads == CT_ROOTS


def test_consistency_proof_2_to_8_of_the_vectors() -> None:
    """The CT reference proof from size 2 to 8 and its check."""
    tree = MerkleTree([leaf_hash(d) for d in CT_LEAVES])
    proof = tree.consistency_proof(2, 8)
    assert [p.hex()[:16] for p in proof] == ["5f083f0a1a33ca07", "6b47aaf29ee3c2af"]
    assert verify_consistency(2, 8, tree.root(2), tree.root(8), proof)
    assert not verify_consistency(2, 8, tree.root(3), tree.root(8), proof)


def test_compact_range_refuses_a_wrong_number_of_peaks() -> None:
    """A right edge that cannot belong to a tree of that size is refused."""
    with pytest.raises(ValueError, match="3 leaves has 2 peaks"):
        CompactRange(3, [b"x"])


@settings(max_examples=150, deadline=None)
@given(st.integers(min_value=1, max_value=70), st.data())
def test_proofs_agree_with_the_naive_rfc_text(n: int, data: st.DataObject) -> None:
    """Heads and proofs of every size agree with the RFC's recursive definitions; a proof
    verifies, and fails for a changed leaf, a wrong new head or sizes swapped."""
    leaves = [leaf_hash(i.to_bytes(2, "big")) for i in range(n)]
    tree = MerkleTree(leaves)
    m = data.draw(st.integers(min_value=1, max_value=n))
    assert tree.root(m) == naive_root(leaves[:m])
    edge = CompactRange()
    for leaf in leaves[:m]:
        edge.append(leaf)
    assert edge.root() == tree.root(m)
    proof = tree.consistency_proof(m, n)
    assert proof == (naive_proof(m, leaves) if m < n else [])
    assert verify_consistency(m, n, tree.root(m), tree.root(n), proof)
    changed = list(leaves)
    j = data.draw(st.integers(min_value=0, max_value=m - 1))
    changed[j] = leaf_hash(b"forged")
    assert not verify_consistency(m, n, MerkleTree(changed).root(m), tree.root(n), proof)
    if m < n:
        assert not verify_consistency(m, n, tree.root(m), tree.root(n - 1), proof)
        assert not verify_consistency(n, m, tree.root(n), tree.root(m), proof)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30), st.integers(min_value=0, max_value=10**9), st.text(max_size=70))
def test_leaf_data_is_canonical_json(stream: str, seq: int, digest: str) -> None:
    """The fast leaf encoding is exactly canonical JSON, whatever the stream name holds."""
    assert leaf_data(stream, seq, digest) == canonical_json([stream, seq, digest]).encode()


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=300), st.lists(st.integers(0, 300), max_size=4))
def test_extend_in_blocks_equals_appending_one_by_one(start: int, steps: list[int]) -> None:
    """Extending a right edge of any size by blocks of any length gives the same peaks and
    head as appending each leaf alone."""
    leaves = [leaf_hash(i.to_bytes(2, "big")) for i in range(start + sum(steps))]
    one, block = CompactRange(), CompactRange()
    for leaf in leaves[:start]:
        one.append(leaf)
    block.extend(leaves[:start])
    at = start
    for count in steps:
        for leaf in leaves[at : at + count]:
            one.append(leaf)
        block.extend(leaves[at : at + count])
        at += count
        assert (block.size, block.peaks, block.root()) == (one.size, one.peaks, one.root())
    assert block.root() == (MerkleTree(leaves).root() if leaves else EMPTY_ROOT)
