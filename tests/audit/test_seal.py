"""An insider with write access to the database cannot rewrite the audit log unseen: `audit
verify` with the public key and the last checkpoint names each kind of damage."""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, func, select, update
from typer.testing import CliRunner

from khenthuong.audit import seal as seal_module
from khenthuong.audit.append import append_event
from khenthuong.audit.chain import event_hash
from khenthuong.audit.checkpoint import sign_checkpoint
from khenthuong.audit.leaves import leaf_text, read_leaves, rewrite_leaves
from khenthuong.audit.seal import SealBroken
from khenthuong.audit.seal_verify import SealReport, verify_seal
from khenthuong.audit.verify import verify_all
from khenthuong.cli.app import app
from khenthuong.runtime import Runtime
from khenthuong.services import checkpoints, dossier, new_nominations, stepping
from khenthuong.services.actors import load_actor
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import EVENTS, NOMINATIONS, STREAM_HEADS
from khenthuong.storage.seal import AUDIT_CHECKPOINTS
from tests.audit.test_verify import decided_nomination

PDF = b"%PDF-1.4 test"


@dataclass
class Demo:
    decided: int
    """A nomination with 4 events, decided: its decision has a stream of its own."""
    spare: int
    """A created and submitted nomination (2 events)."""
    filed: int
    """A draft nomination with two documents: stream dossier:<filed> of 2 events."""
    decision_stream: str
    public_key: Path
    checkpoint_file: Path


@pytest.fixture
def demo(rt: Runtime, tmp_path: Path) -> Demo:
    """A demo trail, sealed by the checkpoint after the decision and one more after it."""
    checkpoints.create_key(rt.settings)
    with rt.engine.connect() as conn:
        cb = load_actor(conn, "cb.qd")
    decided = decided_nomination(rt)
    assert checkpoints.checkpoint_path(rt.settings).exists(), "the decision wrote no checkpoint"
    spare = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="giay_khen",
        proposing_unit="CCYQD",
        actor=cb,
        nominee_name="Phạm Minh Đức",
        create_person=True,
    )
    stepping.advance(rt.engine, rt.registry, spare, "submit", cb)
    filed = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="giay_khen",
        proposing_unit="CCYQD",
        actor=cb,
        nominee_name="Vũ Thu Hà",
        create_person=True,
    )
    with write_tx(rt.engine) as conn:
        for doc in ("to_trinh", "bao_cao_thanh_tich"):
            dossier.attach(
                conn,
                filed,
                doc_type=doc,
                filename=f"{doc}.pdf",
                content=PDF,
                actor=cb,
                max_bytes=10_000,
            )
    assert checkpoints.write_checkpoint(rt.engine, rt.settings) is not None
    public = tmp_path / "audit-public.pem"
    key = checkpoints.load_private_key(rt.settings)
    assert key is not None
    public.write_bytes(checkpoints.public_key_pem(key))
    with rt.engine.connect() as conn:
        streams = conn.execute(
            select(STREAM_HEADS.c.stream).where(STREAM_HEADS.c.stream.like("decision:%"))
        ).scalars()
        (decision_stream,) = list(streams)
    return Demo(
        decided,
        spare,
        filed,
        decision_stream,
        public,
        checkpoints.checkpoint_path(rt.settings),
    )


def check(rt: Runtime, demo: Demo) -> SealReport:
    """verify with only the exported public key and the last line of the checkpoint file."""
    key = checkpoints.load_public_key(demo.public_key)
    checkpoint = checkpoints.read_checkpoint_file(demo.checkpoint_file)
    with rt.engine.connect() as conn:
        return verify_seal(conn, key, checkpoint)


def damage(report: SealReport) -> set[tuple[str, str | None, int | None]]:
    """(kind, stream, seq) of every finding."""
    assert report.rejected is None, report.rejected
    return {(f.kind, f.stream, f.seq) for f in report.findings}


def event_row(rt: Runtime, stream: str, seq: int) -> dict[str, Any]:
    with rt.engine.connect() as conn:
        row = conn.execute(select(EVENTS).where(EVENTS.c.stream == stream, EVENTS.c.seq == seq))
        return dict(row.mappings().one())


