"""Decisions (quyết định khen thưởng): sign many nominations at once, with award money."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, insert, select

from khenthuong.audit.append import append_event
from khenthuong.errors import KhenthuongError, NotFound
from khenthuong.rules.catalog import Catalog
from khenthuong.rules.money import award_money
from khenthuong.services.actors import Actor
from khenthuong.services.nominations import advance_in, get_row
from khenthuong.storage.db import inserted_id
from khenthuong.storage.decisions import DECISION_ITEMS, DECISIONS
from khenthuong.storage.history import AWARD_RECORDS
from khenthuong.storage.models import UNITS
from khenthuong.workflow.loader import WorkflowRegistry

NUMBER = re.compile(r"^\d{1,6}/QĐ-[A-ZĐ0-9]+(?:-[A-ZĐ0-9]+)*$")


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
) -> list[DecisionLine]:
    """Sign a decision: every nomination is decided, recorded in history and paid."""
    if not NUMBER.match(number):
        raise KhenthuongError(
            f"Số quyết định {number!r} không đúng dạng 'số/QĐ-CƠQUAN', ví dụ 123/QĐ-BCY "
            "(decision number must look like 123/QĐ-BCY)"
        )
    if conn.execute(select(DECISIONS.c.id).where(DECISIONS.c.number == number)).first():
        raise KhenthuongError(f"Quyết định {number} đã tồn tại (decision {number} exists)")
    if not nomination_ids:
        raise KhenthuongError("Quyết định cần ít nhất một hồ sơ (a decision needs nominations)")
    award = catalog.award(award_code)
    rule = catalog.rules_for(award_code, decided_on)
    base = catalog.base_salary_on(decided_on)
    unit = conn.execute(select(UNITS.c.id).where(UNITS.c.code == authority)).scalar()
    if unit is None:
        raise NotFound(f"Không có đơn vị {authority!r} (no unit {authority!r})")
    now = datetime.now(UTC)
    decision_id = inserted_id(
        conn.execute(
            insert(DECISIONS).values(
                number=number,
                decided_on=decided_on,
                signer=signer,
                authority_unit_id=unit,
                award_code=award_code,
                created_by=actor.username,
                created_at=now,
            )
        )
    )
    lines = []
    for nomination_id in dict.fromkeys(nomination_ids):
        nom = get_row(conn, nomination_id)
        advance_in(
            conn,
            registry,
            nomination_id,
            "decide",
            actor,
            {"decision_number": number, "decision_date": decided_on.isoformat()},
            now=now,
        )
        collective = nom["nominee_person_id"] is None
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
            )
        )
        lines.append(
            DecisionLine(nomination_id, nom["nominee_name"], rule.coefficient, base, amount)
        )
    append_event(
        conn,
        f"decision:{number}",
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
    return lines


def decision_lines(conn: Connection, number: str) -> tuple[dict[str, object], list[DecisionLine]]:
    """A decision and its nominees with the money."""
    decision = (
        conn.execute(select(DECISIONS).where(DECISIONS.c.number == number)).mappings().first()
    )
    if decision is None:
        raise NotFound(f"Không có quyết định {number!r} (no decision {number!r})")
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
