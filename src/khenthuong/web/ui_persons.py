"""A person's emulation and award history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from khenthuong.commendation import COMMENDATION_TYPES
from khenthuong.errors import Forbidden, KhenthuongError, NotFound
from khenthuong.rules.catalog import catalog_in
from khenthuong.rules.eligibility import DISCIPLINE_LEVELS
from khenthuong.services.access import can_read, is_read_only
from khenthuong.services.history_import import COLUMNS as HISTORY_COLUMNS
from khenthuong.services.history_import import HEADERS_VI as HISTORY_HEADERS
from khenthuong.services.history_import import record_one
from khenthuong.storage.db import reading, write_tx
from khenthuong.storage.history import AWARD_RECORDS, BLOCKERS, INITIATIVES, YEARLY_RATINGS
from khenthuong.storage.models import PERSONS, UNITS
from khenthuong.web.context import Caller, ctx_of, local_today
from khenthuong.web.i18n import translate
from khenthuong.web.schemas import IdPath
from khenthuong.web.ui_common import (
    _error_text,
    _outside_scope,
    _posted,
    check_csrf,
    done,
    lang_of,
    render,
    ui_caller,
)
from khenthuong.web.xlsx import xlsx_response

router = APIRouter(include_in_schema=False)
HISTORY_FIELDS = (
    "record", "year", "code", "decision_number", "decision_date", "ends_on", "title", "level",
    "commendation_type",
)  # fmt: skip


# --------------------------------------------------------------------------- people


def _person_page(
    request: Request, caller: Caller, pid: int, error: str | None = None, status_code: int = 200
) -> Response:
    ctx = ctx_of(request)
    with reading(ctx.rt.engine) as conn:
        person = conn.execute(
            select(PERSONS, UNITS.c.code, UNITS.c.path, UNITS.c.name.label("unit_name"))
            .join(UNITS, UNITS.c.id == PERSONS.c.unit_id)
            .where(PERSONS.c.id == pid)
        ).mappings().first()  # fmt: skip
        if person is None:
            return render(
                request,
                "error.html",
                caller,
                404,
                message=translate("no_person", lang_of(request), id=pid),
            )
        if not can_read(caller.actor, person["path"], caller.inspecting):
            return _outside_scope(
                request, caller, status_code, f"person #{pid} outside scope",
                translate("outside_scope", lang_of(request)),
            )  # fmt: skip

        def rows(table: Any, order: Any) -> list[Any]:
            return list(
                conn.execute(
                    select(table).where(table.c.person_id == pid).order_by(order)
                ).mappings()
            )

        history = {
            "awards": rows(AWARD_RECORDS, AWARD_RECORDS.c.year.desc()),
            "ratings": rows(YEARLY_RATINGS, YEARLY_RATINGS.c.year.desc()),
            "initiatives": rows(INITIATIVES, INITIATIVES.c.year.desc()),
            "blockers": rows(BLOCKERS, BLOCKERS.c.starts_on.desc()),
        }
    if request.query_params.get("format") == "xlsx":
        return _history_export(person, history)
    can_edit = not is_read_only(caller.actor, ctx.rt.roles) and any(
        person["path"].startswith(g.scope_path) for g in caller.actor.grants
    )
    return render(
        request, "person.html", caller, status_code, person=person, h=history, error=error,
        can_edit=can_edit, year=local_today().year, today=local_today().isoformat(),
        discipline_levels=DISCIPLINE_LEVELS, commendation_types=COMMENDATION_TYPES,
    )  # fmt: skip


def _history_export(person: Any, h: dict[str, list[Any]]) -> Response:
    """The person's history as one sheet in the import's columns under their Vietnamese
    headers, dates as date cells (it can be imported again)."""
    name, unit = person["full_name"], person["code"]

    def line(record: str, **values: Any) -> list[Any]:
        return [
            record if c == "record" else name if c == "person" else unit if c == "unit"
            else values.get(c, "")
            for c in HISTORY_COLUMNS
        ]  # fmt: skip

    rows = (
        [line("award", year=a["year"], code=a["award_code"], decision_number=a["decision_number"],
              decision_date=a["decision_date"], commendation_type=a["commendation_type"],
              title="đã hủy" if a["revoked"] else "") for a in h["awards"]]
        + [line("rating", year=r["year"], code=r["rating"]) for r in h["ratings"]]
        + [line("initiative", year=i["year"], code=i["scope"], title=i["title"])
           for i in h["initiatives"]]
        + [line("blocker", code=b["kind"], decision_date=b["starts_on"], ends_on=b["ends_on"] or "",
                title=b["note"] or "", level=b["level"] or "") for b in h["blockers"]]
    )  # fmt: skip
    headers = [HISTORY_HEADERS[c] for c in HISTORY_COLUMNS]
    return xlsx_response(f"lich-su-{person['id']}.xlsx", name[:31], headers, rows)


@router.get("/persons/{pid}")
def person_page(request: Request, pid: IdPath) -> Response:
    """A person's award history, yearly ratings, initiatives and blockers."""
    return _person_page(request, ui_caller(request), pid)


@router.post("/persons/{pid}/history")
async def person_history(request: Request, pid: IdPath) -> Response:
    """Record one history entry for the person (same checks as an import row)."""
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        with reading(ctx.rt.engine) as conn:
            person = conn.execute(
                select(PERSONS.c.full_name, UNITS.c.code, UNITS.c.path)
                .join(UNITS, UNITS.c.id == PERSONS.c.unit_id)
                .where(PERSONS.c.id == pid)
            ).first()  # fmt: skip
        if person is None:
            raise NotFound(translate("no_person", lang_of(request), id=pid))
        if is_read_only(caller.actor, ctx.rt.roles) or not any(
            person.path.startswith(g.scope_path) for g in caller.actor.grants
        ):
            raise Forbidden(translate("person_outside", lang_of(request), name=person.full_name))
        row = {k: str(form.get(k, "")).strip() for k in HISTORY_FIELDS}
        row |= {"person": person.full_name, "unit": person.code}
        catalog = catalog_in(ctx.rt.settings.config_dir)
        with write_tx(ctx.rt.engine) as conn:
            record_one(conn, row, catalog=catalog)
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _person_page(request, caller, pid, message, status)
    return done(request, f"/persons/{pid}", "history_saved", name=person.full_name)