def test_key_file_is_private(rt: Runtime, demo: Demo) -> None:
    """The signing key is a file only its owner can read, outside the database."""
    mode = stat.S_IMODE(checkpoints.key_path(rt.settings).stat().st_mode)
    assert mode == 0o600


def test_untouched_log_verifies(rt: Runtime, demo: Demo) -> None:
    """Every sealed event is present and unchanged; later events are counted as unsealed."""
    report = check(rt, demo)
    assert report.ok, [str(f) for f in report.findings]
    assert report.checkpoint is not None
    assert report.leaves == report.checkpoint.size >= 10
    assert report.checkpoints == 2
    assert report.unsealed == 0
    with rt.engine.connect() as conn:
        cb = load_actor(conn, "cb.qd")
    stepping.advance(rt.engine, rt.registry, demo.filed, "submit", cb)
    later = check(rt, demo)
    assert later.ok
    assert later.unsealed == 1


def test_checkpoint_of_another_key_is_rejected(rt: Runtime, demo: Demo) -> None:
    """A checkpoint signed with any other key is refused, even over the true root."""
    genuine = checkpoints.read_checkpoint_file(demo.checkpoint_file)
    forged = sign_checkpoint(
        Ed25519PrivateKey.generate(),
        size=genuine.size,
        root=genuine.root,
        now=datetime.now(UTC),
        streams=genuine.streams,
    )
    with rt.engine.connect() as conn:
        report = verify_seal(conn, checkpoints.load_public_key(demo.public_key), forged)
    assert report.rejected is not None
    assert "không được ký bằng khóa công khai đã cho" in report.rejected


def test_edited_event(rt: Runtime, demo: Demo) -> None:
    stream = f"nomination:{demo.decided}"
    with rt.engine.begin() as conn:
        conn.execute(
            update(EVENTS)
            .where(EVENTS.c.stream == stream, EVENTS.c.seq == 3)
            .values(comment="Nhất trí 5/9")
        )
    assert damage(check(rt, demo)) >= {("altered", stream, 3), ("root", None, None)}


def test_deleted_middle_event(rt: Runtime, demo: Demo) -> None:
    stream = f"nomination:{demo.decided}"
    with rt.engine.begin() as conn:
        conn.execute(delete(EVENTS).where(EVENTS.c.stream == stream, EVENTS.c.seq == 2))
    found = damage(check(rt, demo))
    assert ("missing", stream, 2) in found


def test_swapped_sequence_numbers(rt: Runtime, demo: Demo) -> None:
    stream = f"nomination:{demo.decided}"
    a, b = event_row(rt, stream, 2)["id"], event_row(rt, stream, 3)["id"]
    with rt.engine.begin() as conn:
        conn.execute(update(EVENTS).where(EVENTS.c.id == a).values(seq=-1))
        conn.execute(update(EVENTS).where(EVENTS.c.id == b).values(seq=2))
        conn.execute(update(EVENTS).where(EVENTS.c.id == a).values(seq=3))
    assert damage(check(rt, demo)) >= {("moved", stream, 2), ("moved", stream, 3)}


def test_deleted_last_event(rt: Runtime, demo: Demo) -> None:
    stream = f"nomination:{demo.decided}"
    with rt.engine.begin() as conn:
        conn.execute(delete(EVENTS).where(EVENTS.c.stream == stream, EVENTS.c.seq == 4))
    assert ("missing", stream, 4) in damage(check(rt, demo))


def test_deleted_last_event_and_rolled_back_head(rt: Runtime, demo: Demo) -> None:
    """The per-chain check cannot see this one: the chain and its head agree again."""
    stream = f"nomination:{demo.decided}"
    third = event_row(rt, stream, 3)
    with rt.engine.begin() as conn:
        conn.execute(delete(EVENTS).where(EVENTS.c.stream == stream, EVENTS.c.seq == 4))
        conn.execute(
            update(NOMINATIONS)
            .where(NOMINATIONS.c.id == demo.decided)
            .values(version=3, head_hash=third["hash"], state=third["to_state"], closed=False)
        )
    assert damage(check(rt, demo)) >= {("missing", stream, 4), ("rolled_back", stream, 4)}


