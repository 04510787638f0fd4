"""The Tổ chức và cá nhân page in real headless Chromium: the administrator follows the menu,
uploads a unit file, reads the preview, applies it, and downloads the tree."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_browser import _shot, _sign_in, live, server

__all__ = ["live", "server"]


def test_the_administrator_imports_units_in_chromium(
    server: str, chromium: object, tmp_path: Path
) -> None:
    units = tmp_path / "don-vi.csv"
    units.write_text(
        "Mã đơn vị,Tên đơn vị,Mã đơn vị cấp trên,Cấp,Loại đơn vị\n"
        "PTC,Phòng Tổ chức cán bộ,CCYQD,unit,Phòng\n",
        encoding="utf-8",
    )
    page = _sign_in(chromium, server, "admin")
    page.click("nav >> text=Tổ chức và cá nhân")  # type: ignore[attr-defined]
    page.wait_for_selector("#org-units-form")  # type: ignore[attr-defined]
    page.set_input_files("#org-units-form input[name=file]", str(units))  # type: ignore[attr-defined]
    page.click("#org-units-form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("[data-testid=org-changes]")  # type: ignore[attr-defined]
    table = page.inner_text("[data-testid=org-changes]")  # type: ignore[attr-defined]
    assert "Thêm đơn vị Phòng Tổ chức cán bộ thuộc Cục Cơ yếu Quân đội" in table
    _shot(page, "20-org-preview")
    page.click("#org-apply-form button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_selector("text=Đã áp dụng")  # type: ignore[attr-defined]
    with page.expect_download() as download:  # type: ignore[attr-defined]
        page.click("#org-units a:text('CSV')")  # type: ignore[attr-defined]
    saved = tmp_path / "tree.csv"
    download.value.save_as(saved)
    assert "PTC,Phòng Tổ chức cán bộ,CCYQD,unit,Phòng" in saved.read_text(encoding="utf-8-sig")
    _shot(page, "21-org-applied")
    page.context.close()  # type: ignore[attr-defined]
