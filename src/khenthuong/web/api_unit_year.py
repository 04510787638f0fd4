"""/api/registrations, /api/ratings, /api/year-review: a unit's emulation year.

Registrations (đăng ký thi đua) and year-end ratings (xếp loại) by JSON or by file (multipart;
a bad file is a 422 whose `errors` read `FILE:ROW: message`); the year-end review: a batch from
the registrations, one council vote per title, one decision per title.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from pydantic import BaseModel, Field

from khenthuong.localtime import local_date
from khenthuong.rules.catalog import catalog_in
from khenthuong.services import ratings, registrations, year_review
from khenthuong.services.access import can_read
from khenthuong.services.proposal_import import ImportRefused
from khenthuong.services.unit_sheets import unit_row
from khenthuong.storage.db import reading, write_tx
from khenthuong.uploads import safe_name
from khenthuong.web.api_nominations import require_writer
from khenthuong.web.context import Caller, api_caller, ctx_of
from khenthuong.web.problems import ApiProblem
from khenthuong.web.schemas import IdPath

router = APIRouter(prefix="/api", tags=["unit year"])
CallerDep = Annotated[Caller, Depends(api_caller)]
UnitQ = Annotated[str, Query(max_length=40, description="Unit code")]
YearQ = Annotated[int, Query(ge=1945, le=2100)]


class EntryJson(BaseModel):
    """A title to register for a person (person_id) or a collective (unit code)."""

    award_code: str = Field(max_length=40)
    person_id: int | None = None
    collective: str | None = Field(default=None, max_length=40)
    note: str | None = Field(default=None, max_length=500)


class RegistrationIn(BaseModel):
    """A unit's registration for a year: its targets (replacing earlier ones) and titles."""

    unit: str = Field(max_length=40)
    year: int = Field(ge=1945, le=2100)
    registered_on: date | None = None
    targets: list[str] | None = None
    entries: list[EntryJson] = Field(default_factory=list)


class RatingJson(BaseModel):
    person_id: int
    rating: str = Field(max_length=40, description="htxs, htt, ht, kht or the Vietnamese name")


class RatingsIn(BaseModel):
    unit: str = Field(max_length=40)
    year: int = Field(ge=1945, le=2100)
    ratings: list[RatingJson]
    replace: bool = False


class TallyJson(BaseModel):
    agree: int = Field(ge=0)
    disagree: int = Field(default=0, ge=0)
    abstain: int = Field(default=0, ge=0)
    written_agree: int = Field(default=0, ge=0)


class TallyIn(BaseModel):
    """One vote per title of the batch's list, and nominations' own tallies."""

    session: int
    votes: dict[str, TallyJson]
    exceptions: dict[int, TallyJson] = Field(default_factory=dict)
    close: bool = Field(default=False, description="Close the session afterwards")


class DecideIn(BaseModel):
    """One decision number per title; signer, authority (unit code), date (default today)."""

    numbers: dict[str, str]
    signer: str = Field(max_length=200)
    authority: str = Field(max_length=40)
    decided_on: date | None = None


def _readable(request: Request, caller: Caller, unit: str) -> None:
    with reading(ctx_of(request).rt.engine) as conn:
        path = unit_row(conn, unit).path
    if not can_read(caller.actor, path):
        raise ApiProblem(403, f"{caller.actor.username} không có quyền xem {unit}")


def _registration_json(found: registrations.RegistrationView | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "unit": found.unit_code,
        "unit_name": found.unit_name,
        "year": found.year,
        "registered_on": found.registered_on.isoformat(),
        "targets": found.targets,
        "entries": [
            {"id": e.id, "kind": e.kind, "name": e.name, "unit": e.unit_name,
             "award_code": e.award_code, "award": e.award_name, "note": e.note}
            for e in found.entries
        ],
    }  # fmt: skip


