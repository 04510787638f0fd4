"""The basis (căn cứ) a nomination claims: the point of the award's article it is proposed
under (Luật TĐKT 2022 Điều 74(1)(a)-(d) for the Bằng khen cấp Bộ) and the officer's
statement of the achievement that history cannot show.

A claim is an audited event (`claim_basis`) in the nomination's dossier stream, beside the
documents that confirm it; the latest claim counts. The `eligible` guard judges it
(khenthuong.rules.paths) with the documents present when the step is taken.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime

from sqlalchemy import Connection, select

from khenthuong.audit.append import append_event
from khenthuong.errors import Forbidden, NotFound, Refusal, StepRefused
from khenthuong.localtime import LOCAL_TZ
from khenthuong.rules.catalog import organisation_of
from khenthuong.rules.paths import Claim
from khenthuong.services.access import READ_ALL_ROLES
from khenthuong.services.actors import Actor
from khenthuong.services.guard_facts import CLAIM_TRIGGER, _catalog, award_code_of, claims_by
from khenthuong.storage.models import NOMINATIONS

STATEMENT_MAX = 1000
"""Characters of the officer's statement: a short text; the dossier holds the full report."""


def _refused(field: str, vi: str, en: str) -> StepRefused:
    return StepRefused([Refusal(f"field:{field}", vi, en)])


def grounds_for(
    workflow: str, award_code: str | None, unit_path: str, on: datetime
) -> list[tuple[str, str]]:
    """(basis, title) of the points a nomination of `workflow` (or `award_code`) may claim
    under the rules in force on `on` for the organisation of `unit_path`."""
    catalog = _catalog()
    code = award_code or catalog.award_for_workflow(workflow)
    if code is None:
        return []
    day = on.astimezone(LOCAL_TZ).date()
    return catalog.grounds_of(code, day, organisation_of(unit_path))


def claim_basis_in(
    conn: Connection,
    nomination_id: int,
    *,
    basis: str,
    statement: str | None,
    actor: Actor,
    now: datetime | None = None,
) -> Claim:
    """Record the basis nomination `nomination_id` claims, inside the caller's transaction.

    The basis must be a point of the award's rules in force today; an attested point (one
    history cannot show) needs the officer's statement. Refused with a field error naming the
    accepted points otherwise."""
    now = now or datetime.now(UTC)
    row = (
        conn.execute(select(NOMINATIONS).where(NOMINATIONS.c.id == nomination_id))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"Không có hồ sơ #{nomination_id}", en=f"No nomination #{nomination_id}")
    writable = [g.role for g in actor.grants if g.role not in READ_ALL_ROLES]
    if row["closed"] or actor.grant_for(writable, row["unit_path"]) is None:
        raise Forbidden(
            f"{actor.display_name} không được chọn căn cứ cho hồ sơ #{nomination_id}",
            en=f"{actor.display_name} may not claim a basis for nomination #{nomination_id}",
        )
    basis = unicodedata.normalize("NFC", basis.strip())
    text = unicodedata.normalize("NFC", (statement or "").strip())
    catalog = _catalog()
    code = award_code_of(row, catalog)
    day = now.astimezone(LOCAL_TZ).date()
    grounds = (
        [] if code is None else catalog.grounds_of(code, day, organisation_of(row["unit_path"]))
    )
    if not grounds:
        raise _refused(
            "basis",
            f"Hình thức khen thưởng của hồ sơ #{nomination_id} không có căn cứ để chọn",
            f"the award of nomination #{nomination_id} has no grounds to choose from",
        )
    titles = dict(grounds)
    if basis not in titles:
        raise _refused(
            "basis",
            f"Căn cứ {basis!r} không hợp lệ; chọn một trong: "
            + "; ".join(f"{b} ({t})" for b, t in grounds),
            f"basis {basis!r} is not one of {', '.join(titles)}",
        )
    ladder = catalog.rules_for(code or "", day, organisation_of(row["unit_path"])).eligibility
    attested = ladder is not None and basis != ladder.basis
    if attested and not text:
        raise _refused(
            "attestation",
            f"Căn cứ {basis} cần xác nhận thành tích: {titles[basis]} (nhập nội dung ngắn)",
            f"basis {basis} needs the officer's statement of the achievement",
        )
    if len(text) > STATEMENT_MAX:
        raise _refused(
            "attestation",
            f"Nội dung xác nhận dài {len(text)} ký tự; tối đa {STATEMENT_MAX}",
            f"the statement has {len(text)} characters; at most {STATEMENT_MAX}",
        )
    append_event(
        conn,
        f"dossier:{nomination_id}",
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger=CLAIM_TRIGGER,
        workflow=row["workflow"],
        payload={"basis": basis, "attested": attested, "statement": text},
        now=now,
    )
    return Claim(basis, text)


def claim_of(conn: Connection, nomination_id: int) -> Claim | None:
    """The basis the nomination claims now (None: none)."""
    return claims_by(conn, [nomination_id]).get(nomination_id)
