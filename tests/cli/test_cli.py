"""The `khenthuong` command end to end on a fresh database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.localtime import local_date
from khenthuong.settings import Settings
from khenthuong.storage.db import make_engine
from khenthuong.storage.models import EVENTS

runner = CliRunner()


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def fresh(settings: Settings) -> Settings:
    """A database with the schema and demo data created through `khenthuong init --demo`."""
    code, out = run("init", "--demo")
    assert code == 0, out
    return settings


def test_init_is_idempotent(fresh: Settings) -> None:
    """Running init --demo twice adds nothing the second time."""
    code, out = run("init", "--demo")
    assert code == 0
    assert "0 đơn vị, 0 người dùng, 0 cá nhân, 0 khối thi đua mới" in out


def test_nomination_travels_to_decision_through_the_cli(fresh: Settings) -> None:
    """Nominate, refuse a wrong role and a missing reason, then reach `decided`."""
    code, out = run("nominate", "giay_khen", "--person", "1", "--unit", "CCYQD", "--as", "cb.qd")
    assert code == 0, out
    nid = out.strip()
    assert nid.isdigit()
    assert run("advance", nid, "submit", "--as", "cb.qd")[0] == 0
    code, out = run("advance", nid, "council_approve", "--as", "cb.pccc")
    assert code == 1
    out = " ".join(out.split())  # the console wraps long lines
    assert "Trịnh Văn Nam không có vai trò Thư ký Hội đồng Thi đua – Khen thưởng" in out
    assert "council_secretary" not in out and "cb.pccc" not in out
    code, out = run("advance", nid, "return_for_supplement", "--as", "tk.qd")
    assert code == 1
    assert "'reason'" in out
    code, out = run(
        "advance", nid, "decide", "--as", "tt.qd", "--field", "decision_number=1/QĐ-CCYQD"
    )
    assert code == 1
    out = " ".join(out.split())
    assert "trạng thái 'Hội đồng TĐKT đơn vị xét'" in out and "unit_council" not in out
    code, out = run(
        "advance", nid, "return_for_supplement", "--as", "tk.qd", "--field", "reason=Thiếu biên bản"
    )
    assert code == 0, out
    assert run("advance", nid, "submit", "--as", "cb.qd", "--comment", "Đã bổ sung")[0] == 0
    assert run("advance", nid, "council_approve", "--as", "tk.qd")[0] == 0
    code, out = run(
        "advance", nid, "decide", "--as", "tt.qd", "--field", "decision_number=9/QĐ-CCYQD"
    )
    assert code == 0, out
    assert "→ Đã có quyết định khen thưởng" in out  # the state by name
    code, out = run("decisions", "show", "9/QĐ-CCYQD")
    assert code == 0, out
    assert "710.000" in out  # Giấy khen: 0.3 × 2,340,000 VND rounded up to 10,000
    code, out = run("history", nid, "--format", "json")
    events = json.loads(out)
    assert [e["trigger"] for e in events] == [
        "create",
        "submit",
        "return_for_supplement",
        "submit",
        "council_approve",
        "decide",
    ]
    assert events[2]["payload"]["reason"] == "Thiếu biên bản"
    code, out = run("show", nid, "--as", "tt.qd")
    assert code == 0
    assert "revoke" in out


def test_decide_step_checks_the_number_and_writes_decision_record_and_money(
    fresh: Settings,
) -> None:
    """`advance ID decide` goes through the decisions service: a malformed number is refused
    and writes nothing; a valid one writes the decision, the award record and the money."""
    from sqlalchemy import func, select

    from khenthuong.storage.decisions import DECISION_ITEMS, DECISIONS
    from khenthuong.storage.history import AWARD_RECORDS

    _, out = run("nominate", "giay_khen", "--person", "1", "--unit", "CCYQD", "--as", "cb.qd")
    nid = out.strip()
    assert run("advance", nid, "submit", "--as", "cb.qd")[0] == 0
    assert run("advance", nid, "council_approve", "--as", "tk.qd")[0] == 0
    engine = make_engine(fresh.database_url)

    def counts() -> tuple[int, int, int]:
        with engine.connect() as conn:
            return tuple(  # type: ignore[return-value]
                conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (DECISIONS, DECISION_ITEMS, AWARD_RECORDS)
            )

    before = counts()
    for bad in ("abc", "1", "1/QĐ", "15/QD-CCYQD"):
        code, out = run(
            "advance", nid, "decide", "--as", "tt.qd", "--field", f"decision_number={bad}"
        )
        assert code == 1, out
        assert "<số>/QĐ-CCYQD (Cục Cơ yếu Quân đội)" in out  # the head of CCYQD's form
    tomorrow = local_date(datetime.now(UTC)) + timedelta(days=1)
    code, out = run(
        "advance", nid, "decide", "--as", "tt.qd", "--field", "decision_number=15/QĐ-CCYQD",
        "--field", f"decision_date={tomorrow.isoformat()}",
    )  # fmt: skip
    assert code == 1 and f"Ngày quyết định {tomorrow:%d/%m/%Y} ở tương lai" in out, out
    assert counts() == before
    code, out = run("show", nid)
    assert "head_decision" in out
    code, out = run(
        "advance", nid, "decide", "--as", "tt.qd", "--field", "decision_number=15/QĐ-CCYQD"
    )
    assert code == 0, out
    assert counts() == (before[0] + 1, before[1] + 1, before[2] + 1)
    with engine.connect() as conn:
        decision = conn.execute(select(DECISIONS)).mappings().all()[-1]
        item = conn.execute(select(DECISION_ITEMS)).mappings().all()[-1]
        record = (
            conn.execute(select(AWARD_RECORDS).where(AWARD_RECORDS.c.nomination_id == int(nid)))
            .mappings()
            .one()
        )
    engine.dispose()
    assert decision["number"] == "15/QĐ-CCYQD" and decision["award_code"] == "GIAY_KHEN"
    assert decision["signer"] == "Trần Văn Hùng"  # tt.qd's full name, not the username
    assert item["amount_vnd"] == 710_000
    assert record["award_code"] == "GIAY_KHEN" and record["decision_number"] == "15/QĐ-CCYQD"
    code, out = run("decisions", "show", "15/QĐ-CCYQD")
    assert code == 0 and "#" + nid in out


def test_audit_verify_names_an_edited_event(fresh: Settings) -> None:
    """Editing one event row makes `audit verify` exit 1 naming the event id."""
    _, out = run(
        "nominate", "giay_khen", "--nominee", "Trần Thị Bích", "--unit", "CCYQD", "--as", "cb.qd"
    )
    nid = int(out.strip())
    run("advance", str(nid), "submit", "--as", "cb.qd")
    code, out = run("audit", "verify")
    assert code == 0, out
    engine = make_engine(fresh.database_url)
    with engine.begin() as conn:
        target = (
            conn.execute(EVENTS.select().where(EVENTS.c.nomination_id == nid, EVENTS.c.seq == 2))
            .mappings()
            .one()["id"]
        )
        conn.execute(update(EVENTS).where(EVENTS.c.id == target).values(actor="tt.qd"))
    engine.dispose()
    code, out = run("audit", "verify")
    assert code == 1
    assert f"sự kiện id {target}" in out
    assert "dòng đã bị sửa" in out


def test_audit_query_formats(fresh: Settings) -> None:
    """audit query filters by trigger and prints CSV and JSON."""
    _, out = run(
        "nominate",
        "giay_khen",
        "--nominee",
        "A",
        "--create-person",
        "--unit",
        "CCYQD",
        "--as",
        "cb.qd",
    )
    run("advance", out.strip(), "submit", "--as", "cb.qd")
    code, out = run("audit", "query", "--trigger", "submit", "--format", "csv")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith("id,stream,seq")
    assert len(lines) == 2
    code, out = run("audit", "query", "--unit", "BCA", "--format", "json")
    assert json.loads(out) == []
    code, out = run("audit", "query", "--since", "yesterday")
    assert code == 2
    assert "--since" in out


def test_users_add_and_unknown_user(fresh: Settings) -> None:
    """A new officer can act; an unknown username is refused by name."""
    code, out = run(
        "users",
        "add",
        "cb2.qd",
        "--unit",
        "CCYQD",
        "--role",
        "unit_officer",
        "--email",
        "cb2@bcy.example",
    )
    assert code == 0, out
    code, out = run(
        "nominate",
        "giay_khen",
        "--nominee",
        "B",
        "--create-person",
        "--unit",
        "CCYQD",
        "--as",
        "cb2.qd",
    )
    assert code == 0
    code, out = run(
        "nominate",
        "giay_khen",
        "--nominee",
        "B",
        "--create-person",
        "--unit",
        "CCYQD",
        "--as",
        "ghost",
    )
    assert code == 3  # no such user
    assert "ghost" in out
    code, out = run("users", "add", "x", "--unit", "CCYQD", "--role", "wizard", "--email", "x@y.z")
    assert code == 1
    assert "unknown role 'wizard'" in out


def test_workflows_check_reports_file_and_line(tmp_path: Path) -> None:
    """A broken definition is reported as FILE:LINE: message with exit code 1."""
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: bad\nversion: 1\ntitle: {vi: X, en: X}\nlegal_basis: [x]\nsubject: [individual]\n"
        "initial: draft\nstates:\n  draft: {title: {vi: a, en: a}, kind: proposal, level: unit,"
        " role: unit_officer}\n  done: {title: {vi: b, en: b}, kind: terminal}\n"
        "transitions:\n  - {trigger: finish, source: draft, dest: nowhere, title: {vi: c, en: c},"
        " roles: [unit_officer]}\n",
        encoding="utf-8",
    )
    code, out = run("workflows", "check", str(bad))
    assert code == 1
    assert f"{bad}:11: transition 'finish' goes to undeclared state 'nowhere'" in out


def test_workflows_check_and_show_on_shipped_files() -> None:
    """The shipped workflows pass the check and render as Mermaid."""
    code, out = run("workflows", "check")
    assert code == 0, out
    assert "OK" in out
    code, out = run("workflows", "show", "giay_khen", "--format", "mermaid")
    assert code == 0
    assert out.startswith("stateDiagram-v2")
    assert "head_decision --> decided" in out


def test_record_history_entries_one_by_one(fresh: Settings) -> None:
    """`record` adds ratings, blockers and awards with the import's checks, nothing invalid."""
    from sqlalchemy import func, select

    from khenthuong.storage.history import AWARD_RECORDS, BLOCKERS, YEARLY_RATINGS

    ok = [
        ("rating", "--person", "Nguyễn Văn An", "--unit", "CCYQD", "--year", "2025",
         "--code", "htxs"),
        ("blocker", "--person", "Trần Thị Bích", "--unit", "CCYQD", "--code", "discipline",
         "--from", "2026-10-01", "--note", "Quyết định 5/QĐ-KL", "--level", "Khiển trách"),
        ("award", "--person", "Nguyễn Văn An", "--unit", "CCYQD", "--year", "2024",
         "--code", "CSTDCS", "--decision-number", "12/QĐ-CCYQD", "--date", "2024-12-20"),
        ("rating", "--person", "Người Mới", "--unit", "CCYQD", "--year", "2025", "--code", "htt"),
    ]  # fmt: skip
    for args in ok:
        code, out = run("record", *args)
        assert code == 0, out
    bad = [
        (("rating", "--person", "Nguyễn Văn An", "--unit", "CCYQD", "--year", "2025",
          "--code", "htt"), "đã có xếp loại năm 2025"),
        (("rating", "--person", "A", "--unit", "CCYQD", "--year", "2025", "--code", "tot"),
         "rating 'tot'"),
        (("award", "--person", "A", "--unit", "CCYQD", "--year", "2024", "--code", "KHONG",
          "--decision-number", "1/QĐ-X", "--date", "2024-01-01"), "not in the award catalog"),
        (("blocker", "--person", "A", "--unit", "NOPE", "--code", "discipline"), "unit 'NOPE'"),
        (("blocker", "--person", "A", "--unit", "CCYQD", "--code", "discipline",
          "--from", "2026-10-01", "--level", "nặng"), "level 'nặng' must be one of"),
    ]  # fmt: skip
    for args, message in bad:
        code, out = run("record", *args)
        assert code == 1 and message in out, out
    engine = make_engine(fresh.database_url)
    with engine.connect() as conn:
        counts = [
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (YEARLY_RATINGS, BLOCKERS, AWARD_RECORDS)
        ]
        level = conn.execute(select(BLOCKERS.c.level)).scalar_one()
    engine.dispose()
    assert counts == [2, 1, 1]
    assert level == "khien_trach"


