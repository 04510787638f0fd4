"""The **bloc's year** pages: the year's leader (or "chưa chọn") and who may set it, members
with their dates, the covenant (launch, targets, signatures), mid-year and year-end reports,
deductions, the score tables with how each score was computed, the vote (suy tôn) and its
proposals, the báo cáo sơ kết / tổng kết; and a page to create a bloc.

Each step goes to the service, which decides who may take it; a refusal is shown on the page
with its reason (and a 403 is logged).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from khenthuong.blocs.targets import KINDS, Target
from khenthuong.dates import BadDate, parse_date
from khenthuong.errors import KhenthuongError, NotFound
from khenthuong.localtime import local_today
from khenthuong.services import bloc_admin, bloc_reviews, covenants
from khenthuong.services.blocs import ScoringIn, bloc_view, leads, speaks_for
from khenthuong.storage.blocs import BLOCS
from khenthuong.storage.db import reading, write_tx
from khenthuong.storage.models import UNITS
from khenthuong.web.context import Caller, ctx_of
from khenthuong.web.i18n import STRINGS, translate
from khenthuong.web.ui_common import (
    _error_text,
    _posted,
    check_csrf,
    date_refusal,
    lang_of,
    redirect,
    refusal_text,
    refuse_read_only,
    render,
    ui_caller,
    worded,
)

router = APIRouter(include_in_schema=False)
TARGET_ROWS = 6
"""Target rows on the launch form (empty rows are ignored)."""
ROUND_NAMES = {"so_ket": ("Sơ kết (giữa năm)", "Mid-year review"),
               "tong_ket": ("Tổng kết (cuối năm)", "Year-end review")}  # fmt: skip

STRINGS.update(
    {
        "bloc_year": ("Năm thi đua của khối", "The bloc's year"),
        "not_chosen": ("chưa chọn", "not yet chosen"),
        "set_leader": ("Chọn đơn vị trưởng năm", "Set the year's leader"),
        "source_elected": ("Khối bầu", "Elected by the bloc"),
        "source_set": ("Đơn vị tổ chức chỉ định", "Set by the organiser"),
        "source_seed": ("Theo tài liệu gốc", "From the seed"),
        "source_rotation": ("Theo luân phiên của khối", "By the bloc's rotation"),
        "members_dates": ("Thành viên và thời gian", "Members and dates"),
        "add_member": ("Thêm thành viên", "Add a member"),
        "end_member": ("Kết thúc thành viên", "End a membership"),
        "covenant": ("Giao ước thi đua", "Covenant"),
        "theme": ("Chủ đề", "Theme"),
        "launched_on": ("Ngày phát động", "Launched on"),
        "launch": ("Phát động", "Launch"),
        "targets": ("Chỉ tiêu", "Targets"),
        "condition": ("Điều kiện", "Condition"),
        "bloc_points": ("Điểm", "Points"),
        "weight": ("Hệ số", "Weight"),
        "kind": ("Loại", "Kind"),
        "threshold": ("Ngưỡng", "Threshold"),
        "measure": ("Đơn vị đo", "Measure"),
        "percent": ("phần trăm", "percent"),
        "bloc_count": ("số lượng", "count"),
        "signatures": ("Ký giao ước", "Signatures"),
        "bloc_sign": ("Ký", "Sign"),
        "not_signed": ("chưa ký", "not signed"),
        "report_round": ("Báo cáo", "Report"),
        "deductions": ("Điểm trừ", "Deductions"),
        "score_table": ("Bảng điểm", "Score table"),
        "rank": ("Hạng", "Rank"),
        "computation": ("Cách tính", "How it was computed"),
        "not_reported": ("chưa báo cáo", "not reported"),
        "vote": ("Suy tôn", "Vote"),
        "voters": ("Số đơn vị bỏ phiếu", "Member units voting"),
        "votes": ("Phiếu", "Votes"),
        "proposals_of_vote": ("Kết quả suy tôn và đề nghị", "Vote result and proposals"),
        "proposed_for": ("Đề nghị", "Proposed for"),
        "scoring_rule": ("Quy tắc chấm điểm", "Scoring rule"),
        "new_bloc": ("Lập khối, cụm thi đua", "Create a bloc"),
        "organiser": ("Đơn vị tổ chức", "Organiser"),
        "since": ("Từ năm", "Since"),
        "flag_quota": ("Số Cờ thi đua của Chính phủ", "Government flags"),
        "ministry_flags": ("Số Cờ thi đua cấp Bộ", "Ministry flags"),
        "ministry_flag_name": ("Tên Cờ thi đua cấp Bộ", "Ministry flag name"),
        "kind_khoi": ("Khối thi đua", "Emulation bloc"),
        "kind_cum": ("Cụm thi đua", "Emulation cluster"),
        "from_date": ("Từ ngày", "From"),
        "until": ("Đến ngày", "Until"),
        "bloc_documents": ("Văn bản", "Documents"),
        "code": ("Mã", "Code"),
        "name": ("Tên", "Name"),
        "deputy_none": ("không có", "none"),
        "date": ("Ngày", "Date"),
        "launch_by": (
            "Chỉ cán bộ thi đua, thủ trưởng đơn vị trưởng năm này được phát động",
            "Only the officers and head of this year's leading unit launch it",
        ),
        "no_covenant": ("Chưa phát động giao ước năm này.", "No covenant launched this year."),
    }
)
KIND_NAMES = dict(KINDS)


def _year_page(
    request: Request, caller: Caller, code: str, year: int, error: str | None = None,
    status: int = 200,
) -> Response:  # fmt: skip
    ctx = ctx_of(request)
    actor = caller.actor
    try:
        with reading(ctx.rt.engine) as conn:
            view = bloc_view(conn, code, year)
            bloc = conn.execute(select(BLOCS).where(BLOCS.c.code == code)).mappings().one()
            covenant = covenants.covenant_of(conn, code, year)
            tables = {}
            proposals: list[bloc_reviews.Proposal] = []
            if covenant is not None:
                tables = {r: bloc_reviews.score_table(conn, code, year, r) for r in ROUND_NAMES}
                proposals = bloc_reviews.proposals(conn, code, year)
            members = bloc_admin.memberships(conn, code)
            mine = [c for c, _ in view.members if speaks_for(conn, actor, c)]
            is_leader = leads(conn, view, actor)
            manages = bloc_admin.may_manage(conn, actor, int(bloc["organiser_unit_id"]))
            may_set = bloc_admin.may_set_leader(conn, view, actor, dict(bloc))
            units = conn.execute(select(UNITS.c.code, UNITS.c.name).order_by(UNITS.c.path)).all()
    except NotFound as exc:
        return render(
            request, "error.html", caller, 404, message=refusal_text(exc, lang_of(request))
        )
    except KhenthuongError as exc:
        message, code_ = _error_text(request, caller, exc)
        return render(request, "error.html", caller, code_, message=message)
    return render(
        request, "bloc_year.html", caller, status, b=view, year=year, covenant=covenant,
        tables=tables, proposals=proposals, members=members, mine=mine, is_leader=is_leader,
        manages=manages, may_set=may_set, units=units, error=error, rounds=ROUND_NAMES,
        kinds=KIND_NAMES, target_rows=range(1, TARGET_ROWS + 1), today=local_today(),
    )  # fmt: skip


def _year_of(value: str) -> int:
    return int(value) if value.isdigit() and 1945 <= int(value) <= 2100 else local_today().year


@router.get("/blocs/new")
def new_bloc_page(request: Request) -> Response:
    """The form to create a bloc."""
    caller = ui_caller(request)
    return _new_page(request, caller)


def _new_page(request: Request, caller: Caller, error: str | None = None, status: int = 200,
              form: Any = None) -> Response:  # fmt: skip
    organisers = sorted(
        {(g.scope_code, g.scope_code) for g in caller.actor.grants
         if g.role in bloc_admin.MANAGER_ROLES}
    )  # fmt: skip
    with reading(ctx_of(request).rt.engine) as conn:
        names = dict(conn.execute(select(UNITS.c.code, UNITS.c.name)).all())
    return render(
        request, "bloc_new.html", caller, status, error=error, form=form or {},
        organisers=[(c, names.get(c, c)) for c, _ in organisers], year=local_today().year,
    )  # fmt: skip


def _label_key(name: str) -> str:
    """The catalog key of a form field's label: `threshold_2` → `threshold`."""
    for key in (name, name.rsplit("_", 1)[0], "bloc_" + name.rsplit("_", 1)[0]):
        if translate(key, "vi") != key:
            return key
    return name


