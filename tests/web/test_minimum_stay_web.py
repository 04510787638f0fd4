"""The steps a public listing still holds back show the first day they are possible, in the
API's actions and on the nomination page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from fastapi.testclient import TestClient

from khenthuong.calendar.workdays import default_calendar
from khenthuong.runtime import Runtime
from khenthuong.workflow.minimum import local_day, possible_from
from tests.services.test_minimum_stay import listed
from tests.web.helpers import Headers


def test_actions_name_the_day_a_held_back_step_becomes_possible(
    client: TestClient,
    token: Headers,
    web_rt: Runtime,
    browser: Callable[[str], tuple[TestClient, str]],
) -> None:
    now = datetime.now(UTC)
    nid = listed(web_rt, "Tôn Thất Nam", at=now)
    first = possible_from(default_calendar(), local_day(now), 10)
    actions = client.get(f"/api/nominations/{nid}/actions", headers=token("cv.bcy")).json()
    waits = {a["trigger"]: a["possible_from"] for a in actions}
    assert waits == {
        "end_publicity": first.isoformat(),
        "return_for_supplement": None,
        "reject": None,
        "withdraw": None,
    }
    page, _ = browser("cv.bcy")
    html = page.get(f"/nominations/{nid}").text
    assert html.count('class="waits"') == 1
    assert (
        f'data-possible-from="{first.isoformat()}">Chưa đủ thời gian tối thiểu; có thể chuyển '
        f"bước từ ngày {first:%d/%m/%Y}</small>"
    ) in html


def test_the_workflow_page_shows_the_listing_minimum(
    browser: Callable[[str], tuple[TestClient, str]],
) -> None:
    page, _ = browser("cv.bcy")
    html = page.get("/workflows/huan_chuong_lao_dong").text
    assert "tối thiểu 10 ngày làm việc</span>" in html
    assert html.count('class="minimum"') == 2  # the SVG box and the state card
