"""The named guards workflows use: they read the database inside the step's transaction."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import ColumnElement, Connection, Select, func, select

from khenthuong.errors import KhenthuongError, Refusal
from khenthuong.rules.catalog import (
    STAFF,
    Catalog,
    QuotaRule,
    RuleSet,
    catalog_in,
    organisation_of,
    organisation_path,
)
from khenthuong.rules.eligibility import (
    DONE,
    MERIT,
    PERSON_RULES,
    UNIT_RULES,
    History,
    UnitFacts,
    check_not_blocked,
    heavier,
    judge_person,
    judge_unit,
)
from khenthuong.services.dossier import DOC_TYPES, present_types
from khenthuong.services.nominations import LOCAL_TZ
from khenthuong.storage.blocs import BLOC_MEMBERS, BLOC_VOTES, BLOCS, COVENANTS
from khenthuong.storage.councils import COUNCIL_ITEMS, COUNCIL_SESSIONS
from khenthuong.storage.history import AWARD_RECORDS, BLOCKERS, INITIATIVES, YEARLY_RATINGS
from khenthuong.storage.models import EVENTS, NOMINATIONS, PERSONS, UNITS
from khenthuong.workflow.guards import GuardContext, guard

CLOSED_NEGATIVE = ("rejected", "withdrawn", "revoked")

Blocked = tuple[str, date, date | None]
"""A blocker as `History.blockers` holds it: (kind, from, until or None)."""

_IN_CHUNK = 900
"""Ids per IN list: well inside SQLite's and PostgreSQL's limits on bound parameters."""


def _chunks(values: Sequence[Any]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), _IN_CHUNK):
        yield values[start : start + _IN_CHUNK]


def _catalog() -> Catalog:
    from khenthuong.settings import get_settings  # noqa: PLC0415

    return catalog_in(get_settings().config_dir)


def award_code_of(nomination: Any, catalog: Catalog) -> str | None:
    """The nomination's award code, or the one its workflow carries."""
    return nomination["award_code"] or catalog.award_for_workflow(nomination["workflow"])


def blockers_by(conn: Connection, owner: Any, ids: Sequence[int]) -> dict[int, tuple[Blocked, ...]]:
    """The blockers of many people (`owner` BLOCKERS.c.person_id) or units (unit_id), oldest
    record first; ids without any are absent."""
    found: dict[int, list[Blocked]] = {}
    for chunk in _chunks(sorted(set(ids))):
        for b in conn.execute(
            select(owner, BLOCKERS.c.kind, BLOCKERS.c.starts_on, BLOCKERS.c.ends_on)
            .where(owner.in_(chunk))
            .order_by(BLOCKERS.c.id)
        ):
            found.setdefault(b[0], []).append((b.kind, b.starts_on, b.ends_on))
    return {k: tuple(v) for k, v in found.items()}


def load_history(conn: Connection, person_id: int) -> History:
    """A person's history from the database (revoked awards excluded)."""
    return load_histories(conn, [person_id])[person_id]


def load_histories(conn: Connection, person_ids: Sequence[int]) -> dict[int, History]:
    """The histories of many people in four queries (revoked awards excluded)."""
    ids = sorted(set(person_ids))
    ratings: dict[int, dict[int, str]] = {pid: {} for pid in ids}
    awards: dict[int, list[tuple[str, int, str]]] = {pid: [] for pid in ids}
    initiatives: dict[int, list[tuple[int, str]]] = {pid: [] for pid in ids}
    for chunk in _chunks(ids):
        for r in conn.execute(
            select(YEARLY_RATINGS.c.person_id, YEARLY_RATINGS.c.year, YEARLY_RATINGS.c.rating)
            .where(YEARLY_RATINGS.c.person_id.in_(chunk))
            .order_by(YEARLY_RATINGS.c.id)
        ):
            ratings[r.person_id][r.year] = r.rating
        for a in conn.execute(
            select(
                AWARD_RECORDS.c.person_id,
                AWARD_RECORDS.c.award_code,
                AWARD_RECORDS.c.year,
                AWARD_RECORDS.c.commendation_type,
            )
            .where(AWARD_RECORDS.c.person_id.in_(chunk), AWARD_RECORDS.c.revoked.is_(False))
            .order_by(AWARD_RECORDS.c.id)
        ):
            awards[a.person_id].append((a.award_code, a.year, a.commendation_type))
        for i in conn.execute(
            select(INITIATIVES.c.person_id, INITIATIVES.c.year, INITIATIVES.c.scope)
            .where(INITIATIVES.c.person_id.in_(chunk))
            .order_by(INITIATIVES.c.id)
        ):
            initiatives[i.person_id].append((i.year, i.scope))
    blockers = blockers_by(conn, BLOCKERS.c.person_id, ids)
    return {
        pid: History(
            ratings[pid], tuple(awards[pid]), tuple(initiatives[pid]), blockers.get(pid, ())
        )
        for pid in ids
    }


