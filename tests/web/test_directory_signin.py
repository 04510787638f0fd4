"""Sign-in through the organisation's directory: a real OpenLDAP server (slapd) and a local
OpenID provider (oidc-provider-mock, with PKCE enforced by a wrapper), groups mapped to roles."""

from __future__ import annotations

import base64
import hashlib
import io
import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from khenthuong.audit.verify import verify_all
from khenthuong.runtime import Runtime
from khenthuong.services import directory_accounts
from khenthuong.services.accounts import set_password
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import EVENTS, UNITS, USER_ROLES, USERS
from khenthuong.web.app import create_app
from khenthuong.web.sessions import LANG_COOKIE
from tests.ldap_server import GROUPS, PEOPLE, LdapServer, ldap_server

GROUP_OFFICERS = f"cn=tdkt-ccyqd,{GROUPS}"
MAP = f"""groups:
  - group: {GROUP_OFFICERS}
    unit: CCYQD
    roles: [unit_officer]
  - group: lanh-dao-ccyqd
    unit: CCYQD
    roles: [unit_head]
"""


def _map_file(tmp_path: Path) -> Path:
    path = tmp_path / "directory.yaml"
    path.write_text(MAP, encoding="utf-8")
    return path


@pytest.fixture
def slapd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LdapServer]:
    with ldap_server(tmp_path_factory.mktemp("slapd")) as server:
        yield server


def _ldap_app(web_rt: Runtime, url: str, tmp_path: Path) -> Runtime:
    settings = web_rt.settings.model_copy(
        update={
            "ldap_url": url,
            "ldap_user_base": PEOPLE,
            "ldap_group_base": GROUPS,
            "directory_map_file": _map_file(tmp_path),
            "login_max_failures": 100,  # these tests refuse many sign-ins from one address
        }
    )
    return replace(web_rt, settings=settings)


def _post_login(c: TestClient, username: str, password: str) -> httpx.Response:
    c.get("/login")
    return c.post(
        "/login",
        data={"username": username, "password": password, "login_token": c.cookies["kt_login"]},
        follow_redirects=False,
    )


def _signed_in_as(page: str, username: str, full_name: str) -> bool:
    """The page header names the signed-in officer (by full name, or user name)."""
    marker = 'data-testid="user"'
    if marker not in page:
        return False
    shown = page.split(marker, 1)[1].split(">", 1)[1][:200]
    return shown.startswith((username, full_name))


def _grants(rt: Runtime, username: str) -> list[tuple[str, str]]:
    with rt.engine.connect() as conn:
        rows = conn.execute(
            select(USER_ROLES.c.role, UNITS.c.code)
            .join(UNITS, UNITS.c.id == USER_ROLES.c.scope_unit_id)
            .join(USERS, USERS.c.id == USER_ROLES.c.user_id)
            .where(USERS.c.username == username)
        ).all()
    return sorted((r.role, r.code) for r in rows)


def _account_events(rt: Runtime, username: str) -> list[str]:
    with rt.engine.connect() as conn:
        return list(
            conn.execute(
                select(EVENTS.c.trigger)
                .where(EVENTS.c.stream == directory_accounts.account_stream(username))
                .order_by(EVENTS.c.seq)
            ).scalars()
        )


def test_ldap_sign_in_creates_the_account_with_the_mapped_roles_and_follows_the_groups(
    web_rt: Runtime, slapd: LdapServer, tmp_path: Path
) -> None:
    dn = slapd.add_person("an.nv", "Nguyễn Văn An", "mat-khau-ldap", "an.nv@bcy.example")
    officers = slapd.add_group("tdkt-ccyqd", [dn, f"uid=another-officer,{PEOPLE}"])
    slapd.add_group("lanh-dao-ccyqd", [f"uid=someone-else,{PEOPLE}"])
    rt = _ldap_app(web_rt, slapd.url, tmp_path)
    with TestClient(create_app(rt)) as c:
        r = _post_login(c, "an.nv", "mat-khau-ldap")
        assert r.status_code == 303 and r.headers["location"] == "/queue"
        page = c.get("/queue")
        assert page.status_code == 200 and _signed_in_as(page.text, "an.nv", "Nguyễn Văn An")
    assert _grants(rt, "an.nv") == [("unit_officer", "CCYQD")]
    with rt.engine.connect() as conn:
        user = conn.execute(select(USERS).where(USERS.c.username == "an.nv")).one()
    assert (user.auth_source, user.directory_subject, user.password_hash) == ("ldap", dn, None)
    assert user.email == "an.nv@bcy.example"

    # The directory moves them from the officers' group to the leaders' group.
    slapd.remove_member(officers, dn)
    with slapd.admin() as conn:
        import ldap3

        conn.modify(f"cn=lanh-dao-ccyqd,{GROUPS}", {"member": [(ldap3.MODIFY_ADD, [dn])]})
    with TestClient(create_app(rt)) as c:
        assert _post_login(c, "an.nv", "mat-khau-ldap").status_code == 303
    assert _grants(rt, "an.nv") == [("unit_head", "CCYQD")]
    assert _account_events(rt, "an.nv") == [
        "directory_account_created",
        "directory_account_updated",
    ]
    with rt.engine.connect() as conn:
        assert verify_all(conn).ok


