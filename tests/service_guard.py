"""Skip a test whose service is absent, or fail it where the services are required (CI)."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

REQUIRED = os.environ.get("KHENTHUONG_REQUIRE_SERVICES", "") not in ("", "0", "false")


def absent(reason: str) -> NoReturn:
    """Skip with the reason; with KHENTHUONG_REQUIRE_SERVICES=1 (set by scripts/test under CI) fail."""
    if REQUIRED:
        pytest.fail(
            f"{reason} (KHENTHUONG_REQUIRE_SERVICES is set: this run needs it)", pytrace=False
        )
    pytest.skip(reason)
