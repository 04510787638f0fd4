"""Decisions (quyết định khen thưởng): sign many nominations at once, with award money.

Every signing goes through `create_decision`: `khenthuong decisions create`, POST
/api/decisions, the decisions page, and also a plain `advance ID decide` step (the step
service routes a step into a closed decision state here through `decide_by_step`). So a
decided nomination always has its decision row, its award record and its money, written
in the step's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, insert, select

from khenthuong.audit.append import append_event
from khenthuong.dates import BadDate, parse_date
from khenthuong.errors import Forbidden, KhenthuongError, NotFound, Refusal, StepRefused
from khenthuong.localtime import LOCAL_TZ
from khenthuong.refusals import cannot_sign, missing_role
from khenthuong.rules.catalog import Catalog
from khenthuong.rules.issuers import Issuer, Issuers, issuers_in, normalised, number_key
from khenthuong.rules.money import award_money
from khenthuong.services import checkpoints
from khenthuong.services.actors import Actor, Grant
from khenthuong.services.decision_checks import (
    date_refusals,
    find_decision,
    number_refusal,
    number_taken,
    taken_refusal,
)
from khenthuong.services.nominations import StepResult, get_row, role_levels
from khenthuong.services.nominees import COLLECTIVE
from khenthuong.services.stepping import decision_step_in
from khenthuong.storage.db import inserted_id
from khenthuong.storage.decisions import DECISION_ITEMS, DECISIONS
from khenthuong.storage.delegations import DELEGATIONS
from khenthuong.storage.history import AWARD_RECORDS, placement
from khenthuong.storage.models import UNITS, USERS
from khenthuong.workflow.loader import WorkflowRegistry

STEP_FIELDS = frozenset({"decision_number", "decision_date"})
"""Payload fields of a signing step that describe the decision itself."""
DECIDING_ROLES = (
    ("Thủ trưởng", "unit_head"),
    ("Bộ trưởng", "minister"),
    ("Chủ tịch UBND", "minister"),
    ("Thủ tướng", "prime_minister"),
    ("Chủ tịch nước", "president"),
)
"""The role (config/roles.yaml) that signs for each deciding authority of the catalog
(`authority` in config/awards.yaml): heads of units decide Giấy khen, LĐTT, CSTĐCS (Luật TĐKT
2022, Điều 80); ministers and provincial chairs their own forms (Điều 79); the Prime Minister
CSTĐTQ, Cờ thi đua CP, Bằng khen TTg (Điều 78); the President orders and medals (Điều 77)."""


def deciding_role(catalog: Catalog, award_code: str) -> str:
    """The role that signs decisions of `award_code`, from the catalog's deciding authority."""
    authority = catalog.award(award_code).authority
    for prefix, role in DECIDING_ROLES:
        if authority.startswith(prefix):
            return role
    raise KhenthuongError(
        f"{catalog.award(award_code).name.vi}: không xác định được vai trò ký cho thẩm quyền "
        f"{authority!r}",
        en=f"No signing role known for the deciding authority {authority!r}",
    )


@dataclass(frozen=True)
class DecisionLine:
    """One nominee of a decision and the money awarded."""

    nomination_id: int
    nominee_name: str
    coefficient: float
    base_salary_vnd: int
    amount_vnd: int


def create_decision(
    conn: Connection,
    registry: WorkflowRegistry,
    catalog: Catalog,
    *,
    number: str,
    decided_on: date,
    signer: str,
    authority: str,
    award_code: str,
    nomination_ids: list[int],
    actor: Actor,
    comment: str | None = None,
    now: datetime | None = None,
) -> list[DecisionLine]:
    """Sign a decision: every nomination is decided, recorded in history and paid at the
    coefficient and base salary in force on `decided_on`.

    Refused, writing nothing, when the number is not `<số>/QĐ-<ký hiệu>` of the deciding
    authority or is taken in that year (any case), or when `decided_on` is after today
    (`now` in Việt Nam) or before the last step of a nomination or its council session.
    """
    lines, _steps = _sign(
        conn,
        registry,
        catalog,
        number=number,
        decided_on=decided_on,
        signer=signer,
        authority=authority,
        award_code=award_code,
        nomination_ids=nomination_ids,
        actor=actor,
        comment=comment,
        now=now,
    )
    return lines


