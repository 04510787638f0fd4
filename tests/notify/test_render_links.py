"""Links in digests point at pages the web application serves."""

from __future__ import annotations

from datetime import date
from email.message import EmailMessage

from khenthuong.notify.render import Digest, DigestItem, Sender, render_digest

BASE_URL = "https://tdkt.example.vn"


def _bodies(msg: EmailMessage) -> tuple[str, str]:
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
    return text.get_content(), html.get_content()


def _visit(path: str | None) -> DigestItem:
    return DigestItem(
        nomination_id=7,
        nominee_name="Cục Cơ yếu Công an kiểm tra Cục Cơ yếu Ngoại giao",
        workflow_title="Kiểm tra chéo – Khối 4",
        state_title="Kiểm tra từ 26/11/2026 đến 27/11/2026",
        due_on=date(2026, 11, 26),
        working_days_left=3,
        kind="before",
        subject="inspection",
        path=path,
    )


def test_an_inspection_item_links_to_its_bloc_page() -> None:
    """A visit links to the bloc's page of that year (there is no /inspections/{id} page)."""
    digest = Digest("a@b.example", "A", (_visit("blocs/KCY4?year=2026"),))
    text, html = _bodies(render_digest(digest, ledger_key="k", sender=Sender(base_url=BASE_URL)))
    assert f"{BASE_URL}/blocs/KCY4?year=2026" in text
    assert f'href="{BASE_URL}/blocs/KCY4?year=2026"' in html
    assert "/inspections/" not in text + html


def test_an_inspection_item_without_a_page_has_no_link() -> None:
    """No path, no link: never a link to a page that does not exist."""
    digest = Digest("a@b.example", "A", (_visit(None),))
    text, html = _bodies(render_digest(digest, ledger_key="k", sender=Sender(base_url=BASE_URL)))
    assert f"{BASE_URL}/" not in text
    assert f'href="{BASE_URL}/' not in html
