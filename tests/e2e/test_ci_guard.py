"""Without a browser the end-to-end module skips on a developer's machine but fails in CI."""

from __future__ import annotations

import os
import subprocess
import sys

from khenthuong.settings import PROJECT_ROOT


def _collect(ci: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("CI", "KHENTHUONG_REQUIRE_SERVICES")}
    env["KHENTHUONG_TEST_CHROMIUM"] = "/nonexistent/chromium"
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        # --noconftest: the module's own guard decides; the suite's fixtures (a database
        # probe, the application's imports) are not needed to collect it.
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "--noconftest", "tests/e2e/test_browser.py"],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_missing_browser_fails_in_ci() -> None:
    run = _collect("true")
    assert run.returncode not in {0, 5}, run.stdout + run.stderr
    assert "fails instead of skipping" in run.stdout + run.stderr


def test_missing_browser_skips_elsewhere() -> None:
    run = _collect(None)
    assert run.returncode == 5, run.stdout + run.stderr  # nothing collected: skipped
    assert "fails instead of skipping" not in run.stdout + run.stderr
