"""The demo's emulation year of Cục Cơ yếu Quân đội: registration, ratings, and LĐTT, CSTĐCS
and TTLĐTT decided through one council session and one decision per title. Runs again
without duplicates: each phase does only what is not done yet."""

from __future__ import annotations

from datetime import UTC, datetime

from rich.console import Console
from sqlalchemy import insert, select

from khenthuong.cli.demo_council import demo_council
from khenthuong.documents.text import money
from khenthuong.localtime import local_date
from khenthuong.rules.catalog import catalog_in
from khenthuong.runtime import Runtime
from khenthuong.services import batches, councils, ratings, registrations, year_review
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.nominees import matching_people
from khenthuong.services.org import add_person
from khenthuong.services.unit_sheets import unit_row
from khenthuong.storage.batches import BATCHES
from khenthuong.storage.db import write_tx
from khenthuong.storage.history import INITIATIVES
from khenthuong.workflow.definition import StateKind

UNIT = "CCYQD"
TARGETS = (
    "100% cán bộ, đảng viên hoàn thành nhiệm vụ",
    "Trên 80% đảng viên hoàn thành tốt, xuất sắc nhiệm vụ",
    "100% chi bộ hoàn thành nhiệm vụ",
)
"""The targets the seed articles give for the covenants of Ban Cơ yếu's blocs (DOMAIN §11)."""
TEAM = (
    # (name, position, rating of the year or None, titles registered)
    ("Hoàng Văn Dũng", "Trưởng phòng kỹ thuật", "htxs", ("CSTDCS", "LDTT")),
    ("Vũ Thị Hạnh", "Trợ lý mật mã", "htxs", ("CSTDCS", "LDTT")),
    ("Lê Quang Huy", "Kỹ sư mật mã", "htt", ("LDTT",)),
    ("Phạm Thị Lan", "Nhân viên văn thư", "htt", ("LDTT",)),
    ("Đinh Văn Khải", "Trợ lý kỹ thuật", "htt", ("LDTT",)),
    ("Ngô Thị Mai", "Nhân viên cơ yếu", "htt", ("LDTT",)),
    ("Bùi Văn Nam", "Kỹ thuật viên", "htt", ("LDTT",)),
    ("Trịnh Văn Oanh", "Nhân viên lái xe", "ht", ("LDTT",)),
    ("Tạ Văn Phong", "Nhân viên mới tuyển", None, ("LDTT",)),
)
"""Nine people of the unit: seven meet the LĐTT standard (two also CSTĐCS: rated excellent,
Law Art 23), one rated 'hoàn thành nhiệm vụ' and one not rated yet are refused."""
VOTES = {
    "LDTT": year_review.Tally(7),
    "CSTDCS": year_review.Tally(6, 1),
    "TTLDTT": year_review.Tally(7),
}
PDF = b"%PDF-1.4 demo\n%%EOF\n"


