"""Inspection plans stored, regenerated with an audit trail, published by e-mail, exported."""

from __future__ import annotations

import mailbox
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from khenthuong.audit.query import AuditFilter, query_events
from khenthuong.errors import KhenthuongError
from khenthuong.notify.mail_settings import get_mail_settings
from khenthuong.runtime import Runtime
from khenthuong.services import inspections
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.blocs import apply_blocs, load_blocs
from khenthuong.services.embedded import tick
from khenthuong.storage.blocs import INSPECTION_PLANS
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import UNITS
from tests.conftest import CONFIG
from tests.smtp_fixture import SmtpServer


@pytest.fixture
def leader(rt: Runtime) -> Actor:
    with write_tx(rt.engine) as conn:
        known = set(conn.execute(select(UNITS.c.code)).scalars())
        apply_blocs(conn, load_blocs(CONFIG / "blocs.yaml", known))
        return load_actor(conn, "kt.cy")


def test_plan_regenerate_keeps_the_old_one_in_the_trail(rt: Runtime, leader: Actor) -> None:
    """Regenerating 2019 marks the old plan not current and both are in the audit trail."""
    with write_tx(rt.engine) as conn:
        first = inspections.plan_inspections(conn, "KCY4", 2019, actor=leader, seed=1)
        second = inspections.plan_inspections(conn, "KCY4", 2019, actor=leader, seed=2)
        rows = inspections.visits(conn, "KCY4", 2019)
        current = dict(
            conn.execute(select(INSPECTION_PLANS.c.id, INSPECTION_PLANS.c.current)).all()
        )
        events = list(query_events(conn, AuditFilter(trigger="plan_inspections")))
    assert current == {first: False, second: True}
    assert len(rows) == 4
    assert [e["payload"]["plan_id"] for e in events] == [first, second]
    assert all(r.report_due_on > r.ends_on for r in rows)


def test_next_years_rotate_inspectors(rt: Runtime, leader: Actor) -> None:
    """Four years of the four cipher branches: each is inspected by all three others once."""
    with write_tx(rt.engine) as conn:
        for year in (2019, 2020, 2021):
            inspections.plan_inspections(conn, "KCY4", year, actor=leader, seed=year)
        seen: dict[str, set[str]] = {}
        for year in (2019, 2020, 2021):
            for row in inspections.visits(conn, "KCY4", year):
                seen.setdefault(row.inspected, set()).add(row.inspector)
    assert all(len(inspectors) >= 2 for inspectors in seen.values())


def test_only_the_bloc_leader_plans(rt: Runtime, leader: Actor) -> None:
    """An officer of a member unit cannot generate the bloc's plan."""
    with write_tx(rt.engine) as conn:
        officer = load_actor(conn, "cb.qd")
        with pytest.raises(KhenthuongError, match="does not lead"):
            inspections.plan_inspections(conn, "KCY4", 2019, actor=officer)


