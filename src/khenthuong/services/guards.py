"""The named guards workflows use. Each reads its facts through
`khenthuong.services.guard_facts` inside the step's transaction and asks the pure rules of
`khenthuong.rules` for the verdict; quotas count places under a row lock."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, func, or_, select

from khenthuong.doctypes import DOC_TYPES
from khenthuong.errors import KhenthuongError, Refusal
from khenthuong.formats import percent
from khenthuong.rules.catalog import (
    STAFF,
    Catalog,
    NoRulesInForce,
    QuotaRule,
    RuleSet,
    organisation_of,
    organisation_path,
)
from khenthuong.rules.eligibility import (
    MERIT,
    PERSON_RULES,
    UNIT_RULES,
    History,
    check_not_blocked,
    judge_person,
    judge_unit,
)
from khenthuong.rules.paths import Claim, judge_grounds
from khenthuong.services.guard_facts import (
    CLOSED_NEGATIVE,
    SESSION_DOCUMENTS,
    _catalog,
    _today,
    award_code_of,
    block_facts,
    council_facts,
    eligible_facts,
    facts_for,
    load_histories,
    load_history,
    load_unit_facts,
    person_unit_paths,
    submissions,
    submitted_on,
)
from khenthuong.storage.blocs import BLOC_MEMBERS, BLOCS
from khenthuong.storage.councils import COUNCIL_ITEMS, COUNCIL_SESSIONS
from khenthuong.storage.history import AWARD_RECORDS
from khenthuong.storage.models import NOMINATIONS, PERSONS, UNITS
from khenthuong.workflow.guards import GuardContext, guard


@guard("not_blocked", prefetch=block_facts)
def not_blocked(ctx: GuardContext) -> Refusal | None:
    """Nobody under discipline, investigation or complaint; one achievement, one award."""
    nom = ctx.nomination
    if nom["nominee_person_id"] is not None:
        key, table = nom["nominee_person_id"], "person"
    elif nom["nominee_unit_id"] is not None:
        key, table = nom["nominee_unit_id"], "unit"
    else:
        # Only a nomination written before names were resolved (migration 0014 reports them):
        # with nobody to check, it cannot go on.
        return Refusal(
            "nominee_unlinked",
            f"Hồ sơ #{nom['id']} ({nom['nominee_name']}) chưa gắn với một cá nhân trong danh "
            "sách hay một đơn vị, nên không kiểm tra được kỷ luật và điều kiện: rút hồ sơ và "
            "lập lại cho một cá nhân trong danh sách hoặc một đơn vị",
            f"Nomination #{nom['id']} is linked to no registered person or unit, so discipline "
            "and eligibility cannot be checked: withdraw it and propose it again for a "
            "registered person or a unit",
        )
    facts = facts_for(ctx, "not_blocked", block_facts)
    blockers = (facts.person_blockers if table == "person" else facts.unit_blockers).get(key, ())
    refusal = check_not_blocked(History(blockers=blockers), _today(ctx))
    if refusal is not None:
        return refusal
    ref = nom["achievement_ref"]
    if not ref:
        return None
    awarded = facts.awarded.get(ref)
    other = next((i for i in facts.proposed.get(ref, ()) if i != nom["id"]), None)
    if awarded is None and other is None:
        return None
    where = f"quyết định {awarded}" if awarded is not None else f"hồ sơ #{other}"
    return Refusal(
        "not_blocked",
        f"Thành tích {ref!r} đã được khen thưởng hoặc đề nghị ({where}); "
        "một thành tích chỉ được khen một lần (Luật TĐKT, Điều 5)",
        f"achievement {ref!r} is already rewarded or proposed ({where})",
    )


def judge(
    conn: Connection,
    rule: RuleSet,
    code: str,
    *,
    person_id: int | None,
    unit_id: int | None,
    year: int,
    commendation_type: str = MERIT,
    history: History | None = None,
    claim: Claim | None = None,
    present: Collection[str] = (),
) -> Refusal | None:
    """The ladder of `rule` applied to a person's or a collective's history (a person's
    `history` when the caller has read it already); when the rule has other grounds (the
    points of Art 74(1)), any one of them met by the nomination's `claim` and the document
    types `present` in its dossier is enough instead (khenthuong.rules.paths).

    Only the commendation types the ladder names are judged (ad-hoc and thematic awards are
    not merit awards, NĐ 98 Điều 4); a person rule passes a collective nominee and a
    collective rule a person, since DOMAIN gives no criteria that history can show for them.
    """
    ladder = rule.eligibility
    if ladder is None or commendation_type not in ladder.applies_to:
        return None
    if person_id is not None and ladder.rule in PERSON_RULES:
        if history is None:
            history = load_history(conn, person_id)
        return judge_grounds(ladder, judge_person(history, year, ladder, code), claim, present)
    if unit_id is not None and ladder.rule in UNIT_RULES:
        return judge_unit(load_unit_facts(conn, unit_id, year), year, ladder)
    return None


@guard("eligible", prefetch=eligible_facts)
def eligible(ctx: GuardContext) -> Refusal | None:
    """The award's conditions in force on the submission date, checked against the nominee's
    history for the nomination year."""
    nom = ctx.nomination
    catalog = _catalog()
    code = award_code_of(nom, catalog)
    if code is None:
        return None
    facts = facts_for(ctx, "eligible", eligible_facts)
    rule = _rules_on(catalog, code, submitted_on(ctx, facts.submissions), nom["unit_path"])
    if isinstance(rule, Refusal):
        return rule
    person = nom["nominee_person_id"]
    return judge(
        ctx.connection,
        rule,
        code,
        person_id=person,
        unit_id=nom["nominee_unit_id"],
        year=nom["year"],
        commendation_type=nom["commendation_type"] or MERIT,
        history=facts.histories.get(person) if person is not None else None,
        claim=facts.claims.get(nom["id"]),
        present=facts.present.get(nom["id"], frozenset()),
    )


@guard("dossier_complete", prefetch=council_facts)
def dossier_complete(ctx: GuardContext) -> Refusal | None:
    """Every document the award requires at this step is attached (Law Art 84): the
    award's documents, plus those it requires at this trigger (e.g. agency opinions before
    the submission to the Prime Minister, Art 84(3)). Council minutes and the ballot result
    count as attached once a closed council session has passed the nomination."""
    catalog = _catalog()
    code = award_code_of(ctx.nomination, catalog)
    if code is None:
        return None
    award = catalog.award(code)
    required = list(dict.fromkeys([*award.documents, *award.documents_at.get(ctx.trigger, [])]))
    facts = facts_for(ctx, "dossier_complete", council_facts)
    present = set(facts.present[ctx.nomination["id"]])
    if ctx.nomination["id"] in facts.passed:
        present.update(SESSION_DOCUMENTS)
    missing = [d for d in required if d not in present]
    if not missing:
        return None
    return Refusal(
        "dossier_complete",
        "Hồ sơ còn thiếu: " + "; ".join(DOC_TYPES[d] for d in missing),
        "missing documents: " + ", ".join(missing),
        {"missing": missing},
    )


@guard("vote_passed", prefetch=council_facts)
def vote_passed(ctx: GuardContext) -> Refusal | None:
    """The latest closed council session passed this nomination by its vote rule."""
    facts = facts_for(ctx, "vote_passed", council_facts)
    item = facts.latest.get(ctx.nomination["id"])
    if item is not None and item[0] == "passed":
        return None
    why = item[1] if item is not None else "chưa có phiên họp Hội đồng bỏ phiếu cho hồ sơ này"
    return Refusal(
        "vote_passed",
        f"Chưa đạt tỷ lệ phiếu của Hội đồng: {why}",
        "the council vote has not passed this nomination",
    )


def _rules_on(catalog: Catalog, code: str, on: date, unit_path: str) -> RuleSet | Refusal:
    """The rules of `code` in force on `on` for the organisation of `unit_path` (the
    proposing unit's top-level unit: its own overrides of the uncertain values apply)."""
    try:
        return catalog.rules_for(code, on, organisation_of(unit_path))
    except NoRulesInForce as exc:
        return Refusal(
            "rules",
            str(exc),
            exc.message_en,
            {"award": code, "on": on.isoformat(), "earliest": exc.earliest.isoformat()},
        )
    except KhenthuongError as exc:  # an award code the catalog does not know
        return Refusal("rules", str(exc), f"no rules of {code} in force on {on}")


def _same_award(catalog: Catalog, code: str) -> ColumnElement[bool]:
    """Nominations that carry award `code`, explicitly or through its workflow."""
    same: ColumnElement[bool] = NOMINATIONS.c.award_code == code
    workflow = catalog.award(code).workflow
    if workflow is not None and catalog.award_for_workflow(workflow) == code:
        same = same | (NOMINATIONS.c.award_code.is_(None) & (NOMINATIONS.c.workflow == workflow))
    return same


def _places_taken(
    catalog: Catalog, code: str, nom: Any, granted: Sequence[int] = ()
) -> Select[Any]:
    """Counts the places held: stored ones, and those `granted` by earlier steps of the
    same batch (planned, not yet written)."""
    holds: ColumnElement[bool] = NOMINATIONS.c.quota_taken.is_(True)
    if granted:
        holds = holds | NOMINATIONS.c.id.in_(list(granted))
    return (
        select(func.count())
        .select_from(NOMINATIONS)
        .where(
            NOMINATIONS.c.year == nom["year"],
            _same_award(catalog, code),
            NOMINATIONS.c.id != nom["id"],
            holds,
            NOMINATIONS.c.state.not_in(CLOSED_NEGATIVE),
        )
    )


def _award_name(catalog: Catalog, code: str, lang: str) -> str:
    """An award's name in `lang` ('vi' or 'en'); a code the catalog does not know as itself."""
    if code not in catalog.awards:
        return code
    name = catalog.award(code).name
    return str(name.en if lang == "en" else name.vi)


def _unit_quota(
    conn: Connection,
    catalog: Catalog,
    code: str,
    quota: QuotaRule,
    nom: Any,
    granted: Sequence[int] = (),
) -> Refusal | None:
    """Share and count limits per year, in the proposing unit or (`per: organisation`) across
    its whole ministry or province."""
    if quota.per == "organisation":
        scope_path = organisation_path(nom["unit_path"])
        scope = UNITS.c.path == scope_path
        in_scope: ColumnElement[bool] = NOMINATIONS.c.unit_path.startswith(scope_path)
        whose_vi, whose_en = "", "the organisation's"  # of the organisation: named below
    else:
        scope_path = nom["unit_path"]
        scope = UNITS.c.id == nom["proposing_unit_id"]
        in_scope = NOMINATIONS.c.proposing_unit_id == nom["proposing_unit_id"]
        whose_vi, whose_en = "của đơn vị", "the unit's"
    # Lock the scope's unit row so two officers cannot both take the last place (PostgreSQL);
    # SQLite write transactions are already serialised by BEGIN IMMEDIATE.
    lock = select(UNITS.c.id, UNITS.c.name).where(scope)
    if conn.dialect.name == "postgresql":
        lock = lock.with_for_update()
    scope_unit = conn.execute(lock).first()
    if quota.per == "organisation":
        whose_vi = f"của {scope_unit.name if scope_unit else organisation_of(nom['unit_path'])}"
    caps: list[tuple[int, str, str]] = []
    if quota.share is not None and quota.of == STAFF:
        base = conn.execute(
            select(func.count())
            .select_from(PERSONS)
            .join(UNITS, UNITS.c.id == PERSONS.c.unit_id)
            .where(UNITS.c.path.startswith(scope_path))
        ).scalar_one()
        caps.append(
            (
                math.floor(quota.share * base),
                f"{percent(quota.share, 'vi', 0)} quân số {base} người",
                f"{percent(quota.share, 'en', 0)} of a strength of {base}",
            )
        )
    elif quota.share is not None and quota.of is not None:
        # Titles of the scope's people, and collective titles of its units (a Cờ thi đua CP
        # counted against the ministry flags of the year, NĐ 91/2017 Điều 11).
        in_units = select(UNITS.c.id).where(UNITS.c.path.startswith(scope_path))
        base = conn.execute(
            select(func.count())
            .select_from(AWARD_RECORDS)
            .where(
                AWARD_RECORDS.c.award_code.in_(catalog.counted_as(quota.of)),
                AWARD_RECORDS.c.year == nom["year"],
                AWARD_RECORDS.c.revoked.is_(False),
                AWARD_RECORDS.c.person_id.in_(
                    select(PERSONS.c.id).where(PERSONS.c.unit_id.in_(in_units))
                )
                | (AWARD_RECORDS.c.person_id.is_(None) & AWARD_RECORDS.c.unit_id.in_(in_units)),
            )
        ).scalar_one()
        # Titles of `of` passed by a council and waiting for the head's decision count too:
        # in a year-end review (bình xét) the CSTĐCS list is voted beside the LĐTT list.
        base += conn.execute(
            select(func.count())
            .select_from(NOMINATIONS)
            .where(
                or_(*(_same_award(catalog, c) for c in catalog.counted_as(quota.of))),
                NOMINATIONS.c.year == nom["year"],
                NOMINATIONS.c.closed.is_(False),
                NOMINATIONS.c.nominee_person_id.in_(
                    select(PERSONS.c.id).where(PERSONS.c.unit_id.in_(in_units))
                )
                | (
                    NOMINATIONS.c.nominee_person_id.is_(None)
                    & NOMINATIONS.c.nominee_unit_id.in_(in_units)
                ),
                NOMINATIONS.c.id.in_(
                    select(COUNCIL_ITEMS.c.nomination_id)
                    .join(COUNCIL_SESSIONS, COUNCIL_SESSIONS.c.id == COUNCIL_ITEMS.c.session_id)
                    .where(
                        COUNCIL_ITEMS.c.result == "passed", COUNCIL_SESSIONS.c.status == "closed"
                    )
                ),
            )
        ).scalar_one()
        caps.append(
            (
                math.floor(quota.share * base),
                f"{percent(quota.share, 'vi', 0)} của {base} {_award_name(catalog, quota.of, 'vi')}",
                f"{percent(quota.share, 'en', 0)} of {base} {_award_name(catalog, quota.of, 'en')}",
            )
        )
    if quota.count is not None:
        caps.append((quota.count, f"giới hạn số lượng {whose_vi}", f"{whose_en} count limit"))
    if not caps:
        return None
    cap, why_vi, why_en = min(caps)
    taken = conn.execute(_places_taken(catalog, code, nom, granted).where(in_scope)).scalar_one()
    if taken < cap:
        return None
    return Refusal(
        "within_quota",
        f"Vượt tỷ lệ: tối đa {cap} hồ sơ {_award_name(catalog, code, 'vi')} năm {nom['year']} "
        f"({why_vi}); đã có {taken}",
        f"Quota reached: at most {cap} {_award_name(catalog, code, 'en')} ({why_en}); {taken} taken",
        {"award": code, "cap": cap, "taken": taken},
    )


def _bloc_quota(
    conn: Connection, catalog: Catalog, code: str, nom: Any, granted: Sequence[int] = ()
) -> Refusal | None:
    """The flag quota of every bloc the nominee unit belongs to that year (config/blocs.yaml).

    A unit in two blocs takes a place in both: a direct nomination cannot pass through the
    bloc with room while the other bloc is full.
    """
    unit_id, year = nom["nominee_unit_id"], nom["year"]
    if unit_id is None:
        return None
    in_year = (BLOC_MEMBERS.c.from_year <= year) & (
        BLOC_MEMBERS.c.to_year.is_(None) | (BLOC_MEMBERS.c.to_year >= year)
    )
    blocs = select(BLOCS.c.id, BLOCS.c.code, BLOCS.c.name, BLOCS.c.flag_quota).where(
        BLOCS.c.flag_quota.is_not(None),
        BLOCS.c.id.in_(
            select(BLOC_MEMBERS.c.bloc_id).where(BLOC_MEMBERS.c.unit_id == unit_id, in_year)
        ),
    )
    if conn.dialect.name == "postgresql":
        blocs = blocs.with_for_update(of=BLOCS)
    for bloc in conn.execute(blocs.order_by(BLOCS.c.id)).all():
        members = select(BLOC_MEMBERS.c.unit_id).where(BLOC_MEMBERS.c.bloc_id == bloc.id, in_year)
        taken = conn.execute(
            _places_taken(catalog, code, nom, granted).where(
                NOMINATIONS.c.nominee_unit_id.in_(members)
            )
        ).scalar_one()
        if taken >= bloc.flag_quota:
            return Refusal(
                "within_quota",
                f"{bloc.name} chỉ được đề nghị {bloc.flag_quota} {_award_name(catalog, code, 'vi')} "
                f"năm {year}; đã có {taken} hồ sơ",
                f"{bloc.name} may propose {bloc.flag_quota} {_award_name(catalog, code, 'en')} in "
                f"{year}; {taken} taken",
                {"bloc": bloc.code, "award": code, "cap": bloc.flag_quota, "taken": taken},
            )
    return None


@guard("within_quota", prefetch=submissions)
def within_quota(ctx: GuardContext) -> Refusal | None:
    """Count-limited titles: places taken in the unit (or the bloc) and year stay within the
    quota in force on the submission date; the place is taken in the same transaction."""
    conn: Connection = ctx.connection
    nom = ctx.nomination
    catalog = _catalog()
    code = award_code_of(nom, catalog)
    if code is None:
        return None
    known = facts_for(ctx, "within_quota", submissions)
    rule = _rules_on(catalog, code, submitted_on(ctx, known), nom["unit_path"])
    if isinstance(rule, Refusal):
        return rule
    quota = rule.quota
    if quota is None:
        return None
    granted = ctx.batch.quota_places
    refusal = _unit_quota(conn, catalog, code, quota, nom, granted)
    if refusal is None and quota.bloc:
        refusal = _bloc_quota(conn, catalog, code, nom, granted)
    if refusal is not None:
        return refusal
    ctx.extra["take_quota"] = True
    return None


def eligibility_preview(
    conn: Connection,
    workflow: str,
    person_id: int,
    year: int,
    on: date,
    *,
    commendation_type: str = MERIT,
    claim: Claim | None = None,
) -> tuple[str | None, list[Refusal]]:
    """What `not_blocked` and `eligible` would say before a nomination is created, judged by
    the rules in force on `on` (the day it would be submitted), for the commendation type and
    the point of the article (`claim`) the form has chosen; no dossier exists yet, so a point
    that needs a document still names it.

    Returns the award code the workflow carries (None when the catalog has none) and
    the refusals found; an empty list means the history meets the conditions.
    """
    return eligibility_previews(
        conn, [(workflow, person_id)], year, on, commendation_type=commendation_type, claim=claim
    )[0]


def eligibility_previews(
    conn: Connection,
    wanted: Sequence[tuple[str, int]],
    year: int,
    on: date,
    *,
    commendation_type: str = MERIT,
    claim: Claim | None = None,
) -> list[tuple[str | None, list[Refusal]]]:
    """`eligibility_preview` of many (workflow, person id) pairs, in their order, with every
    person's history and unit read in one pass (an imported danh sách of thousands of rows)."""
    catalog = _catalog()
    people = sorted({pid for _, pid in wanted})
    histories = load_histories(conn, people)
    paths = person_unit_paths(conn, people)
    answers: list[tuple[str | None, list[Refusal]]] = []
    for workflow, person_id in wanted:
        code = catalog.award_for_workflow(workflow)
        history = histories[person_id]
        found = [r for r in [check_not_blocked(history, on)] if r is not None]
        if code is not None:
            rule = _rules_on(catalog, code, on, paths.get(person_id, ""))
            refusal = (
                rule
                if isinstance(rule, Refusal)
                else judge(
                    conn,
                    rule,
                    code,
                    person_id=person_id,
                    unit_id=None,
                    year=year,
                    commendation_type=commendation_type,
                    history=history,
                    claim=claim,
                )
            )
            if refusal is not None:
                found.append(refusal)
        answers.append((code, found))
    return answers
