"""X-Forwarded-For is read only from configured proxies; the sign-in throttle keys on the
real client address, so a client cannot escape it by inventing addresses."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import select

from khenthuong.runtime import Runtime
from khenthuong.settings import Settings
from khenthuong.storage.models import EVENTS
from khenthuong.web.app import create_app

PROXY = "10.0.0.1"


def attempt(c: TestClient, spoofed: str) -> int:
    c.get("/login", headers={"X-Forwarded-For": spoofed})
    data = {
        "username": f"user-{spoofed}",
        "password": "sai",
        "login_token": c.cookies.get("kt_login"),
    }
    r = c.post("/login", data=data, headers={"X-Forwarded-For": spoofed}, follow_redirects=False)
    return r.status_code


def logged_clients(rt: Runtime) -> list[str | None]:
    with rt.engine.connect() as conn:
        rows = conn.execute(
            select(EVENTS.c.payload).where(EVENTS.c.stream == "access").order_by(EVENTS.c.seq)
        ).scalars()
        return [json.loads(p)["client"] for p in rows]


def app_with(web_rt: Runtime, proxies: str) -> Runtime:
    return replace(web_rt, settings=web_rt.settings.model_copy(update={"trusted_proxies": proxies}))


def test_an_untrusted_client_cannot_escape_the_throttle(web_rt: Runtime) -> None:
    """No proxies configured (the default): every address in X-Forwarded-For is ignored, so
    a client inventing a new one per attempt is still throttled by its own address."""
    with TestClient(create_app(web_rt), client=("198.51.100.9", 4000)) as c:
        codes = [
            attempt(c, f"203.0.113.{i}") for i in range(web_rt.settings.login_max_failures + 1)
        ]
    assert codes[:-1] == [401] * web_rt.settings.login_max_failures and codes[-1] == 429
    assert set(logged_clients(web_rt)) == {"198.51.100.9"}


def test_a_client_connecting_directly_is_not_trusted_even_when_proxies_are_set(
    web_rt: Runtime,
) -> None:
    rt = app_with(web_rt, PROXY)
    with TestClient(create_app(rt), client=("198.51.100.9", 4000)) as c:
        codes = [attempt(c, f"203.0.113.{i}") for i in range(rt.settings.login_max_failures + 1)]
    assert codes[-1] == 429
    assert set(logged_clients(rt)) == {"198.51.100.9"}


def test_behind_a_trusted_proxy_the_real_client_is_throttled_alone(web_rt: Runtime) -> None:
    """Through the configured proxy each real client has its own count: the proxy's address
    is not throttled as a whole, and the access log names the real client."""
    rt = app_with(web_rt, f"{PROXY}, 192.168.0.0/16")
    limit = rt.settings.login_max_failures
    with TestClient(create_app(rt), client=(PROXY, 4000)) as c:
        first = [attempt(c, "203.0.113.5") for _ in range(limit + 1)]
        other = attempt(c, "203.0.113.6")
        # A chain: the client's own invented entry is left of the proxy's; the address the
        # trusted proxies saw (rightmost untrusted) is what counts.
        chained = attempt(c, "1.2.3.4, 203.0.113.5, 192.168.1.1")
    assert first[-1] == 429 and other == 401 and chained == 429
    assert set(logged_clients(rt)) == {"203.0.113.5", "203.0.113.6"}


@pytest.mark.parametrize("value", ["10.0.0.1,not-an-ip", "10.0.0.300"])
def test_a_bad_proxy_setting_names_the_variable(value: str) -> None:
    with pytest.raises(ValidationError, match="KHENTHUONG_TRUSTED_PROXIES"):
        Settings(trusted_proxies=value)
