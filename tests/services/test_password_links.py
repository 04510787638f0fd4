"""One-time set-password links: used once, expire, a newer link voids the older, a
disabled account's link does not work, the published demo password can be refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from khenthuong.errors import KhenthuongError
from khenthuong.passwords import verify_password
from khenthuong.runtime import Runtime
from khenthuong.services.password_links import BadLink, issue_links, link_user, use_link
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import USERS

NOW = datetime(2027, 1, 10, 8, 0, tzinfo=UTC)


def issue(rt: Runtime, user: str = "cb.qd", now: datetime = NOW) -> str:
    with write_tx(rt.engine) as conn:
        [link] = issue_links(conn, [user], base_url="https://kt.example/", actor="admin", now=now)
    assert link.url.startswith("https://kt.example/set-password?token=")
    return link.url.split("token=", 1)[1]


def test_a_link_works_once_until_it_expires(rt: Runtime) -> None:
    token = issue(rt)
    with rt.engine.connect() as conn:
        assert link_user(conn, token, NOW) == "cb.qd"
        with pytest.raises(BadLink):
            link_user(conn, token, NOW + timedelta(hours=72))
    with write_tx(rt.engine) as conn:
        assert use_link(conn, token, "mat-khau-rieng", now=NOW + timedelta(hours=1)) == "cb.qd"
    with rt.engine.connect() as conn:
        stored = conn.execute(select(USERS.c.password_hash).where(USERS.c.username == "cb.qd"))
        assert verify_password(stored.scalar_one(), "mat-khau-rieng")
    with write_tx(rt.engine) as conn, pytest.raises(BadLink):
        use_link(conn, token, "mat-khau-khac", now=NOW + timedelta(hours=2))


def test_a_newer_link_voids_the_older_and_a_disabled_account_has_none(rt: Runtime) -> None:
    older = issue(rt)
    newer = issue(rt, now=NOW + timedelta(minutes=5))
    with rt.engine.connect() as conn:
        with pytest.raises(BadLink):
            link_user(conn, older, NOW + timedelta(minutes=6))
        assert link_user(conn, newer, NOW + timedelta(minutes=6)) == "cb.qd"
    with write_tx(rt.engine) as conn:
        conn.execute(update(USERS).where(USERS.c.username == "cb.qd").values(active=False))
    with rt.engine.connect() as conn, pytest.raises(BadLink):
        link_user(conn, newer, NOW + timedelta(minutes=6))
    with write_tx(rt.engine) as conn, pytest.raises(KhenthuongError, match="đã bị khóa"):
        issue_links(conn, ["cb.qd"], base_url="https://kt.example", actor="admin")


def test_a_refused_password_is_not_taken(rt: Runtime) -> None:
    token = issue(rt)
    with write_tx(rt.engine) as conn, pytest.raises(KhenthuongError, match="đã được công bố"):
        use_link(conn, token, "thidua2026", refused=("thidua2026",), now=NOW)
    with rt.engine.connect() as conn:
        assert link_user(conn, token, NOW) == "cb.qd"