def _today(ctx: GuardContext) -> date:
    return ctx.now.astimezone(LOCAL_TZ).date()


class Facts(Protocol):
    """What a guard's prefetch reads: the nominations it covers, and the facts."""

    @property
    def ids(self) -> frozenset[int]: ...


F = TypeVar("F", bound=Facts)


def facts_for(
    ctx: GuardContext,
    name: str,
    fetch: Callable[[Connection, Sequence[Mapping[Any, Any]], datetime], F],
) -> F:
    """The facts guard `name` read for the whole batch, or (a single step, or a nomination
    the batch did not cover) the same facts read for this one nomination."""
    found: F | None = ctx.prefetched(name)
    if found is not None and ctx.nomination["id"] in found.ids:
        return found
    key = (fetch, ctx.nomination["id"])
    if key not in ctx.batch.fetched:
        ctx.batch.fetched[key] = fetch(ctx.connection, [ctx.nomination], ctx.now)
    one: F = ctx.batch.fetched[key]
    return one


@dataclass(frozen=True)
class BlockFacts:
    """What `not_blocked` reads, for one nomination or for a whole batch."""

    ids: frozenset[int]
    """The nominations these facts were read for."""
    person_blockers: Mapping[int, tuple[Blocked, ...]]
    unit_blockers: Mapping[int, tuple[Blocked, ...]]
    awarded: Mapping[str, str]
    """Achievement reference → number of a (not revoked) decision that rewarded it."""
    proposed: Mapping[str, tuple[int, ...]]
    """Achievement reference → open nominations that carry it."""


def block_facts(conn: Connection, rows: Sequence[Mapping[Any, Any]], now: datetime) -> BlockFacts:
    """Blockers of the nominees and other claims on the same achievements, in a few queries
    (a batch of 1,000 reads them once, not 1,000 times)."""
    del now  # the facts do not depend on the day; check_not_blocked compares the dates
    person_ids = sorted({r["nominee_person_id"] for r in rows if r["nominee_person_id"]})
    unit_ids = sorted(
        {r["nominee_unit_id"] for r in rows if r["nominee_unit_id"] and not r["nominee_person_id"]}
    )
    refs = sorted({r["achievement_ref"] for r in rows if r["achievement_ref"]})

    awarded: dict[str, str] = {}
    proposed: dict[str, list[int]] = {}
    for chunk in _chunks(refs):
        for a in conn.execute(
            select(AWARD_RECORDS.c.achievement_ref, AWARD_RECORDS.c.decision_number)
            .where(AWARD_RECORDS.c.achievement_ref.in_(chunk), AWARD_RECORDS.c.revoked.is_(False))
            .order_by(AWARD_RECORDS.c.id)
        ):
            awarded.setdefault(a.achievement_ref, a.decision_number)
        for n in conn.execute(
            select(NOMINATIONS.c.achievement_ref, NOMINATIONS.c.id)
            .where(
                NOMINATIONS.c.achievement_ref.in_(chunk),
                NOMINATIONS.c.state.not_in(CLOSED_NEGATIVE),
            )
            .order_by(NOMINATIONS.c.id)
        ):
            proposed.setdefault(n.achievement_ref, []).append(n.id)
    return BlockFacts(
        ids=frozenset(r["id"] for r in rows),
        person_blockers=blockers_by(conn, BLOCKERS.c.person_id, person_ids),
        unit_blockers=blockers_by(conn, BLOCKERS.c.unit_id, unit_ids),
        awarded=awarded,
        proposed={k: tuple(v) for k, v in proposed.items()},
    )


