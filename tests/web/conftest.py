"""Fixtures for the HTTP tests: the app on the test database, tokens and signed-in browsers."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from khenthuong.runtime import Runtime
from khenthuong.services.accounts import create_token
from khenthuong.services.blocs import apply_blocs, load_blocs
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import UNITS
from khenthuong.web.app import create_app
from tests.conftest import CONFIG

DEMO_PASSWORD = "thidua2026"


@pytest.fixture
def web_rt(rt: Runtime, tmp_path_factory: pytest.TempPathFactory) -> Runtime:
    """The test runtime with a fixed secret key and its own state folder."""
    settings = rt.settings.model_copy(
        update={
            "secret_key": SecretStr("test-secret-key-" + "x" * 32),
            "state_dir": tmp_path_factory.mktemp("state"),
        }
    )
    with write_tx(rt.engine) as conn:
        known = set(conn.execute(select(UNITS.c.code)).scalars())
        apply_blocs(conn, load_blocs(CONFIG / "blocs.yaml", known))
    return replace(rt, settings=settings)


@pytest.fixture
def client(web_rt: Runtime) -> Iterator[TestClient]:
    """An anonymous HTTP client."""
    with TestClient(create_app(web_rt)) as c:
        yield c


@pytest.fixture
def token(web_rt: Runtime) -> Callable[[str], dict[str, str]]:
    """Authorization headers with a fresh bearer token for a demo user."""

    def make(username: str) -> dict[str, str]:
        with write_tx(web_rt.engine) as conn:
            _, value = create_token(conn, username, "test")
        return {"Authorization": f"Bearer {value}"}

    return make


def sign_in(c: TestClient, username: str, password: str = DEMO_PASSWORD) -> str:
    """Sign in through the form; returns the CSRF token of the new session."""
    c.get("/login")
    r = c.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "login_token": c.cookies.get("kt_login") or "",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    page = c.get("/queue")
    marker = 'name="csrf_token" value="'
    start = page.text.index(marker) + len(marker)
    return page.text[start : page.text.index('"', start)]


@pytest.fixture
def browser(web_rt: Runtime) -> Iterator[Callable[[str], tuple[TestClient, str]]]:
    """A client signed in as a demo user, with its CSRF token."""
    opened: list[TestClient] = []

    def make(username: str) -> tuple[TestClient, str]:
        c = TestClient(create_app(web_rt))
        opened.append(c)
        return c, sign_in(c, username)

    yield make
    for c in opened:
        c.close()