def test_edited_event_with_every_later_hash_and_head_recomputed(rt: Runtime, demo: Demo) -> None:
    """The chain is self-consistent again; the signed root is not."""
    stream = f"nomination:{demo.decided}"
    with rt.engine.begin() as conn:
        rows = [
            dict(r)
            for r in conn.execute(
                select(EVENTS).where(EVENTS.c.stream == stream).order_by(EVENTS.c.seq)
            ).mappings()
        ]
        prev = rows[0]["hash"]
        for row in rows[1:]:
            if row["seq"] == 2:
                row["comment"] = "Đã sửa"
            row["prev_hash"] = prev
            row["hash"] = prev = event_hash(row)
            conn.execute(
                update(EVENTS)
                .where(EVENTS.c.id == row["id"])
                .values(comment=row["comment"], prev_hash=row["prev_hash"], hash=row["hash"])
            )
        conn.execute(
            update(NOMINATIONS).where(NOMINATIONS.c.id == demo.decided).values(head_hash=prev)
        )
        assert verify_all(conn).ok, "the rewrite should fool the per-chain check"
    found = damage(check(rt, demo))
    assert {("altered", stream, 2), ("altered", stream, 3), ("altered", stream, 4)} <= found
    assert ("head_changed", stream, 4) in found


def test_deleted_nomination_with_its_events(rt: Runtime, demo: Demo) -> None:
    stream = f"nomination:{demo.spare}"
    with rt.engine.begin() as conn:
        conn.execute(delete(EVENTS).where(EVENTS.c.nomination_id == demo.spare))
        conn.execute(delete(NOMINATIONS).where(NOMINATIONS.c.id == demo.spare))
    found = damage(check(rt, demo))
    assert {("missing", stream, 1), ("missing", stream, 2)} <= found
    assert ("stream_removed", stream, 2) in found


def test_deleted_decision_stream_with_its_head(rt: Runtime, demo: Demo) -> None:
    stream = demo.decision_stream
    with rt.engine.begin() as conn:
        conn.execute(delete(EVENTS).where(EVENTS.c.stream == stream))
        conn.execute(delete(STREAM_HEADS).where(STREAM_HEADS.c.stream == stream))
    found = damage(check(rt, demo))
    assert {("missing", stream, 1), ("stream_removed", stream, 1)} <= found


def test_deleted_dossier_last_event_and_its_head(rt: Runtime, demo: Demo) -> None:
    stream = f"dossier:{demo.filed}"
    with rt.engine.begin() as conn:
        conn.execute(delete(EVENTS).where(EVENTS.c.stream == stream, EVENTS.c.seq == 2))
        conn.execute(delete(STREAM_HEADS).where(STREAM_HEADS.c.stream == stream))
    found = damage(check(rt, demo))
    assert {("missing", stream, 2), ("stream_removed", stream, 2)} <= found


def test_deleted_events_with_their_seal_rows_renumbered(rt: Runtime, demo: Demo) -> None:
    """Removing the seal rows as well, and closing the gap, still breaks the signed root."""
    stream = f"nomination:{demo.decided}"
    victim = event_row(rt, stream, 2)["id"]
    with rt.engine.begin() as conn:
        kept = [(lf.event_id, lf.text) for lf in read_leaves(conn) if lf.event_id != victim]
        conn.execute(delete(EVENTS).where(EVENTS.c.id == victim))
        rewrite_leaves(conn, kept)
    kinds = {kind for kind, _, _ in damage(check(rt, demo))}
    assert "truncated" in kinds


runner = CliRunner()


