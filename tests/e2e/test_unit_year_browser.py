"""The unit's year in real headless Chromium against `khenthuong serve` (demo data): Cục Cơ
yếu Quân đội. The officer asks for the year-end review before registering and is refused;
registers the unit's targets and three people for Lao động tiên tiến; a ratings file with an
unknown person is refused FILE:ROW, the ratings are then entered on the page (one person left
unrated); the review is proposed and submitted: the unrated person is refused for a missing
rating; the secretary opens a council session, records one vote for the title and closes it;
the head signs one decision for the title. Names, never codes; a message after each action.
Screenshots go to $KHENTHUONG_TEST_ARTIFACTS."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from khenthuong.localtime import LOCAL_TZ
from tests.e2e.test_browser import _shot, _sign_in
from tests.live_server import LiveServer, live_server

YEAR = datetime.now(UTC).astimezone(LOCAL_TZ).year
PAGE = f"/unit-year?unit=CCYQD&year={YEAR}"
PEOPLE = ("Lò Văn Một", "Lò Văn Hai", "Lò Thị Ba")
PDF = b"%PDF-1.4\n% e2e\n"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    """The demo with three more people in Cục Cơ yếu Quân đội and an API token of its
    officer (the pages list a batch's documents; they are attached through the API)."""
    home = tmp_path_factory.mktemp("unit-year")
    token_file = home / "token"
    seed = (
        "from khenthuong.runtime import open_runtime\n"
        "from khenthuong.services.accounts import create_token\n"
        "from khenthuong.services.org import add_person\n"
        "from khenthuong.storage.db import write_tx\n"
        "from pathlib import Path\n"
        "with write_tx(open_runtime().engine) as conn:\n"
        f"    for name in {PEOPLE!r}:\n"
        "        add_person(conn, name, 'CCYQD')\n"
        "    _, value = create_token(conn, 'cb.qd', 'e2e')\n"
        f"Path({str(token_file)!r}).write_text(value)\n"
    )
    with live_server(home, seed) as running:
        yield running, Path(token_file).read_text().strip()


def _submit(page: object, form: str) -> None:
    """Submit a form and wait for the page it leads to."""
    with page.expect_navigation():  # type: ignore[attr-defined]
        page.click(f"{form} button[type=submit]")  # type: ignore[attr-defined]


def _text(page: object, testid: str) -> str:
    return str(page.inner_text(f"[data-testid={testid}]"))  # type: ignore[attr-defined]


def test_a_units_year_in_chromium(
    live: tuple[LiveServer, str], chromium: object, tmp_path: Path
) -> None:
    server, token = live[0].base, live[1]
    # 1. The year-end review before any registration: refused, naming the unit.
    qd = _sign_in(chromium, server, "cb.qd")
    qd.goto(f"{server}{PAGE}")  # type: ignore[attr-defined]
    _submit(qd, "form[action='/unit-year/propose']")
    refusal = _text(qd, "error")
    assert f"Không có danh hiệu nào để bình xét năm {YEAR} của Cục Cơ yếu Quân đội" in refusal
    assert "CCYQD" not in refusal
    _shot(qd, "unit-year-01-review-refused-before-registration")

    # 2. The unit's targets, then three people registered for Lao động tiên tiến.
    qd.fill("#registration textarea[name=targets]", "100% hoàn thành nhiệm vụ")  # type: ignore[attr-defined]
    _submit(qd, "form[action='/unit-year/register']")
    assert _text(qd, "done") == "Đã lưu đăng ký thi đua"
    for name in PEOPLE:
        qd.select_option(  # type: ignore[attr-defined]
            "#register-title select[name=person_id]", label=f"{name} (Cục Cơ yếu Quân đội)"
        )
        qd.select_option("#register-title select[name=award_code]", label="Lao động tiên tiến")  # type: ignore[attr-defined]
        _submit(qd, "#register-title")
        assert _text(qd, "done") == "Đã đăng ký danh hiệu"
    registered = _text(qd, "registrations")
    assert registered.count("Lao động tiên tiến") == 3 and all(n in registered for n in PEOPLE)
    assert "LDTT" not in registered and "CCYQD" not in registered
    _shot(qd, "unit-year-02-registered")

    # 3. A ratings file naming someone unknown: every bad row FILE:ROW, nothing written.
    bad = tmp_path / "xep-loai.csv"
    bad.write_text("STT,Họ và tên,Xếp loại\n1,Lò Văn Một,htt\n2,Ai Đó,htt\n", encoding="utf-8")
    qd.set_input_files("#ratings input[type=file]", str(bad))  # type: ignore[attr-defined]
    _submit(qd, "form[action='/unit-year/ratings/import']")
    assert "xep-loai.csv:3: không có cá nhân tên 'Ai Đó'" in _text(qd, "import-errors")
    _shot(qd, "unit-year-03-ratings-file-refused")
    # ... then entered on the page; Lò Thị Ba stays unrated.
    for name in PEOPLE[:2]:
        row = qd.locator("[data-testid=ratings] tr", has_text=name)  # type: ignore[attr-defined]
        row.locator("select").select_option(label="Hoàn thành tốt nhiệm vụ")
    _submit(qd, "form[action='/unit-year/ratings']")
    assert _text(qd, "done") == "Xếp loại: 2 mới, 0 sửa, 0 giữ nguyên"

    # 4. The review is proposed (one batch), its documents attached, and submitted: the
    # unrated person is refused for the missing rating, the others go to the council.
    _submit(qd, "form[action='/unit-year/propose']")
    qd.wait_for_url(re.compile(r".*/unit-year/review/\d+$"))  # type: ignore[attr-defined]
    batch = int(str(qd.url).rsplit("/", 1)[1])  # type: ignore[attr-defined]
    listed = _text(qd, "title-LDTT")
    assert "Lao động tiên tiến (3)" in listed and "LDTT" not in listed
    for doc in ("to_trinh", "bao_cao_thanh_tich"):
        r = httpx.post(
            f"{server}/api/proposals/{batch}/documents", data={"doc_type": doc},
            headers={"Authorization": f"Bearer {token}"},
            files={"file": (f"{doc}.pdf", PDF, "application/pdf")},
        )  # fmt: skip
        assert r.status_code == 201, r.text
    qd.goto(f"{server}/proposals/{batch}")  # type: ignore[attr-defined]
    steps = qd.inner_text("[data-testid=step-trigger]")  # type: ignore[attr-defined]
    assert "submit" not in steps and "Trình" in steps, steps  # steps by name, code as value
    qd.select_option("select[name=trigger]", "submit")  # type: ignore[attr-defined]
    _submit(qd, f"form[action='/proposals/{batch}/advance']")
    refused = _text(qd, "refused")
    assert f"Chưa có xếp loại năm {YEAR}" in refused and refused.count("#") == 1
    assert "Lò Thị Ba (#" in refused, refused  # the refused nominee by name
    assert "Tờ trình đề nghị khen thưởng" in qd.inner_text("main")  # type: ignore[attr-defined]
    _shot(qd, "unit-year-04-submitted-missing-rating-refused")

    # 5. The secretary opens a session and records one vote for the title, then closes it.
    tk = _sign_in(chromium, server, "tk.qd")
    tk.goto(f"{server}/councils")  # type: ignore[attr-defined]
    tk.select_option("form[action='/councils'] select[name=unit]", "CCYQD")  # type: ignore[attr-defined]
    tk.fill(  # type: ignore[attr-defined]
        "form[action='/councils'] textarea[name=members]",
        "\n".join(f"Ủy viên {i}" for i in range(1, 8)),
    )
    _submit(tk, "form[action='/councils']")
    tk.goto(f"{server}/unit-year/review/{batch}")  # type: ignore[attr-defined]
    tk.fill("#tally-form input[name=agree_LDTT]", "7")  # type: ignore[attr-defined]
    _submit(tk, "#tally-form")
    assert _text(tk, "done") == "Đã ghi kết quả bỏ phiếu của 1 danh hiệu"
    _submit(tk, f"form[action='/unit-year/review/{batch}/close']")
    assert _text(tk, "done").startswith("Đã kết thúc phiên họp #")
    _shot(tk, "unit-year-05-voted-and-closed")

    # 6. The head signs one decision for the title: the two rated people are recognised.
    tt = _sign_in(chromium, server, "tt.qd")
    tt.goto(f"{server}/unit-year/review/{batch}")  # type: ignore[attr-defined]
    tt.fill("#decide-form input[name=number_LDTT]", "51/QĐ-CCYQD")  # type: ignore[attr-defined]
    tt.fill("#decide-form input[name=signer]", "Trần Văn Hùng")  # type: ignore[attr-defined]
    _submit(tt, "#decide-form")
    assert _text(tt, "done") == "Đã ký 51/QĐ-CCYQD"
    decided = _text(tt, "title-LDTT")
    assert decided.count("Đã có quyết định công nhận") == 2 and "Lò Thị Ba" in decided
    _shot(tt, "unit-year-06-decided")
    for p in (qd, tk, tt):
        p.context.close()  # type: ignore[attr-defined]
