"""The facts the named guards read from the database, for one nomination or a whole batch.

Readers only: they turn rows into the plain values `khenthuong.rules` judges (histories,
a collective's year, blockers, council results, first submissions). The guards themselves are
in `khenthuong.services.guards`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy import Connection, Select, bindparam, func, select

from khenthuong.localtime import LOCAL_TZ
from khenthuong.rules.catalog import Catalog, catalog_in, organisation_of
from khenthuong.rules.eligibility import DONE, MERIT, History, UnitFacts, heavier
from khenthuong.rules.paths import Claim
from khenthuong.services.batches import batch_present_types
from khenthuong.services.dossier import present_types
from khenthuong.storage.blocs import BLOC_VOTES, BLOCS, COVENANTS
from khenthuong.storage.councils import COUNCIL_ITEMS, COUNCIL_SESSIONS
from khenthuong.storage.history import AWARD_RECORDS, BLOCKERS, INITIATIVES, YEARLY_RATINGS
from khenthuong.storage.models import EVENTS, NOMINATIONS, PERSONS, UNITS
from khenthuong.workflow.guards import GuardContext

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


def _blockers_of(owner: Any) -> Select[Any]:
    return (
        select(owner, BLOCKERS.c.kind, BLOCKERS.c.starts_on, BLOCKERS.c.ends_on)
        .where(owner.in_(bindparam("ids", expanding=True)))
        .order_by(BLOCKERS.c.id)
    )


# The guard facts' statements, built once with an expanding IN: building a statement per
# call (and its cache key) was a tenth of an API advance's CPU in the server (py-spy).
_BLOCKERS = {c.key: _blockers_of(c) for c in (BLOCKERS.c.person_id, BLOCKERS.c.unit_id)}
_AWARDED = (
    select(AWARD_RECORDS.c.achievement_ref, AWARD_RECORDS.c.decision_number)
    .where(
        AWARD_RECORDS.c.achievement_ref.in_(bindparam("refs", expanding=True)),
        AWARD_RECORDS.c.revoked.is_(False),
    )
    .order_by(AWARD_RECORDS.c.id)
)
_PROPOSED = (
    select(NOMINATIONS.c.achievement_ref, NOMINATIONS.c.id)
    .where(
        NOMINATIONS.c.achievement_ref.in_(bindparam("refs", expanding=True)),
        NOMINATIONS.c.state.not_in(CLOSED_NEGATIVE),
    )
    .order_by(NOMINATIONS.c.id)
)


def blockers_by(conn: Connection, owner: Any, ids: Sequence[int]) -> dict[int, tuple[Blocked, ...]]:
    """The blockers of many people (`owner` BLOCKERS.c.person_id) or units (unit_id), oldest
    record first; ids without any are absent."""
    found: dict[int, list[Blocked]] = {}
    statement = _BLOCKERS[owner.key]
    for chunk in _chunks(sorted(set(ids))):
        for b in conn.execute(statement, {"ids": list(chunk)}):
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


def person_unit_paths(conn: Connection, person_ids: Sequence[int]) -> dict[int, str]:
    """The unit path of each of many people (ids not in the register are absent)."""
    paths: dict[int, str] = {}
    for chunk in _chunks(sorted(set(person_ids))):
        for r in conn.execute(
            select(PERSONS.c.id, UNITS.c.path)
            .join(UNITS, UNITS.c.id == PERSONS.c.unit_id)
            .where(PERSONS.c.id.in_(chunk))
        ):
            paths[r.id] = str(r.path)
    return paths


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
        for a in conn.execute(_AWARDED, {"refs": list(chunk)}):
            awarded.setdefault(a.achievement_ref, a.decision_number)
        for n in conn.execute(_PROPOSED, {"refs": list(chunk)}):
            proposed.setdefault(n.achievement_ref, []).append(n.id)
    return BlockFacts(
        ids=frozenset(r["id"] for r in rows),
        person_blockers=blockers_by(conn, BLOCKERS.c.person_id, person_ids),
        unit_blockers=blockers_by(conn, BLOCKERS.c.unit_id, unit_ids),
        awarded=awarded,
        proposed={k: tuple(v) for k, v in proposed.items()},
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
    excellent = conn.execute(
        select(func.count()).where(
            YEARLY_RATINGS.c.person_id.in_(people),
            YEARLY_RATINGS.c.year == year,
            YEARLY_RATINGS.c.rating == "htxs",
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
        excellent=int(excellent),
        ldtt=holders("LDTT", "CST"),
        cstdcs=holders("CSTDCS"),
        discipline_levels=tuple(heaviest[pid] for pid in sorted(heaviest)),
        bloc_ranks=tuple((r.code, r.organiser, int(r.rank)) for r in ranks),
        organisation=organisation_of(path),
    )


CLAIM_TRIGGER = "claim_basis"
"""The event, in a nomination's dossier stream, that records the basis it claims."""


def claims_by(conn: Connection, nomination_ids: Sequence[int]) -> dict[int, Claim]:
    """The latest basis each nomination claims (absent: none claimed)."""
    streams = {f"dossier:{nid}": nid for nid in set(nomination_ids)}
    found: dict[int, Claim] = {}
    for chunk in _chunks(sorted(streams)):
        for e in conn.execute(
            select(EVENTS.c.stream, EVENTS.c.payload)
            .where(EVENTS.c.stream.in_(chunk), EVENTS.c.trigger == CLAIM_TRIGGER)
            .order_by(EVENTS.c.stream, EVENTS.c.seq)
        ):
            payload = json.loads(e.payload)
            found[streams[e.stream]] = Claim(payload["basis"], payload.get("statement") or "")
    return found


@dataclass(frozen=True)
class EligibleFacts:
    """What `eligible` reads: first submissions, the nominees' histories, the basis each
    nomination claims and the documents of its dossier."""

    ids: frozenset[int]
    submissions: Submissions
    histories: Mapping[int, History]
    claims: Mapping[int, Claim]
    present: Mapping[int, frozenset[str]]


def eligible_facts(
    conn: Connection, rows: Sequence[Mapping[Any, Any]], now: datetime
) -> EligibleFacts:
    people = [r["nominee_person_id"] for r in rows if r["nominee_person_id"] is not None]
    ids = sorted({r["id"] for r in rows})
    present: dict[int, frozenset[str]] = {}
    for chunk in _chunks(ids):
        present.update({n: frozenset(t) for n, t in dossier_types(conn, chunk).items()})
    return EligibleFacts(
        frozenset(ids),
        submissions(conn, rows, now),
        load_histories(conn, people),
        claims_by(conn, ids),
        present,
    )


def dossier_types(conn: Connection, nomination_ids: Sequence[int]) -> dict[int, set[str]]:
    """Document types each nomination has: its own dossier's plus those attached once to its
    proposal batch (tờ trình, danh sách, biên bản bình xét of the đợt đề nghị)."""
    found = present_types(conn, nomination_ids)
    for nid, types in batch_present_types(conn, nomination_ids).items():
        found[nid].update(types)
    return found


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
        present.update(dossier_types(conn, chunk))
    return CouncilFacts(
        frozenset(ids), latest, frozenset(passed), {n: frozenset(t) for n, t in present.items()}
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
