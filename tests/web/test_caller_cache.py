"""The resolved caller is kept for KHENTHUONG_CALLER_CACHE_SECONDS: a change made in this
process is seen at once, one made elsewhere once the entry has expired."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from khenthuong.runtime import Runtime
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import USER_ROLES, USERS
from khenthuong.web.app import create_app


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
