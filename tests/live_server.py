"""`khenthuong serve` as a real process on the embedded default, for browser and fuzz tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

KHENTHUONG = str(Path(sys.executable).parent / "khenthuong")


@dataclass(frozen=True)
class LiveServer:
    """A running server: its base URL and the environment that reaches its database."""

    base: str
    env: dict[str, str]

    def cli(self, *args: str) -> str:
        """Run a khenthuong command against the server's database; returns stdout."""
        done = subprocess.run(
            [KHENTHUONG, *args], env=self.env, check=True, capture_output=True, text=True
        )
        return done.stdout


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env(home: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "KHENTHUONG_DATABASE_URL": f"sqlite:///{home / 'khenthuong.db'}",
        "KHENTHUONG_STATE_DIR": str(home / "var"),
        "KHENTHUONG_MAILDIR": str(home / "maildir"),
    }
    env.pop("KHENTHUONG_BROKER_URL", None)
    return env


def _demo_home(home: Path) -> None:
    """`khenthuong init --demo` in `home`: run once per test process (in a folder beside
    `home`, under the same pytest temporary root), then copied (database and state folder)."""
    template = home.parent / "init-demo-template"
    if not (template / "done").exists():
        shutil.rmtree(template, ignore_errors=True)
        template.mkdir()
        subprocess.run(
            [KHENTHUONG, "init", "--demo"], env=_env(template), check=True, capture_output=True
        )
        (template / "done").touch()
    shutil.copy(template / "khenthuong.db", home / "khenthuong.db")
    shutil.copytree(template / "var", home / "var")


@contextmanager
def live_server(home: Path, setup_code: str = "") -> Iterator[LiveServer]:
    """A demo database in `home` (as `khenthuong init --demo` leaves it), `setup_code` run
    against it, served."""
    env = _env(home)
    _demo_home(home)
    if setup_code:
        subprocess.run([sys.executable, "-c", setup_code], env=env, check=True)
    port = _free_port()
    log_path = home / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [KHENTHUONG, "serve", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            # Generous: on a loaded 2-core machine starting Python and the app took over 30 s.
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(
                        f"serve did not answer /health within 120 s (exit code {proc.poll()}): "
                        + log_path.read_text(errors="replace")
                    )
                time.sleep(0.2)
            yield LiveServer(base, env)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
