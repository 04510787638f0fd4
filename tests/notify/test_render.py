"""Rendering e-mails from dataclasses: pure, no SMTP."""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime
from email.message import EmailMessage

import jinja2
import pytest

from khenthuong.notify.mail_settings import MailSettings
from khenthuong.notify.render import (
    Digest,
    DigestItem,
    InspectionNotice,
    InspectionVisit,
    Sender,
    StepNotice,
    message_id_for,
    render_digest,
    render_inspection_notice,
    render_pair,
    render_step_notice,
)

SENT_AT = datetime(2026, 3, 4, 1, 0, tzinfo=UTC)
BASE_URL = "https://tdkt.example.vn"
# Written decomposed (NFD) on purpose: "Nguyễn" as base letters plus combining marks.
NFD_NAME = unicodedata.normalize("NFD", "Nguyễn Thị Hằng")


def _item(nid: int, kind: str, left: int, nominee: str = "Trần Văn Bình") -> DigestItem:
    return DigestItem(
        nomination_id=nid,
        nominee_name=nominee,
        workflow_title="Chiến sĩ thi đua cơ sở",
        state_title="Hội đồng Thi đua – Khen thưởng xét",
        due_on=date(2026, 3, 2) if kind == "overdue" else date(2026, 3, 6),
        working_days_left=left,
        kind=kind,  # type: ignore[arg-type]
    )


def _digest(*items: DigestItem) -> Digest:
    return Digest(recipient_email="hang@sotuphap.gov.vn", recipient_name=NFD_NAME, items=items)


def _three() -> Digest:
    return _digest(_item(11, "before", 2), _item(12, "overdue", -2), _item(13, "due", 0))


