"""A form fuzzer over the HTML pages (not only the API): every POST route of the pages gets
Hypothesis-drawn forms, sent with a signed-in session and its CSRF token, as officers of
several roles. Each form starts from one the pages really show (scraped from their HTML,
with plausible values in its empty boxes) so the handlers get past their first check; then
fields are dropped, replaced by random and edge strings, dates in many shapes, huge
numbers, NUL bytes, or joined by unknown ones, and files are attached. No answer may be a
server error.

The routes are read from the application, so a page added later is fuzzed too."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from khenthuong.runtime import Runtime
from khenthuong.services import new_nominations, stepping
from khenthuong.services.actors import load_actor
from khenthuong.web.app import create_app
from tests.audit.test_verify import decided_nomination

Browser = Callable[[str], tuple[TestClient, str]]

USERS = ("cb.qd", "tk.qd", "tt.qd", "tb.bcy", "kiemtra")
"""Unit officer, council secretary, unit head, minister, auditor (read-only)."""
SKIPPED = {"/logout"}
"""Ends the session the other examples use."""

FIELDS = (
    "actor", "attestation", "attested", "authority", "basis", "close", "code",
    "commendation_type", "comment", "create_person", "create_persons", "decided_on",
    "decision_date", "decision_number", "doc_type", "ends_on", "f_decision_date",
    "f_decision_number", "f_reason", "f_amount", "filename", "findings", "held_on", "level",
    "login_token", "member", "members", "next", "nomination_id", "nominee_name",
    "nominee_unit_code", "number", "overdue", "password", "person_id", "proposing_unit",
    "reason", "record", "score", "signer", "state", "title", "token", "trigger", "unit",
    "username", "version", "workflow", "year", "agree_1", "disagree_1", "abstain_1",
)  # fmt: skip
"""Every field name the page templates and handlers use, and a few per-row ones."""

EDGE = (
    "", " ", "0", "-1", "1", "2", "9" * 30, "1e309", "NaN", "inf", "-0", "0x10", "1_000",
    "31/12/2026", "2026-12-31", "29/02/2025", "31/02/2026", "00/00/0000", "99/99/9999",
    "0001-01-01", "9999-12-31", "2026-13-01", "12/2026", "1/1/1", "31/12/99999",
    "\x00", "a\x00b", "<script>alert(1)</script>", "' OR 1=1 --", "Nguyễn Văn An",
    "Nguye\u0302\u0303n", "x" * 5000, "../../etc/passwd", "..\\..\\evil.pdf", "%00", "true",
    "on", "submit", "return_for_supplement", "withdraw", "decide", "council_approve",
    "giay_khen", "bang_khen_bo", "CCYQD", "BCY", "GIAY_KHEN", "45/QĐ-BCY", "1,2,3", "1,,x",
    "\u202e", "\ufeff", "\r\n", "=HYPERLINK(\"x\")",
)  # fmt: skip

values = st.one_of(
    st.sampled_from(EDGE),
    st.text(max_size=40),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates(min_value=date(1, 1, 1)).map(lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}"),
    st.dates(min_value=date(1, 1, 1)).map(date.isoformat),
)
files = st.lists(
    st.tuples(
        st.sampled_from(["file", "reports"]),
        st.sampled_from(["a.pdf", "ds.xlsx", "ds.csv", "x.exe", "..\\..\\e.pdf", "", "\x00.pdf"]),
        st.binary(max_size=200) | st.sampled_from([b"%PDF-1.4\n", b"PK\x03\x04", b"STT,Ho\n"]),
    ),
    max_size=2,
)
path_values = st.sampled_from(["1", "2", "3", "0", "-1", "2147483648", "1" * 25, "abc", "KCY4"])


def _flat(routes: list[Any]) -> list[Any]:
    """Routes with the included routers opened (FastAPI keeps them wrapped)."""
    found = []
    for r in routes:
        inner = getattr(r, "original_router", None)
        found += _flat(list(inner.routes)) if inner is not None else [r]
    return found


def page_routes(rt: Runtime) -> list[APIRoute]:
    """Every POST route of the HTML pages (the ones left out of the API document)."""
    return [
        r
        for r in _flat(list(create_app(rt).routes))
        if isinstance(r, APIRoute)
        and "POST" in r.methods
        and not r.include_in_schema
        and not r.path.startswith("/api")
        and r.path not in SKIPPED
    ]


def fill(path: str, draw: Callable[[Any], Any]) -> str:
    """The route's path with each {param} (or {param:path}) replaced by a drawn value."""
    out, rest = "", path
    while "{" in rest:
        head, _, tail = rest.partition("{")
        _, _, rest = tail.partition("}")
        out += head + draw(path_values)
    return out + rest


PAGES = ("/new", "/queue", "/councils", "/decisions", "/proposals", "/blocs", "/blocs/KCY4",
         "/nominations/1", "/persons/1", "/councils/1", "/proposals/1")  # fmt: skip
