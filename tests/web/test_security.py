"""The language switch goes back only within the site and sets a hardened cookie; the CSRF
header of cookie-authenticated API calls is compared in constant time."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import replace

import pytest
from fastapi.testclient import TestClient

from khenthuong.runtime import Runtime
from khenthuong.web.app import create_app

Browser = Callable[[str], tuple[TestClient, str]]


@pytest.mark.parametrize(
    ("referer", "location"),
    [
        (None, "/"),
        ("https://evil.example/phishing", "/"),
        ("http://evil.example/queue", "/"),
        ("//evil.example/queue", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("ftp://testserver/queue", "/"),
        ("http://testserver.evil.example/queue", "/"),
        ("http://testserver/lang/en", "/"),
        ("http://testserver/nominations?q=nguyen&year=2026", "/nominations?q=nguyen&year=2026"),
        ("http://TESTSERVER/audit", "/audit"),
        ("/councils/3", "/councils/3"),
    ],
)
def test_language_switch_redirects_only_within_the_site(
    client: TestClient, referer: str | None, location: str
) -> None:
    headers = {"referer": referer} if referer is not None else {}
    r = client.get("/lang/en", headers=headers, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == location


def test_language_switch_follows_the_configured_public_origin(web_rt: Runtime) -> None:
    public = replace(
        web_rt, settings=web_rt.settings.model_copy(update={"base_url": "https://kt.example.vn"})
    )
    with TestClient(create_app(public)) as c:
        r = c.get("/lang/en", headers={"referer": "https://kt.example.vn/queue"},
                  follow_redirects=False)  # fmt: skip
        assert r.headers["location"] == "/queue"
        r = c.get("/lang/en", headers={"referer": "https://kt.example.vn.evil.example/queue"},
                  follow_redirects=False)  # fmt: skip
        assert r.headers["location"] == "/"


def test_language_cookie_has_the_session_cookies_flags(client: TestClient, web_rt: Runtime) -> None:
    r = client.get("/lang/en", follow_redirects=False)
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("kt_lang=en")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=" in cookie
    assert "Secure" not in cookie
    assert "kt_lang=vi" in client.get("/lang/xx", follow_redirects=False).headers["set-cookie"]
    secure_rt = replace(
        web_rt, settings=web_rt.settings.model_copy(update={"base_url": "https://kt.example.vn"})
    )
    with TestClient(create_app(secure_rt), base_url="https://testserver") as c:
        cookie = c.get("/lang/en", follow_redirects=False).headers["set-cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


def test_api_csrf_header_is_compared_in_constant_time(
    browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    c, csrf = browser("cb.qd")
    body = {
        "workflow": "bang_khen_bo",
        "proposing_unit": "CCYQD",
        "nominee_name": "Lò Văn Pá",
        "create_person": True,
    }
    forged = "x" * len(csrf)
    assert (
        c.post("/api/nominations", json=body, headers={"X-CSRF-Token": forged}).status_code == 403
    )
    assert (forged.encode(), csrf.encode()) in calls
    assert (
        c.post("/api/nominations", json=body, headers={"X-CSRF-Token": b"\xe9"}).status_code == 403
    )
    assert c.post("/api/nominations", json=body).status_code == 403
    ok = c.post("/api/nominations", json=body, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201
    assert (csrf.encode(), csrf.encode()) in calls
    assert c.get("/api/me").status_code == 200  # a read needs no header


def test_tokens_with_non_ascii_characters_are_refused_not_a_server_error(
    browser: Browser, web_rt: Runtime
) -> None:
    """A sign-in token or a page CSRF token holding Vietnamese letters (found by the form
    fuzzer) is a wrong token: refused with 403 or the page's refusal, never a 500."""
    c, _ = browser("cb.qd")
    r = c.post("/nominations/1/advance", data={"csrf_token": "mã-sai-ư", "trigger": "submit"})
    assert r.status_code < 500, r.text[:300]
    anonymous = TestClient(create_app(web_rt))
    anonymous.get("/login")
    r = anonymous.post(
        "/login",
        data={"username": "cb.qd", "password": "x", "login_token": "đăng-nhập"},
    )
    assert r.status_code == 403
