"""The list rows built in Python (web/row_html.py): what repeats down a page (titles, units,
due texts) is escaped once and written into every row it belongs to, never into another."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from khenthuong.web.row_html import nomination_rows
from khenthuong.web.schemas import ItemView


def _item(nid: int, workflow: str, state: str, unit: str, left: int | None) -> ItemView:
    due = datetime(2026, 12, 7, 3, tzinfo=UTC) + timedelta(days=left or 0)
    return ItemView(
        {
            "id": nid, "workflow": workflow, "workflow_version": 1, "state": state,
            "closed": False, "nominee_name": f"Người <{nid}>", "year": 2026,
            "unit_code": unit, "due_at": due if left is not None else None,
            "overdue": bool(left is not None and left < 0), "working_days_left": left,
        }
    )  # fmt: skip


class _Names:
    def unit(self, code: str | None) -> str:
        return {"A&B": "Phòng <Tổ chức> & Cán bộ", "C": "Văn phòng"}.get(code or "", "")


def _context(calls: list[tuple[Any, ...]]) -> dict[str, Any]:
    def wf_title(wf: str) -> str:
        calls.append(("wf", wf))
        return {"gk": "Giấy khen <đơn vị>", "bk": "Bằng khen & cờ"}[wf]

    def state_title(wf: str, version: int, st: str) -> str:
        calls.append(("st", wf, version, st))
        return f"{st} <{wf}>"

    def due_text(item: Any) -> str:
        return f"còn {item.working_days_left} ngày" if item.working_days_left >= 0 else "quá hạn"

    return {
        "_": lambda key, **kw: key, "lang": "vi", "n": _Names(), "selectable": False,
        "wf_title": wf_title, "state_title": state_title, "due_text": due_text,
    }  # fmt: skip


def test_repeated_cells_are_escaped_in_each_row_and_looked_up_once() -> None:
    calls: list[tuple[Any, ...]] = []
    items = [
        _item(1, "gk", "draft", "A&B", 3),
        _item(2, "gk", "draft", "A&B", 3),
        _item(3, "bk", "council", "C", -2),
        _item(4, "gk", "council", "C", None),
    ]
    html = str(nomination_rows(_context(calls), items))  # type: ignore[call-arg]
    rows = html.split("<tr")[1:]
    assert len(rows) == 4
    for row in rows[:2]:
        assert "Giấy khen &lt;đơn vị&gt;" in row and "draft &lt;gk&gt;" in row
        assert 'title="A&amp;B">Phòng &lt;Tổ chức&gt; &amp; Cán bộ</td>' in row
        assert "10/12/2026 <small>còn 3 ngày</small>" in row
    assert "Bằng khen &amp; cờ" in rows[2] and 'title="C">Văn phòng</td>' in rows[2]
    assert "05/12/2026 <small>quá hạn</small>" in rows[2] and 'class="overdue"' in rows[2]
    assert "Giấy khen &lt;đơn vị&gt;" in rows[3] and "council &lt;gk&gt;" in rows[3]
    assert '<td data-label="due"></td>' in rows[3]
    assert "Người &lt;4&gt;" in rows[3]
    # each title was asked for once, however many rows show it
    assert sorted(c for c in calls if c[0] == "wf") == [("wf", "bk"), ("wf", "gk")]
    assert len([c for c in calls if c[0] == "st"]) == 3