def test_advance_batch_is_all_or_nothing_unless_partial(fresh: Settings) -> None:
    """`advance-batch`: one nomination in the wrong state refuses the batch, naming it and
    writing nothing; --partial writes the others and still exits 1; a clean batch exits 0."""
    from sqlalchemy import func, select

    ids = []
    for _ in range(3):
        _, out = run("nominate", "giay_khen", "--person", "1", "--unit", "CCYQD", "--as", "cb.qd")
        ids.append(out.strip())
    assert run("advance", ids[0], "withdraw", "--as", "cb.qd", "--field", "reason=Trùng")[0] == 0
    engine = make_engine(fresh.database_url)

    def events() -> int:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(EVENTS)).scalar_one())

    before = events()
    code, out = run("advance-batch", "submit", *ids, "--as", "cb.qd")
    assert code == 1 and f"#{ids[0]}" in out and "không có thay đổi nào được lưu" in out, out
    assert events() == before
    code, out = run("advance-batch", "submit", *ids, "--as", "cb.qd", "--partial")
    assert code == 1, out
    assert f"#{ids[1]}: Dự thảo đề nghị → Hội đồng TĐKT đơn vị xét" in out
    assert f"#{ids[0]} bị từ chối" in out
    assert "2 bước đã ghi, 1 bị từ chối" in out
    assert events() == before + 2
    code, out = run("advance-batch", "council_approve", *ids[1:], "--as", "tk.qd")
    engine.dispose()
    assert code == 0 and "2 bước đã ghi, 0 bị từ chối" in out, out


