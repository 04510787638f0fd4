"""Delivering e-mail to a real aiosmtpd server and to a maildir."""

from __future__ import annotations

import email
import email.policy
import mailbox
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest

from khenthuong.notify.mail_settings import MailSettings
from khenthuong.notify.render import Digest, DigestItem, Sender, render_digest
from khenthuong.notify.smtp import MailUnavailable, deliver, send_messages, write_to_maildir
from tests.smtp_fixture import SmtpServer, free_port

OFFICERS = [
    ("hang@sotuphap.gov.vn", "Nguyễn Thị Hằng"),
    ("tuan@sonoivu.gov.vn", "Đỗ Minh Tuấn"),
    ("viet@ubnd.gov.vn", "Phạm Quốc Việt"),
]


def _settings(server: SmtpServer | None = None, **changes: object) -> MailSettings:
    values: dict[str, object] = {
        "host": server.host if server else None,
        "port": server.port if server else 25,
        "security": "none",
        "username": None,
        "password": None,
        "timeout": 5,
        "sender": "khenthuong@tinh.gov.vn",
        "base_url": None,
    }
    return MailSettings.model_validate(values | changes)


def _digests() -> list[EmailMessage]:
    messages = []
    for n, (addr, name) in enumerate(OFFICERS, start=1):
        items = tuple(
            DigestItem(
                nomination_id=100 * n + i,
                nominee_name=f"Ứng viên số {i} của {name}",
                workflow_title="Lao động tiên tiến",
                state_title="Thư ký Hội đồng tổng hợp",
                due_on=date(2026, 3, 6),
                working_days_left=2,
                kind="before",
            )
            for i in range(n)
        )
        digest = Digest(recipient_email=addr, recipient_name=name, items=items)
        messages.append(
            render_digest(digest, ledger_key=f"digest:{addr}:2026-03-04", sender=Sender())
        )
    return messages


def test_batch_of_digests_arrives_over_one_connection(smtp_server: SmtpServer) -> None:
    """Three digests to three officers arrive over a single connection, intact and decodable."""
    messages = _digests()
    results = send_messages(messages, _settings(smtp_server))

    assert [r.ok for r in results] == [True, True, True]
    assert [r.error for r in results] == [None, None, None]
    assert [r.key for r in results] == [f"digest:{a}:2026-03-04" for a, _ in OFFICERS]
    assert len(smtp_server.received) == 3
    assert len(smtp_server.connections) == 1
    for received, (addr, name), n in zip(smtp_server.received, OFFICERS, (1, 2, 3), strict=True):
        assert received.mail_from == "khenthuong@tinh.gov.vn"
        assert received.rcpt_tos == (addr,)
        msg = received.message
        assert msg["Subject"] == f"[Thi đua – Khen thưởng] {n} hồ sơ cần xử lý"
        assert msg["To"].addresses[0].display_name == name
        assert msg["Message-ID"] == results[n - 1].message_id
        text = msg.get_body(("plain",))
        html = msg.get_body(("html",))
        assert isinstance(text, EmailMessage)
        assert isinstance(html, EmailMessage)
        assert f"Kính gửi {name}," in text.get_content()
        assert f"Ứng viên số {n - 1} của {name}" in html.get_content()


def test_one_refused_recipient_does_not_stop_the_batch(smtp_server: SmtpServer) -> None:
    """A recipient the server refuses fails that message alone; the others are still sent."""
    smtp_server.refused.add(OFFICERS[1][0])
    results = send_messages(_digests(), _settings(smtp_server))

    assert [r.ok for r in results] == [True, False, True]
    assert results[1].error is not None
    assert OFFICERS[1][0] in results[1].error
    assert "550" in results[1].error
    assert [r.rcpt_tos for r in smtp_server.received] == [(OFFICERS[0][0],), (OFFICERS[2][0],)]


def test_dropped_connection_fails_one_message_and_reconnects(smtp_server: SmtpServer) -> None:
    """When the server hangs up mid-batch, that message fails and the rest go over a new connection."""
    smtp_server.hang_up_for.add(OFFICERS[1][0])
    results = send_messages(_digests(), _settings(smtp_server))

    assert [r.ok for r in results] == [True, False, True]
    assert results[1].error is not None
    assert "SMTPServerDisconnected" in results[1].error
    assert [r.rcpt_tos for r in smtp_server.received] == [(OFFICERS[0][0],), (OFFICERS[2][0],)]
    assert len(smtp_server.connections) == 2


