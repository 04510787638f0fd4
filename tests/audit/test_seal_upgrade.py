"""Checkpoints of format version 1 (signed before version 2) still verify after the upgrade,
the sealer extends them with version 2 ones, and a signed count of streams that the leaves
do not give is named in either version; leaves needing JSON escaping and a missing block of leaves
are handled by the tree rebuild."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, insert, select, update

from khenthuong.audit import leaves as leaves_module
from khenthuong.audit.chain import canonical_json, timestamp_text
from khenthuong.audit.checkpoint import LOG_NAME, Checkpoint, key_id, sign_checkpoint
from khenthuong.audit.heads_v1 import head_term, heads_digest
from khenthuong.audit.leaves import read_leaves, rewrite_leaves
from khenthuong.audit.seal import SealBroken, rebuild_edge
from khenthuong.audit.seal_verify import verify_seal
from khenthuong.runtime import Runtime
from khenthuong.services import checkpoints
from khenthuong.storage.models import EVENTS, NOMINATIONS
from khenthuong.storage.seal import AUDIT_BLOCKS, AUDIT_CHECKPOINTS
from tests.audit.test_seal import Demo, damage, demo, event_row  # noqa: F401 (the fixture)
from tests.audit.test_seal_increments import note


def sign_v1(rt: Runtime, *, streams_off: int = 0) -> Checkpoint:
    """What the sealer before version 2 signed and stored over the sealed leaves: the number
    of streams and a digest of their heads, no "v"; its row, state and file line as it wrote
    them."""
    key = checkpoints.load_private_key(rt.settings)
    assert key is not None
    with rt.engine.connect() as conn:
        rows = [json.loads(lf.text) for lf in read_leaves(conn)]
        heads: dict[str, tuple[int, str]] = {}
        for stream, seq, head in rows:
            heads[stream] = max(heads.get(stream, (0, "")), (seq, head))
        newest = conn.execute(
            select(AUDIT_CHECKPOINTS).order_by(AUDIT_CHECKPOINTS.c.id.desc()).limit(1)
        ).one()
        top = conn.execute(select(func.max(EVENTS.c.id))).scalar_one()
    triples = [(s, q, h) for s, (q, h) in heads.items()]
    body = canonical_json(
        {
            "log": LOG_NAME,
            "size": newest.tree_size,
            "root": newest.root_hash,
            "time": timestamp_text(datetime.now(UTC)),
            "streams": len(heads) + streams_off,
            "heads": heads_digest(triples),
            "key": key_id(key.public_key()),
        }
    )
    v1 = Checkpoint.parse(body, key.sign(body.encode()).hex())
    accumulator = sum(head_term(*t) for t in triples) % (1 << 2048)
    state = {"max_id": top, "holes": {}, "acc": f"{accumulator:x}", "streams": len(heads)}
    with rt.engine.begin() as conn:
        conn.execute(
            insert(AUDIT_CHECKPOINTS).values(
                tree_size=v1.size,
                root_hash=v1.root,
                created_at=datetime.now(UTC),
                streams=v1.streams,
                heads_digest=v1.heads,
                key_id=v1.key,
                body=v1.body,
                signature=v1.signature,
                peaks=newest.peaks,
                state=json.dumps(state),
            )
        )
    with checkpoints.checkpoint_path(rt.settings).open("a", encoding="utf-8") as out:
        out.write(v1.line() + "\n")
    return v1


def verify(
    rt: Runtime, checkpoint: Checkpoint | None = None
) -> set[tuple[str, str | None, int | None]]:
    key = checkpoints.load_private_key(rt.settings)
    assert key is not None
    with rt.engine.connect() as conn:
        return damage(verify_seal(conn, key.public_key(), checkpoint))


def test_v1_checkpoint_verifies_after_the_upgrade(rt: Runtime, demo: Demo) -> None:  # noqa: F811
    """The newest checkpoint in the database and in the file is a version 1 one: the
    sealer extends it with a version 2 checkpoint, both verify, and damage is still named
    against the version 1 checkpoint."""
    v1 = sign_v1(rt)
    assert v1.version == 1 and verify(rt, v1) == set()
    note(rt, demo.decision_stream)
    note(rt, "test:after_upgrade")
    v2 = checkpoints.write_checkpoint(rt.engine, rt.settings)
    assert v2 is not None and v2.version == 2 and v2.size == v1.size + 2
    assert v2.streams == v1.streams + 1  # every stream so far began with a sealed seq 1
    assert verify(rt, v1) == set()
    assert verify(rt) == set()
    stream = f"nomination:{demo.decided}"
    third = event_row(rt, stream, 3)
    with rt.engine.begin() as conn:
        conn.execute(delete(EVENTS).where(EVENTS.c.stream == stream, EVENTS.c.seq == 4))
        conn.execute(
            update(NOMINATIONS)
            .where(NOMINATIONS.c.id == demo.decided)
            .values(version=3, head_hash=third["hash"])
        )
    assert verify(rt, v1) >= {("missing", stream, 4), ("rolled_back", stream, 4)}


def test_signed_count_of_streams_the_leaves_do_not_give(rt: Runtime, demo: Demo) -> None:  # noqa: F811
    """Over the true root, a count of streams one too many is named in both versions."""
    good = checkpoints.read_checkpoint_file(checkpoints.checkpoint_path(rt.settings))
    wrong_v1 = sign_v1(rt, streams_off=1)
    assert ("heads_digest", None, None) in verify(rt, wrong_v1)
    key = checkpoints.load_private_key(rt.settings)
    assert key is not None
    assert good.version == 2 and verify(rt, good) == set()
    wrong_v2 = sign_checkpoint(
        key, size=good.size, root=good.root, now=datetime.now(UTC), streams=good.streams + 1
    )
    assert ("heads_digest", None, None) in verify(rt, wrong_v2)


def test_rebuild_reads_escaped_leaves_and_refuses_a_missing_one(
    rt: Runtime,
    demo: Demo,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A stream whose leaf needs JSON escaping gives the same tree when rebuilt from the
    stored leaves; a deleted block of leaves stops the sealer (blocks of 2 leaves here)."""
    note(rt, 'test:"quoted"\\stream')
    made = checkpoints.write_checkpoint(rt.engine, rt.settings)
    assert made is not None
    with rt.engine.connect() as conn:
        assert rebuild_edge(conn).root().hex() == made.root
    assert verify(rt) == set()
    monkeypatch.setattr(leaves_module, "LEAF_BLOCK", 2)
    with rt.engine.begin() as conn:
        rewrite_leaves(conn, [(lf.event_id, lf.text) for lf in read_leaves(conn)])
    with rt.engine.connect() as conn:
        assert rebuild_edge(conn).root().hex() == made.root
    assert verify(rt) == set()
    with rt.engine.begin() as conn:
        conn.execute(delete(AUDIT_BLOCKS).where(AUDIT_BLOCKS.c.block == 1))
        conn.execute(delete(AUDIT_CHECKPOINTS))
    note(rt, "test:after")
    with pytest.raises(SealBroken, match="thiếu lá 2"):
        checkpoints.write_checkpoint(rt.engine, rt.settings)
