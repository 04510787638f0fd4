"""The unit's year-end review (bình xét cuối năm) in one pass, on the proposal batch machinery.

1. `propose_in`: one proposal batch (đợt đề nghị) of the unit with a nomination for every
   title its people and collectives registered for (or the list given), submitted together;
2. `tally_titles_in`: a council session takes the whole list with one secret-ballot record
   per title (every person proposed for LĐTT, for CSTĐCS …), applied to each nomination of
   that title; `close_in` closes the session (councils.close_session moves every nomination)
   and keeps its minutes, with the per-title results, as the batch's biên bản bình xét;
3. `decide_titles_in`: the head signs one decision per title with its danh sách
   (services.decisions): individual titles first, so the collective titles judge the
   members' results of the same year.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from khenthuong.audit.append import append_event
from khenthuong.errors import KhenthuongError, NotFound
from khenthuong.rules.catalog import Catalog
from khenthuong.services import batches, councils, decisions
from khenthuong.services.actors import Actor
from khenthuong.services.dossier import store_upload
from khenthuong.services.guard_facts import award_code_of
from khenthuong.services.new_nominations import create_nomination_in
from khenthuong.services.nominations import get_row
from khenthuong.services.nominees import COLLECTIVE, INDIVIDUAL
from khenthuong.services.unit_sheets import unit_row
from khenthuong.storage.batches import BATCH_ATTACHMENTS
from khenthuong.storage.councils import COUNCIL_ITEMS, COUNCIL_SESSIONS
from khenthuong.storage.models import UNITS
from khenthuong.storage.registrations import (
    COUNCIL_TITLE_VOTES,
    REGISTRATION_ENTRIES,
    REGISTRATIONS,
)
from khenthuong.workflow.definition import StateKind
from khenthuong.workflow.loader import WorkflowRegistry


@dataclass(frozen=True)
class Tally:
    """One secret-ballot result."""

    agree: int
    disagree: int = 0
    abstain: int = 0
    written_agree: int = 0


@dataclass(frozen=True)
class ProposedEntry:
    """A nominee and title of the year's list: a person, or a collective (unit code)."""

    award_code: str
    person_id: int | None = None
    unit_code: str | None = None


def members_by_title(
    conn: Connection, registry: WorkflowRegistry, catalog: Catalog, batch_id: int, kind: StateKind
) -> dict[str, list[int]]:
    """The batch's open members waiting in a state of `kind`, by award code."""
    found: dict[str, list[int]] = {}
    for member in batches.view_batch(conn, registry, batch_id).members:
        if member.closed:
            continue
        row = get_row(conn, member.nomination_id)
        state = registry.get(row["workflow"], row["workflow_version"]).definition.state(
            row["state"]
        )
        code = award_code_of(row, catalog)
        if state.kind is kind and code is not None:
            found.setdefault(code, []).append(member.nomination_id)
    return found


def registered_entries(conn: Connection, unit: str, year: int) -> list[ProposedEntry]:
    """The titles registered in the unit's registration for `year`."""
    row = unit_row(conn, unit)
    e = REGISTRATION_ENTRIES.c
    return [
        ProposedEntry(r.award_code, r.person_id, r.code)
        for r in conn.execute(
            select(e.award_code, e.person_id, UNITS.c.code)
            .join(REGISTRATIONS, REGISTRATIONS.c.id == e.registration_id)
            .outerjoin(UNITS, UNITS.c.id == e.unit_id)
            .where(REGISTRATIONS.c.unit_id == row.id, REGISTRATIONS.c.year == year)
            .order_by(e.person_id.is_(None), e.id)
        )
    ]


class NothingToReview(KhenthuongError):
    """A year-end review with no registered title: each interface says where titles are
    registered (the CLI its command, the pages the unit-year page)."""


