"""The **Năm thi đua** pages: a unit's year — its registration (collective targets and the
titles its people and collectives register for, by form or file), the year-end ratings of
every person (one form, or a file), and the year-end review (bình xét): one proposal batch
from the registrations, one council vote per title, one decision per title."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from sqlalchemy import select

from khenthuong.errors import Forbidden, KhenthuongError
from khenthuong.localtime import local_date
from khenthuong.rules.catalog import catalog_in
from khenthuong.services import batches, ratings, registrations, year_review
from khenthuong.services.access import can_read
from khenthuong.services.proposal_import import ImportRefused
from khenthuong.services.unit_sheets import unit_row
from khenthuong.storage.batches import BATCHES
from khenthuong.storage.councils import COUNCIL_SESSIONS
from khenthuong.storage.db import reading, write_tx
from khenthuong.storage.models import UNITS
from khenthuong.uploads import safe_name
from khenthuong.web.context import Caller, ctx_of
from khenthuong.web.i18n import translate
from khenthuong.web.schemas import IdPath
from khenthuong.web.ui_common import (
    _error_text,
    _posted,
    _required_file,
    check_csrf,
    lang_of,
    redirect,
    refuse_read_only,
    render,
    ui_caller,
    worded,
)
from khenthuong.workflow.definition import StateKind

router = APIRouter(include_in_schema=False)


def _units(caller: Caller) -> list[str]:
    return sorted({g.scope_code for g in caller.actor.grants if g.role != "auditor"})


def _page(
    request: Request, caller: Caller, unit: str, year: int, error: str | None = None,
    status: int = 200, **extra: Any,
) -> Response:  # fmt: skip
    ctx = ctx_of(request)
    catalog = catalog_in(ctx.rt.settings.config_dir)
    with reading(ctx.rt.engine) as conn:
        row = unit_row(conn, unit)
        if not can_read(caller.actor, row.path):
            raise worded(
                "cannot_read_unit", Forbidden, user=caller.actor.display_name, unit=row.name
            )
        reg = registrations.view(conn, catalog, unit, year)
        people = ratings.unit_ratings(conn, unit, year)
        batch_rows = conn.execute(
            select(BATCHES.c.id, BATCHES.c.title)
            .where(BATCHES.c.proposing_unit_id == row.id, BATCHES.c.year == year)
            .order_by(BATCHES.c.id.desc())
        ).all()
        units = {r.code: r.name for r in conn.execute(select(UNITS.c.code, UNITS.c.name))}
    titles = [(c, a.name.vi, a.subject) for c, a in catalog.awards.items() if a.category == "title"]
    return render(
        request, "unit_year.html", caller, status, unit=unit, unit_name=row.name, year=year,
        reg=reg, people=people, ratings_names=ratings.RATINGS, batches=batch_rows,
        units=_units(caller), unit_names=units, titles=titles, error=error, **extra,
    )  # fmt: skip


def _where(request: Request, caller: Caller, form: Any = None) -> tuple[str, int]:
    source = form if form is not None else request.query_params
    units = _units(caller)
    unit = str(source.get("unit") or (units[0] if units else ""))
    year_text = str(source.get("year") or "")
    year = int(year_text) if year_text.isdigit() else local_date(datetime.now(UTC)).year
    return unit, year


@router.get("/unit-year")
def unit_year_page(request: Request) -> Response:
    caller = ui_caller(request)
    unit, year = _where(request, caller)
    if not unit:
        raise worded("choose_unit_year")
    return _page(request, caller, unit, year)


@router.get("/unit-year/registrations.xlsx")
def registrations_template(request: Request) -> Response:
    ui_caller(request)
    out = Path(tempfile.mkdtemp(prefix="khenthuong-template-")) / "mau-dang-ky-thi-dua.xlsx"
    registrations.write_template(out)
    return FileResponse(out, filename="mau-dang-ky-thi-dua.xlsx")


@router.get("/unit-year/ratings.xlsx")
def ratings_template(request: Request) -> Response:
    caller = ui_caller(request)
    unit, year = _where(request, caller)
    with reading(ctx_of(request).rt.engine) as conn:
        people = ratings.unit_ratings(conn, unit, year)
    out = Path(tempfile.mkdtemp(prefix="khenthuong-template-")) / "xep-loai.xlsx"
    ratings.write_template(out, people)
    return FileResponse(out, filename=f"xep-loai-{unit}-{year}.xlsx")


async def _act(request: Request, action: Any) -> Response:
    """Run `action(conn, caller, ctx, form, unit, year)` in one transaction; show the page
    with the refusal (every FILE:ROW line of a file) or with what was done."""
    caller, ctx, form = await _posted(request)
    unit, year = _where(request, caller, form)
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        upload = None
        if "file" in form:
            upload = await _required_file(form, ctx.rt.settings.max_attachment_bytes)
        with write_tx(ctx.rt.engine) as conn:
            done = action(conn, caller, ctx, form, unit, year, upload)
    except ImportRefused as exc:
        return _page(request, caller, unit, year, None, 422, import_errors=exc.errors)
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _page(request, caller, unit, year, message, status)
    if isinstance(done, Response):
        return done
    return _page(request, caller, unit, year, done=done)


def _saved_upload(upload: Any) -> Path:
    if upload is None:  # the form came without its file field at all
        raise KhenthuongError(translate("no_file", "vi"))
    file, content = upload
    name = safe_name(file.filename or "danh-sach.xlsx")
    path = Path(tempfile.mkdtemp(prefix="khenthuong-upload-")) / name
    path.write_bytes(content)
    return path


def _rated(request: Request, report: Any) -> str:
    return translate(
        "uy_ratings_saved", lang_of(request), added=report.added, changed=report.changed,
        unchanged=report.unchanged,
    )  # fmt: skip


@router.post("/unit-year/register")
async def register(request: Request) -> Response:
    def action(conn: Any, caller: Caller, ctx: Any, form: Any, unit: str, year: int, _: Any) -> str:
        targets = str(form.get("targets", "")).splitlines()
        registrations.register_in(conn, unit=unit, year=year, actor=caller.actor, targets=targets)
        return translate("uy_registration_saved", lang_of(request))

    return await _act(request, action)


@router.post("/unit-year/registrations")
async def add_entry(request: Request) -> Response:
    def action(conn: Any, caller: Caller, ctx: Any, form: Any, unit: str, year: int, _: Any) -> str:
        person = str(form.get("person_id") or "")
        collective = str(form.get("collective") or "") or None
        entry = registrations.EntryIn(
            str(form.get("award_code", "")),
            person_id=int(person) if person.isdigit() else None,
            unit_code=None if person.isdigit() else collective,
            note=str(form.get("note") or "") or None,
        )
        registrations.add_entries_in(
            conn, catalog_in(ctx.rt.settings.config_dir), unit=unit, year=year,
            entries=[entry], actor=caller.actor,
        )  # fmt: skip
        return translate("uy_title_registered", lang_of(request))

    return await _act(request, action)


@router.post("/unit-year/registrations/import")
async def import_registrations(request: Request) -> Response:
    def action(
        conn: Any, caller: Caller, ctx: Any, form: Any, unit: str, year: int, up: Any
    ) -> str:
        path = _saved_upload(up)
        ids = registrations.import_file(
            conn, catalog_in(ctx.rt.settings.config_dir), path, unit=unit, year=year,
            actor=caller.actor,
        )  # fmt: skip
        return translate("uy_titles_imported", lang_of(request), n=len(ids), file=path.name)

    return await _act(request, action)


@router.post("/unit-year/ratings")
async def save_ratings(request: Request) -> Response:
    def action(conn: Any, caller: Caller, ctx: Any, form: Any, unit: str, year: int, _: Any) -> str:
        given = [
            (int(key.removeprefix("rating_")), str(value))
            for key, value in form.items()
            if key.startswith("rating_") and key.removeprefix("rating_").isdigit() and value
        ]
        report = ratings.set_ratings_in(
            conn, unit=unit, year=year, ratings=given, actor=caller.actor,
            replace=form.get("replace") in ("on", "true", "1"),
        )  # fmt: skip
        return _rated(request, report)

    return await _act(request, action)


@router.post("/unit-year/ratings/import")
async def import_ratings(request: Request) -> Response:
    def action(
        conn: Any, caller: Caller, ctx: Any, form: Any, unit: str, year: int, up: Any
    ) -> str:
        path = _saved_upload(up)
        report = ratings.import_file(
            conn, path, unit=unit, year=year, actor=caller.actor,
            replace=form.get("replace") in ("on", "true", "1"),
        )  # fmt: skip
        return _rated(request, report)

    return await _act(request, action)


@router.post("/unit-year/propose")
async def propose(request: Request) -> Response:
    def action(conn: Any, caller: Caller, ctx: Any, form: Any, unit: str, year: int, _: Any) -> Any:
        try:
            batch_id, _ids = year_review.propose_in(
                conn, ctx.rt.registry, catalog_in(ctx.rt.settings.config_dir), unit=unit,
                year=year, actor=caller.actor, title=f"Bình xét thi đua năm {year}",
            )  # fmt: skip
        except year_review.NothingToReview as exc:  # where this page registers titles
            raise KhenthuongError(
                f"{exc} {translate('hint_register', 'vi')}",
                en=f"{exc.en} {translate('hint_register', 'en')}",
            ) from None
        return redirect(f"/unit-year/review/{batch_id}")

    return await _act(request, action)


def _review_page(
    request: Request, caller: Caller, bid: int, error: str | None = None, status: int = 200,
    **extra: Any,
) -> Response:  # fmt: skip
    ctx = ctx_of(request)
    catalog = catalog_in(ctx.rt.settings.config_dir)
    with reading(ctx.rt.engine) as conn:
        batches.view_batch(conn, ctx.rt.registry, bid, caller.actor)  # Forbidden outside scope
        found = year_review.review_view(conn, ctx.rt.registry, catalog, bid)
        batch = found["batch"]
        council = year_review.members_by_title(
            conn, ctx.rt.registry, catalog, bid, StateKind.council
        )
        deciding = year_review.members_by_title(
            conn, ctx.rt.registry, catalog, bid, StateKind.decision
        )
        sessions = conn.execute(
            select(COUNCIL_SESSIONS.c.id, COUNCIL_SESSIONS.c.title).where(
                COUNCIL_SESSIONS.c.status == "open",
                COUNCIL_SESSIONS.c.unit_id == unit_row(conn, batch.unit_code).id,
            )
        ).all()
    english = lang_of(request) == "en"
    names = {c: a.name.en if english else a.name.vi for c, a in catalog.awards.items()}
    if not year_review.may_decide(catalog, deciding, batch.unit_code, caller.actor):
        deciding = {}  # the form only for whoever may sign (the secretary may not)
    return render(
        request, "year_review.html", caller, status, batch=batch, titles=found["titles"],
        names=names, council=council, deciding=deciding, sessions=sessions, error=error, **extra,
    )  # fmt: skip


@router.get("/unit-year/review/{bid}")
def review_page(request: Request, bid: IdPath) -> Response:
    return _review_page(request, ui_caller(request), bid)


@router.post("/unit-year/review/{bid}/{what}")
async def review_step(request: Request, bid: IdPath, what: str) -> Response:
    """tally (one vote per title), close (the session), decide (one decision per title)."""
    caller, ctx, form = await _posted(request)
    catalog = catalog_in(ctx.rt.settings.config_dir)
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        session = str(form.get("session", ""))
        with write_tx(ctx.rt.engine) as conn:
            if what == "tally":
                votes = {
                    code: year_review.Tally(
                        int(str(form.get(f"agree_{code}") or 0)),
                        int(str(form.get(f"disagree_{code}") or 0)),
                        int(str(form.get(f"abstain_{code}") or 0)),
                    )
                    for code in year_review.members_by_title(
                        conn, ctx.rt.registry, catalog, bid, StateKind.council
                    )
                }
                year_review.tally_titles_in(
                    conn, ctx.rt.registry, catalog, int(session), bid, votes, actor=caller.actor
                )
                done = translate("uy_votes_recorded", lang_of(request), n=len(votes))
            elif what == "close":
                year_review.close_in(
                    conn, ctx.rt.registry, catalog, int(session), actor=caller.actor
                )
                done = translate("uy_session_closed", lang_of(request), id=session)
            elif what == "decide":
                numbers = {
                    k.removeprefix("number_"): str(v).strip()
                    for k, v in form.items()
                    if k.startswith("number_") and str(v).strip()
                }
                signed = year_review.decide_titles_in(
                    conn, ctx.rt.registry, catalog, bid, numbers,
                    signer=str(form.get("signer", "")).strip() or caller.actor.display_name,
                    authority=str(form.get("authority", "")),
                    decided_on=local_date(datetime.now(UTC)), actor=caller.actor,
                )  # fmt: skip
                done = translate(
                    "uy_decisions_signed",
                    lang_of(request),
                    numbers=", ".join(numbers[c] for c in signed),
                )
            else:
                raise worded("no_such_action", action=repr(what))
    except (ValueError, KhenthuongError) as exc:
        if isinstance(exc, KhenthuongError):
            message, status = _error_text(request, caller, exc)
        else:
            message, status = translate("uy_bad_tally", lang_of(request), error=exc), 422
        return _review_page(request, caller, bid, message, status)
    return _review_page(request, caller, bid, done=done)