@guard("not_blocked", prefetch=block_facts)
def not_blocked(ctx: GuardContext) -> Refusal | None:
    """Nobody under discipline, investigation or complaint; one achievement, one award."""
    nom = ctx.nomination
    if nom["nominee_person_id"] is not None:
        key, table = nom["nominee_person_id"], "person"
    elif nom["nominee_unit_id"] is not None:
        key, table = nom["nominee_unit_id"], "unit"
    else:
        return None
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


def load_unit_facts(conn: Connection, unit_id: int, year: int) -> UnitFacts:
    """A collective's year: its members' ratings, titles and discipline, and its bloc ranks."""
    path = conn.execute(select(UNITS.c.path).where(UNITS.c.id == unit_id)).scalar_one()
    people = (
        select(PERSONS.c.id)
        .join(UNITS, UNITS.c.id == PERSONS.c.unit_id)
        .where(UNITS.c.path.startswith(path))
    )

    def holders(*codes: str) -> int:
        return int(
            conn.execute(
                select(func.count(func.distinct(AWARD_RECORDS.c.person_id))).where(
                    AWARD_RECORDS.c.person_id.in_(people),
                    AWARD_RECORDS.c.award_code.in_(codes),
                    AWARD_RECORDS.c.year == year,
                    AWARD_RECORDS.c.commendation_type == MERIT,
                    AWARD_RECORDS.c.revoked.is_(False),
                )
            ).scalar_one()
        )

    members = conn.execute(select(func.count()).select_from(people.subquery())).scalar_one()
    completed = conn.execute(
        select(func.count()).where(
            YEARLY_RATINGS.c.person_id.in_(people),
            YEARLY_RATINGS.c.year == year,
            YEARLY_RATINGS.c.rating.in_(DONE),
        )
    ).scalar_one()
    heaviest: dict[int, str | None] = {}
    for d in conn.execute(
        select(BLOCKERS.c.person_id, BLOCKERS.c.level).where(
            BLOCKERS.c.person_id.in_(people),
            BLOCKERS.c.kind == "discipline",
            BLOCKERS.c.starts_on <= date(year, 12, 31),
            BLOCKERS.c.ends_on.is_(None) | (BLOCKERS.c.ends_on >= date(year, 1, 1)),
        )
    ):
        known = d.person_id in heaviest
        heaviest[d.person_id] = heavier(heaviest[d.person_id], d.level) if known else d.level
    organiser = UNITS.alias("organiser")
    ranks = conn.execute(
        select(BLOCS.c.code, organiser.c.code.label("organiser"), BLOC_VOTES.c.rank)
        .join(COVENANTS, COVENANTS.c.id == BLOC_VOTES.c.covenant_id)
        .join(BLOCS, BLOCS.c.id == COVENANTS.c.bloc_id)
        .join(organiser, organiser.c.id == BLOCS.c.organiser_unit_id)
        .where(
            BLOC_VOTES.c.unit_id == unit_id,
            COVENANTS.c.year == year,
            BLOC_VOTES.c.rank.is_not(None),
        )
        .order_by(BLOCS.c.code)
    ).all()
    return UnitFacts(
        members=int(members),
        completed=int(completed),
        ldtt=holders("LDTT", "CST"),
        cstdcs=holders("CSTDCS"),
        discipline_levels=tuple(heaviest[pid] for pid in sorted(heaviest)),
        bloc_ranks=tuple((r.code, r.organiser, int(r.rank)) for r in ranks),
        organisation=organisation_of(path),
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
) -> Refusal | None:
    """The ladder of `rule` applied to a person's or a collective's history (a person's
    `history` when the caller has read it already).

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
        return judge_person(history, year, ladder, code)
    if unit_id is not None and ladder.rule in UNIT_RULES:
        return judge_unit(load_unit_facts(conn, unit_id, year), year, ladder)
    return None


@dataclass(frozen=True)
class EligibleFacts:
    """What `eligible` reads: first submissions and the nominees' histories."""

    ids: frozenset[int]
    submissions: Submissions
    histories: Mapping[int, History]


