"""The delegations page (/delegations): ủy quyền given and received, a form to delegate one's
own roles (an administrator: anyone's) and a revoke button with a confirmation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select

from khenthuong.dates import BadDate, parse_date
from khenthuong.errors import Forbidden, KhenthuongError, NotFound
from khenthuong.localtime import local_today
from khenthuong.services import delegations
from khenthuong.storage.db import reading, write_tx
from khenthuong.storage.models import UNITS, USERS
from khenthuong.web.context import Caller, ctx_of
from khenthuong.web.i18n import STRINGS
from khenthuong.web.schemas import IdPath
from khenthuong.web.ui_common import (
    _error_text,
    _posted,
    check_csrf,
    date_refusal,
    lang_of,
    redirect,
    render,
    ui_caller,
    worded,
)

router = APIRouter(include_in_schema=False)

STRINGS.update(
    {
        "delegations": ("Ủy quyền", "Delegations"),
        "delegation_new": ("Lập ủy quyền", "Delegate"),
        "delegator": ("Người ủy quyền", "Delegator"),
        "delegate": ("Người được ủy quyền", "Delegate"),
        "delegation_unit": ("Trong phạm vi đơn vị", "Over the unit"),
        "delegation_no_units": (
            "— người ủy quyền không giữ vai trò nào —",
            "— the delegator holds no role —",
        ),
        "delegation_roles": ("Vai trò ủy quyền", "Roles delegated"),
        "delegation_all_roles": ("Mọi vai trò", "Every role"),
        "delegation_mode": ("Hình thức ký", "Signing mode"),
        "delegate_title": (
            "Chức vụ người được ủy quyền (in dưới dòng ký)",
            "Delegate's title (printed under the signature line)",
        ),
        "from_date": ("Từ ngày", "From"),
        "to_date": ("Đến hết ngày", "Until"),
        "delegation_status": ("Tình trạng", "Status"),
        "in_force": ("Đang hiệu lực", "In force"),
        "delegation_revoked_state": ("Đã thu hồi", "Revoked"),
        "expired": ("Hết hạn", "Ended"),
        "not_yet": ("Chưa đến ngày", "Not yet started"),
        "revoke": ("Thu hồi", "Revoke"),
        "revoke_confirm": (
            "Thu hồi ủy quyền này? Người được ủy quyền mất ngay các vai trò đã nhận.",
            "Revoke this delegation? The delegate loses the delegated roles at once.",
        ),
        "no_delegations": ("Chưa có ủy quyền nào.", "No delegations."),
        "delegation_saved": ("Đã lập ủy quyền.", "Delegation recorded."),
        "delegation_revoked": ("Đã thu hồi ủy quyền.", "Delegation revoked."),
    }
)


def _namesakes(users: Any) -> set[str]:
    """Full names two active users share: only those are told apart by user name."""
    seen: set[str] = set()
    twice: set[str] = set()
    for u in users:
        (twice if u.full_name in seen else seen).add(u.full_name)
    return twice


INDENT = "\u00a0" * 3
"""Before a unit's name in the unit list, once per level below the list's top unit."""


def unit_options(choices: list[delegations.UnitChoice]) -> list[tuple[str, str]]:
    """(code, label) of units listed in tree order: each name indented by its level and, when
    another listed unit has the same name, followed by the names of the units above it, as
    many as tell the two apart (the code only when nothing does)."""
    top = min((c.depth for c in choices), default=0)
    by_name: dict[str, list[delegations.UnitChoice]] = {}
    for c in choices:
        by_name.setdefault(c.name, []).append(c)
    labels: list[tuple[str, str]] = []
    for c in choices:
        same = [o for o in by_name[c.name] if o.code != c.code]
        shown = c.name
        for n in range(1, len(c.ancestors) + 1):
            if not same:
                break
            shown = f"{c.name} ({', '.join(c.ancestors[:n])})"
            same = [o for o in same if o.ancestors[:n] == c.ancestors[:n]]
        if same:
            shown = f"{shown} [{c.code}]"
        labels.append((c.code, INDENT * (c.depth - top) + shown))
    return labels


def _delegator_context(
    conn: Any, caller: Caller, delegator: str, chosen: str | None
) -> dict[str, Any]:
    """What the form offers for `delegator` (the caller unless an administrator chose
    another): the units and the unit selected (the one chosen, else the first unit the
    delegator holds a role over), and the roles they hold in their own right."""
    if not caller.actor.has_role("admin"):
        delegator = caller.actor.username
    choices, roles = delegations.delegable(conn, delegator)
    if not chosen:
        chosen = next((c.code for c in choices if c.held), choices[0].code if choices else "")
    return {
        "unit_options": unit_options(choices),
        "unit_chosen": chosen,
        "delegator": delegator,
        "delegator_roles": roles,
    }


def _users(conn: Any) -> list[Any]:
    return list(
        conn.execute(
            select(USERS.c.username, USERS.c.full_name)
            .where(USERS.c.active.is_(True))
            .order_by(USERS.c.full_name)
        ).all()
    )


def _role_titles(request: Request) -> dict[str, str]:
    english = lang_of(request) == "en"
    return {k: v.title.en if english else v.title.vi for k, v in ctx_of(request).rt.roles.items()}


def _check_unit(conn: Any, caller: Caller, delegator: str, unit: str) -> None:
    """Refuse, after the field's label, a unit outside the delegator's list: none chosen, an
    unknown code, or a unit the delegator holds no role over. A delegator the caller may not
    act for, or an unknown one, is left to `delegations.create` to refuse."""
    if caller.actor.username != delegator and not caller.actor.has_role("admin"):
        return
    choices, _roles = delegations.delegable(conn, delegator)
    if any(c.code == unit for c in choices):
        return
    field = {"field": "delegation_unit"}
    if not unit:
        raise worded("delegation_unit_missing", labels=field)
    name = conn.execute(select(UNITS.c.name).where(UNITS.c.code == unit)).scalar()
    if name is None:
        raise worded("delegation_unit_unknown", NotFound, labels=field, value=repr(unit))
    who = conn.execute(select(USERS.c.full_name).where(USERS.c.username == delegator)).scalar()
    if who is not None:
        raise worded("delegation_unit_not_held", Forbidden, labels=field, who=who, unit=name)


def _status(view: delegations.DelegationView) -> str:
    today = local_today()
    if view.revoked_at is not None:
        return "delegation_revoked_state"
    if view.in_force(today):
        return "in_force"
    return "not_yet" if view.starts_on > today else "expired"


def _page(
    request: Request, caller: Caller, error: str | None = None, status: int = 200,
    done: str | None = None, form: dict[str, Any] | None = None,
) -> Response:  # fmt: skip
    ctx = ctx_of(request)
    with reading(ctx.rt.engine) as conn:
        found = delegations.list_for(conn, caller.actor)
        users = _users(conn)
        form = form or {}
        chosen = _delegator_context(
            conn, caller, form.get("delegator") or caller.actor.username, form.get("unit")
        )
    return render(
        request, "delegations.html", caller, status, error=error, done=done,
        rows=[(d, _status(d)) for d in found], users=users, **chosen,
        namesakes=_namesakes(users), role_titles=_role_titles(request),
        modes=delegations.MODES, form=form, today=local_today(),
        is_admin=caller.actor.has_role("admin"),
    )  # fmt: skip


@router.get("/delegations")
def delegations_page(request: Request, done: str | None = None) -> Response:
    caller = ui_caller(request)
    return _page(request, caller, done=done if done in ("saved", "revoked") else None)


@router.get("/delegations/units")
def delegations_units(request: Request, delegator: str = "", unit: str = "") -> Response:
    """What the form offers for the delegator an administrator picked (htmx fragment): the
    unit list, and in place by id (out of band) the roles and the delegates."""
    caller = ui_caller(request)
    with reading(ctx_of(request).rt.engine) as conn:
        chosen = _delegator_context(conn, caller, delegator or caller.actor.username, unit)
        users = _users(conn)
    return render(
        request, "delegation_for.html", caller, **chosen, users=users,
        namesakes=_namesakes(users), role_titles=_role_titles(request), form={},
    )  # fmt: skip


@router.post("/delegations")
async def delegations_create(request: Request) -> Response:
    caller, ctx, form = await _posted(request)
    fields = {k: str(form.get(k, "") or "") for k in (
        "delegator", "delegate", "unit", "mode", "delegate_title", "starts_on", "ends_on",
        "reason")}  # fmt: skip
    try:
        check_csrf(request, caller, form)
        try:
            starts = parse_date(fields["starts_on"]) if fields["starts_on"] else local_today()
        except BadDate as exc:
            raise date_refusal(exc, "from_date") from None
        try:
            ends = parse_date(fields["ends_on"])
        except BadDate as exc:
            raise date_refusal(exc, "to_date") from None
        delegator = fields["delegator"] or caller.actor.username
        with write_tx(ctx.rt.engine) as conn:
            _check_unit(conn, caller, delegator, fields["unit"])
            delegations.create(
                conn, caller.actor, delegator=delegator,
                delegate=fields["delegate"], unit=fields["unit"],
                roles=[str(r) for r in form.getlist("roles")], mode=fields["mode"],
                delegate_title=fields["delegate_title"], starts_on=starts, ends_on=ends,
                reason=fields["reason"],
            )  # fmt: skip
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        kept = {**fields, "roles": [str(r) for r in form.getlist("roles")]}
        return _page(request, caller, message, status, form=kept)
    return redirect("/delegations?done=saved")


@router.post("/delegations/{delegation_id}/revoke")
async def delegations_revoke(request: Request, delegation_id: IdPath) -> Response:
    caller, ctx, form = await _posted(request)
    try:
        check_csrf(request, caller, form)
        with write_tx(ctx.rt.engine) as conn:
            delegations.revoke(conn, caller.actor, delegation_id, str(form.get("reason", "")))
    except KhenthuongError as exc:
        message, status = _error_text(request, caller, exc)
        return _page(request, caller, message, status)
    return redirect("/delegations?done=revoked")
