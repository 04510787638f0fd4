"""The browser tests' headless Chromium: one per test process, shared by every browser test
file (each test opens contexts of its own; starting Chromium once per file cost seconds)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    # Imported here: test_browser skips (or fails under CI) when Chromium or Playwright is
    # absent, before any browser test asks for this fixture.
    from playwright import sync_api

    from tests.e2e.test_browser import CHROMIUM

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
