"""The rows of a nomination list (Việc của tôi, Hồ sơ), built in Python.

A list page shows 100 rows of eight cells; written as a Jinja template, autoescaping and
attribute look-ups of about 2,300 values per page were half of `GET /queue`'s rendering
(BENCHMARKS.md, "The queue at 100,000 nominations"). Here only the text that can hold markup
characters is escaped (names, titles, translated labels), once per page for the labels;
integers are written as they are. The output is the same, byte for byte, as the template it
replaced (`nomination_rows.html` now calls `nomination_rows`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup, escape

from khenthuong.formats import day

LABELS = ("select", "id", "nominee", "workflow", "state", "unit", "year", "due")


@pass_context
def nomination_rows(context: Context, items: Iterable[Any]) -> Markup:
    """`<tr>` per item, a "nothing" row when there is none, and the next-page row when the
    page's context has a `next_url`; `selectable` adds a tick box per row."""
    t = context["_"]
    lang = context.get("lang", "vi")
    wf_title = context["wf_title"]
    state_title = context["state_title"]
    due_text = context["due_text"]
    unit = context["n"].unit
    selectable = bool(context.get("selectable"))
    select, l_id, nominee, workflow, state, unit_l, year, due = (escape(t(key)) for key in LABELS)
    # The tick box's label once per page, split where the id goes (ids are digits: nothing
    # to escape), instead of a translation and a format per row.
    ticked_parts = escape(t("select_file", id="\x00")).split("\x00") if selectable else []
    parts = ["\n\n"]
    # Titles, units and due texts repeat down a page: each is escaped once (a dict look-up
    # after that); the nominee's name, unique a row, is escaped every time. Dates are digits
    # and slashes (`day`), written as they are.
    escaped: dict[tuple[str, ...], str] = {}

    def once(key: tuple[str, ...], make: Callable[..., str], *args: Any) -> str:
        value = escaped.get(key)
        if value is None:
            value = escaped[key] = escape(make(*args))
        return value

    for i in items:
        nid = i.id
        name = escape(i.nominee_name)
        parts.append(f'\n<tr class="{"overdue" if i.overdue else ""}">\n  ')
        if selectable:
            ticked = str(nid).join(ticked_parts)
            parts.append(
                f'<td data-label="{select}"><input type="checkbox" name="nomination_id" '
                f'value="{nid}" aria-label="{ticked} {name}"></td>'
            )
        code = i.unit_code or ""
        when = ""
        if i.due_at and not i.closed:
            left = once(("due", str(i.working_days_left)), due_text, i)
            when = f"{day(i.due_at, lang)} <small>{left}</small>"
        wf, version, st = i.workflow, i.workflow_version, i.state
        parts.append(
            f'\n  <td data-label="{l_id}"><a href="/nominations/{nid}">#{nid}</a></td>'
            f'\n  <td data-label="{nominee}"><a href="/nominations/{nid}">{name}</a></td>'
            f'\n  <td data-label="{workflow}">{once(("wf", wf), wf_title, wf)}</td>'
            f'\n  <td data-label="{state}">'
            f"{once(('st', wf, str(version), st), state_title, wf, version, st)}</td>"
            f'\n  <td data-label="{unit_l}" title="{once(("code", code), str, code)}">'
            f"{once(('unit', code), unit, code or None)}</td>"
            f'\n  <td data-label="{year}">{i.year}</td>'
            f'\n  <td data-label="{due}">{when}</td>\n</tr>\n'
        )
    span = 8 if selectable else 7
    if len(parts) == 1:
        parts.append(f'\n<tr><td colspan="{span}">{escape(t("nothing"))}</td></tr>\n')
    parts.append("\n")
    next_url = context.get("next_url")
    if next_url:
        parts.append(
            f'<tr><td colspan="{span}"><a href="{escape(next_url)}">'
            f"{escape(t('next_page'))} →</a></td></tr>"
        )
    return Markup("".join(parts))