def _field_error(key: str, name: str, text: str) -> KhenthuongError:
    """`key`'s refusal of the field `name` (by its label) holding `text`, in both languages."""
    return worded(key, labels={"field": _label_key(name)}, value=text)


def _int(form: Any, name: str, default: int | None = None) -> int | None:
    text = str(form.get(name, "")).strip()
    if not text:
        return default
    if not text.lstrip("-").isdigit() or len(text) > 7:
        raise _field_error("not_whole_number", name, text)
    return int(text)


def _float(form: Any, name: str) -> float | None:
    text = str(form.get(name, "")).strip().replace(",", ".")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise _field_error("not_a_number", name, text) from None
    if not math.isfinite(value):
        raise _field_error("not_a_number", name, text)
    return value


def _date(form: Any, name: str) -> date:
    try:
        return parse_date(str(form.get(name, "")))
    except BadDate as exc:
        raise date_refusal(exc, _label_key(name)) from None


@router.post("/blocs/new")
async def create_bloc(request: Request) -> Response:
    """Create a bloc, then go to its page to add members."""
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        since = _int(form, "since") or local_today().year
        scoring = ScoringIn(
            ministry_flags=_int(form, "ministry_flags", 0) or 0,
            ministry_flag_name=str(form.get("ministry_flag_name") or "Cờ thi đua cấp Bộ"),
        )
        with write_tx(ctx.rt.engine) as conn:
            bloc_admin.create_bloc(
                conn, code=str(form.get("code", "")), name=str(form.get("name", "")),
                kind=str(form.get("kind", "")), organiser=str(form.get("organiser", "")),
                since=since, flag_quota=_int(form, "flag_quota", 1), scoring=scoring,
                actor=caller.actor,
            )  # fmt: skip
    except (KhenthuongError, ValueError) as exc:
        error = exc if isinstance(exc, KhenthuongError) else KhenthuongError(str(exc))
        message, status = _error_text(request, caller, error)
        return _new_page(request, caller, message, status, form)
    return redirect(f"/blocs/{str(form.get('code', '')).strip().upper()}/members?year={since}")