def eligible_facts(
    conn: Connection, rows: Sequence[Mapping[Any, Any]], now: datetime
) -> EligibleFacts:
    people = [r["nominee_person_id"] for r in rows if r["nominee_person_id"] is not None]
    return EligibleFacts(
        frozenset(r["id"] for r in rows), submissions(conn, rows, now), load_histories(conn, people)
    )


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
    )


SESSION_DOCUMENTS = ("bien_ban_hop_hoi_dong", "ket_qua_bo_phieu")
"""Produced by a closed council session that passed the nomination (its minutes and tally)."""


@dataclass(frozen=True)
class CouncilFacts:
    """What the council steps' guards read about many nominations at once."""

    ids: frozenset[int]
    latest: Mapping[int, tuple[str | None, str | None]]
    """(result, explanation) of the nomination's item in its latest closed session."""
    passed: frozenset[int]
    """Nominations some closed session passed."""
    present: Mapping[int, frozenset[str]]
    """Document types in each dossier."""


def council_facts(
    conn: Connection, rows: Sequence[Mapping[Any, Any]], now: datetime
) -> CouncilFacts:
    del now
    ids = sorted({r["id"] for r in rows})
    latest: dict[int, tuple[str | None, str | None]] = {}
    passed: set[int] = set()
    present: dict[int, set[str]] = {}
    items = COUNCIL_ITEMS.c
    for chunk in _chunks(ids):
        for it in conn.execute(
            select(items.nomination_id, items.result, items.explanation)
            .join(COUNCIL_SESSIONS, COUNCIL_SESSIONS.c.id == items.session_id)
            .where(items.nomination_id.in_(chunk), COUNCIL_SESSIONS.c.status == "closed")
            .order_by(items.nomination_id, COUNCIL_SESSIONS.c.closed_at.desc(), items.id.desc())
        ):
            latest.setdefault(it.nomination_id, (it.result, it.explanation))
            if it.result == "passed":
                passed.add(it.nomination_id)
        present.update(present_types(conn, chunk))
    return CouncilFacts(
        frozenset(ids), latest, frozenset(passed), {n: frozenset(t) for n, t in present.items()}
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


@dataclass(frozen=True)
class Submissions:
    """When each nomination was first submitted (absent: never)."""

    ids: frozenset[int]
    first: Mapping[int, datetime]


def submissions(conn: Connection, rows: Sequence[Mapping[Any, Any]], now: datetime) -> Submissions:
    """The first `submit` of many nominations, in one query per 900."""
    del now
    ids = sorted({r["id"] for r in rows})
    first: dict[int, datetime] = {}
    for chunk in _chunks(ids):
        for e in conn.execute(
            select(
                EVENTS.c.nomination_id,
                func.min(EVENTS.c.occurred_at, type_=EVENTS.c.occurred_at.type).label("at"),
            )
            .where(EVENTS.c.nomination_id.in_(chunk), EVENTS.c.trigger == "submit")
            .group_by(EVENTS.c.nomination_id)
        ):
            first[e.nomination_id] = e.at
    return Submissions(frozenset(ids), first)


def first_submitted_on(conn: Connection, nom: Mapping[Any, Any]) -> date:
    """The local date of the nomination's first `submit` (its creation if never submitted):
    the date whose rules judge it (council votes use it too)."""
    first = submissions(conn, [nom], datetime.now(UTC)).first.get(nom["id"])
    moment: datetime = first or nom["created_at"]
    return moment.astimezone(LOCAL_TZ).date()


def submitted_on(ctx: GuardContext, known: Submissions | None = None) -> date:
    """The local date of the nomination's first submission: the step being taken when it is
    the first `submit`, the nomination's creation when it was never submitted. A nomination
    is judged by the rules in force on that date (issue: rules change with the law)."""
    nid = ctx.nomination["id"]
    if known is None or nid not in known.ids:
        known = submissions(ctx.connection, [ctx.nomination], ctx.now)
    first = known.first.get(nid)
    if first is None:
        first = ctx.now if ctx.trigger == "submit" else ctx.nomination["created_at"]
    moment: datetime = first
    return moment.astimezone(LOCAL_TZ).date()


def _rules_on(catalog: Catalog, code: str, on: date, unit_path: str) -> RuleSet | Refusal:
    """The rules of `code` in force on `on` for the organisation of `unit_path` (the
    proposing unit's top-level unit: its own overrides of the uncertain values apply)."""
    try:
        return catalog.rules_for(code, on, organisation_of(unit_path))
    except KhenthuongError as exc:
        return Refusal(
            "rules",
            f"Chưa có quy định áp dụng cho {code} ngày {on:%d/%m/%Y}: {exc}",
            f"no rules of {code} in force on {on}",
        )


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
        whose_vi, whose_en = f"của {organisation_of(nom['unit_path'])}", "the organisation's"
    else:
        scope_path = nom["unit_path"]
        scope = UNITS.c.id == nom["proposing_unit_id"]
        in_scope = NOMINATIONS.c.proposing_unit_id == nom["proposing_unit_id"]
        whose_vi, whose_en = "của đơn vị", "the unit's"
    # Lock the scope's unit row so two officers cannot both take the last place (PostgreSQL);
    # SQLite write transactions are already serialised by BEGIN IMMEDIATE.
    lock = select(UNITS.c.id).where(scope)
    if conn.dialect.name == "postgresql":
        lock = lock.with_for_update()
    conn.execute(lock).first()
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
                f"{quota.share:.0%} quân số {base} người",
                f"{quota.share:.0%} of a strength of {base}",
            )
        )
    elif quota.share is not None and quota.of is not None:
        base = conn.execute(
            select(func.count())
            .select_from(AWARD_RECORDS)
            .join(PERSONS, PERSONS.c.id == AWARD_RECORDS.c.person_id)
            .join(UNITS, UNITS.c.id == PERSONS.c.unit_id)
            .where(
                AWARD_RECORDS.c.award_code == quota.of,
                AWARD_RECORDS.c.year == nom["year"],
                AWARD_RECORDS.c.revoked.is_(False),
                UNITS.c.path.startswith(scope_path),
            )
        ).scalar_one()
        caps.append(
            (
                math.floor(quota.share * base),
                f"{quota.share:.0%} của {base} {quota.of}",
                f"{quota.share:.0%} of {base} {quota.of}",
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
        f"Vượt tỷ lệ: tối đa {cap} hồ sơ {code} năm {nom['year']} ({why_vi}); đã có {taken}",
        f"quota reached: at most {cap} ({why_en}); {taken} taken",
        {"cap": cap, "taken": taken},
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
                f"Khối {bloc.code} ({bloc.name}) chỉ được đề nghị {bloc.flag_quota} {code} "
                f"năm {year}; đã có {taken} hồ sơ",
                f"bloc {bloc.code} may propose {bloc.flag_quota} {code} in {year}; {taken} taken",
                {"bloc": bloc.code, "cap": bloc.flag_quota, "taken": taken},
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
    conn: Connection, workflow: str, person_id: int, year: int, on: date
) -> tuple[str | None, list[Refusal]]:
    """What `not_blocked` and `eligible` would say before a nomination is created, judged by
    the rules in force on `on` (the day it would be submitted).

    Returns the award code the workflow carries (None when the catalog has none) and
    the refusals found; an empty list means the history meets the conditions.
    """
    catalog = _catalog()
    code = catalog.award_for_workflow(workflow)
    history = load_history(conn, person_id)
    found = [r for r in [check_not_blocked(history, on)] if r is not None]
    if code is not None:
        path = conn.execute(
            select(UNITS.c.path)
            .join(PERSONS, PERSONS.c.unit_id == UNITS.c.id)
            .where(PERSONS.c.id == person_id)
        ).scalar()
        rule = _rules_on(catalog, code, on, path or "")
        refusal = (
            rule
            if isinstance(rule, Refusal)
            else judge(
                conn, rule, code, person_id=person_id, unit_id=None, year=year, history=history
            )
        )
        if refusal is not None:
            found.append(refusal)
    return code, found
