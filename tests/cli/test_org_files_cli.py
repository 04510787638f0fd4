"""`khenthuong units|persons|users import|export` (issue 18): a dry run writes nothing, an
import prints each difference with its row, a bad file prints FILE:ROW and exits 1."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from khenthuong.cli.app import app
from khenthuong.settings import Settings, get_settings
from khenthuong.storage.db import make_engine
from khenthuong.storage.models import EVENTS, PERSONS, UNITS

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def fresh(settings: Settings) -> Settings:
    code, out, _ = run("init", "--demo")
    assert code == 0, out
    return settings


def count(settings: Settings, query: object) -> int:
    engine = make_engine(settings.database_url)
    with engine.connect() as conn:
        value = int(conn.execute(query).scalar_one())  # type: ignore[call-overload]
    engine.dispose()
    return value


def test_units_persons_and_users_round_trip(fresh: Settings, tmp_path: Path) -> None:
    units = tmp_path / "don-vi.csv"
    units.write_text(
        "Mã đơn vị,Tên đơn vị,Mã đơn vị cấp trên,Cấp,Loại đơn vị\n"
        "CCYQD,Cục Cơ yếu Quân đội,BCY,unit,Cục\n"
        "P1,Phòng Tổ chức,CCYQD,cơ sở,Phòng\n",
        encoding="utf-8",
    )
    events = select(func.count()).select_from(EVENTS)
    before = count(fresh, events)
    code, out, _ = run("units", "import", str(units), "--as", "admin", "--dry-run")
    assert code == 0, out
    assert "don-vi.csv:3: Thêm đơn vị Phòng Tổ chức thuộc Cục Cơ yếu Quân đội" in out
    assert "Chạy thử, chưa ghi gì" in out and count(fresh, events) == before
    code, out, _ = run("units", "import", str(units), "--as", "admin")
    assert code == 0 and "Đã áp dụng: 1 thêm đơn vị, 1 sửa đơn vị" in out
    assert count(fresh, events) == before + 3
    assert count(fresh, select(func.count()).where(UNITS.c.code == "P1")) == 1

    staff = tmp_path / "ca-nhan.csv"
    staff.write_text(
        "Mã cán bộ,Họ và tên,Năm sinh,Mã đơn vị,Ngày hiệu lực\n"
        "CB1,Nguyễn Văn Một,1980,P1,\nCB2,Lê Thị Hai,1990,KHONGCO,32/01/2027\n",
        encoding="utf-8",
    )
    code, out, err = run("persons", "import", str(staff), "--as", "admin")
    assert code == 1
    assert "ca-nhan.csv:3: không có đơn vị mã 'KHONGCO'" in err and "Không nhập gì" in err
    assert count(fresh, select(func.count()).where(PERSONS.c.staff_code == "CB1")) == 0
    staff.write_text(staff.read_text(encoding="utf-8").replace("KHONGCO,32/01/2027", "P1,"),
                     encoding="utf-8")  # fmt: skip
    code, out, err = run(
        "persons", "import", str(staff), "--as", "admin", "--effective", "1/2/2027"
    )
    assert code == 0, err
    assert "2 thêm cá nhân" in out
    exported = tmp_path / "ca-nhan.xlsx"
    assert run("persons", "export", str(exported))[0] == 0 and exported.read_bytes()[:2] == b"PK"

    accounts = tmp_path / "tai-khoan.csv"
    accounts.write_text(
        "Tên đăng nhập,Họ và tên,Thư điện tử,Mã đơn vị,Vai trò\n"
        "moi.c,Người Mới,moi.c@x.example,P1,unit_officer\n",
        encoding="utf-8",
    )
    code, out, err = run("users", "import", str(accounts), "--as", "admin")
    assert code == 0, err
    assert "khenthuong users set-password" in out and "moi.c" in out
    code, out, err = run("users", "import", str(accounts), "--as", "cb.qd")
    assert code == 1 and "Chỉ quản trị hệ thống" in err
    back = tmp_path / "tk.csv"
    assert run("users", "export", str(back))[0] == 0
    text = back.read_text(encoding="utf-8-sig")
    assert "moi.c,Người Mới,moi.c@x.example,P1,unit_officer@P1,có" in text
    assert "mật khẩu" not in text.lower() and "password" not in text.lower()


def test_new_accounts_get_one_time_links(
    fresh: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    accounts = tmp_path / "tai-khoan.csv"
    accounts.write_text(
        "Tên đăng nhập,Thư điện tử,Mã đơn vị,Vai trò\nmoi.e,moi.e@x.example,CCYQD,unit_head\n",
        encoding="utf-8",
    )
    links = tmp_path / "lien-ket.csv"
    code, _, err = run("users", "import", str(accounts), "--as", "admin", "--links", str(links))
    assert code == 2 and "KHENTHUONG_BASE_URL" in err and not links.exists()
    monkeypatch.setenv("KHENTHUONG_BASE_URL", "https://kt.example")
    get_settings.cache_clear()
    code, out, err = run("users", "import", str(accounts), "--as", "admin", "--links", str(links))
    assert code == 0, err
    assert "Đã ghi 1 liên kết đặt mật khẩu" in out
    row = links.read_text(encoding="utf-8-sig").splitlines()[1]
    assert row.startswith("moi.e,moi.e@x.example,https://kt.example/set-password?token=ktp_")
    code, out, err = run("users", "password-link", "moi.e", "--as", "admin")
    assert code == 0, err
    assert out.startswith("moi.e\thttps://kt.example/set-password?token=ktp_")