def test_publish_mails_each_member_its_dates(
    rt: Runtime, leader: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Publishing queues one notice per member; the next run mails each unit's leader once."""
    monkeypatch.delenv("KHENTHUONG_SMTP_HOST", raising=False)
    monkeypatch.setenv("KHENTHUONG_MAILDIR", str(tmp_path / "mail"))
    get_mail_settings.cache_clear()
    with write_tx(rt.engine) as conn:
        inspections.plan_inspections(conn, "KCY4", 2019, actor=leader, seed=3)
        assert inspections.publish(conn, "KCY4", 2019, actor=leader) == 4
        assert inspections.publish(conn, "KCY4", 2019, actor=leader) == 0
    assert tick(rt).notices_sent == 4
    texts = [m.as_string() for m in mailbox.Maildir(str(tmp_path / "mail"))]
    get_mail_settings.cache_clear()
    assert len(texts) == 4
    assert sum("cuctruong@ccyqd.example" in t for t in texts) == 1


def test_report_and_export(rt: Runtime, leader: Actor, tmp_path: Path) -> None:
    """The inspector files a score; the plan exports to XLSX and CSV with it."""
    with write_tx(rt.engine) as conn:
        inspections.plan_inspections(conn, "KCY4", 2019, actor=leader)
        rows = inspections.visits(conn, "KCY4", 2019)
        visit = next(r for r in rows if r.inspector == "CCYQD")
        inspections.record_report(
            conn, visit.id, findings="Đạt yêu cầu", score=92.5, actor=load_actor(conn, "tt.qd")
        )
        with pytest.raises(KhenthuongError, match=r"0\.\.100"):
            inspections.record_report(
                conn, visit.id, findings="x", score=120, actor=load_actor(conn, "tt.qd")
            )
        rows = inspections.visits(conn, "KCY4", 2019)
    inspections.export(rows, tmp_path / "plan.xlsx")
    inspections.export(rows, tmp_path / "plan.csv")
    sheet = load_workbook(tmp_path / "plan.xlsx").active
    assert sheet is not None
    assert sheet.max_row == 5
    assert "92.5" in (tmp_path / "plan.csv").read_text(encoding="utf-8-sig")
    assert rows[0].starts_on >= date(2019, 10, 1)


def test_2019_plans_reach_a_real_smtp_server(
    rt: Runtime, leader: Actor, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 2019 plans of Khối 4 Hệ Cơ yếu and Khối Nội chính are mailed to each member's leader."""
    monkeypatch.setenv("KHENTHUONG_SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("KHENTHUONG_SMTP_PORT", str(smtp_server.port))
    get_mail_settings.cache_clear()
    with write_tx(rt.engine) as conn:
        admin = load_actor(conn, "admin")
        for code in ("KCY4", "KNCTW"):
            inspections.plan_inspections(conn, code, 2019, actor=admin, seed=2019)
            inspections.publish(conn, code, 2019, actor=admin)
    tick(rt)
    get_mail_settings.cache_clear()
    to = sorted(str(m["To"]).split("<")[-1].rstrip(">") for m in smtp_server.messages)
    # Every Cơ yếu branch has a leader address; in the Nội chính bloc only Bộ Công an has one.
    assert to == sorted(
        [
            "cuctruong@ccyqd.example",
            "cuctruong@ccyca.example",
            "cuctruong@ccyng.example",
            "cuctruong@ccydcq.example",
            "botruong@bca.example",
        ]
    )
    body = smtp_server.messages[0].get_body(("plain",))
    assert body is not None and "2019" in body.get_content()


def test_inspection_windows_and_overdue_reports_are_reminded(
    rt: Runtime, leader: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both leaders hear of a visit 3 working days ahead; the inspector of an unfiled report later."""
    from datetime import UTC, datetime

    from khenthuong.services import jobs, reminders

    with write_tx(rt.engine) as conn:
        inspections.plan_inspections(
            conn,
            "KCY4",
            2026,
            actor=leader,
            period_start=date(2026, 11, 26),
            period_end=date(2026, 12, 31),
        )
        first = inspections.visits(conn, "KCY4", 2026)[0]
    before = datetime(2026, 11, 23, 2, tzinfo=UTC)
    with rt.engine.connect() as conn:
        items = [
            i for i in reminders.scan_inspections(conn, now=before) if i.nomination_id == first.id
        ]
    assert {(i.kind, i.subject) for i in items} == {("before", "visit")}
    assert len(items) == 2  # the leaders of the inspecting and the inspected unit
    late = datetime(2027, 1, 20, 2, tzinfo=UTC)
    with rt.engine.connect() as conn:
        overdue = [
            i for i in reminders.scan_inspections(conn, now=late) if i.nomination_id == first.id
        ]
    assert [(i.kind, i.recipient_name) for i in overdue] == [
        ("overdue", f"Lãnh đạo {first.inspector_name}")
    ]
    monkeypatch.delenv("KHENTHUONG_SMTP_HOST", raising=False)
    monkeypatch.setenv("KHENTHUONG_MAILDIR", str(tmp_path / "mail"))
    get_mail_settings.cache_clear()
    groups = jobs.claim_reminders(rt.engine, rt.registry, rt.settings, now=before)
    for ledger_ids in groups:
        jobs.send_digest(rt.engine, rt.registry, ledger_ids)
    texts = [
        m.get_payload(0).get_payload(decode=True).decode()
        for m in mailbox.Maildir(str(tmp_path / "mail"))
    ]
    get_mail_settings.cache_clear()
    assert any("Lượt kiểm tra chéo" in t and "kiểm tra" in t for t in texts)
