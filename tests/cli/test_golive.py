"""Going live: an empty system with its first administrator; no demo credentials and no
default secret in production."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.passwords import verify_password
from khenthuong.services import golive
from khenthuong.settings import Settings, get_settings
from khenthuong.storage.db import make_engine
from khenthuong.storage.models import UNITS, USER_ROLES, USERS

runner = CliRunner()
STRONG = "k" * 48
ADMIN = ["--org", "BTP", "--org-name", "Bộ Tư pháp", "--admin", "qt.btp",
         "--admin-name", "Lê Văn Quản", "--admin-email", "qt@btp.example",
         "--admin-password-stdin"]  # fmt: skip


def counts(settings: Settings) -> tuple[int, int, int]:
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        found = tuple(
            int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (UNITS, USERS, USER_ROLES)
        )
    engine.dispose()
    return found  # type: ignore[return-value]


def test_init_without_demo_is_empty_until_the_first_administrator(settings: Settings) -> None:
    result = runner.invoke(app, ["init"])
    assert result.exit_code == 0, result.output
    assert counts(settings) == (0, 0, 0)
    assert "Chưa có quản trị viên" in result.output and "--admin-password-stdin" in result.output
    result = runner.invoke(app, ["init", *ADMIN], input="mật-khẩu-dài-2026\n")
    assert result.exit_code == 0, result.output
    assert "Quản trị viên qt.btp" in result.output
    assert counts(settings) == (1, 1, 1)
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        user = conn.execute(select(USERS).where(USERS.c.username == "qt.btp")).one()
        role = conn.execute(select(USER_ROLES.c.role)).scalar_one()
        unit = conn.execute(select(UNITS.c.name, UNITS.c.level)).one()
    engine.dispose()
    assert verify_password(user.password_hash, "mật-khẩu-dài-2026")
    assert (user.full_name, role, tuple(unit)) == (
        "Lê Văn Quản",
        "admin",
        ("Bộ Tư pháp", "ministry"),
    )
    # A second init leaves the administrator alone and creates nobody.
    again = runner.invoke(app, ["init", *ADMIN], input="khác\n")
    assert again.exit_code == 0, again.output
    assert counts(settings) == (1, 1, 1)


def test_the_first_administrator_cannot_take_the_demo_password(settings: Settings) -> None:
    result = runner.invoke(app, ["init", *ADMIN], input="thidua2026\n")
    assert result.exit_code == 1
    assert "Không được dùng mật khẩu của dữ liệu mẫu" in result.output
    assert counts(settings) == (0, 0, 0)  # nothing half-written


def production(monkeypatch: pytest.MonkeyPatch, **env: str) -> Settings:
    monkeypatch.setenv("KHENTHUONG_ENV", "production")
    for key, value in env.items():
        monkeypatch.setenv(f"KHENTHUONG_{key}", value)
    get_settings.cache_clear()
    return get_settings()


def problems(settings: Settings) -> list[str]:
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        found = golive.production_problems(settings, conn)
    engine.dispose()
    return found


def test_production_refuses_missing_default_or_short_secrets(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert problems(settings) == []  # development: nothing checked
    monkeypatch.delenv("KHENTHUONG_SECRET_KEY", raising=False)
    assert problems(production(monkeypatch))[0].startswith("Chưa đặt KHENTHUONG_SECRET_KEY")
    for bad in ("change-this-secret-before-production", "ngắn"):
        assert (
            "giá trị mặc định hoặc ngắn hơn 32"
            in problems(production(monkeypatch, SECRET_KEY=bad))[0]
        )
    assert problems(production(monkeypatch, SECRET_KEY=STRONG)) == []
    monkeypatch.setenv("KHENTHUONG_ENV", "development")
    https = production(
        monkeypatch, ENV="development", SECRET_KEY="x", BASE_URL="https://tdkt.gov.vn"
    )
    assert golive.is_production(https) and problems(https)


def test_serve_refuses_demo_passwords_in_production(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert runner.invoke(app, ["init", "--demo"]).exit_code == 0
    production(monkeypatch, SECRET_KEY=STRONG, STATE_DIR=str(tmp_path))
    result = runner.invoke(app, ["serve", "--port", "1"])
    assert result.exit_code == 1, result.output
    flat = " ".join(result.output.split())
    assert "Không khởi động trong môi trường production" in flat
    assert "Tài khoản còn dùng mật khẩu mẫu đã công bố: " in flat and "cb.qd" in flat
    # Changing every demo account's password (or disabling it) lets the server start.
    engine = make_engine(get_settings().database_url)
    with engine.begin() as conn:
        conn.execute(USERS.update().values(active=False))
    engine.dispose()
    assert problems(get_settings()) == []


def test_set_password_refuses_the_demo_password_in_production(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert runner.invoke(app, ["init", *ADMIN], input="mật-khẩu-dài-2026\n").exit_code == 0
    production(monkeypatch, SECRET_KEY=STRONG)
    result = runner.invoke(app, ["users", "set-password", "qt.btp", "--password-stdin"],
                           input="thidua2026\n")  # fmt: skip
    assert result.exit_code == 2 and "mật khẩu của dữ liệu mẫu" in result.output
    result = runner.invoke(app, ["users", "set-password", "qt.btp", "--password-stdin"],
                           input="một-mật-khẩu-khác\n")  # fmt: skip
    assert result.exit_code == 0 and "Đã đặt mật khẩu cho qt.btp" in result.output
