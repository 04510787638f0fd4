"""Shared steps of the unit-year tests: people with ratings, registrations, one pass."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import insert

from khenthuong.rules.catalog import Catalog, catalog_in
from khenthuong.runtime import Runtime
from khenthuong.services import batches, councils, ratings, registrations, year_review
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.councils import MemberIn
from khenthuong.services.org import add_person
from khenthuong.storage.db import write_tx
from khenthuong.storage.history import BLOCKERS, INITIATIVES
from tests.conftest import CONFIG

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def who(rt: Runtime, name: str) -> Actor:
    with rt.engine.connect() as conn:
        return load_actor(conn, name)


def catalog() -> Catalog:
    return catalog_in(CONFIG)


def people(
    rt: Runtime, rated: dict[str, str | None], unit: str = "CCYQD", year: int = 2026
) -> dict[str, int]:
    """Add people to `unit` and rate them for `year` (None: not rated)."""
    ids = {}
    with write_tx(rt.engine) as conn:
        for name in rated:
            ids[name] = add_person(conn, name, unit)
        given = [(ids[n], r) for n, r in rated.items() if r is not None]
        if given:
            ratings.set_ratings_in(
                conn, unit=unit, year=year, ratings=given, actor=who(rt, "cb.qd")
            )
    return ids


def initiative(rt: Runtime, person_id: int, year: int = 2026) -> None:
    with write_tx(rt.engine) as conn:
        conn.execute(
            insert(INITIATIVES).values(
                person_id=person_id, year=year, title="Sáng kiến quản lý khóa", scope="grassroots"
            )
        )


def discipline(rt: Runtime, person_id: int, level: str, year: int = 2026) -> None:
    with write_tx(rt.engine) as conn:
        conn.execute(
            insert(BLOCKERS).values(
                person_id=person_id, kind="discipline", level=level,
                starts_on=date(year, 2, 1), ends_on=date(year, 8, 1),
            )
        )  # fmt: skip


def register(rt: Runtime, entries: list[registrations.EntryIn], unit: str = "CCYQD",
             year: int = 2026) -> None:  # fmt: skip
    with write_tx(rt.engine) as conn:
        registrations.add_entries_in(
            conn, catalog(), unit=unit, year=year, entries=entries, actor=who(rt, "cb.qd")
        )


def propose_and_submit(
    rt: Runtime, entries: list[year_review.ProposedEntry] | None = None, year: int = 2026
) -> tuple[int, batches.BatchStep]:
    """The unit's year-end batch (registered titles by default), documents attached once,
    submitted to the unit council."""
    officer = who(rt, "cb.qd")
    with write_tx(rt.engine) as conn:
        batch_id, _ = year_review.propose_in(
            conn, rt.registry, catalog(), unit="CCYQD", year=year, actor=officer,
            title=f"Bình xét thi đua năm {year}", entries=entries,
        )  # fmt: skip
        for doc in ("to_trinh", "bao_cao_thanh_tich"):
            batches.attach_in(
                conn, batch_id, doc_type=doc, filename=f"{doc}.pdf", content=PDF,
                actor=officer, max_bytes=10_000,
            )  # fmt: skip
        step = batches.advance_batch_members_in(conn, rt.registry, batch_id, "submit", officer)
    return batch_id, step


def council_pass(
    rt: Runtime, batch_id: int, votes: dict[str, year_review.Tally], members: int = 7
) -> str:
    secretary = who(rt, "tk.qd")
    with write_tx(rt.engine) as conn:
        sid = councils.open_session(
            conn, "CCYQD", title="Bình xét thi đua cuối năm", held_on=datetime.now(UTC).date(),
            members=[MemberIn(f"Ủy viên {i}") for i in range(1, members + 1)], actor=secretary,
        )  # fmt: skip
        year_review.tally_titles_in(
            conn, rt.registry, catalog(), sid, batch_id, votes, actor=secretary
        )
        return year_review.close_in(conn, rt.registry, catalog(), sid, actor=secretary)