def propose_in(
    conn: Connection,
    registry: WorkflowRegistry,
    catalog: Catalog,
    *,
    unit: str,
    year: int,
    actor: Actor,
    title: str,
    entries: list[ProposedEntry] | None = None,
    now: datetime | None = None,
) -> tuple[int, list[int]]:
    """A proposal batch of `unit` for `year` with one nomination per entry (default: every
    registered title of the unit whose award has a workflow). Returns (batch, nominations)."""
    now = now or datetime.now(UTC)
    chosen = registered_entries(conn, unit, year) if entries is None else entries
    chosen = [e for e in chosen if catalog.award(e.award_code).workflow]
    if not chosen:
        name = unit_row(conn, unit).name
        raise NothingToReview(
            f"Không có danh hiệu nào để bình xét năm {year} của {name}: chưa đăng ký thi đua "
            "danh hiệu nào",
            en=f"No title to review in {year} for {name}: no title is registered",
        )
    batch_id = batches.create_batch_in(
        conn, proposing_unit=unit, actor=actor, title=title, year=year, now=now
    )
    ids = []
    for entry in chosen:
        award = catalog.award(entry.award_code)
        individual = entry.person_id is not None
        ids.append(
            create_nomination_in(
                conn,
                registry,
                workflow=str(award.workflow),
                proposing_unit=unit,
                actor=actor,
                nominee_person_id=entry.person_id,
                nominee_unit_code=None if individual else entry.unit_code,
                nominee_kind=INDIVIDUAL if individual else COLLECTIVE,
                year=year,
                award_code=entry.award_code,
                now=now,
            )
        )
    batches.add_members_in(
        conn, batch_id, ids, actor=actor, row_numbers={n: i for i, n in enumerate(ids, 1)}, now=now
    )
    return batch_id, ids


def tally_titles_in(
    conn: Connection,
    registry: WorkflowRegistry,
    catalog: Catalog,
    session_id: int,
    batch_id: int,
    votes: Mapping[str, Tally],
    *,
    actor: Actor,
    exceptions: Mapping[int, Tally] | None = None,
) -> dict[str, int]:
    """Put every member of the batch waiting for a council on the session's agenda and record
    its title's tally (`exceptions`: a nomination's own tally, e.g. when a member is recused).
    Every title on the list needs its vote; a vote for a title not on it is refused. Returns
    the number of nominations per title."""
    waiting = members_by_title(conn, registry, catalog, batch_id, StateKind.council)
    if not waiting:
        raise KhenthuongError(f"Đợt đề nghị #{batch_id} không có hồ sơ nào chờ Hội đồng xét")
    missing = [c for c in waiting if c not in votes]
    extra = [c for c in votes if c not in waiting]
    if missing or extra:
        parts = []
        if missing:
            names = ", ".join(catalog.award(c).name.vi for c in missing)
            parts.append(f"thiếu kết quả bỏ phiếu cho {names}")
        if extra:
            parts.append(f"không có hồ sơ {', '.join(extra)} nào chờ Hội đồng trong đợt này")
        raise KhenthuongError(f"Đợt đề nghị #{batch_id}: " + "; ".join(parts))
    own = exceptions or {}
    on_agenda = set(
        conn.execute(
            select(COUNCIL_ITEMS.c.nomination_id).where(COUNCIL_ITEMS.c.session_id == session_id)
        ).scalars()
    )
    for code, ids in waiting.items():
        tally = votes[code]
        for nid in ids:
            if nid not in on_agenda:
                councils.add_item(conn, registry, session_id, nid, actor=actor)
            t = own.get(nid, tally)
            councils.record_tally(
                conn, session_id, nid, agree=t.agree, disagree=t.disagree, abstain=t.abstain,
                written_agree=t.written_agree, actor=actor,
            )  # fmt: skip
        conn.execute(
            delete(COUNCIL_TITLE_VOTES).where(
                COUNCIL_TITLE_VOTES.c.session_id == session_id,
                COUNCIL_TITLE_VOTES.c.award_code == code,
            )
        )
        conn.execute(
            insert(COUNCIL_TITLE_VOTES).values(
                session_id=session_id, award_code=code, batch_id=batch_id, agree=tally.agree,
                disagree=tally.disagree, abstain=tally.abstain,
                written_agree=tally.written_agree, items=len(ids),
            )
        )  # fmt: skip
    append_event(
        conn,
        f"council:{session_id}",
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger="tally_titles",
        payload={
            "batch": batch_id,
            "titles": {
                c: [v.agree, v.disagree, v.abstain, v.written_agree] for c, v in votes.items()
            },
            "exceptions": {str(k): [v.agree, v.disagree, v.abstain] for k, v in own.items()},
        },
    )
    return {code: len(ids) for code, ids in waiting.items()}


def title_summary(conn: Connection, catalog: Catalog, session_id: int) -> list[str]:
    """One line per title voted in the session: its tally and how many passed."""
    lines = []
    for v in conn.execute(
        select(COUNCIL_TITLE_VOTES)
        .where(COUNCIL_TITLE_VOTES.c.session_id == session_id)
        .order_by(COUNCIL_TITLE_VOTES.c.id)
    ):
        results = [
            r
            for r in conn.execute(
                select(COUNCIL_ITEMS.c.result, COUNCIL_ITEMS.c.nomination_id).where(
                    COUNCIL_ITEMS.c.session_id == session_id
                )
            )
            if award_code_of(get_row(conn, r.nomination_id), catalog) == v.award_code
        ]
        passed = sum(1 for r in results if r.result == "passed")
        award = catalog.award(v.award_code)
        lines.append(
            f"- {award.name.vi}: {award.count_vi(v.items)} "
            f"trong danh sách; đồng ý {v.agree}, không đồng ý {v.disagree}, không biểu quyết "
            f"{v.abstain}"
            + (f", ý kiến bằng văn bản {v.written_agree}" if v.written_agree else "")
            + (f"; đạt {passed}/{len(results)}" if any(r.result for r in results) else "")
        )
    return lines