def decide_by_step(
    conn: Connection,
    registry: WorkflowRegistry,
    row: Mapping[Any, Any],
    trigger: str,
    actor: Actor,
    payload: Mapping[str, Any],
    *,
    comment: str | None,
    now: datetime,
) -> StepResult:
    """A signing step taken as a plain step (`advance ID decide --field decision_number=…`).

    The decision covers this one nomination: its award is the nomination's (catalog
    mapping of its workflow), its authority the unit where the actor holds the signing
    role, its date `decision_date` when given (else today in Việt Nam), its signer the
    actor by full name (the event keeps the username). Refused, writing nothing, like any
    step when the award cannot be told, the number is not `<số>/QĐ-<ký hiệu>` of the
    signing authority or is taken that year, or the date is out of its limits
    (`services.decision_checks`).
    """
    from khenthuong.services.guard_facts import award_code_of  # noqa: PLC0415
    from khenthuong.settings import get_settings  # noqa: PLC0415

    nomination_id = int(row["id"])
    wf = registry.get(row["workflow"], row["workflow_version"]).definition
    transition = wf.find(row["state"], trigger)
    assert transition is not None  # enters_decision checked it
    number = payload.get("decision_number")
    if number is None or (isinstance(number, str) and not number.strip()):
        raise StepRefused(
            [
                Refusal(
                    "field:decision_number",
                    f"Bước '{transition.title.vi}' cần trường 'decision_number' (số quyết định)",
                    f"'{transition.title.en}' requires the field 'decision_number'",
                )
            ],
            nomination_id,
        )
    wrong = None if isinstance(number, str) else number_refusal(number)
    if wrong is not None:
        raise StepRefused([wrong], nomination_id)
    decided_on = now.astimezone(LOCAL_TZ).date()
    raw_date = payload.get("decision_date")
    if raw_date not in (None, ""):
        try:
            decided_on = parse_date(str(raw_date))
        except BadDate as exc:
            raise StepRefused(
                [
                    Refusal(
                        "field:decision_date",
                        f"Ngày quyết định: {exc}",
                        f"decision_date {raw_date!r} is not a date (dd/mm/yyyy or YYYY-MM-DD)",
                    )
                ],
                nomination_id,
            ) from None
    catalog = _catalog_of(get_settings().config_dir)
    code = award_code_of(row, catalog)
    if code is None:
        raise StepRefused(
            [
                Refusal(  # each interface says how to sign it anyway (`no_award`)
                    "award",
                    f"Không xác định được hình thức khen thưởng của hồ sơ #{nomination_id}: "
                    "quy trình của hồ sơ không gắn với hình thức nào trong danh mục",
                    f"Nomination #{nomination_id} has no award: its workflow is linked to no "
                    "award of the catalog",
                    {"no_award": str(row["workflow"])},
                )
            ],
            nomination_id,
        )
    grant = actor.grant_for(
        transition.roles, row["unit_path"], role_levels=role_levels(wf.state(row["state"]))
    )
    if grant is None:
        raise StepRefused([missing_role(actor.display_name, transition.roles)], nomination_id)
    extra = {k: v for k, v in payload.items() if k not in STEP_FIELDS}
    _lines, steps = _sign(
        conn,
        registry,
        catalog,
        number=str(number).strip(),
        decided_on=decided_on,
        signer=_full_name(conn, actor),
        authority=grant.scope_code,
        award_code=code,
        nomination_ids=[nomination_id],
        actor=actor,
        comment=comment,
        trigger=trigger,
        extra_payload=extra,
        now=now,
    )
    return steps[0]


def _full_name(conn: Connection, actor: Actor) -> str:
    """The name a decision shows for its signer: the user's full name (username if none)."""
    name = conn.execute(select(USERS.c.full_name).where(USERS.c.id == actor.user_id)).scalar()
    return str(name).strip() if name and str(name).strip() else actor.username


def _catalog_of(config_dir: Any) -> Catalog:
    from khenthuong.rules.catalog import catalog_in  # noqa: PLC0415

    return catalog_in(config_dir)