@router.get("/registrations")
def get_registration(request: Request, caller: CallerDep, unit: UnitQ, year: YearQ) -> Any:
    """A unit's registration for a year (null when it has not registered)."""
    _readable(request, caller, unit)
    ctx = ctx_of(request)
    with reading(ctx.rt.engine) as conn:
        return _registration_json(
            registrations.view(conn, catalog_in(ctx.rt.settings.config_dir), unit, year)
        )


@router.post("/registrations", status_code=201)
def post_registration(request: Request, caller: CallerDep, body: RegistrationIn) -> Any:
    """Register (or update the targets) and register titles; every entry checked first."""
    require_writer(request, caller)
    ctx = ctx_of(request)
    catalog = catalog_in(ctx.rt.settings.config_dir)
    try:
        with write_tx(ctx.rt.engine) as conn:
            registrations.register_in(
                conn, unit=body.unit, year=body.year, actor=caller.actor,
                registered_on=body.registered_on, targets=body.targets,
            )  # fmt: skip
            if body.entries:
                registrations.add_entries_in(
                    conn, catalog, unit=body.unit, year=body.year, actor=caller.actor,
                    entries=[registrations.EntryIn(e.award_code, e.person_id, e.collective,
                                                   e.note, row=i + 1)
                             for i, e in enumerate(body.entries)],
                )  # fmt: skip
            return _registration_json(registrations.view(conn, catalog, body.unit, body.year))
    except ImportRefused as exc:
        raise ApiProblem(422, str(exc), errors=exc.errors, **exc.details) from None


async def _saved(file: UploadFile, limit: int) -> Path:
    content = await file.read(limit + 1)
    if len(content) > limit:
        raise ApiProblem(413, f"Tệp lớn hơn {limit} byte")
    path = Path(tempfile.mkdtemp(prefix="khenthuong-upload-")) / safe_name(
        file.filename or "danh-sach.xlsx"
    )
    path.write_bytes(content)
    return path


@router.post("/registrations/import", status_code=201)
async def import_registrations(
    request: Request,
    caller: CallerDep,
    file: Annotated[UploadFile, File()],
    unit: Annotated[str, Form(max_length=40)],
    year: Annotated[int, Form(ge=1945, le=2100)],
    create_persons: Annotated[bool, Form()] = False,
) -> Any:
    """A danh sách đăng ký thi đua (XLSX/CSV); 422 with `errors` (FILE:ROW) when bad."""
    require_writer(request, caller)
    ctx = ctx_of(request)
    path = await _saved(file, ctx.rt.settings.max_attachment_bytes)
    catalog = catalog_in(ctx.rt.settings.config_dir)
    try:
        with write_tx(ctx.rt.engine) as conn:
            ids = registrations.import_file(
                conn, catalog, path, unit=unit, year=year, actor=caller.actor,
                create_persons=create_persons,
            )  # fmt: skip
    except ImportRefused as exc:
        raise ApiProblem(422, str(exc), errors=exc.errors, **exc.details) from None
    return {"registered": len(ids)}


def _ratings_json(report: ratings.RatingsReport) -> dict[str, int]:
    return {"added": report.added, "changed": report.changed, "unchanged": report.unchanged}


@router.get("/ratings")
def get_ratings(request: Request, caller: CallerDep, unit: UnitQ, year: YearQ) -> Any:
    """Every person of the unit with the year's rating (null: not rated)."""
    _readable(request, caller, unit)
    with reading(ctx_of(request).rt.engine) as conn:
        people = ratings.unit_ratings(conn, unit, year)
    return [
        {"person_id": p.person_id, "full_name": p.full_name, "unit": p.unit_name,
         "rating": p.rating, "rating_name": ratings.RATINGS.get(p.rating or "")}
        for p in people
    ]  # fmt: skip


