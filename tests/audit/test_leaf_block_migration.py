"""Migration 0030 on a database at 0029: every `audit_leaf` row becomes a leaf of an
`audit_leaf_block` in the same place, with the same event id, leaf text and leaf hash, so
checkpoints signed over the old rows still verify; the downgrade gives the rows back."""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import command

from khenthuong.audit.leaves import (
    event_ids_above,
    first_leaves,
    hash_blocks,
    leaf_count,
    leaf_of,
    leaf_text,
    read_leaves,
    tail,
)
from khenthuong.storage.db import make_engine
from khenthuong.storage.migrate import alembic_config, upgrade
from tests.services.test_nominee_migration import empty_url  # noqa: F401 (the fixture)

STREAMS = ["nomination:1", 'test:"quoted"\\stream', "decision:7", "dossier:Hà Nội"]


def _old_rows() -> list[dict[str, object]]:
    """300 leaves over four streams (one needing JSON escaping), event ids with gaps."""
    rows = []
    seqs = dict.fromkeys(STREAMS, 0)
    for idx in range(300):
        stream = STREAMS[idx % 4]
        seqs[stream] += 1
        rows.append(
            {
                "idx": idx,
                "event_id": 10 + 3 * idx,
                "stream": stream,
                "seq": seqs[stream],
                "event_hash": f"{idx:064x}",
            }
        )
    return rows


def test_leaf_rows_become_blocks_and_come_back(empty_url: str) -> None:  # noqa: F811
    engine = make_engine(empty_url)
    upgrade(engine, "0029")
    leaf = sa.Table("audit_leaf", sa.MetaData(), autoload_with=engine)
    rows = _old_rows()
    with engine.begin() as conn:
        conn.execute(sa.insert(leaf), rows)
    upgrade(engine)
    with engine.connect() as conn:
        stored = list(read_leaves(conn))
        hashes = [h for chunk in hash_blocks(conn) for h in chunk]
        last = tail(conn)
        assert leaf_count(conn) == 300
        assert first_leaves(conn) == 4
        assert event_ids_above(conn, 10 + 3 * 290) == {10 + 3 * i for i in range(291, 300)}
    assert [(s.idx, s.event_id, s.text) for s in stored] == [
        (r["idx"], r["event_id"], leaf_text(r["stream"], r["seq"], r["event_hash"]))  # type: ignore[arg-type]
        for r in rows
    ]
    assert hashes == [leaf_of(r["stream"], r["seq"], r["event_hash"]) for r in rows]  # type: ignore[arg-type]
    assert json.loads(stored[1].text)[0] == STREAMS[1]
    assert last is not None and (last.block, last.leaves, last.size) == (1, 44, 300)
    assert last.top_event_id == 10 + 3 * 299
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, "0029")
    with engine.connect() as conn:
        back = [dict(r._mapping) for r in conn.execute(sa.select(leaf).order_by(leaf.c.idx))]
    assert back == rows
    engine.dispose()