def test_login_is_used_when_credentials_are_set() -> None:
    """With a username and password the client logs in, and wrong ones give a clear error."""
    with SmtpServer(credentials=("tdkt", "mat-khau-2026")) as server:
        ok = send_messages(
            _digests()[:1], _settings(server, username="tdkt", password="mat-khau-2026")
        )
        assert [r.ok for r in ok] == [True]
        assert len(server.received) == 1
        with pytest.raises(MailUnavailable, match="đăng nhập"):
            send_messages(_digests()[:1], _settings(server, username="tdkt", password="sai"))


def test_unreachable_server_raises_a_clear_error() -> None:
    """Nobody listening on the port raises MailUnavailable naming the host and port."""
    port = free_port()
    with pytest.raises(MailUnavailable) as caught:
        send_messages(_digests(), _settings(None, host="127.0.0.1", port=port, timeout=2))
    assert f"127.0.0.1:{port}" in str(caught.value)
    assert "Không kết nối được máy chủ thư" in str(caught.value)
    assert caught.value.en is not None and "unreachable" in caught.value.en


def test_maildir_mode_writes_messages_that_parse_back(tmp_path: Path) -> None:
    """Without an SMTP host, deliver() writes one Maildir file per message that parses back intact."""
    folder = tmp_path / "maildir"
    messages = _digests()
    results = deliver(messages, _settings(None, maildir=folder))

    assert [r.ok for r in results] == [True, True, True]
    box = mailbox.Maildir(folder, create=False)
    assert len(box) == 3
    parsed = [
        email.message_from_bytes(box.get_bytes(key), policy=email.policy.default)
        for key in box.iterkeys()  # iterating a Mailbox yields messages, not keys
    ]
    by_id = {m["Message-ID"]: m for m in parsed}
    for original in messages:
        copy = by_id[original["Message-ID"]]
        assert copy["Subject"] == original["Subject"]
        assert copy["X-Khenthuong-Key"] == original["X-Khenthuong-Key"]
        body = copy.get_body(("plain",))
        assert isinstance(body, EmailMessage)
        assert "Kính gửi" in body.get_content()
    assert len(list((folder / "new").iterdir())) == 3


def test_deliver_uses_smtp_when_a_host_is_set(smtp_server: SmtpServer, tmp_path: Path) -> None:
    """deliver() sends over SMTP when a host is configured and leaves the maildir alone."""
    folder = tmp_path / "maildir"
    results = deliver(_digests()[:2], _settings(smtp_server, maildir=folder))
    assert [r.ok for r in results] == [True, True]
    assert len(smtp_server.received) == 2
    assert not folder.exists()


def test_unwritable_maildir_raises_a_clear_error(tmp_path: Path) -> None:
    """A maildir path that is a file raises MailUnavailable naming the folder."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    with pytest.raises(MailUnavailable, match="maildir"):
        write_to_maildir(_digests()[:1], blocker / "sub")


def test_an_existing_empty_maildir_folder_takes_mail(tmp_path: Path) -> None:
    """A folder that exists without tmp/new/cur (an empty mounted volume) gets them and the
    message is stored."""
    folder = tmp_path / "maildir"
    folder.mkdir()
    results = deliver(_digests()[:1], _settings(None, maildir=folder))
    assert [r.ok for r in results] == [True]
    assert len(list((folder / "new").iterdir())) == 1
    assert {p.name for p in folder.iterdir()} == {"tmp", "new", "cur"}


def test_a_maildir_that_cannot_be_written_is_one_clear_error(tmp_path: Path) -> None:
    """A file where the folder should be: MailUnavailable naming the folder, nothing sent."""
    folder = tmp_path / "maildir"
    folder.write_text("not a folder")
    with pytest.raises(MailUnavailable, match="maildir"):
        deliver(_digests()[:1], _settings(None, maildir=folder))