def close_in(
    conn: Connection,
    registry: WorkflowRegistry,
    catalog: Catalog,
    session_id: int,
    *,
    actor: Actor,
) -> str:
    """Close the session (every nomination moves) and write the per-title results into its
    minutes; the minutes are kept as the biên bản bình xét of every batch the session voted."""
    minutes = councils.close_session(conn, registry, catalog, session_id, actor=actor)
    summary = title_summary(conn, catalog, session_id)
    if summary:
        minutes += "\nKết quả bỏ phiếu theo danh hiệu:\n" + "\n".join(summary) + "\n"
        conn.execute(
            update(COUNCIL_SESSIONS)
            .where(COUNCIL_SESSIONS.c.id == session_id)
            .values(minutes=minutes)
        )
    for batch_id in sorted(
        set(
            conn.execute(
                select(COUNCIL_TITLE_VOTES.c.batch_id).where(
                    COUNCIL_TITLE_VOTES.c.session_id == session_id,
                    COUNCIL_TITLE_VOTES.c.batch_id.is_not(None),
                )
            ).scalars()
        )
    ):
        store_upload(
            conn,
            BATCH_ATTACHMENTS,
            {"batch_id": batch_id},
            stream=batches.stream_of(batch_id),
            doc_type="bien_ban_binh_xet",
            name=f"bien-ban-binh-xet-phien-{session_id}.txt",
            content_type="text/plain",
            content=minutes.encode("utf-8"),
            actor=actor,
        )
    return minutes


def decide_titles_in(
    conn: Connection,
    registry: WorkflowRegistry,
    catalog: Catalog,
    batch_id: int,
    numbers: Mapping[str, str],
    *,
    signer: str,
    authority: str,
    decided_on: date,
    actor: Actor,
    now: datetime | None = None,
) -> dict[str, list[decisions.DecisionLine]]:
    """One decision per title for the batch's members waiting for the head's decision, with
    the number given for that title; individual titles are signed first."""
    waiting = members_by_title(conn, registry, catalog, batch_id, StateKind.decision)
    if not waiting:
        raise KhenthuongError(f"Đợt đề nghị #{batch_id} không có hồ sơ nào chờ ký quyết định")
    missing = [c for c in waiting if c not in numbers]
    if missing:
        names = ", ".join(catalog.award(c).name.vi for c in missing)
        raise KhenthuongError(f"Thiếu số quyết định cho {names}")
    extra = [c for c in numbers if c not in waiting]
    if extra:
        raise NotFound(f"Đợt đề nghị #{batch_id} không có hồ sơ {', '.join(extra)} chờ ký")
    order = sorted(waiting, key=lambda c: (catalog.award(c).subject == COLLECTIVE, c))
    signed: dict[str, list[decisions.DecisionLine]] = {}
    for code in order:
        signed[code] = decisions.create_decision(
            conn, registry, catalog, number=numbers[code], decided_on=decided_on,
            signer=signer, authority=authority, award_code=code,
            nomination_ids=waiting[code], actor=actor, now=now,
        )  # fmt: skip
    return signed


def may_decide(catalog: Catalog, codes: Iterable[str], authority: str, actor: Actor) -> bool:
    """Whether `actor` may sign the decisions of every title in `codes` at the unit
    `authority` (what `decide_titles_in` asks of them), so a page offers the form."""
    try:
        return all(decisions.signing_grant(catalog, c, authority, actor) for c in codes)
    except KhenthuongError:  # an award without a known signing role
        return False


def review_view(
    conn: Connection, registry: WorkflowRegistry, catalog: Catalog, batch_id: int
) -> dict[str, Any]:
    """The batch's members grouped by title with their states (for pages and the CLI)."""
    view = batches.view_batch(conn, registry, batch_id)
    titles: dict[str, list[batches.Member]] = {}
    for member in view.members:
        code = award_code_of(get_row(conn, member.nomination_id), catalog) or "?"
        titles.setdefault(code, []).append(member)
    return {"batch": view, "titles": titles}