def run_unit_year(rt: Runtime, console: Console) -> int:
    """Seed and decide the demo unit's year; returns the year-end batch's id."""
    catalog = catalog_in(rt.settings.config_dir)
    today = local_date(datetime.now(UTC))
    year = today.year
    with rt.engine.connect() as conn:
        actors = {u: load_actor(conn, u) for u in ("cb.qd", "tk.qd", "tt.qd")}
    officer = actors["cb.qd"]
    console.rule(f"[bold]Năm thi đua {year} của Cục Cơ yếu Quân đội[/]")
    with write_tx(rt.engine) as conn:
        path = unit_row(conn, UNIT).path
        ids: dict[str, int] = {}
        for name, position, _, _ in TEAM:
            found = matching_people(conn, name, path)
            ids[name] = found[0].id if found else add_person(conn, name, UNIT, position=position)
        registrations.register_in(
            conn, unit=UNIT, year=year, actor=officer, targets=TARGETS,
            registered_on=min(today, today.replace(month=1, day=15)),
        )  # fmt: skip
        entries = [
            registrations.EntryIn(code, person_id=ids[name])
            for name, _, _, codes in TEAM
            for code in codes
            if code not in registrations.registered_codes(conn, year, ids[name], None)
        ]
        unit_id = unit_row(conn, UNIT).id
        if "TTLDTT" not in registrations.registered_codes(conn, year, None, unit_id):
            entries.append(registrations.EntryIn("TTLDTT", unit_code=UNIT))
        if entries:
            registrations.add_entries_in(
                conn, catalog, unit=UNIT, year=year, entries=entries, actor=officer
            )
        rated = ratings.set_ratings_in(
            conn, unit=UNIT, year=year, actor=officer,
            ratings=[(ids[name], r) for name, _, r, _ in TEAM if r is not None],
        )  # fmt: skip
        first = ids[TEAM[0][0]]
        if not conn.execute(
            select(INITIATIVES.c.id).where(INITIATIVES.c.person_id == first)
        ).first():
            conn.execute(
                insert(INITIATIVES).values(
                    person_id=first, year=year, scope="grassroots",
                    title="Quy trình kiểm tra định kỳ thiết bị mật mã",
                )
            )  # fmt: skip
    console.print(
        f"[green]✓[/] cb.qd: đăng ký thi đua ({len(TARGETS)} chỉ tiêu, {len(entries)} danh hiệu "
        f"mới), xếp loại {rated.added} người — khenthuong registrations show --unit {UNIT} "
        f"--year {year}"
    )
    title = f"Bình xét thi đua năm {year}"
    with write_tx(rt.engine) as conn:
        batch_id = conn.execute(
            select(BATCHES.c.id).where(
                BATCHES.c.title == title, BATCHES.c.year == year,
                BATCHES.c.proposing_unit_id == unit_id,
            )
        ).scalar()  # fmt: skip
        if batch_id is None:
            batch_id, _ = year_review.propose_in(
                conn, rt.registry, catalog, unit=UNIT, year=year, actor=officer, title=title
            )
            for doc in ("to_trinh", "bao_cao_thanh_tich"):
                batches.attach_in(
                    conn, batch_id, doc_type=doc, filename=f"{doc}.pdf", content=PDF,
                    actor=officer, max_bytes=rt.settings.max_attachment_bytes,
                )  # fmt: skip
            step = batches.advance_batch_members_in(conn, rt.registry, batch_id, "submit", officer)
            console.print(
                f"[green]✓[/] cb.qd: đợt đề nghị #{batch_id}, {len(step.done)} hồ sơ trình Hội đồng"
            )
            for nid, reasons in step.refused.items():
                console.print(f"  [yellow]✗[/] hồ sơ #{nid}: {reasons[0].message_vi}")
        waiting = year_review.members_by_title(
            conn, rt.registry, catalog, batch_id, StateKind.council
        )
    if waiting:
        secretary = actors["tk.qd"]
        with write_tx(rt.engine) as conn:
            sid = councils.open_session(
                conn, UNIT, title=f"Bình xét danh hiệu thi đua năm {year}", held_on=today,
                members=demo_council(
                    7, chair=actors["tt.qd"].full_name, secretary=secretary.full_name
                ),
                actor=secretary,
            )  # fmt: skip
            year_review.tally_titles_in(
                conn, rt.registry, catalog, sid, batch_id,
                {c: v for c, v in VOTES.items() if c in waiting}, actor=secretary,
            )  # fmt: skip
            minutes = year_review.close_in(conn, rt.registry, catalog, sid, actor=secretary)
        console.print(f"[green]✓[/] tk.qd: phiên họp #{sid}, một lần bỏ phiếu cho mỗi danh hiệu")
        for line in minutes.split("Kết quả bỏ phiếu theo danh hiệu:\n", 1)[-1].splitlines():
            console.print(f"  {line}")
    with write_tx(rt.engine) as conn:
        waiting = year_review.members_by_title(
            conn, rt.registry, catalog, batch_id, StateKind.decision
        )
        if waiting:
            numbers = {
                code: f"{300 + 3 * batch_id + i}/QĐ-CCYQD"
                for i, code in enumerate(("LDTT", "CSTDCS", "TTLDTT"))
                if code in waiting
            }
            head: Actor = actors["tt.qd"]
            signed = year_review.decide_titles_in(
                conn, rt.registry, catalog, batch_id, numbers, signer="Trần Văn Hùng",
                authority=UNIT, decided_on=today, actor=head,
            )  # fmt: skip
            for code, lines in signed.items():
                console.print(
                    f"[green]✓[/] tt.qd ký Quyết định {numbers[code]} — "
                    f"{catalog.award(code).name.vi}: {catalog.award(code).count_vi(len(lines))}, "
                    f"{money(sum(x.amount_vnd for x in lines))} đồng"
                )
    console.print(f"Xem: khenthuong year-review show {batch_id}")
    return int(batch_id)
