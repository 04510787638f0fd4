"""The resolved caller is kept for KHENTHUONG_CALLER_CACHE_SECONDS: a change made in this
process is seen at once, one made elsewhere once the entry has expired."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select

from khenthuong.runtime import Runtime
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import EVENTS, USER_ROLES, USERS
from khenthuong.web import context
from khenthuong.web.app import create_app
from tests.web.conftest import sign_in


def _grants(c: TestClient, headers: dict[str, str]) -> list[dict[str, str]]:
    response = c.get("/api/me", headers=headers)
    assert response.status_code == 200
    grants: list[dict[str, str]] = response.json()["grants"]
    return grants


def _withdraw_outside(rt: Runtime, username: str) -> None:
    """Delete the user's roles through the driver alone, as another process would: no
    statement of this process's engines sees it."""
    with rt.engine.connect() as conn:
        user_id = conn.execute(select(USERS.c.id).where(USERS.c.username == username)).scalar()
    raw = rt.engine.raw_connection()
    try:
        cursor = raw.cursor()
        marker = "?" if rt.engine.dialect.name == "sqlite" else "%s"
        cursor.execute(f"DELETE FROM user_role WHERE user_id = {marker}", (user_id,))
        raw.commit()
    finally:
        raw.close()


def test_a_role_withdrawn_in_this_process_is_seen_at_once(
    web_rt: Runtime, token: Callable[[str], dict[str, str]]
) -> None:
    rt = replace(web_rt, settings=web_rt.settings.model_copy(update={"caller_cache_seconds": 3600}))
    headers = token("cb.qd")
    with TestClient(create_app(rt)) as c:
        assert _grants(c, headers) == [{"role": "unit_officer", "scope": "CCYQD"}]
        with write_tx(rt.engine) as conn:
            user_id = conn.execute(select(USERS.c.id).where(USERS.c.username == "cb.qd")).scalar()
            conn.execute(delete(USER_ROLES).where(USER_ROLES.c.user_id == user_id))
        assert _grants(c, headers) == []


def test_a_change_made_elsewhere_waits_for_the_entry_to_expire(
    web_rt: Runtime, token: Callable[[str], dict[str, str]]
) -> None:
    kept = replace(
        web_rt, settings=web_rt.settings.model_copy(update={"caller_cache_seconds": 3600})
    )
    uncached = replace(
        web_rt, settings=web_rt.settings.model_copy(update={"caller_cache_seconds": 0})
    )
    headers = token("cb.qd")
    with TestClient(create_app(kept)) as c, TestClient(create_app(uncached)) as fresh:
        before = [{"role": "unit_officer", "scope": "CCYQD"}]
        assert _grants(c, headers) == before == _grants(fresh, headers)
        _withdraw_outside(web_rt, "cb.qd")
        assert _grants(c, headers) == before  # within the TTL: the entry as it was read
        assert _grants(fresh, headers) == []  # no cache: read on every request
        c.app.state.ctx.callers.clear()  # type: ignore[attr-defined]
        assert _grants(c, headers) == []


def test_a_cached_caller_is_answered_without_the_database_and_refusals_still_go_the_long_way(
    web_rt: Runtime,
    token: Callable[[str], dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`api_caller` answers a caller the cache holds in the event loop, without loading it;
    a refused token, a wrong CSRF token and an emptied cache take the full check, which
    loads, refuses and records the refusal in the audit trail."""
    rt = replace(web_rt, settings=web_rt.settings.model_copy(update={"caller_cache_seconds": 3600}))
    headers = token("cb.qd")
    loads: list[str] = []
    real = context._token_actor

    def counted(ctx: object, value: str, today: object) -> object:
        loads.append(value)
        return real(ctx, value, today)  # type: ignore[arg-type]

    hops: list[object] = []
    real_hop = context.run_in_threadpool

    async def hop(func: Any, *args: Any) -> Any:
        hops.append(func)
        return await real_hop(func, *args)

    monkeypatch.setattr(context, "_token_actor", counted)
    monkeypatch.setattr(context, "run_in_threadpool", hop)
    with TestClient(create_app(rt)) as c:
        for _ in range(3):
            assert _grants(c, headers) == [{"role": "unit_officer", "scope": "CCYQD"}]
        assert len(loads) == 1  # loaded once, then answered from the cache ...
        assert len(hops) == 1  # ... in the event loop, without a thread hop
        bad = {"Authorization": "Bearer khong-phai-ma-that"}
        for _ in range(2):
            assert c.get("/api/me", headers=bad).status_code == 401
        assert len(loads) == 2  # the refused token is remembered as refused ...
        assert _denials(rt) == 2  # ... and each refusal is still recorded
        c.app.state.ctx.callers.clear()  # type: ignore[attr-defined]
        assert _grants(c, headers) and len(loads) == 3
        # a session whose CSRF token is wrong is refused on a write, cached or not
        session = TestClient(create_app(rt))
        csrf = sign_in(session, "cb.qd")
        assert session.get("/api/me").status_code == 200
        assert session.get("/api/me").status_code == 200  # now cached
        wrong = session.post("/api/nominations", json={}, headers={"X-CSRF-Token": "sai"})
        assert wrong.status_code == 403 and _denials(rt) == 3
        right = session.post("/api/nominations", json={}, headers={"X-CSRF-Token": csrf})
        assert right.status_code == 422  # past the check, refused for its (empty) body
        session.close()


def _denials(rt: Runtime) -> int:
    with rt.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(EVENTS).where(EVENTS.c.trigger == "access_denied")
            ).scalar_one()
        )
