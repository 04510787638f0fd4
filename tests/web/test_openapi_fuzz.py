"""Schemathesis against /openapi.json of a running server: no server errors anywhere.

Bounded (a few examples per operation, deterministic generation) so CI stays quick; runs
every phase, including stateful sequences that create nominations and persons.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.live_server import LiveServer, live_server

SCHEMATHESIS = str(Path(sys.executable).parent / "schemathesis")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("fuzz")) as live:
        yield live


def test_openapi_document_describes_every_api_operation(server: LiveServer) -> None:
    doc = httpx.get(f"{server.base}/openapi.json").json()
    paths = set(doc["paths"])
    assert {"/api/nominations", "/api/nominations/{nomination_id}/advance",
            "/api/councils/sessions", "/api/decisions", "/api/audit/events",
            "/api/workflows/{name}/diagram", "/api/blocs/{code}/inspections",
            "/api/inspections/visits/{visit_id}/documents",
            "/api/inspections/documents/{document_id}"} <= paths  # fmt: skip
    upload = doc["paths"]["/api/inspections/visits/{visit_id}/documents"]["post"]
    assert "multipart/form-data" in upload["requestBody"]["content"]
    assert not any(p.startswith("/login") for p in paths)  # HTML pages stay out of the API
    assert httpx.get(f"{server.base}/docs").status_code == 200


@pytest.mark.parametrize(
    ("username", "phases", "examples"),
    [
        # The officer who writes: every phase, the stateful sequences included.
        ("cb.qd", "examples,coverage,fuzzing,stateful", "6"),
        # The auditor, refused every write: generated requests over every operation.
        ("kiemtra", "examples,fuzzing", "4"),
    ],
)
def test_schemathesis_finds_no_server_error(
    server: LiveServer, username: str, phases: str, examples: str, tmp_path: Path
) -> None:
    token = server.cli("users", "token", username, "--name", "schemathesis").strip().splitlines()
    run = subprocess.run(
        [
            SCHEMATHESIS, "run", f"{server.base}/openapi.json",
            "--header", f"Authorization: Bearer {token[-1]}",
            "--checks", "not_a_server_error",
            "--max-examples", examples,
            "--phases", phases,
            "--generation-deterministic",
            "--request-timeout", "20",
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=400,
        cwd=tmp_path,  # its .schemathesis/ cache, not in the checkout
    )  # fmt: skip
    summary = run.stdout[-3000:]
    assert run.returncode == 0, summary + run.stderr[-2000:]
    assert "Server error" not in run.stdout
    assert " passed" in summary
