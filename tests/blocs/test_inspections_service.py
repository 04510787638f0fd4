"""Inspection plans stored, regenerated with an audit trail, published by e-mail, exported."""

from __future__ import annotations

import email
import mailbox
from datetime import date
from email.header import decode_header, make_header
from email.policy import compat32
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select, update

from khenthuong.audit.query import AuditFilter, query_events
from khenthuong.embedded import tick
from khenthuong.errors import KhenthuongError
from khenthuong.notify.mail_settings import get_mail_settings
from khenthuong.notify.render import format_span
from khenthuong.runtime import Runtime
from khenthuong.services import inspections, outbox
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.blocs import apply_blocs, bloc_view, load_blocs
from khenthuong.storage.blocs import INSPECTION_PLANS
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import UNITS
from khenthuong.storage.outbox import OUTBOX
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
    assert len(rows) == 3  # a bloc of four: one triangle a year
    assert [e["payload"]["plan_id"] for e in events] == [first, second]
    assert all(r.report_due_on > r.ends_on for r in rows)


def test_next_years_rotate_inspectors(rt: Runtime, leader: Actor) -> None:
    """Four years of the four cipher branches: each is inspected by all three others once,
    no pair repeats, and each year is one triangle (three visits, the fourth branch rests)."""
    years = (2019, 2020, 2021, 2022)
    with write_tx(rt.engine) as conn:
        admin = load_actor(conn, "admin")  # no leader is recorded after 2019
        for year in years:
            inspections.plan_inspections(conn, "KCY4", year, actor=admin, seed=year)
        rows = {year: inspections.visits(conn, "KCY4", year) for year in years}
    members = ["CCYQD", "CCYDCQ", "CCYCA", "CCYNG"]
    assert [len(rows[year]) for year in years] == [3, 3, 3, 3]
    for unit in members:
        inspectors = [r.inspector for year in years for r in rows[year] if r.inspected == unit]
        assert sorted(inspectors) == sorted(set(members) - {unit}), unit
    resting = [set(members) - {r.inspector for r in rows[year]} for year in years]
    assert sorted(unit for rest in resting for unit in rest) == sorted(members)


def test_only_the_bloc_leader_plans(rt: Runtime, leader: Actor) -> None:
    """An officer of the unit that led the bloc in 2018 cannot generate the 2019 plan, nor
    can the 2019 leader plan 2020 (no leader chosen yet); the 2018 leader plans 2018."""
    with write_tx(rt.engine) as conn:
        officer = load_actor(conn, "cb.qd")
        with pytest.raises(KhenthuongError, match="chỉ cán bộ thi đua, thủ trưởng đơn vị đó"):
            inspections.plan_inspections(conn, "KCY4", 2019, actor=officer)
        with pytest.raises(KhenthuongError, match="chưa chọn khối trưởng năm 2020"):
            inspections.plan_inspections(conn, "KCY4", 2020, actor=leader)
        inspections.plan_inspections(conn, "KCY4", 2018, actor=officer)


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
        with pytest.raises(KhenthuongError, match="phải từ 0 đến 100"):
            inspections.record_report(
                conn, visit.id, findings="x", score=120, actor=load_actor(conn, "tt.qd")
            )
        rows = inspections.visits(conn, "KCY4", 2019)
    inspections.export(rows, tmp_path / "plan.xlsx")
    inspections.export(rows, tmp_path / "plan.csv")
    sheet = load_workbook(tmp_path / "plan.xlsx").active
    assert sheet is not None
    assert sheet.max_row == 1 + len(rows) == 4  # header and a bloc of four's triangle
    assert "92.5" in (tmp_path / "plan.csv").read_text(encoding="utf-8-sig")
    assert rows[0].starts_on >= date(2019, 10, 1)


