"""A bloc's year in real headless Chromium against `khenthuong serve`: Khối thi đua 4 Hệ Cơ
yếu, 2019. The 2018 leader's officer tries to launch and is refused; the 2019 leader's
officer launches; an officer signing for another member is refused; the four heads sign;
250 % is refused; mid-year and year-end reports; the score table with its computation; the
vote and the flag proposals. Screenshots go to $KHENTHUONG_TEST_ARTIFACTS."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.test_browser import _shot, _sign_in
from tests.live_server import live_server

PAGE = "/blocs/KCY4/years/2019"
HEADS = {"CCYQD": "tt.qd", "CCYDCQ": "tt.dcq", "CCYCA": "tt.ca", "CCYNG": "tt.ng"}
RESULTS = {
    "CCYQD": ("100", "90", "0"),
    "CCYDCQ": ("100", "85", "0"),
    "CCYCA": ("100", "70", "0"),
    "CCYNG": ("100", "95", "1"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_server(tmp_path_factory.mktemp("bloc-year")) as running:
        yield running.base


def _submit(page: object, form: str) -> None:
    """Submit a form and wait for the page it leads to (the year page or its refusal)."""
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.click(f"{form} button[type=submit]")  # type: ignore[attr-defined]


def _error(page: object) -> str:
    return str(page.inner_text("[data-testid=error]"))  # type: ignore[attr-defined]


def _launch(page: object) -> None:
    page.fill(
        "#launch-form input[name=theme]",  # type: ignore[attr-defined]
        "Đoàn kết, sáng tạo, kỷ cương, nêu gương, quyết thắng",
    )
    page.fill("#launch-form input[name=launched_on]", "07/03/2019")  # type: ignore[attr-defined]
    rows = [
        ("hoan_thanh", "100% cán bộ, đảng viên hoàn thành nhiệm vụ", "at_least", "100"),
        ("dang_vien_tot", "Trên 80% đảng viên hoàn thành tốt, xuất sắc", "more_than", "80"),
        ("suy_thoai", "Không có cán bộ suy thoái", "zero_cases", ""),
    ]
    for i, (code, text, kind, threshold) in enumerate(rows, 1):
        page.fill(f"input[name=code_{i}]", code)  # type: ignore[attr-defined]
        page.fill(f"input[name=description_{i}]", text)  # type: ignore[attr-defined]
        page.select_option(f"select[name=kind_{i}]", kind)  # type: ignore[attr-defined]
        page.fill(f"input[name=threshold_{i}]", threshold)  # type: ignore[attr-defined]
    _submit(page, "#launch-form")


def _report(page: object, round_: str, unit: str, values: tuple[str, str, str]) -> None:
    page.select_option("#report-form select[name=round]", round_)  # type: ignore[attr-defined]
    page.select_option("#report-form select[name=unit]", unit)  # type: ignore[attr-defined]
    for code, value in zip(("hoan_thanh", "dang_vien_tot", "suy_thoai"), values, strict=True):
        page.fill(f"#report-form input[name=value_{code}]", value)  # type: ignore[attr-defined]
    _submit(page, "#report-form")


def test_a_bloc_year_in_chromium(server: str, chromium: object) -> None:
    # 1. The 2018 leader's officer (Cục Cơ yếu Quân đội) cannot launch the 2019 covenant.
    qd = _sign_in(chromium, server, "cb.qd")
    qd.goto(f"{server}{PAGE}")  # type: ignore[attr-defined]
    assert "Cục Cơ yếu Đảng – Chính quyền" in qd.inner_text("[data-testid=leader]")  # type: ignore[attr-defined]
    _launch(qd)
    assert "chỉ cán bộ thi đua, thủ trưởng đơn vị đó" in _error(qd)
    _shot(qd, "bloc-01-other-year-leader-refused")
    # 2. The 2019 leader's officer launches it.
    dcq = _sign_in(chromium, server, "cb.dcq")
    dcq.goto(f"{server}{PAGE}")  # type: ignore[attr-defined]
    _launch(dcq)
    targets = dcq.inner_text("[data-testid=targets]")  # type: ignore[attr-defined]
    assert "trên 80\u00a0%" in targets and "không có trường hợp nào" in targets
    _shot(dcq, "bloc-02-launched")
    # 3. A wrong signer is refused; the four heads sign.
    qd.goto(f"{server}{PAGE}")  # type: ignore[attr-defined]
    qd.select_option("#sign-form select[name=unit]", "CCYCA")  # type: ignore[attr-defined]
    _submit(qd, "#sign-form")
    assert "không được ký giao ước thay đơn vị" in _error(qd)
    heads = {}
    for unit, user in HEADS.items():
        page = heads[unit] = _sign_in(chromium, server, user)
        page.goto(f"{server}{PAGE}")  # type: ignore[attr-defined]
        page.select_option("#sign-form select[name=unit]", unit)  # type: ignore[attr-defined]
        _submit(page, "#sign-form")
    signed = heads["CCYNG"].inner_text("[data-testid=signatures]")  # type: ignore[attr-defined]
    assert signed.count("07/03/2019") == 4 and "chưa ký" not in signed
    _shot(heads["CCYNG"], "bloc-03-signed")
    # 4. A value out of range is refused; mid-year and year-end reports.
    _report(heads["CCYQD"], "so_ket", "CCYQD", ("100", "250", "0"))
    assert "250 % ngoài khoảng 0–100 %" in _error(heads["CCYQD"])
    for round_ in ("so_ket", "tong_ket"):
        for unit, values in RESULTS.items():
            _report(heads[unit], round_, unit, values)
    page = heads["CCYNG"]
    mid = page.inner_text("[data-testid=scores-so_ket]")  # type: ignore[attr-defined]
    year_end = page.inner_text("[data-testid=scores-tong_ket]")  # type: ignore[attr-defined]
    assert "chưa báo cáo" not in mid + year_end
    assert "dang_vien_tot: không đạt (70; trên 80\u00a0%) → 0" in year_end
    assert "suy_thoai: không đạt (1; không có trường hợp nào) → 0" in year_end
    _shot(page, "bloc-04-score-tables")
    # 5. The year's leader votes; the flags are proposed.
    dcq.goto(f"{server}{PAGE}")  # type: ignore[attr-defined]
    for unit, votes in {"CCYDCQ": "4", "CCYQD": "3", "CCYCA": "1", "CCYNG": "0"}.items():
        dcq.fill(f"#vote-form input[name=votes_{unit}]", votes)  # type: ignore[attr-defined]
    _submit(dcq, "#vote-form")
    rows = dcq.inner_text("[data-testid=proposals]").splitlines()  # type: ignore[attr-defined]
    assert any(
        "Cục Cơ yếu Đảng – Chính quyền" in r and "Cờ thi đua của Chính phủ" in r for r in rows
    )
    assert any(
        "Cục Cơ yếu Quân đội" in r and "Cờ thi đua của Ban Cơ yếu Chính phủ" in r for r in rows
    )
    _shot(dcq, "bloc-05-proposals")
    for p in (qd, dcq, *heads.values()):
        p.context.close()  # type: ignore[attr-defined]
