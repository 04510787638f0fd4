"""Going live: the first administrator of an empty system, and the checks that keep demo
credentials and default secrets out of production."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import Connection, select

from khenthuong.errors import KhenthuongError
from khenthuong.passwords import verify_password
from khenthuong.roles import RoleDef
from khenthuong.services.accounts import set_password
from khenthuong.services.org import LEVELS, add_unit, add_user
from khenthuong.settings import Settings
from khenthuong.storage.models import UNITS, USER_ROLES, USERS

ADMIN_ROLE = "admin"
DEFAULT_SECRETS = frozenset({"change-this-secret-before-production", "changethis", "secret"})
"""Secret keys that were ever published (the compose file's placeholder among them)."""
MIN_SECRET_CHARS = 32


def is_production(settings: Settings) -> bool:
    """KHENTHUONG_ENV=production, or a base URL served over https."""
    return settings.env == "production" or (settings.base_url or "").startswith("https://")


def has_admin(conn: Connection) -> bool:
    """Whether any active account holds the administrator role."""
    found = conn.execute(
        select(USER_ROLES.c.id)
        .join(USERS, USERS.c.id == USER_ROLES.c.user_id)
        .where(USER_ROLES.c.role == ADMIN_ROLE, USERS.c.active.is_(True))
        .limit(1)
    ).first()
    return found is not None


def create_first_admin(
    conn: Connection,
    roles: dict[str, RoleDef],
    *,
    org_code: str,
    org_name: str,
    org_level: str,
    username: str,
    full_name: str,
    email: str,
    password: str,
    demo_password: str | None,
) -> int:
    """The organisation's top unit (created when absent) and its administrator with a
    password; refused when an administrator exists already or the password is the published
    demo one. Returns the new user's id."""
    if has_admin(conn):
        # Only `khenthuong init --admin` creates the first administrator: the CLI's command.
        raise KhenthuongError(
            "Hệ thống đã có quản trị viên; thêm người dùng bằng 'khenthuong users add'"
        )
    if demo_password is not None and password == demo_password:
        raise KhenthuongError("Không được dùng mật khẩu của dữ liệu mẫu (đã công bố trong README)")
    if org_level not in LEVELS:
        raise KhenthuongError(f"Cấp đơn vị {org_level!r} không hợp lệ; dùng: {', '.join(LEVELS)}")
    exists = conn.execute(select(UNITS.c.id).where(UNITS.c.code == org_code)).first()
    if exists is None:
        add_unit(conn, org_code, org_name, org_level)
    user_id = add_user(conn, username, full_name, email, org_code, [(ADMIN_ROLE, org_code)], roles)
    set_password(conn, username, password)
    return user_id


def demo_password_of(config_dir: Path) -> tuple[str | None, list[str]]:
    """The published demo password and the demo account names (config/demo.yaml)."""
    path = config_dir / "demo.yaml"
    if not path.exists():
        return None, []
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    users = [str(u["username"]) for u in data.get("users", []) if "username" in u]
    return data.get("demo_password"), users


def production_problems(settings: Settings, conn: Connection) -> list[str]:
    """Why the web process must not start in production (empty when it may, or when this is
    not production): a missing, short or published secret key, and accounts that still sign
    in with the published demo password."""
    # Printed only by `khenthuong serve` before it starts (cli.serve_main), never on a page
    # or by the API: the messages may name the CLI's commands.
    if not is_production(settings):
        return []
    found = []
    key = settings.secret_key.get_secret_value() if settings.secret_key else None
    if key is None:
        found.append(
            "Chưa đặt KHENTHUONG_SECRET_KEY (khóa ký phiên đăng nhập); tạo bằng "
            "'openssl rand -base64 48'"
        )
    elif key in DEFAULT_SECRETS or len(key) < MIN_SECRET_CHARS:
        found.append(
            "KHENTHUONG_SECRET_KEY là giá trị mặc định hoặc ngắn hơn "
            f"{MIN_SECRET_CHARS} ký tự; tạo khóa mới bằng 'openssl rand -base64 48'"
        )
    password, demo_users = demo_password_of(settings.config_dir)
    if password is not None:
        rows = conn.execute(
            select(USERS.c.username, USERS.c.password_hash).where(
                USERS.c.active.is_(True), USERS.c.password_hash.is_not(None)
            )
        ).all()
        # Every demo account, and any other whose name says demo; argon2 verification is
        # slow by design, so not every account of a large office is tried at start-up.
        candidates = [r for r in rows if r.username in demo_users or "demo" in r.username]
        weak = sorted(r.username for r in candidates if verify_password(r.password_hash, password))
        if weak:
            found.append(
                "Tài khoản còn dùng mật khẩu mẫu đã công bố: "
                + ", ".join(weak)
                + "; đổi bằng 'khenthuong users set-password TÊN' hoặc khóa tài khoản"
            )
    return found