def _sign(
    conn: Connection,
    registry: WorkflowRegistry,
    catalog: Catalog,
    *,
    number: str,
    decided_on: date,
    signer: str,
    authority: str,
    award_code: str,
    nomination_ids: list[int],
    actor: Actor,
    comment: str | None = None,
    trigger: str = "decide",
    extra_payload: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> tuple[list[DecisionLine], list[StepResult]]:
    now = now or datetime.now(UTC)
    number = normalised(number)
    ids = list(dict.fromkeys(nomination_ids))
    if not ids:
        raise KhenthuongError("Quyết định cần ít nhất một hồ sơ", en="A decision needs nominations")
    award = catalog.award(award_code)
    authority_row = conn.execute(
        select(UNITS.c.id, UNITS.c.path, UNITS.c.name).where(UNITS.c.code == authority)
    ).first()
    if authority_row is None:
        raise NotFound(f"Không có đơn vị {authority!r}", en=f"No unit {authority!r}")
    unit = authority_row.id
    signing = _check_signer(catalog, award_code, authority, actor, str(authority_row.name))
    for nomination_id in ids:
        _check_nomination(
            catalog, get_row(conn, nomination_id), award_code, authority, authority_row.path
        )
    issuer = _issuers().issuer(
        deciding_role(catalog, award_code), authority, str(authority_row.name)
    )
    refusals = _number_and_date_refusals(conn, number, issuer, decided_on, ids, now)
    if refusals:
        raise StepRefused(refusals, ids[0] if len(ids) == 1 else None)
    # The law of the decision's date: its coefficient and base salary, not today's.
    rule = catalog.rules_for(award_code, decided_on)
    base = catalog.base_salary_on(decided_on)
    decision_id = inserted_id(
        conn.execute(
            insert(DECISIONS).values(
                number=number,
                number_key=number_key(number),
                number_year=decided_on.year,
                decided_on=decided_on,
                signer=signer,
                **_delegated_signer(conn, signing),
                authority_unit_id=unit,
                award_code=award_code,
                created_by=actor.username,
                created_at=now,
            )
        )
    )
    lines = []
    steps = []
    for nomination_id in ids:
        nom = get_row(conn, nomination_id)
        steps.append(
            decision_step_in(
                conn,
                registry,
                nomination_id,
                trigger,
                actor,
                {
                    **(extra_payload or {}),
                    **_step_payload(registry, nom, trigger, number, decided_on),
                },
                comment=comment,
                now=now,
            )
        )
        # The stored subject decides, never a missing person link (issue 11).
        collective = nom["nominee_kind"] == COLLECTIVE
        amount = award_money(
            rule.coefficient,
            base,
            multiplier=award.collective_multiplier if collective else 1.0,
            rounding_vnd=catalog.money_rounding_vnd,
        )
        conn.execute(
            insert(DECISION_ITEMS).values(
                decision_id=decision_id,
                nomination_id=nomination_id,
                coefficient=rule.coefficient,
                base_salary_vnd=base,
                amount_vnd=amount,
            )
        )
        conn.execute(
            insert(AWARD_RECORDS).values(
                person_id=nom["nominee_person_id"],
                unit_id=nom["nominee_unit_id"],
                award_code=award_code,
                year=nom["year"],
                decision_number=number,
                decision_date=decided_on,
                commendation_type=nom["commendation_type"],
                achievement_ref=nom["achievement_ref"],
                nomination_id=nomination_id,
                source="decision",
                created_at=now,
                **placement(conn, nom["nominee_person_id"], nom["nominee_unit_id"]),
            )
        )
        lines.append(
            DecisionLine(nomination_id, nom["nominee_name"], rule.coefficient, base, amount)
        )
    append_event(
        conn,
        f"decision:{decision_id}",
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger="sign_decision",
        payload={
            "number": number,
            "date": decided_on.isoformat(),
            "signer": signer,
            "award": award_code,
            "items": [[x.nomination_id, x.amount_vnd] for x in lines],
        },
        now=now,
    )
    checkpoints.after_commit(conn)  # seal the decision once it has committed (issue 17)
    return lines, steps


def _issuers() -> Issuers:
    from khenthuong.settings import get_settings  # noqa: PLC0415

    return issuers_in(get_settings().config_dir)


def _number_and_date_refusals(
    conn: Connection,
    number: str,
    issuer: Issuer,
    decided_on: date,
    nomination_ids: list[int],
    now: datetime,
) -> list[Refusal]:
    """The number's form and uniqueness in its year, and the date's limits."""
    refusals = []
    wrong = number_refusal(number, issuer)
    if wrong is not None:
        refusals.append(wrong)
    existing = number_taken(conn, number, decided_on.year)
    if existing is not None:
        refusals.append(taken_refusal(number, existing, decided_on.year))
    return refusals + date_refusals(conn, decided_on, nomination_ids, now)


def _delegated_signer(conn: Connection, grant: Grant) -> dict[str, object]:
    """The decision's signer block columns when it is signed under a delegation."""
    if not grant.on_behalf_of:
        return {}
    title = conn.execute(
        select(DELEGATIONS.c.delegate_title).where(DELEGATIONS.c.id == grant.delegation_id)
    ).scalar()
    return {
        "signer_mode": grant.delegation_mode,
        "signer_title": title,
        "on_behalf_of": grant.on_behalf_of,
    }


def signing_grant(catalog: Catalog, award_code: str, authority: str, actor: Actor) -> Grant | None:
    """The actor's grant of the signing role of the award's deciding authority at the unit
    `authority` (their own before a delegated one), or None: who may sign its decisions."""
    role = deciding_role(catalog, award_code)
    for grant in actor.grants:
        if grant.role == role and grant.scope_code == authority:
            return grant
    return None


def _check_signer(
    catalog: Catalog, award_code: str, authority: str, actor: Actor, authority_name: str = ""
) -> Grant:
    """The actor's grant of the signing role of the award's deciding authority at
    `authority` (their own before a delegated one); refused naming the unit by
    `authority_name` (its code when not given)."""
    grant = signing_grant(catalog, award_code, authority, actor)
    if grant is not None:
        return grant
    award = catalog.award(award_code)
    role = deciding_role(catalog, award_code)
    raise cannot_sign(
        actor.display_name, (award.name.vi, award.name.en), role, authority_name or authority
    )


def _check_nomination(
    catalog: Catalog, nom: RowMapping, award_code: str, authority: str, authority_path: str
) -> None:
    """The nomination is for this award and lies within the authority's units."""
    from khenthuong.services.guard_facts import award_code_of  # noqa: PLC0415

    award = catalog.award(award_code)
    proposed = award_code_of(nom, catalog)
    who = f"Hồ sơ #{nom['id']} ({nom['nominee_name']})"
    if proposed is None and award.workflow not in (None, nom["workflow"]):
        proposed = f"quy trình {nom['workflow']}"
    if proposed is not None and proposed != award_code:
        known = proposed in catalog.awards
        name = catalog.award(proposed).name if known else None
        raise KhenthuongError(
            f"{who} đề nghị {name.vi if name else proposed}, không phải {award.name.vi}: "
            "quyết định chỉ ghi đúng hình thức khen thưởng của hồ sơ",
            en=f"Nomination #{nom['id']} is for {name.en if name else proposed}, "
            f"not {award.name.en}",
        )
    if not str(nom["unit_path"]).startswith(authority_path):
        raise Forbidden(
            f"{who} không thuộc đơn vị trong thẩm quyền của {authority}",
            en=f"Nomination #{nom['id']} is outside {authority}'s units",
        )


def _step_payload(
    registry: WorkflowRegistry, nom: RowMapping, trigger: str, number: str, decided_on: date
) -> dict[str, str]:
    """The signing step's payload: the number, and the date where the step accepts it."""
    payload = {"decision_number": number}
    wf = registry.get(nom["workflow"], nom["workflow_version"]).definition
    transition = wf.find(nom["state"], trigger)
    if transition is not None and "decision_date" in (
        *transition.requires,
        *transition.optional,
    ):
        payload["decision_date"] = decided_on.isoformat()
    return payload


def decision_lines(
    conn: Connection, number: str, year: int | None = None
) -> tuple[dict[str, object], list[DecisionLine]]:
    """A decision and its nominees with the money; the number in any case, `year` to tell
    apart the same serial of two years."""
    decision = find_decision(conn, number, year)
    lines = [
        DecisionLine(
            r.nomination_id,
            get_row(conn, r.nomination_id)["nominee_name"],
            r.coefficient,
            r.base_salary_vnd,
            r.amount_vnd,
        )
        for r in conn.execute(
            select(DECISION_ITEMS)
            .where(DECISION_ITEMS.c.decision_id == decision["id"])
            .order_by(DECISION_ITEMS.c.id)
        )
    ]
    return dict(decision), lines