def test_ldap_refusals_wrong_password_disabled_account_no_group_and_local_name(
    web_rt: Runtime, slapd: LdapServer, tmp_path: Path
) -> None:
    an = slapd.add_person("an.nv", "Nguyễn Văn An", "mat-khau-ldap", "an@bcy.example")
    slapd.add_person("binh.tt", "Trần Thị Bình", "mat-khau-ldap", "binh@bcy.example")
    slapd.add_person("cb.qd", "Kẻ Mạo Danh", "mat-khau-ldap", "x@bcy.example")
    slapd.add_group("tdkt-ccyqd", [an, f"uid=cb.qd,{PEOPLE}"])
    rt = _ldap_app(web_rt, slapd.url, tmp_path)
    with TestClient(create_app(rt)) as c:
        assert _post_login(c, "an.nv", "sai-mat-khau").status_code == 401
        assert _post_login(c, "an.nv*", "mat-khau-ldap").status_code == 401  # filter escaped
        assert _post_login(c, "an.nv", "").status_code == 401  # no anonymous bind
        no_group = _post_login(c, "binh.tt", "mat-khau-ldap")
        assert no_group.status_code == 403
        assert "không thuộc nhóm nào được gán vai trò" in no_group.text
        # A local account of the same name, with its own password, is not taken over.
        taken = _post_login(c, "cb.qd", "mat-khau-ldap")
        assert taken.status_code == 403 and "tài khoản nội bộ cb.qd" in taken.text
        assert _post_login(c, "an.nv", "mat-khau-ldap").status_code == 303
    with TestClient(create_app(rt)) as c:  # the English locale reads the refusals in English
        c.cookies.set(LANG_COOKIE, "en")
        no_group = _post_login(c, "binh.tt", "mat-khau-ldap")
        assert no_group.status_code == 403
        assert "belongs to no group that is given a role here" in no_group.text
        taken = _post_login(c, "cb.qd", "mat-khau-ldap")
        assert "A local account cb.qd with its own password already exists" in taken.text
        assert "Tài khoản" not in no_group.text and "tài khoản nội bộ" not in taken.text
    slapd.lock(an)  # the directory disables the account
    with TestClient(create_app(rt)) as c:
        assert _post_login(c, "an.nv", "mat-khau-ldap").status_code == 401
    assert _grants(rt, "binh.tt") == []
    with rt.engine.connect() as conn:
        assert conn.execute(select(USERS.c.id).where(USERS.c.username == "binh.tt")).first() is None