@router.post("/ratings")
def post_ratings(request: Request, caller: CallerDep, body: RatingsIn) -> Any:
    """Ratings for a whole unit at once, all or nothing (422 naming each bad entry)."""
    require_writer(request, caller)
    given = []
    for i, item in enumerate(body.ratings):
        code = ratings.rating_of(item.rating)
        if code is None:
            raise ApiProblem(422, f"ratings[{i}].rating {item.rating!r} không hợp lệ")
        given.append((item.person_id, code))
    try:
        with write_tx(ctx_of(request).rt.engine) as conn:
            report = ratings.set_ratings_in(
                conn, unit=body.unit, year=body.year, ratings=given, actor=caller.actor,
                replace=body.replace,
            )  # fmt: skip
    except ImportRefused as exc:
        raise ApiProblem(422, str(exc), errors=exc.errors, **exc.details) from None
    return _ratings_json(report)


@router.post("/ratings/import")
async def import_ratings(
    request: Request,
    caller: CallerDep,
    file: Annotated[UploadFile, File()],
    unit: Annotated[str, Form(max_length=40)],
    year: Annotated[int, Form(ge=1945, le=2100)],
    replace: Annotated[bool, Form()] = False,
) -> Any:
    """A danh sách xếp loại (XLSX/CSV); 422 with `errors` (FILE:ROW) when bad."""
    require_writer(request, caller)
    ctx = ctx_of(request)
    path = await _saved(file, ctx.rt.settings.max_attachment_bytes)
    try:
        with write_tx(ctx.rt.engine) as conn:
            report = ratings.import_file(
                conn, path, unit=unit, year=year, actor=caller.actor, replace=replace
            )
    except ImportRefused as exc:
        raise ApiProblem(422, str(exc), errors=exc.errors, **exc.details) from None
    return _ratings_json(report)


@router.post("/year-review", status_code=201)
def propose(request: Request, caller: CallerDep, unit: UnitQ, year: YearQ) -> Any:
    """A proposal batch with a nomination for every title registered in the unit's year."""
    require_writer(request, caller)
    ctx = ctx_of(request)
    with write_tx(ctx.rt.engine) as conn:
        batch_id, ids = year_review.propose_in(
            conn, ctx.rt.registry, catalog_in(ctx.rt.settings.config_dir), unit=unit,
            year=year, actor=caller.actor, title=f"Bình xét thi đua năm {year}",
        )  # fmt: skip
    return {"batch": batch_id, "nominations": ids}


@router.post("/year-review/{bid}/tally")
def tally(request: Request, caller: CallerDep, bid: IdPath, body: TallyIn) -> Any:
    """One secret-ballot record per title for the batch's list (and `close` the session)."""
    require_writer(request, caller)
    ctx = ctx_of(request)
    catalog = catalog_in(ctx.rt.settings.config_dir)

    def t(v: TallyJson) -> year_review.Tally:
        return year_review.Tally(v.agree, v.disagree, v.abstain, v.written_agree)

    with write_tx(ctx.rt.engine) as conn:
        counts = year_review.tally_titles_in(
            conn, ctx.rt.registry, catalog, body.session, bid,
            {k: t(v) for k, v in body.votes.items()}, actor=caller.actor,
            exceptions={k: t(v) for k, v in body.exceptions.items()},
        )  # fmt: skip
        minutes = (
            year_review.close_in(conn, ctx.rt.registry, catalog, body.session, actor=caller.actor)
            if body.close
            else None
        )
    return {"titles": counts, "minutes": minutes}


@router.post("/year-review/{bid}/decisions", status_code=201)
def decide(request: Request, caller: CallerDep, bid: IdPath, body: DecideIn) -> Any:
    """One decision per title, with the award money of each nominee."""
    require_writer(request, caller)
    ctx = ctx_of(request)
    with write_tx(ctx.rt.engine) as conn:
        signed = year_review.decide_titles_in(
            conn, ctx.rt.registry, catalog_in(ctx.rt.settings.config_dir), bid, body.numbers,
            signer=body.signer, authority=body.authority,
            decided_on=body.decided_on or local_date(datetime.now(UTC)), actor=caller.actor,
        )  # fmt: skip
    return {
        code: {"number": body.numbers[code],
               "lines": [{"nomination_id": x.nomination_id, "nominee": x.nominee_name,
                          "amount_vnd": x.amount_vnd} for x in lines]}
        for code, lines in signed.items()
    }  # fmt: skip