@router.get("/blocs/{code}/members")
def members_page(request: Request, code: str) -> Response:
    """A bloc without members yet has no year to show: its membership page."""
    caller = ui_caller(request)
    year = _year_of(request.query_params.get("year", ""))
    return _members_only(request, caller, code, year)


def _members_only(request: Request, caller: Caller, code: str, year: int,
                  error: str | None = None, status: int = 200) -> Response:  # fmt: skip
    with reading(ctx_of(request).rt.engine) as conn:
        try:
            bloc_view(conn, code, year)
        except NotFound:
            try:
                members = bloc_admin.memberships(conn, code)
            except NotFound as exc:
                return render(
                    request, "error.html", caller, 404, message=refusal_text(exc, lang_of(request))
                )
            units = conn.execute(select(UNITS.c.code, UNITS.c.name).order_by(UNITS.c.path)).all()
            return render(
                request, "bloc_members.html", caller, status, code=code, year=year,
                members=members, units=units, error=error,
            )  # fmt: skip
    if error:
        return _year_page(request, caller, code, year, error, status)
    return redirect(f"/blocs/{code}/years/{year}")


@router.get("/blocs/{code}/years/{year}")
def year_page(request: Request, code: str, year: int) -> Response:
    """The bloc's year."""
    return _year_page(request, ui_caller(request), code, year)


async def _step(request: Request, code: str, year: int, action: Any, anchor: str) -> Response:
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        with write_tx(ctx.rt.engine) as conn:
            action(conn, caller, form, ctx)
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _year_page(request, caller, code, year, message, status)
    return redirect(f"/blocs/{code}/years/{year}#{anchor}")


@router.post("/blocs/{code}/members/add")
async def add_member(request: Request, code: str) -> Response:
    caller, ctx, form = await _posted(request)
    year = _year_of(str(form.get("year", "")))
    try:
        check_csrf(request, caller, form)
        refuse_read_only(request, caller)
        with write_tx(ctx.rt.engine) as conn:
            bloc_admin.add_member(
                conn, code, str(form.get("unit", "")), since=_date(form, "from_date"),
                actor=caller.actor,
            )  # fmt: skip
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _members_only(request, caller, code, year, message, status)
    return _members_only(request, caller, code, year)


