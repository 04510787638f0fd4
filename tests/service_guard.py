"""Skip a test whose service is absent, or fail it where the services are required (CI).

The one place that decides: PostgreSQL, Redis, redis-server, openssl, Chromium and Playwright
all go through `absent`, so a CI run can never pass by skipping what it was meant to test.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() not in ("", "0", "false", "no")


REQUIRED = _truthy("KHENTHUONG_REQUIRE_SERVICES") or _truthy("CI")
"""scripts/test sets KHENTHUONG_REQUIRE_SERVICES under CI=true; CI alone counts too."""


def absent(reason: str) -> NoReturn:
    """Skip with the reason (also at module level); where services are required, fail."""
    if REQUIRED:
        pytest.fail(
            f"{reason} (CI or KHENTHUONG_REQUIRE_SERVICES is set, so this fails instead of "
            "skipping)",
            pytrace=False,
        )
    pytest.skip(reason, allow_module_level=True)