def _bodies(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert isinstance(text, EmailMessage)
    assert isinstance(html, EmailMessage)
    return text.get_content(), html.get_content()


def _step_notice(reason: str | None = "Thiếu bản sao Bằng khen năm 2024") -> StepNotice:
    return StepNotice(
        recipient_email="de.xuat@phuong1.gov.vn",
        recipient_name="Lê Thu Hà",
        nomination_id=42,
        nominee_name="Phạm Quốc Việt",
        workflow_title="Bằng khen của Chủ tịch UBND tỉnh",
        headline_vi="Hồ sơ đã bị trả lại để bổ sung",
        headline_en="The nomination was returned for completion",
        state_title="Dự thảo",
        actor_name="Đỗ Minh Tuấn",
        occurred_at=datetime(2026, 3, 4, 2, 30, tzinfo=UTC),
        reason=reason,
    )


def test_digest_subject_counts_items_and_overdue_in_vietnamese() -> None:
    """The digest subject says how many items need action and how many are late, in Vietnamese."""
    msg = render_digest(_three(), ledger_key="k", sender=Sender(), sent_at=SENT_AT)
    assert msg["Subject"] == (
        "[Thi đua – Khen thưởng] 3 hồ sơ cần xử lý (1 quá hạn, 1 đến hạn hôm nay)"
    )
    only_before = _digest(_item(11, "before", 2))
    msg = render_digest(only_before, ledger_key="k", sender=Sender(), sent_at=SENT_AT)
    assert msg["Subject"] == "[Thi đua – Khen thưởng] 1 hồ sơ cần xử lý"


def test_digest_has_text_and_html_with_every_item_detail() -> None:
    """Both alternatives list each item with id, nominee, workflow, state, dd/mm/yyyy date and days."""
    msg = render_digest(_three(), ledger_key="k", sender=Sender(), sent_at=SENT_AT)
    assert msg.get_content_type() == "multipart/alternative"
    text, html = _bodies(msg)
    for body in (text, html):
        for needle in (
            "#11",
            "#12",
            "#13",
            "Trần Văn Bình",
            "Chiến sĩ thi đua cơ sở",
            "Hội đồng Thi đua – Khen thưởng xét",
            "02/03/2026",
            "06/03/2026",
            "còn 2 ngày làm việc",
            "quá hạn 2 ngày làm việc",
            "đến hạn hôm nay",
            "Quá hạn – báo cáo lãnh đạo",
            "Nhắc trước hạn",
            "overdue by 2 working days",
            "2 working days left",
        ):
            assert needle in body, needle
    # Overdue first, then due today, then upcoming; Vietnamese before English.
    assert text.index("#12") < text.index("#13") < text.index("#11")
    assert text.index("Kính gửi") < text.index("Dear")


def test_text_is_nfc_with_diacritics_intact() -> None:
    """A name written decomposed comes out precomposed (NFC) in the headers and both bodies."""
    msg = render_digest(_three(), ledger_key="k", sender=Sender(), sent_at=SENT_AT)
    text, html = _bodies(msg)
    nfc_name = "Nguyễn Thị Hằng"
    assert nfc_name != NFD_NAME
    assert msg["To"].addresses[0].display_name == nfc_name
    assert msg["From"].addresses[0].display_name == "Hệ thống Thi đua – Khen thưởng"
    for value in (text, html, str(msg["Subject"])):
        assert unicodedata.is_normalized("NFC", value)
    assert f"Kính gửi {nfc_name}," in text
    assert f"Kính gửi {nfc_name}," in html


def test_html_escapes_a_script_in_a_nominee_name() -> None:
    """A nominee called <script>alert(1)</script> is escaped in HTML and left as typed in text."""
    evil = "<script>alert(1)</script>"
    msg = render_digest(
        _digest(_item(7, "due", 0, nominee=evil)), ledger_key="k", sender=Sender(), sent_at=SENT_AT
    )
    text, html = _bodies(msg)
    assert evil not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert evil in text


def test_missing_template_variable_raises() -> None:
    """A template variable left out fails loudly (StrictUndefined) instead of rendering blank."""
    with pytest.raises(jinja2.UndefinedError):
        render_pair("step_notice", {"recipient_name": "Lê Thu Hà"})


def test_message_id_is_derived_from_the_ledger_key() -> None:
    """The same ledger key always gives the same Message-ID and key header; another key differs."""
    first = render_digest(_three(), ledger_key="digest:hang:2026-03-04", sender=Sender())
    again = render_digest(_three(), ledger_key="digest:hang:2026-03-04", sender=Sender())
    other = render_digest(_three(), ledger_key="digest:hang:2026-03-05", sender=Sender())
    assert first["Message-ID"] == again["Message-ID"] == message_id_for("digest:hang:2026-03-04")
    assert first["Message-ID"] != other["Message-ID"]
    assert first["Message-ID"].endswith("@khenthuong>")
    assert len(first["Message-ID"]) == len("<@khenthuong>") + 32
    assert first["X-Khenthuong-Key"] == "digest:hang:2026-03-04"


def test_links_appear_only_with_a_base_url() -> None:
    """Item links are absolute URLs when a base URL is set, and there is no link at all without one."""
    with_url = render_digest(_three(), ledger_key="k", sender=Sender(base_url=BASE_URL + "/"))
    text, html = _bodies(with_url)
    assert f"{BASE_URL}/nominations/12" in text
    assert f'<a href="{BASE_URL}/nominations/12">' in html
    without = render_digest(_three(), ledger_key="k", sender=Sender())
    for body in _bodies(without):
        assert "http" not in body
        assert "<a " not in body


def test_sender_comes_from_mail_settings() -> None:
    """From uses the configured sender name and address, and links use the configured base URL."""
    settings = MailSettings(
        sender="tdkt@sonoivu.gov.vn", sender_name="Sở Nội vụ", base_url=BASE_URL
    )
    msg = render_digest(_three(), ledger_key="k", sender=Sender.from_settings(settings))
    assert msg["From"].addresses[0].addr_spec == "tdkt@sonoivu.gov.vn"
    assert msg["From"].addresses[0].display_name == "Sở Nội vụ"
    assert f"{BASE_URL}/nominations/11" in _bodies(msg)[0]


def test_empty_digest_is_refused() -> None:
    """A digest without items is a caller error, not an empty e-mail."""
    with pytest.raises(ValueError, match="at least one item"):
        render_digest(_digest(), ledger_key="k", sender=Sender())


def test_step_notice_tells_what_who_when_and_why() -> None:
    """A return notice carries the headline, the reason, the actor and the Vietnam-time moment."""
    msg = render_step_notice(
        _step_notice(), ledger_key="step:42:5", sender=Sender(base_url=BASE_URL)
    )
    assert msg["Subject"] == ("[Thi đua – Khen thưởng] Hồ sơ #42: Hồ sơ đã bị trả lại để bổ sung")
    text, html = _bodies(msg)
    for body in (text, html):
        assert "Hồ sơ đã bị trả lại để bổ sung" in body
        assert "Lý do" in body
        assert "Thiếu bản sao Bằng khen năm 2024" in body
        assert "Đỗ Minh Tuấn" in body
        assert "09:30 04/03/2026" in body  # 02:30 UTC is 09:30 in Hà Nội
        assert "The nomination was returned for completion" in body
    no_reason = render_step_notice(_step_notice(None), ledger_key="s", sender=Sender())
    assert "Lý do" not in _bodies(no_reason)[0]


def test_inspection_notice_lists_visits_both_ways() -> None:
    """An inspection notice lists whom the unit inspects and who inspects it, with dates."""
    notice = InspectionNotice(
        recipient_email="vanthu@sotuphap.gov.vn",
        recipient_name="Sở Tư pháp",
        unit_name="Sở Tư pháp",
        bloc_name="Khối Nội chính",
        year=2026,
        period_start=date(2026, 5, 4),
        period_end=date(2026, 6, 30),
        as_inspector=(InspectionVisit("Sở Nội vụ", date(2026, 5, 11), date(2026, 5, 12)),),
        as_inspected=(InspectionVisit("Thanh tra tỉnh", date(2026, 6, 2)),),
    )
    msg = render_inspection_notice(notice, ledger_key="insp:3:9", sender=Sender())
    assert (
        msg["Subject"] == "[Thi đua – Khen thưởng] Kế hoạch kiểm tra chéo năm 2026 – Khối Nội chính"
    )
    text, html = _bodies(msg)
    for body in (text, html):
        assert "Sở Nội vụ: " in body
        assert "11/05/2026 – 12/05/2026" in body
        assert "Thanh tra tỉnh: " in body
        assert "02/06/2026" in body
        assert "04/05/2026 – 30/06/2026" in body
    assert text.index("Sở Nội vụ") < text.index("Thanh tra tỉnh")


def test_blank_recipient_name_gets_a_polite_greeting() -> None:
    """Without a recipient name the greeting falls back to "Anh/Chị" and "colleague"."""
    digest = Digest(
        recipient_email="vanthu@sotuphap.gov.vn", recipient_name="", items=(_item(5, "due", 0),)
    )
    text, html = _bodies(render_digest(digest, ledger_key="k", sender=Sender()))
    for body in (text, html):
        assert "Kính gửi Anh/Chị," in body
        assert "Dear colleague," in body


def test_long_vietnamese_headers_keep_every_space_on_the_wire() -> None:
    """A subject and a recipient name too long for one encoded word come back exactly from the
    wire bytes (Python's own folder before 3.13 gave "Kế hoạchkiểm tra" and "t ối cao")."""
    from email import message_from_bytes, policy
    from email.header import decode_header, make_header

    bloc = "Khối các Bộ, Ngành Nội chính Trung ương"
    name = "Lãnh đạo Cục Cảnh sát phòng cháy, chữa cháy và cứu nạn, cứu hộ"
    notice = InspectionNotice(
        recipient_email="cuctruong@c07.example",
        recipient_name=name,
        unit_name="Viện kiểm sát nhân dân tối cao",
        bloc_name=bloc,
        year=2019,
        period_start=date(2019, 10, 1),
        period_end=date(2019, 11, 29),
        as_inspector=(),
        as_inspected=(),
    )
    msg = render_inspection_notice(notice, ledger_key="insp:1:VKSNDTC", sender=Sender())
    wire = msg.as_bytes(policy=msg.policy.clone(linesep="\r\n"))
    head = wire.split(b"\r\n\r\n", 1)[0].decode("ascii")  # 7-bit clean headers
    assert all(len(line) <= 78 for line in head.split("\r\n"))
    raw = message_from_bytes(wire, policy=policy.compat32)
    subject = f"[Thi đua – Khen thưởng] Kế hoạch kiểm tra chéo năm 2019 – {bloc}"
    assert str(make_header(decode_header(str(raw["Subject"])))) == subject
    assert str(make_header(decode_header(str(raw["To"])))) == f"{name} <cuctruong@c07.example>"
    assert message_from_bytes(wire, policy=policy.default)["Subject"] == subject


def test_the_english_salutation_names_a_units_leadership_in_english() -> None:
    """A mail to a unit's leadership opens "Dear Head of <unit>" in English, never with the
    Vietnamese "Lãnh đạo"; a person keeps their name; nobody is "colleague"."""
    from khenthuong.notify.render import addressee_en

    assert addressee_en("Lãnh đạo Bộ Tư pháp") == "Head of Bộ Tư pháp"
    assert addressee_en("Nguyễn Thị Hoa") == "Nguyễn Thị Hoa"
    assert addressee_en("") == "colleague"