def test_local_passwords_still_work_when_the_directory_is_down(
    web_rt: Runtime, tmp_path: Path
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    rt = _ldap_app(web_rt, f"ldap://127.0.0.1:{closed}", tmp_path)
    with TestClient(create_app(rt)) as c:
        assert _post_login(c, "cb.qd", "thidua2026").status_code == 303
        assert _post_login(c, "an.nv", "mat-khau-ldap").status_code == 401


# ----------------------------------------------------------------------------- OpenID Connect


class PkceEnforcer:
    """WSGI wrapper around the mock provider: remembers the S256 challenge of each
    authorisation request and refuses a token request whose verifier does not match it
    (the mock itself does not check PKCE)."""

    def __init__(self, app: Callable[..., Any]) -> None:
        self.app = app
        self.challenges: list[str] = []
        self.refused = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path == "/oauth2/authorize":
            query = parse_qs(environ.get("QUERY_STRING", ""))
            assert query.get("code_challenge_method") == ["S256"]
            self.challenges.append(query["code_challenge"][0])
        if path == "/oauth2/token":
            body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
            environ["wsgi.input"] = io.BytesIO(body)
            verifier = parse_qs(body.decode()).get("code_verifier", [""])[0]
            digest = hashlib.sha256(verifier.encode()).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode() not in self.challenges:
                self.refused += 1
                start_response("400 Bad Request", [("Content-Type", "application/json")])
                return [b'{"error": "invalid_grant"}']
        return self.app(environ, start_response)


@pytest.fixture
def provider() -> Iterator[tuple[str, PkceEnforcer]]:
    oidc_mock = pytest.importorskip("oidc_provider_mock")
    from oidc_provider_mock._server import _threaded_server

    users = [
        oidc_mock.User(
            sub="sub-chi",
            claims={
                "preferred_username": "chi.lt",
                "name": "Lê Thị Chi",
                "email": "chi@bcy.example",
                "groups": ["lanh-dao-ccyqd"],
            },
        ),
        oidc_mock.User(sub="sub-dung", claims={"preferred_username": "dung.pv", "groups": []}),
    ]
    wrapped = PkceEnforcer(oidc_mock.app(user_claims=users))
    with _threaded_server(app=wrapped, host="127.0.0.1") as server:
        yield f"http://127.0.0.1:{server.server_port}", wrapped


def _oidc_rt(web_rt: Runtime, issuer: str, tmp_path: Path) -> Runtime:
    settings = web_rt.settings.model_copy(
        update={
            "oidc_issuer": issuer,
            "oidc_client_id": "khenthuong",
            "oidc_client_secret": SecretStr("bi-mat-cua-khenthuong"),
            "oidc_provider_name": "Cổng đăng nhập Ban Cơ yếu",
            "directory_map_file": _map_file(tmp_path),
        }
    )
    return replace(web_rt, settings=settings)


def _through_provider(c: TestClient, sub: str) -> httpx.Response:
    start = c.get("/login/oidc?next=/decisions", follow_redirects=False)
    assert start.status_code == 303
    authorize = start.headers["location"]
    back = httpx.post(authorize, data={"sub": sub}, follow_redirects=False)
    assert back.status_code in (302, 303), back.text
    target = urlsplit(back.headers["location"])
    return c.get(f"{target.path}?{target.query}", follow_redirects=False)


def test_openid_sign_in_with_pkce_maps_the_groups_claim(
    web_rt: Runtime, provider: tuple[str, PkceEnforcer], tmp_path: Path
) -> None:
    issuer, enforcer = provider
    rt = _oidc_rt(web_rt, issuer, tmp_path)
    with TestClient(create_app(rt)) as c:
        assert "Đăng nhập qua Cổng đăng nhập Ban Cơ yếu" in c.get("/login").text
        done = _through_provider(c, "sub-chi")
        assert done.status_code == 303 and done.headers["location"] == "/decisions"
        assert _signed_in_as(c.get("/queue").text, "chi.lt", "Lê Thị Chi")
    assert enforcer.refused == 0 and len(enforcer.challenges) >= 1
    assert _grants(rt, "chi.lt") == [("unit_head", "CCYQD")]
    with rt.engine.connect() as conn:
        user = conn.execute(select(USERS).where(USERS.c.username == "chi.lt")).one()
    assert (user.auth_source, user.directory_subject) == ("oidc", "sub-chi")

    with TestClient(create_app(rt)) as c:  # no mapped group: refused, nothing created
        refused = _through_provider(c, "sub-dung")
        assert refused.status_code == 403
        assert "Tài khoản dung.pv được OpenID Connect xác thực nhưng không thuộc nhóm nào" in (
            refused.text
        )
    with write_tx(rt.engine) as conn:  # disabled here: refused although the provider agrees
        conn.execute(USERS.update().where(USERS.c.username == "chi.lt").values(active=False))
    with TestClient(create_app(rt)) as c:
        locked = _through_provider(c, "sub-chi")
        assert locked.status_code == 403 and "Tài khoản chi.lt đã bị khóa" in locked.text
    with TestClient(create_app(rt)) as c:  # the same refusals in the English locale
        c.cookies.set(LANG_COOKIE, "en")
        locked = _through_provider(c, "sub-chi")
        assert locked.status_code == 403
        assert "The account chi.lt is disabled here; contact the administrator." in locked.text
        refused = _through_provider(c, "sub-dung")
        assert "The account dung.pv was verified by OpenID Connect but belongs" in refused.text
        assert "Tài khoản" not in locked.text + refused.text


def test_openid_callback_without_the_right_state_is_refused(
    web_rt: Runtime, provider: tuple[str, PkceEnforcer], tmp_path: Path
) -> None:
    issuer, _ = provider
    rt = _oidc_rt(web_rt, issuer, tmp_path)
    with TestClient(create_app(rt)) as c:
        start = c.get("/login/oidc", follow_redirects=False)
        back = httpx.post(
            start.headers["location"], data={"sub": "sub-chi"}, follow_redirects=False
        )
        target = urlsplit(back.headers["location"])
        forged = parse_qs(target.query)
        r = c.get(
            "/login/oidc/callback",
            params={"code": forged["code"][0], "state": "not-the-state"},
            follow_redirects=False,
        )
        assert r.status_code == 400 and "kt_session" not in c.cookies
    with rt.engine.connect() as conn:
        assert conn.execute(select(USERS.c.id).where(USERS.c.username == "chi.lt")).first() is None


def test_a_directory_account_cannot_sign_in_with_a_local_password_it_does_not_have(
    web_rt: Runtime,
) -> None:
    """Accounts created by the directory have no password hash: the local check never passes."""
    with write_tx(web_rt.engine) as conn:
        set_password(conn, "cb.qd", "mot-mat-khau-dai")
    with TestClient(create_app(web_rt)) as c:
        assert _post_login(c, "cb.qd", "mot-mat-khau-dai").status_code == 303
