"""Fixtures of the document tests."""

from __future__ import annotations

import shutil

import pytest

from tests.service_guard import absent


@pytest.fixture
def soffice() -> None:
    """LibreOffice and poppler are installed by scripts/install; absent, the test is skipped
    with the reason, or fails where the services are required (CI)."""
    missing = [tool for tool in ("soffice", "pdftotext") if shutil.which(tool) is None]
    if missing:
        absent(f"{', '.join(missing)} not installed (scripts/install installs them)")