@router.post("/blocs/{code}/members/end")
async def end_member(request: Request, code: str) -> Response:
    year = _year_of(str((await request.form()).get("year", "")))

    def act(conn: Any, caller: Caller, form: Any, _ctx: Any) -> None:
        bloc_admin.remove_member(
            conn, code, str(form.get("unit", "")), until=_date(form, "until"), actor=caller.actor
        )

    return await _step(request, code, year, act, "members")


@router.post("/blocs/{code}/years/{year}/leader")
async def set_leader(request: Request, code: str, year: int) -> Response:
    def act(conn: Any, caller: Caller, form: Any, _ctx: Any) -> None:
        bloc_admin.set_leader(
            conn, code, year, str(form.get("leader", "")), str(form.get("deputy") or "") or None,
            source=str(form.get("source", "elected")), actor=caller.actor,
            note=str(form.get("note", "")),
        )  # fmt: skip

    return await _step(request, code, year, act, "leader")


def _targets(form: Any) -> list[Target]:
    found = []
    for i in range(1, TARGET_ROWS + 1):
        tcode = str(form.get(f"code_{i}", "")).strip()
        if not tcode:
            continue
        found.append(
            Target(
                code=tcode,
                description=str(form.get(f"description_{i}", "")).strip() or tcode,
                kind=str(form.get(f"kind_{i}", "at_least")),
                threshold=_float(form, f"threshold_{i}") or 0.0,
                unit=str(form.get(f"unit_{i}", "percent")),
                points=_float(form, f"points_{i}"),
                weight=_float(form, f"weight_{i}") or 1.0,
            )
        )
    return found


@router.post("/blocs/{code}/years/{year}/covenant")
async def launch(request: Request, code: str, year: int) -> Response:
    def act(conn: Any, caller: Caller, form: Any, _ctx: Any) -> None:
        covenants.launch(
            conn, code, year, theme=str(form.get("theme", "")), targets=_targets(form),
            launched_on=_date(form, "launched_on"), actor=caller.actor,
        )  # fmt: skip

    return await _step(request, code, year, act, "covenant")


@router.post("/blocs/{code}/years/{year}/sign")
async def sign(request: Request, code: str, year: int) -> Response:
    def act(conn: Any, caller: Caller, form: Any, _ctx: Any) -> None:
        covenants.sign(
            conn, code, year, str(form.get("unit", "")), signed_on=_date(form, "signed_on"),
            actor=caller.actor,
        )  # fmt: skip

    return await _step(request, code, year, act, "signatures")


@router.post("/blocs/{code}/years/{year}/report")
async def report(request: Request, code: str, year: int) -> Response:
    def act(conn: Any, caller: Caller, form: Any, _ctx: Any) -> None:
        cv = covenants.covenant_of(conn, code, year)
        values = {}
        for t in cv.targets if cv else ():
            value = _float(form, f"value_{t.code}")
            if value is None:
                raise worded("target_value_missing", target=t.code)
            values[t.code] = value
        bloc_reviews.report(
            conn, code, year, str(form.get("round", "")), str(form.get("unit", "")), values,
            actor=caller.actor,
        )  # fmt: skip

    return await _step(request, code, year, act, "scores")


@router.post("/blocs/{code}/years/{year}/deductions")
async def deductions(request: Request, code: str, year: int) -> Response:
    def act(conn: Any, caller: Caller, form: Any, _ctx: Any) -> None:
        view = bloc_view(conn, code, year)
        cases = {d.code: _int(form, f"cases_{d.code}", 0) or 0 for d in view.scoring.deductions}
        bloc_reviews.record_deductions(
            conn, code, year, str(form.get("round", "")), str(form.get("unit", "")), cases,
            actor=caller.actor,
        )  # fmt: skip

    return await _step(request, code, year, act, "scores")


@router.post("/blocs/{code}/years/{year}/vote")
async def vote(request: Request, code: str, year: int) -> Response:
    def act(conn: Any, caller: Caller, form: Any, ctx: Any) -> None:
        view = bloc_view(conn, code, year)
        votes = {c: _int(form, f"votes_{c}", 0) or 0 for c, _ in view.members}
        bloc_reviews.year_end_vote(
            conn, ctx.rt.registry, code, year, votes, voters=_int(form, "voters", 0) or 0,
            actor=caller.actor,
        )  # fmt: skip

    return await _step(request, code, year, act, "proposals")
