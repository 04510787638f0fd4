"""Web processes starting at once on one state folder end up with one generated secret key."""

from __future__ import annotations

import threading
from pathlib import Path

from khenthuong.settings import Settings
from khenthuong.web.sessions import secret_key


def test_processes_starting_at_once_share_one_generated_key(tmp_path: Path) -> None:
    """Twelve starts at the same moment (threads standing in for processes): every one gets
    the key that was linked first, the file holds exactly it, and no draft is left."""
    settings = Settings(state_dir=tmp_path / "state", secret_key=None)
    barrier = threading.Barrier(12)
    keys: list[str] = []
    lock = threading.Lock()

    def start() -> None:
        barrier.wait()
        key = secret_key(settings)
        with lock:
            keys.append(key)

    threads = [threading.Thread(target=start) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    stored = (tmp_path / "state" / "secret-key").read_text(encoding="ascii")
    assert len(keys) == 12 and set(keys) == {stored}
    assert len(stored) >= 64
    assert [p.name for p in (tmp_path / "state").iterdir()] == ["secret-key"]
    assert (tmp_path / "state" / "secret-key").stat().st_mode & 0o777 == 0o600
