"""`khenthuong audit query` filters and table output; `audit verify` names a re-hashed edit."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from khenthuong.audit.chain import event_hash
from khenthuong.cli import common
from khenthuong.cli.app import app
from khenthuong.runtime import Runtime
from khenthuong.services import new_nominations, stepping
from khenthuong.services.actors import load_actor
from khenthuong.storage.models import EVENTS

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def trail(rt: Runtime) -> dict[str, int]:
    """Two nominations of two workflows with steps at known times.

    giay_khen #a: create 1 Mar 08:00, submit (draft -> unit_council) 2 Mar 08:00,
    council_approve (unit_council -> head_decision) 3 Mar 08:00.
    bang_khen_bo #b: create 2 Mar 09:00, withdraw (draft -> withdrawn) 4 Mar 08:00.
    """
    with rt.engine.connect() as conn:
        cb, tk = load_actor(conn, "cb.qd"), load_actor(conn, "tk.qd")
    a = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="giay_khen",
        proposing_unit="CCYQD",
        actor=cb,
        nominee_name="Nguyễn Văn An",
        create_person=True,
        now=at(1, 8),
    )
    stepping.advance(rt.engine, rt.registry, a, "submit", cb, now=at(2, 8))
    stepping.advance(rt.engine, rt.registry, a, "council_approve", tk, now=at(3, 8))
    b = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="bang_khen_bo",
        proposing_unit="CCYQD",
        actor=cb,
        nominee_name="Trần Thị Bình",
        create_person=True,
        now=at(2, 9),
    )
    stepping.advance(
        rt.engine, rt.registry, b, "withdraw", cb, {"reason": "Rút hồ sơ"}, now=at(4, 8)
    )
    return {"a": a, "b": b}


def query(*args: str) -> list[tuple[Any, ...]]:
    """(nomination_id, trigger) of each event `audit query ... --format json` prints."""
    code, out = run("audit", "query", *args, "--format", "json")
    assert code == 0, out
    return [(e["nomination_id"], e["trigger"]) for e in json.loads(out)]


def test_query_by_workflow(trail: dict[str, int]) -> None:
    """--workflow keeps the events of that award path only."""
    b = trail["b"]
    # Loading the definitions also logs events (register_version) at the real time.
    assert query("--workflow", "bang_khen_bo", "--until", "2026-04-01") == [
        (b, "create"),
        (b, "withdraw"),
    ]
    assert query("--workflow", "huan_chuong_lao_dong", "--until", "2026-04-01") == []


def test_query_by_state_matches_the_state_left_or_entered(trail: dict[str, int]) -> None:
    """--state finds the step into the state and the step out of it, nothing else."""
    a = trail["a"]
    assert query("--state", "unit_council") == [(a, "submit"), (a, "council_approve")]
    assert query("--state", "unit_council", "--trigger", "council_approve") == [
        (a, "council_approve")
    ]
    assert query("--state", "withdrawn") == [(trail["b"], "withdraw")]


def test_query_by_time_range(trail: dict[str, int]) -> None:
    """--since is inclusive, --until exclusive; a date is midnight UTC, an offset is honoured."""
    a, b = trail["a"], trail["b"]
    assert query("--since", "2026-03-02", "--until", "2026-03-03") == [(a, "submit"), (b, "create")]
    assert query("--since", "2026-03-02T08:00:00", "--until", "2026-03-02T09:00:00") == [
        (a, "submit")
    ]
    # 15:30 in Hà Nội (UTC+7) is 08:30 UTC: after #a's submit, before #b's creation.
    assert query("--since", "2026-03-02T15:30:00+07:00", "--until", "2026-04-01") == [
        (b, "create"),
        (a, "council_approve"),
        (b, "withdraw"),
    ]
    assert query("--until", "2026-03-01T08:00:00") == []
    assert query("--since", "2026-03-03", "--until", "2026-04-01", "--workflow", "giay_khen") == [
        (a, "council_approve")
    ]


def test_query_prints_a_table(trail: dict[str, int], monkeypatch: pytest.MonkeyPatch) -> None:
    """The default format is a table with the time in Việt Nam, stream, actor, role, unit,
    step, from, to."""
    monkeypatch.setattr(common.console, "_width", 250)
    code, out = run("audit", "query", "--workflow", "giay_khen", "--state", "unit_council")
    assert code == 0, out
    lines = out.splitlines()
    header = next(line for line in lines if "thời điểm (giờ VN)" in line)
    for column in ("luồng", "thứ tự", "người thực hiện", "vai trò", "đơn vị", "bước", "từ",
                   "đến", "ghi chú"):  # fmt: skip
        assert column in header
    rows = [
        [cell.strip() for cell in line.strip().strip("│").split("│")]
        for line in lines
        if "/03/2026 " in line
    ]
    stream = f"nomination:{trail['a']}"
    assert rows == [
        [
            "02/03/2026 15:00:00",
            stream,
            "2",
            "cb.qd",
            "unit_officer",
            "CCYQD",
            "submit",
            "draft",
            "unit_council",
            "",
        ],
        [
            "03/03/2026 15:00:00",
            stream,
            "3",
            "tk.qd",
            "council_secretary",
            "CCYQD",
            "council_approve",
            "unit_council",
            "head_decision",
            "",
        ],
    ]
    assert "2 sự kiện" in out


def test_verify_names_an_event_edited_and_rehashed(trail: dict[str, int], rt: Runtime) -> None:
    """An edit whose hash was recomputed is named at the edited event, not at the next one."""
    a = trail["a"]
    with rt.engine.begin() as conn:
        rows = {
            r["seq"]: dict(r)
            for r in conn.execute(select(EVENTS).where(EVENTS.c.nomination_id == a)).mappings()
        }
        edited = rows[2]
        edited["actor"] = "tt.qd"
        conn.execute(
            update(EVENTS)
            .where(EVENTS.c.id == edited["id"])
            .values(actor="tt.qd", hash=event_hash(edited))
        )
    code, out = run("audit", "verify")
    assert code == 1
    first = next(line for line in out.splitlines() if "Đầu tiên:" in line)
    assert f"nomination:{a}: sự kiện id {edited['id']} (seq 2): " in first
    assert "tính lại mã băm" in first
    assert "edited" not in first  # one language per message (Vietnamese on the CLI)
    assert f"sự kiện kế tiếp (id {rows[3]['id']}, seq 3)" in first
    assert "HỎNG: 1 chuỗi bị hỏng" in first
    assert f"sự kiện id {rows[3]['id']}" not in out


def test_verify_prints_json_with_every_finding(trail: dict[str, int], rt: Runtime) -> None:
    """`audit verify --format json` is one object: ok, the counts and each finding with its
    stream, event and kind (Vietnamese and English apart); exit 1 when a chain is broken."""
    result = runner.invoke(app, ["audit", "verify", "--format", "json"])
    assert result.exit_code == 0, result.output
    clean = json.loads(result.stdout)
    assert clean["ok"] is True and clean["events"] >= 4 and clean["findings"] == []
    a = trail["a"]
    with rt.engine.begin() as conn:
        conn.execute(
            update(EVENTS)
            .where(EVENTS.c.nomination_id == a, EVENTS.c.seq == 2)
            .values(actor="tt.qd")
        )
    result = runner.invoke(app, ["audit", "verify", "--format", "json"])
    assert result.exit_code == 1
    broken = json.loads(result.stdout)
    assert broken["ok"] is False
    (finding,) = [f for f in broken["findings"] if f["source"] == "chain"]
    assert finding["stream"] == f"nomination:{a}" and finding["seq"] == 2
    assert (
        finding["message"] and finding["message_en"] and finding["message"] != finding["message_en"]
    )
    rows = runner.invoke(app, ["audit", "verify", "--format", "csv"]).stdout.splitlines()
    assert rows[0].startswith("Nguồn,Chuỗi") and len(rows) == 2
