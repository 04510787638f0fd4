"""The bloc's year pages (httpx): launch, signatures, reports, scores, vote, with refusals
shown on the page; a bloc created and its members added from the web."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

Browser = Callable[[str], tuple[TestClient, str]]
PAGE = "/blocs/KCY4/years/2019"
HEADS = {"CCYQD": "tt.qd", "CCYDCQ": "tt.dcq", "CCYCA": "tt.ca", "CCYNG": "tt.ng"}
LAUNCH = {
    "theme": "Đoàn kết, sáng tạo, kỷ cương, nêu gương, quyết thắng",
    "launched_on": "07/03/2019",
    "code_1": "hoan_thanh", "description_1": "100% cán bộ hoàn thành nhiệm vụ",
    "kind_1": "at_least", "threshold_1": "100", "unit_1": "percent",
    "code_2": "dang_vien_tot", "description_2": "Trên 80% đảng viên hoàn thành tốt",
    "kind_2": "more_than", "threshold_2": "80", "unit_2": "percent",
    "code_3": "suy_thoai", "description_3": "Không có cán bộ suy thoái", "kind_3": "zero_cases",
}  # fmt: skip


def test_the_year_page_walks_the_covenant_to_the_proposals(browser: Browser) -> None:
    """The 2018 leader sees no launch form and is refused; the 2019 leader launches; a wrong
    signer is refused on the page; 250 % is refused; the vote shows the flag proposals."""
    qd, qd_csrf = browser("cb.qd")
    page = qd.get(PAGE)
    assert page.status_code == 200 and "Chỉ cán bộ thi đua, thủ trưởng đơn vị trưởng" in page.text
    assert "Khối trưởng: <strong>Cục Cơ yếu Đảng – Chính quyền</strong>" in page.text
    r = qd.post(f"{PAGE}/covenant", data={**LAUNCH, "csrf_token": qd_csrf})
    assert r.status_code == 403 and "chỉ cán bộ thi đua, thủ trưởng đơn vị đó" in r.text
    dcq, dcq_csrf = browser("cb.dcq")
    assert 'id="launch-form"' in dcq.get(PAGE).text
    r = dcq.post(f"{PAGE}/covenant", data={**LAUNCH, "csrf_token": dcq_csrf})
    assert r.status_code == 200, r.text  # redirected to the page
    assert "trên 80\u00a0%" in r.text and "không có trường hợp nào" in r.text
    r = qd.post(f"{PAGE}/sign", data={"unit": "CCYCA", "signed_on": "08/03/2019",
                                      "csrf_token": qd_csrf})  # fmt: skip
    assert r.status_code == 403 and "không được ký giao ước thay đơn vị" in r.text
    heads = {unit: browser(user) for unit, user in HEADS.items()}
    for unit, (c, csrf) in heads.items():
        r = c.post(f"{PAGE}/sign", data={"unit": unit, "signed_on": "08/03/2019",
                                         "csrf_token": csrf})  # fmt: skip
        assert r.status_code == 200, r.text
    assert r.text.count("08/03/2019 (tt.") == 4
    c, csrf = heads["CCYQD"]
    bad = {"round": "so_ket", "unit": "CCYQD", "value_hoan_thanh": "100",
           "value_dang_vien_tot": "250", "value_suy_thoai": "0", "csrf_token": csrf}  # fmt: skip
    r = c.post(f"{PAGE}/report", data=bad)
    assert r.status_code == 422 and "250 % ngoài khoảng 0–100 %" in r.text
    values = {"CCYQD": ("100", "90", "0"), "CCYDCQ": ("100", "85", "0"),
              "CCYCA": ("100", "70", "0"), "CCYNG": ("100", "95", "1")}  # fmt: skip
    for round_ in ("so_ket", "tong_ket"):
        for unit, (a, b, z) in values.items():
            c, csrf = heads[unit]
            r = c.post(f"{PAGE}/report", data={
                "round": round_, "unit": unit, "value_hoan_thanh": a, "value_dang_vien_tot": b,
                "value_suy_thoai": z, "csrf_token": csrf,
            })  # fmt: skip
            assert r.status_code == 200, r.text
    assert "dang_vien_tot: không đạt (70; trên 80\u00a0%) → 0" in r.text
    r = dcq.post(f"{PAGE}/vote", data={"voters": "4", "votes_CCYDCQ": "3", "votes_CCYQD": "4",
                                       "votes_CCYCA": "1", "csrf_token": dcq_csrf})  # fmt: skip
    assert r.status_code == 200, r.text
    table = r.text[r.text.index('data-testid="proposals"') :]
    assert "Cờ thi đua của Chính phủ" in table and "Cờ thi đua của Ban Cơ yếu Chính phủ" in table
    assert table.index("Cục Cơ yếu Quân đội") < table.index("Cục Cơ yếu Đảng – Chính quyền")


def test_a_bloc_is_created_and_its_members_added_from_the_web(browser: Browser) -> None:
    """Bộ Công an's office creates a cluster, adds two members, sets the 2026 cụm trưởng."""
    c, csrf = browser("cv.bca")
    assert "Cụm thi đua" in c.get("/blocs/new").text
    r = c.post("/blocs/new", data={"code": "cum8", "name": "Cụm thi đua số 8", "kind": "cum",
                                   "organiser": "BCA", "since": "2026", "flag_quota": "1",
                                   "ministry_flags": "2", "csrf_token": csrf})  # fmt: skip
    assert r.status_code == 200 and "CUM8" in r.text
    for unit in ("C07", "K02"):
        r = c.post("/blocs/CUM8/members/add",
                   data={"unit": unit, "from_date": "01/01/2026", "year": "2026",
                         "csrf_token": csrf})  # fmt: skip
        assert r.status_code == 200, r.text
    assert "Cụm trưởng: <strong>chưa chọn</strong>" in r.text
    r = c.post("/blocs/CUM8/years/2026/leader",
               data={"leader": "K02", "deputy": "C07", "source": "set", "csrf_token": csrf})  # fmt: skip
    assert "Cụm trưởng: <strong>Bộ Tư lệnh Cảnh vệ</strong>" in r.text
    assert "Cụm phó: Cục Cảnh sát phòng cháy" in r.text