def test_cli_verify_names_the_damage_and_rejects_a_foreign_key(
    rt: Runtime, demo: Demo, tmp_path: Path
) -> None:
    """`audit verify --checkpoint FILE --public-key FILE`: OK untouched, exit 1 naming the
    rolled-back stream, and a checkpoint checked with another key is rejected."""
    args = [
        "audit",
        "verify",
        "--checkpoint",
        str(demo.checkpoint_file),
        "--public-key",
        str(demo.public_key),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Niêm phong:" in result.output
    exported = tmp_path / "exported.pem"
    assert runner.invoke(app, ["audit", "public-key", "-o", str(exported)]).exit_code == 0
    assert exported.read_bytes() == demo.public_key.read_bytes()
    other = tmp_path / "other.pem"
    other.write_bytes(checkpoints.public_key_pem(Ed25519PrivateKey.generate()))
    result = runner.invoke(app, [*args[:-1], str(other)])
    assert result.exit_code == 1
    assert "không được ký bằng khóa công khai đã cho" in result.output
    stream = f"nomination:{demo.decided}"
    third = event_row(rt, stream, 3)
    with rt.engine.begin() as conn:
        conn.execute(delete(EVENTS).where(EVENTS.c.stream == stream, EVENTS.c.seq == 4))
        conn.execute(
            update(NOMINATIONS)
            .where(NOMINATIONS.c.id == demo.decided)
            .values(version=3, head_hash=third["hash"])
        )
    result = runner.invoke(app, args)
    assert result.exit_code == 1
    assert f"{stream} seq 4" in result.output
    assert f"{stream}: đầu chuỗi ghi seq 3 nhưng seq 4 đã được niêm phong" in result.output


def test_sealer_refuses_to_sign_over_a_rewritten_log(rt: Runtime, demo: Demo) -> None:
    """Rewriting a seal row and deleting the stored checkpoints does not get the rewrite
    signed: the checkpoint file outside the database still anchors the tree."""
    stream = f"nomination:{demo.decided}"
    victim = event_row(rt, stream, 2)["id"]
    with rt.engine.begin() as conn:
        rewritten = [
            (lf.event_id, leaf_text(stream, 2, "0" * 64) if lf.event_id == victim else lf.text)
            for lf in read_leaves(conn)
        ]
        rewrite_leaves(conn, rewritten)  # the leaf hash recomputed with it
        conn.execute(delete(AUDIT_CHECKPOINTS))
    with pytest.raises(SealBroken, match="không còn cho ra gốc đã ký"):
        checkpoints.write_checkpoint(rt.engine, rt.settings, force=True)
    assert checkpoints.checkpoint_quietly(rt.engine, rt.settings) is None


def test_an_event_committed_late_below_the_window_is_still_sealed(
    rt: Runtime, demo: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL hands out ids at insert: an event with a lower id can commit after higher
    ones were sealed. The ids the window leaves behind are awaited as holes and sealed when
    their event turns up."""
    monkeypatch.setattr(seal_module, "WINDOW", 2)
    with rt.engine.connect() as conn:
        top = conn.execute(select(func.max(EVENTS.c.id))).scalar_one()
    with write_tx(rt.engine) as conn:
        append_event(conn, "test:early", actor="cb.qd", trigger="note", payload={})
        conn.execute(update(EVENTS).where(EVENTS.c.stream == "test:early").values(id=top + 5))
    checkpoints.write_checkpoint(rt.engine, rt.settings)
    with rt.engine.connect() as conn:
        state = json.loads(
            conn.execute(
                select(AUDIT_CHECKPOINTS.c.state).order_by(AUDIT_CHECKPOINTS.c.id.desc())
            ).first()[0]  # type: ignore[index]
        )
    assert sorted(int(i) for i in state["holes"]) == [top + 1, top + 2, top + 3]
    with write_tx(rt.engine) as conn:
        append_event(conn, "test:late", actor="cb.qd", trigger="note", payload={})
        conn.execute(update(EVENTS).where(EVENTS.c.stream == "test:late").values(id=top + 2))
    made = checkpoints.write_checkpoint(rt.engine, rt.settings)
    assert made is not None
    report = check(rt, demo)
    assert report.ok, [str(f) for f in report.findings]
    assert report.unsealed == 0
    assert made.size == report.leaves