"""Pages whose forms are the starting points (as each role sees them)."""
PLAUSIBLE = {
    "nominee_name": "Nguyễn Văn Bình", "number": "77/QĐ-CCYQD", "decided_on": "01/12/2026",
    "held_on": "01/12/2026", "title": "Phiên họp xét khen thưởng", "reason": "Bổ sung hồ sơ",
    "year": "2026", "decision_date": "01/12/2020", "decision_number": "3/QĐ-CCYQD",
    "code": "GIAY_KHEN", "members": "Nguyễn Văn A\nTrần Thị B", "score": "8",
    "findings": "Hoàn thành tốt", "trigger": "submit", "signer": "Ngô Văn Thành",
    "comment": "Nhất trí", "nomination_id": "1", "f_reason": "Bổ sung", "proposing_unit": "CCYQD",
}  # fmt: skip


class _Forms(HTMLParser):
    """The POST forms of a page: (action, [(name, value)]) with each box's shown value
    (the first option of a select, every checkbox as if ticked)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "").lower() == "post":
                self.forms.append((a.get("action", ""), []))
            return
        if not self.forms or "name" not in a:
            if tag == "option" and self._select is not None and self.forms:
                self.forms[-1][1].append((self._select, a.get("value", "")))
                self._select = None
            return
        fields = self.forms[-1][1]
        if tag == "select":
            self._select = a["name"]
        elif tag == "textarea" or (tag == "input" and a.get("type") != "file"):
            if a.get("type") == "radio" and "checked" not in a:
                return
            fields.append((a["name"], a.get("value", "")))


def scraped(clients: dict[str, tuple[TestClient, str]]) -> list[tuple[str, str, dict[str, str]]]:
    """(user, action, form) of every POST form on PAGES, empty boxes given PLAUSIBLE values."""
    found = []
    for user, (client, _) in clients.items():
        for page in PAGES:
            parser = _Forms()
            parser.feed(client.get(page).text)
            for action, fields in parser.forms:
                form = {k: v or PLAUSIBLE.get(k, v) for k, v in fields if k != "csrf_token"}
                found.append((user, action, form))
    return found


def mutated(draw: Callable[[Any], Any], base: dict[str, str]) -> dict[str, str]:
    """Each field kept, dropped or replaced; unknown and random fields added."""
    form: dict[str, str] = {}
    for key, value in base.items():
        fate = draw(st.sampled_from(("keep", "keep", "keep", "drop", "value")))
        if fate == "keep":
            form[key] = value
        elif fate == "value":
            form[key] = draw(values)
    form.update(draw(st.dictionaries(st.sampled_from(FIELDS), values, max_size=3)))
    return form


@pytest.fixture
def signed_in(web_rt: Runtime, browser: Browser) -> dict[str, tuple[TestClient, str]]:
    """A signed-in page session per role, over a trail with a decided nomination and a
    submitted one (the council's queue shows its step form)."""
    decided_nomination(web_rt)
    with web_rt.engine.connect() as conn:
        officer = load_actor(conn, "cb.qd")
    nid = new_nominations.create_nomination(
        web_rt.engine, web_rt.registry, workflow="giay_khen", proposing_unit="CCYQD",
        actor=officer, nominee_name="Đỗ Thị Lan", create_person=True,
    )  # fmt: skip
    stepping.advance(web_rt.engine, web_rt.registry, nid, "submit", officer)
    return {user: browser(user) for user in USERS}


def test_every_page_form_survives_fuzzing(
    web_rt: Runtime, signed_in: dict[str, tuple[TestClient, str]]
) -> None:
    """No POST route of the pages answers 5xx, whatever the form holds."""
    routes = page_routes(web_rt)
    assert {"/new", "/decisions", "/councils", "/proposals/preview"} <= {r.path for r in routes}
    shown = scraped(signed_in)
    assert {"/new", "/councils", "/queue/advance"} <= {a for _, a, _ in shown}

    for route in routes:
        path = route.path
        pattern = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", route.path) + "$")
        bases = [(u, a, f) for u, a, f in shown if pattern.match(a)] or [(USERS[0], "", {})]

        @settings(
            max_examples=20,
            deadline=None,
            derandomize=True,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        )
        @given(st.data(), st.sampled_from(bases), files, st.booleans(), st.booleans())
        def fuzz(
            data: st.DataObject,
            base: tuple[str, str, dict[str, str]],
            uploads: list[tuple[str, str, bytes]],
            with_csrf: bool,
            shown_path: bool,
        ) -> None:
            user, action, form = base
            client, csrf = signed_in[user]
            url = action if action and shown_path else fill(path, data.draw)  # noqa: B023
            body = mutated(data.draw, form)
            if with_csrf or data.draw(st.booleans()):
                body["csrf_token"] = csrf
            sent = [(field, (name, content, "application/octet-stream"))
                    for field, name, content in uploads]  # fmt: skip
            r = client.post(url, data=body, files=sent or None, follow_redirects=False)
            assert r.status_code < 500, (path, url, user, body, r.text[:500])  # noqa: B023

        fuzz()