def test_2019_plans_reach_a_real_smtp_server(
    rt: Runtime, leader: Actor, smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The 2019 plans of Khối 4 Hệ Cơ yếu and Khối Nội chính reach every member's leader, and
    both sides of each visit read its dates (as the templates write them) and their counterpart,
    with the Vietnamese intact in the subject, the text and the HTML."""
    monkeypatch.setenv("KHENTHUONG_SMTP_HOST", smtp_server.host)
    monkeypatch.setenv("KHENTHUONG_SMTP_PORT", str(smtp_server.port))
    get_mail_settings.cache_clear()
    with write_tx(rt.engine) as conn:
        admin = load_actor(conn, "admin")
        plans = {}
        for code in ("KCY4", "KNCTW"):
            inspections.plan_inspections(conn, code, 2019, actor=admin, seed=2019)
            inspections.publish(conn, code, 2019, actor=admin)
            plans[code] = (bloc_view(conn, code, 2019), inspections.visits(conn, code, 2019))
        leaders = dict(conn.execute(select(UNITS.c.code, UNITS.c.leader_email)).all())
    result = tick(rt)
    get_mail_settings.cache_clear()
    members = [m for view, _ in plans.values() for m, _ in view.members]
    assert len(members) == 10
    assert all(leaders[m] for m in members), "every bloc member has a leader address"
    assert (result.notices_sent, result.notices_no_recipient) == (10, 0)
    by_rcpt, to_header = {}, {}
    for received in smtp_server.received:
        (rcpt,) = received.rcpt_tos
        by_rcpt[rcpt] = received.message
        raw_to = str(email.message_from_bytes(received.content, policy=compat32)["To"])
        to_header[rcpt] = str(make_header(decode_header(raw_to)))
    assert sorted(by_rcpt) == sorted(leaders[m] for m in members)

    def texts(address: str) -> tuple[str, str, str]:
        message = by_rcpt[address]
        plain, html = message.get_body(("plain",)), message.get_body(("html",))
        assert plain is not None and html is not None
        return str(message["Subject"]), plain.get_content(), html.get_content()

    for code, (view, rows) in plans.items():
        in_bloc = {m for m, _ in view.members}
        inspectors = {r.inspector for r in rows}
        # A bloc of four rests one member a year (one triangle); in larger ones all inspect.
        assert rows and inspectors <= in_bloc
        assert len(inspectors) == len(in_bloc) - (len(in_bloc) == 4)
        for unit, name in view.members:
            subject, plain, html = texts(leaders[unit])
            assert to_header[leaders[unit]] == f"Lãnh đạo {name} <{leaders[unit]}>"
            assert f"Kế hoạch kiểm tra chéo năm 2019 – {view.name}" in subject
            assert f"Kế hoạch kiểm tra chéo năm 2019 của {view.name}" in plain
            assert f"Lịch của {name}:" in plain and "Đơn vị được kiểm tra bởi:" in plain
            assert view.name in html and "Đơn vị đi kiểm tra" in html
        for row in rows:
            dates = format_span(row.starts_on, row.ends_on)
            _, inspector_text, inspector_html = texts(leaders[row.inspector])
            _, inspected_text, inspected_html = texts(leaders[row.inspected])
            assert f"- {row.inspected_name}: {dates}" in inspector_text, (code, row)
            assert f"- {row.inspector_name}: {dates}" in inspected_text, (code, row)
            assert f"{row.inspected_name}: <strong>{dates}</strong>" in inspector_html
            assert f"{row.inspector_name}: <strong>{dates}</strong>" in inspected_html
    _, vks, _ = texts("vientruong@vksndtc.example")
    assert "Viện kiểm sát nhân dân tối cao" in vks and "Khối các Bộ, Ngành Nội chính" in vks


def test_a_member_without_an_address_is_counted_apart_not_as_sent(
    rt: Runtime, leader: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A member with no leader address and no officers: its notice is skipped with the reason,
    counted as no recipient (not sent) and not retried; the others are mailed."""
    monkeypatch.delenv("KHENTHUONG_SMTP_HOST", raising=False)
    monkeypatch.setenv("KHENTHUONG_MAILDIR", str(tmp_path / "mail"))
    get_mail_settings.cache_clear()
    with write_tx(rt.engine) as conn:
        conn.execute(update(UNITS).where(UNITS.c.code == "TANDTC").values(leader_email=None))
        admin = load_actor(conn, "admin")
        inspections.plan_inspections(conn, "KNCTW", 2019, actor=admin, seed=2019)
        assert inspections.publish(conn, "KNCTW", 2019, actor=admin) == 6
    first, second = tick(rt), tick(rt)
    get_mail_settings.cache_clear()
    assert (first.notices_sent, first.notices_no_recipient) == (5, 1)
    assert (second.notices_sent, second.notices_no_recipient) == (0, 0)
    assert len(list(mailbox.Maildir(str(tmp_path / "mail")))) == 5
    with rt.engine.connect() as conn:
        rows = conn.execute(select(OUTBOX.c.dedup_key, OUTBOX.c.status, OUTBOX.c.last_error)).all()
    skipped = [r for r in rows if r.status == outbox.SKIPPED]
    assert [r.dedup_key.rsplit(":", 1)[-1] for r in skipped] == ["TANDTC"]
    assert "no recipient" in (skipped[0].last_error or "")
    assert sum(r.status == "sent" for r in rows) == 5


def test_inspection_windows_and_overdue_reports_are_reminded(
    rt: Runtime, leader: Actor, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both leaders hear of a visit 3 working days ahead; the inspector of an unfiled report later."""
    from datetime import UTC, datetime

    from khenthuong.services import digests, reminder_claims, reminders

    with write_tx(rt.engine) as conn:
        inspections.plan_inspections(
            conn,
            "KCY4",
            2026,
            actor=load_actor(conn, "admin"),
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
    groups = reminder_claims.claim_reminders(rt.engine, rt.registry, rt.settings, now=before)
    for ledger_ids in groups:
        digests.send_digest(rt.engine, rt.registry, ledger_ids)
    texts = [
        m.get_payload(0).get_payload(decode=True).decode()
        for m in mailbox.Maildir(str(tmp_path / "mail"))
    ]
    get_mail_settings.cache_clear()
    assert any("Lượt kiểm tra chéo" in t and "kiểm tra" in t for t in texts)
