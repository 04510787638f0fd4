"""`khenthuong serve` runs the jobs on its own schedule: a due reminder reaches the maildir."""

from __future__ import annotations

import email
import email.policy
import mailbox
import socket
import time
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.live_server import live_server

NOMINEE = "Lê Thị Hồng Nhung"
SEED_OVERDUE = f"""
from datetime import UTC, datetime

from khenthuong.runtime import open_runtime
from khenthuong.services import new_nominations, stepping
from khenthuong.services.actors import load_actor

rt = open_runtime()
with rt.engine.connect() as conn:
    officer = load_actor(conn, "cb.qd")
long_ago = datetime(2026, 10, 1, 2, tzinfo=UTC)
nid = new_nominations.create_nomination(
    rt.engine, rt.registry, workflow="giay_khen", proposing_unit="CCYQD", actor=officer,
    nominee_name="{NOMINEE}", now=long_ago,
    create_person=True,
)
stepping.advance(rt.engine, rt.registry, nid, "submit", officer, now=long_ago)
"""


def _cmdline(pid: str) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def scheduler_children(parent_marker: str) -> list[str]:
    """Pids of the embedded scheduler processes whose parent's command line has the marker."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and "import run_forever" in _cmdline(entry.name):
            try:
                ppid = (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]
            except (OSError, IndexError):
                continue
            if parent_marker in _cmdline(ppid):
                found.append(entry.name)
    return found


def niceness(pid: str) -> int:
    """The nice value of a process (field 19 of /proc/PID/stat)."""
    return int((Path("/proc") / pid / "stat").read_text().rsplit(")", 1)[1].split()[16])


def digests_naming(folder: Path, name: str) -> list[EmailMessage]:
    """Messages in the maildir whose plain text names `name`."""
    if not folder.exists():
        return []
    found = []
    for key in mailbox.Maildir(str(folder)).iterkeys():
        raw = mailbox.Maildir(str(folder)).get_bytes(key)
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        body = message.get_body(("plain",))
        if isinstance(body, EmailMessage) and name in body.get_content():
            found.append(message)
    return found


@pytest.mark.slow
def test_serve_mails_a_due_reminder_on_its_own_schedule(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no broker and KHENTHUONG_SCAN_INTERVAL_SECONDS=1, the server process itself
    mails the overdue nomination's digests (officer and leader) within seconds, once each."""
    monkeypatch.setenv("KHENTHUONG_SCAN_INTERVAL_SECONDS", "1")
    monkeypatch.delenv("KHENTHUONG_SMTP_HOST", raising=False)
    folder = tmp_path / "maildir"
    with live_server(tmp_path, SEED_OVERDUE) as server:
        port = server.base.rsplit(":", 1)[-1]
        schedulers = scheduler_children(f"serve --port {port}")
        assert len(schedulers) == 1, "the jobs run in one child process, not in the server"
        deadline = time.monotonic() + 30
        while len(digests_naming(folder, NOMINEE)) < 2 and time.monotonic() < deadline:
            time.sleep(0.25)
        time.sleep(3)  # three more ticks send nothing again
        server_pid = (
            (Path("/proc") / schedulers[0] / "stat").read_text().rsplit(")", 1)[1].split()[1]
        )
        assert niceness(schedulers[0]) == min(19, niceness(server_pid) + 10), (
            "the scheduler runs at KHENTHUONG_SCHEDULER_NICE (10) below the server's priority"
        )
        status = server.cli("reminders", "status")
    gone = time.monotonic() + 10  # it notices within a second or two that the server is gone
    while Path(f"/proc/{schedulers[0]}").exists() and time.monotonic() < gone:
        time.sleep(0.2)
    assert not Path(f"/proc/{schedulers[0]}").exists(), "the scheduler outlived the server"
    messages = digests_naming(folder, NOMINEE)
    assert sorted(str(m["To"].addresses[0].addr_spec) for m in messages) == [
        "cuctruong@ccyqd.example",
        "tk.qd@bcy.example",
    ]
    assert all("quá hạn" in str(m["Subject"]) for m in messages)
    flat = " ".join(status.split())
    assert "Quét nhắc hạn, mỗi 1 giây: lần cuối" in flat
    assert "(trong tiến trình serve: đã gửi" in flat and "embedded" not in flat
    # the one serve process that holds the scheduler lease (SQLite), by host:pid
    assert f"tiến trình đang chạy: {socket.gethostname()}:{schedulers[0]}" in flat