def test_nominate_takes_the_commendation_type_and_the_claimed_basis(fresh: Settings) -> None:
    """--type accepts a code or its Vietnamese name and refuses anything else, listing the
    accepted values with their names; --basis/--attest record the point of Art 74(1)."""
    from sqlalchemy import select

    from khenthuong.storage.models import NOMINATIONS

    args = ("nominate", "bang_khen_bo", "--person", "1", "--unit", "CCYQD", "--as", "cb.qd")
    code, out = run(*args, "--type", "hang_nam")
    assert code == 2
    assert "'hang_nam'" in out and "không hợp lệ" in out
    flat = " ".join(out.replace("│", " ").split())  # the panel wraps where its width says
    for shown in ("thuong_xuyen/cong_trang", "theo_dot/chuyen_de", "dot_xuat", "đột xuất"):
        assert shown in flat, out
    code, out = run(
        *args, "--type", "đột xuất", "--basis", "74.1.b", "--attest", "Cứu người bị nạn"
    )
    assert code == 0, out
    ad_hoc = int(out.strip())
    code, out = run(*args, "--type", "theo_dot")
    assert code == 0, out
    thematic = int(out.strip())
    code, out = run(*args, "--basis", "74.1.a")
    assert code == 1 and "cần xác nhận thành tích" in out, out
    code, out = run("claim-basis", str(thematic), "74.1.a", "--attest", "Dẫn đầu", "--as", "cb.qd")
    assert code == 0 and "căn cứ 74.1.a" in out, out
    code, out = run("claim-basis", str(thematic), "74.1.x", "--as", "cb.qd")
    assert code == 1 and "74.1.c (Có đóng góp lớn" in out, out
    engine = make_engine(fresh.database_url)
    with engine.connect() as conn:
        types = dict(
            conn.execute(
                select(NOMINATIONS.c.id, NOMINATIONS.c.commendation_type).where(
                    NOMINATIONS.c.id.in_([ad_hoc, thematic])
                )
            ).all()
        )
        claim = conn.execute(
            select(EVENTS.c.payload).where(
                EVENTS.c.stream == f"dossier:{ad_hoc}", EVENTS.c.trigger == "claim_basis"
            )
        ).scalar_one()
    engine.dispose()
    assert types == {ad_hoc: "dot_xuat", thematic: "chuyen_de"}
    assert json.loads(claim) == {
        "basis": "74.1.b",
        "attested": True,
        "statement": "Cứu người bị nạn",
    }
