"""The organisation from files (issue 18 item 1): a 300-unit tree and 5,000 people imported,
a changed file applied as audited differences only, bad rows named FILE:ROW, nothing written
from a bad file."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import Connection, func, insert, select

from khenthuong.audit.verify import verify_all
from khenthuong.errors import Forbidden
from khenthuong.roles import roles_in
from khenthuong.runtime import Runtime
from khenthuong.services import new_nominations
from khenthuong.services.access import can_read
from khenthuong.services.account_files import apply_accounts, export_accounts, plan_accounts
from khenthuong.services.actors import Actor, load_actor
from khenthuong.services.org_files import IMPORT_STREAM, OrgFileRefused
from khenthuong.services.person_files import (
    apply_persons,
    export_persons,
    plan_persons,
    stays_of,
)
from khenthuong.services.unit_files import apply_units, export_units, plan_units
from khenthuong.storage.db import write_tx
from khenthuong.storage.history import AWARD_RECORDS
from khenthuong.storage.models import EVENTS, NOMINATIONS, PERSONS, UNITS, USER_ROLES, USERS
from khenthuong.storage.org_history import MEMBERSHIPS
from tests.conftest import CONFIG

UNIT_HEADER = ["Mã đơn vị", "Tên đơn vị", "Mã đơn vị cấp trên", "Cấp", "Loại đơn vị"]
PERSON_HEADER = ["Mã cán bộ", "Họ và tên", "Giới tính", "Năm sinh", "Chức vụ", "Mã đơn vị",
                 "Ngày hiệu lực", "Ngày nghỉ"]  # fmt: skip
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi"]
SECRETARY = "Thư ký Hội đồng Thi đua – Khen thưởng"
"""council_secretary by its Vietnamese title."""
GIVEN = ["Văn An", "Thị Bình", "Minh Châu", "Quốc Dũng", "Thu Hà", "Đức Khoa", "Ngọc Lan"]


def write_csv(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(path: Path, header: list[str], rows: list[list[Any]]) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def tree(count: int = 300) -> list[list[Any]]:
    """`count` units under BCY: 12 departments, each with sections, each with teams."""
    rows: list[list[Any]] = []
    for i in range(count):
        code = f"T{i:03d}"
        if i < 12:
            parent, kind = "BCY", "Cục"
        elif i < 72:
            parent, kind = f"T{(i - 12) // 5:03d}", "Phòng"
        else:
            parent, kind = f"T{12 + (i - 72) % 60:03d}", "Tổ"
        rows.append([code, f"{kind} số {i}", parent, "unit", kind])
    # Parents may come after their children in a file.
    return list(reversed(rows))


def people(count: int = 5000) -> list[list[Any]]:
    return [
        [f"CB{i:05d}", f"{FAMILY[i % 8]} {GIVEN[i % 7]}", "nam" if i % 2 else "nữ",
         1960 + i % 40, "Chuyên viên", f"T{i % 300:03d}", "", ""]
        for i in range(count)
    ]  # fmt: skip


def admin(conn: Connection) -> Actor:
    return load_actor(conn, "admin")


def events(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(EVENTS)).scalar_one())


def table(conn: Connection, t: Any) -> dict[int, tuple[Any, ...]]:
    return {r.id: tuple(r) for r in conn.execute(select(t))}


def import_units(rt: Runtime, path: Path) -> int:
    with write_tx(rt.engine) as conn:
        actor = admin(conn)
        return apply_units(conn, plan_units(conn, path, actor), actor)


def import_persons(rt: Runtime, path: Path, effective: date, **opts: Any) -> int:
    with write_tx(rt.engine) as conn:
        actor = admin(conn)
        plan = plan_persons(conn, path, actor, effective=effective, **opts)
        return apply_persons(conn, plan, actor)


def test_a_large_organisation_and_a_changed_file_apply_as_audited_differences(
    rt: Runtime, tmp_path: Path
) -> None:
    """300 units and 5,000 people; then renames, new units, moves, departures and an edit:
    one audit event per change plus one for the import, every other row unchanged, the moved
    people keep their awards and nominations and their stays are recorded."""
    units = tree()
    import_units(rt, write_csv(tmp_path / "units.csv", UNIT_HEADER, units))
    staff = people()
    import_persons(rt, write_xlsx(tmp_path / "staff.xlsx", PERSON_HEADER, staff), date(2026, 1, 1))
    with rt.engine.connect() as conn:
        assert (
            conn.execute(
                select(func.count()).where(UNITS.c.code.in_([f"T{i:03d}" for i in range(300)]))
            ).scalar()
            == 300
        )
        assert conn.execute(select(UNITS.c.path).where(UNITS.c.code == "T299")).scalar() == (
            "/CP/BCY/T009/T059/T299/"
        )
        ids = {r.staff_code: r.id for r in conn.execute(select(PERSONS.c.staff_code, PERSONS.c.id))}
        assert len([c for c in ids if c and c.startswith("CB")]) == 5000
        assert conn.execute(select(func.count()).select_from(MEMBERSHIPS)).scalar() == 5000
        assert (
            conn.execute(select(func.count()).where(EVENTS.c.stream.like("person:%"))).scalar()
            == 5000
        )

    # History of two people who will move: an award and a nomination.
    movers = [ids[f"CB{i:05d}"] for i in (7, 8)]
    with write_tx(rt.engine) as conn:
        conn.execute(
            insert(AWARD_RECORDS).values(
                person_id=movers[0], award_code="GK", year=2025, decision_number="12/QĐ-BCY",
                decision_date=date(2025, 5, 1), source="import", created_at=datetime.now(UTC),
            )
        )  # fmt: skip
        cb = load_actor(conn, "cb.qd")
    nid = new_nominations.create_nomination(
        rt.engine, rt.registry, workflow="giay_khen", proposing_unit="CCYQD", actor=cb,
        nominee_person_id=movers[1], year=2026,
    )  # fmt: skip

    # The changed files: 5 renames and 2 new units; 40 moves (2 dated in the row), 10 people
    # leaving, 3 new positions. Everything else as before.
    for row in units:
        if row[0] in ("T010", "T020", "T030", "T040", "T050"):
            row[1] = row[1] + " (đổi tên)"
    units += [
        ["T300", "Tổ mới 300", "T012", "unit", "Tổ"],
        ["T301", "Tổ mới 301", "T300", "unit", "Tổ"],
    ]
    moved = list(range(0, 400, 10))
    for i in moved:
        staff[i][5] = "T301" if i == 0 else f"T{(i + 1) % 300:03d}"
    staff[10][6] = "15/03/2026"
    staff[20][6] = "2026-04-01"
    for i in range(1000, 1010):
        staff[i][7] = "30/06/2026"
    for i in (2001, 2002, 2003):
        staff[i][4] = "Phó Trưởng phòng"
    with rt.engine.connect() as conn:
        before_units, before_people = table(conn, UNITS), table(conn, PERSONS)
        before_events, before_stays = events(conn), table(conn, MEMBERSHIPS)
        before_users, before_roles = table(conn, USERS), table(conn, USER_ROLES)
    written = import_units(rt, write_csv(tmp_path / "units2.csv", UNIT_HEADER, units))
    assert written == 5 + 2 + 1
    staff_file = write_csv(tmp_path / "staff2.csv", PERSON_HEADER, staff)
    with rt.engine.connect() as conn:
        preview = plan_persons(conn, staff_file, admin(conn), effective=date(2026, 2, 1))
    assert preview.counts() == {"person_moved": 40, "person_left": 10, "person_changed": 3}
    assert any("Chuyển" in c.text and "Tổ mới 301" in c.text for c in preview.changes)
    assert import_persons(rt, staff_file, date(2026, 2, 1)) == 40 + 10 + 3 + 1

    with rt.engine.connect() as conn:
        assert events(conn) == before_events + 8 + 54
        after_units, after_people = table(conn, UNITS), table(conn, PERSONS)
        renamed = {i for i, r in before_units.items() if after_units[i] != r}
        assert {before_units[i][1] for i in renamed} == {"T010", "T020", "T030", "T040", "T050"}
        assert len(after_units) == len(before_units) + 2
        changed = {i for i, r in before_people.items() if after_people[i] != r}
        expected = {ids[f"CB{i:05d}"] for i in [*moved, *range(1000, 1010), 2001, 2002, 2003]}
        assert changed == expected
        assert table(conn, USERS) == before_users and table(conn, USER_ROLES) == before_roles
        stays = table(conn, MEMBERSHIPS)
        closed = {k for k, v in before_stays.items() if stays[k] != v}
        gone = {ids[f"CB{i:05d}"] for i in [*moved, *range(1000, 1010)]}
        assert closed == {k for k, v in before_stays.items() if v[1] in gone}
        assert len(stays) == len(before_stays) + 40
        # History stays on the person.
        award_person = conn.execute(select(AWARD_RECORDS.c.person_id)).scalar()
        assert award_person == movers[0]
        assert (
            conn.execute(
                select(NOMINATIONS.c.nominee_person_id).where(NOMINATIONS.c.id == nid)
            ).scalar()
            == movers[1]
        )
        t301 = conn.execute(select(UNITS.c.id).where(UNITS.c.code == "T301")).scalar()
        assert (
            conn.execute(select(PERSONS.c.unit_id).where(PERSONS.c.id == ids["CB00000"])).scalar()
            == t301
        )
        assert stays_of(conn, ids["CB00010"]) == [
            ("Cục số 10 (đổi tên)", date(2026, 1, 1), date(2026, 3, 15)),
            ("Cục số 11", date(2026, 3, 15), None),
        ]
        assert conn.execute(
            select(PERSONS.c.left_on).where(PERSONS.c.id == ids["CB01000"])
        ).scalar() == date(2026, 6, 30)
        trail = conn.execute(
            select(EVENTS.c.trigger, EVENTS.c.payload)
            .where(EVENTS.c.stream == f"person:{ids['CB00010']}")
            .order_by(EVENTS.c.seq)
        ).all()
        assert [t.trigger for t in trail] == ["person_added", "person_moved"]
        assert '"on":"2026-03-15"' in trail[1].payload
        assert (
            conn.execute(select(func.count()).where(EVENTS.c.stream == IMPORT_STREAM)).scalar() == 4
        )
        assert verify_all(conn).ok

    # The same files again change nothing but record the import.
    assert import_units(rt, tmp_path / "units2.csv") == 1
    assert import_persons(rt, staff_file, date(2026, 2, 1)) == 1


def test_bad_rows_are_named_by_file_and_row_and_nothing_is_written(
    rt: Runtime, tmp_path: Path
) -> None:
    """Unknown parent, a parent loop, a duplicate code, a bad year of birth and an unknown
    role: every row named, nothing written."""
    units = write_csv(tmp_path / "don-vi.csv", UNIT_HEADER, [
        ["A1", "Phòng A1", "BCY", "unit", ""],
        ["A2", "Phòng A2", "KHONGCO", "unit", ""],
        ["A3", "Phòng A3", "A4", "unit", ""],
        ["A4", "Phòng A4", "A3", "unit", ""],
        ["A1", "Phòng A1 lần hai", "BCY", "unit", ""],
        ["BCY", "Ban Cơ yếu Chính phủ", "CCYQD", "ministry", ""],
    ])  # fmt: skip
    staff = write_csv(tmp_path / "ca-nhan.csv", PERSON_HEADER, [
        ["X1", "Nguyễn Văn A", "nam", "19x0", "", "CCYQD", "", ""],
        ["X2", "Trần Thị B", "nữ", "1890", "", "CCYQD", "", ""],
        ["X3", "Lê Văn C", "khác", "1980", "", "CCYQD", "", ""],
        ["", "Phạm Văn D", "nam", "1980", "", "CCYQD", "", ""],
        ["X1", "Hoàng Văn E", "nam", "1980", "", "KHONGCO", "31/02/2026", ""],
        ["X6", "Vũ Thị G", "nữ", "1981", "", "CCYQD", "", ""],
    ])  # fmt: skip
    accounts = tmp_path / "tai-khoan.csv"
    write_csv(accounts, ["Tên đăng nhập", "Họ và tên", "Thư điện tử", "Mã đơn vị", "Vai trò"], [
        ["moi.a", "Người mới", "moi.a@bcy.example", "CCYQD", "unit_officer"],
        ["moi.b", "Người mới B", "moi.b@bcy.example", "CCYQD", "thu_ky@CCYQD"],
        ["moi.c", "Người mới C", "khong-phai-thu", "CCYQD", "unit_head@KHONGCO"],
    ])  # fmt: skip
    roles = roles_in(CONFIG)
    with rt.engine.connect() as conn:
        actor, before = admin(conn), events(conn)
        with pytest.raises(OrgFileRefused) as unit_errors:
            plan_units(conn, units, actor)
        with pytest.raises(OrgFileRefused) as person_errors:
            plan_persons(conn, staff, actor, effective=date(2026, 1, 1))
        with pytest.raises(OrgFileRefused) as account_errors:
            plan_accounts(conn, accounts, actor, roles)
        assert events(conn) == before
    got = unit_errors.value.errors
    assert [e.split(":")[1] for e in got] == ["3", "4", "5", "6", "7"]
    assert "don-vi.csv:3: không có đơn vị cấp trên mã KHONGCO" in got[0]
    assert "vòng lặp: Phòng A3 → Phòng A4 → Phòng A3" in got[1]
    assert "vòng lặp: Phòng A4 → Phòng A3 → Phòng A4" in got[2]
    assert got[3] == "don-vi.csv:6: mã đơn vị A1 trùng với dòng 2"
    assert got[4] == (
        "don-vi.csv:7: không thể chuyển đơn vị Ban Cơ yếu Chính phủ vào Cục Cơ yếu Quân "
        "đội: một đơn vị không thể thuộc chính nó hay đơn vị cấp dưới của nó "
        "(Ban Cơ yếu Chính phủ → Cục Cơ yếu Quân đội → Ban Cơ yếu Chính phủ)"
    )
    got = person_errors.value.errors
    assert [e.split(":")[1] for e in got] == ["2", "3", "4", "5", "6"]
    assert got[0] == "ca-nhan.csv:2: năm sinh '19x0' không hợp lệ (một năm từ 1900 đến 2026)"
    assert "năm sinh '1890' không hợp lệ" in got[1]
    assert "giới tính 'khác' không hợp lệ" in got[2]
    assert "thiếu mã cán bộ" in got[3]
    assert "mã cán bộ X1 trùng với dòng 2" in got[4]
    assert "không có đơn vị mã 'KHONGCO'" in got[4] and "không có trên lịch" in got[4]
    got = account_errors.value.errors
    assert [e.split(":")[1] for e in got] == ["3", "4"]
    assert got[0].startswith("tai-khoan.csv:3: vai trò 'thu_ky' không có; các vai trò: admin,")
    assert "thư điện tử 'khong-phai-thu' không hợp lệ" in got[1]
    assert "không có đơn vị phạm vi 'KHONGCO'" in got[1]


def test_accounts_are_imported_without_passwords_and_exports_import_back_unchanged(
    rt: Runtime, tmp_path: Path
) -> None:
    """New accounts get no password (the plan says how to set one); roles are granted and
    revoked, an account disabled; an export of each register imports back with no change."""
    roles = roles_in(CONFIG)
    exported = tmp_path / "tai-khoan.xlsx"
    with rt.engine.connect() as conn:
        export_accounts(conn, exported)
    path = tmp_path / "sua.csv"
    write_csv(path, ["Tên đăng nhập", "Thư điện tử", "Mã đơn vị", "Vai trò", "Hoạt động"], [
        ["cb.qd", "cb.qd@bcy.example", "CCYQD", f"unit_officer; {SECRETARY}@CCYQD", "có"],
        ["tt.qd", "tt.qd@bcy.example", "CCYQD", "unit_head", "không"],
        ["moi.a", "moi.a@bcy.example", "CCYQD", "unit_officer@CCYQD", ""],
    ])  # fmt: skip
    with write_tx(rt.engine) as conn:
        actor = admin(conn)
        plan = plan_accounts(conn, path, actor, roles)
        assert plan.counts() == {"roles_changed": 1, "account_disabled": 1, "account_added": 1}
        assert "liên kết đặt mật khẩu" in plan.notes[0] and "moi.a" in plan.notes[0]
        assert "khenthuong" not in plan.notes[0]  # the pages and the API show it too
        assert apply_accounts(conn, plan, actor) == 4
    with rt.engine.connect() as conn:
        new = conn.execute(select(USERS).where(USERS.c.username == "moi.a")).one()
        assert new.password_hash is None and new.full_name == "moi.a"
        assert not conn.execute(select(USERS.c.active).where(USERS.c.username == "tt.qd")).scalar()
        cb = load_actor(conn, "cb.qd")
        assert {(g.role, g.scope_code) for g in cb.grants} == {
            ("unit_officer", "CCYQD"),
            ("council_secretary", "CCYQD"),
        }
        # Exports import back as they are.
        for name, export in (("u.csv", export_units), ("p.xlsx", export_persons),
                             ("a.csv", export_accounts)):  # fmt: skip
            export(conn, tmp_path / name)
        actor = admin(conn)
        assert plan_units(conn, tmp_path / "u.csv", actor).changes == []
        assert (
            plan_persons(conn, tmp_path / "p.xlsx", actor, effective=date(2026, 1, 1)).changes == []
        )
        assert plan_accounts(conn, tmp_path / "a.csv", actor, roles).changes == []
        assert "password" not in (tmp_path / "a.csv").read_text(encoding="utf-8-sig").lower()


def test_an_import_that_locks_out_the_administrator_is_refused(rt: Runtime, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", ["Tên đăng nhập", "Thư điện tử", "Mã đơn vị", "Vai trò"],
                     [["admin", "admin@btdkt.example", "CP", "auditor@CP"]])  # fmt: skip
    refused = pytest.raises(OrgFileRefused, match=r"a.csv:2: tệp khóa hoặc bỏ vai trò quản trị")
    with rt.engine.connect() as conn, refused:
        plan_accounts(conn, path, admin(conn), roles_in(CONFIG))


def test_only_administrators_import(rt: Runtime, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u.csv", UNIT_HEADER, [["A1", "Phòng A1", "CCYQD", "unit", ""]])
    with rt.engine.connect() as conn, pytest.raises(Forbidden, match="Chỉ quản trị hệ thống"):
        plan_units(conn, path, load_actor(conn, "cb.qd"))


def test_people_left_out_of_a_units_list_leave_only_when_asked(rt: Runtime, tmp_path: Path) -> None:
    """With absent_leave, the active people of the units the file names whom it leaves out
    are recorded as having left; people of other units are untouched."""
    rows = [[f"Q{i}", f"Người {i}", "", "", "", "CCYQD" if i < 3 else "CCYCA", "", ""]
            for i in range(5)]  # fmt: skip
    import_persons(rt, write_csv(tmp_path / "a.csv", PERSON_HEADER, rows), date(2026, 1, 1))
    shorter = write_csv(tmp_path / "b.csv", PERSON_HEADER, [rows[0], rows[3]])
    with rt.engine.connect() as conn:
        kept = plan_persons(conn, shorter, admin(conn), effective=date(2026, 5, 1))
        assert kept.changes == []
    with rt.engine.connect() as conn:
        named = conn.execute(
            select(func.count()).select_from(PERSONS.join(UNITS, UNITS.c.id == PERSONS.c.unit_id))
            .where(UNITS.c.code.in_(["CCYQD", "CCYCA"]))
        ).scalar_one()  # fmt: skip
    assert import_persons(rt, shorter, date(2026, 5, 1), absent_leave=True) == named - 2 + 1
    with rt.engine.connect() as conn:
        left = dict(conn.execute(select(PERSONS.c.staff_code, PERSONS.c.left_on).where(
            PERSONS.c.staff_code.like("Q%"))).all())  # fmt: skip
    assert left == {"Q0": None, "Q1": date(2026, 5, 1), "Q2": date(2026, 5, 1), "Q3": None,
                    "Q4": date(2026, 5, 1)}  # fmt: skip
    # Back: an empty Ngày nghỉ brings a person back; a file without that column keeps them out.
    back = write_csv(tmp_path / "c.csv", PERSON_HEADER, [rows[1]])
    assert import_persons(rt, back, date(2026, 9, 1)) == 2
    short = ["Mã cán bộ", "Họ và tên", "Mã đơn vị"]
    kept = write_csv(tmp_path / "d.csv", short, [["Q2", "Người 2", "CCYQD"]])
    assert import_persons(rt, kept, date(2026, 9, 1)) == 1
    with rt.engine.connect() as conn:
        left = dict(conn.execute(select(PERSONS.c.staff_code, PERSONS.c.left_on).where(
            PERSONS.c.staff_code.in_(["Q1", "Q2"]))).all())  # fmt: skip
        q1 = conn.execute(select(PERSONS.c.id).where(PERSONS.c.staff_code == "Q1")).scalar_one()
        assert stays_of(conn, q1) == [
            ("Cục Cơ yếu Quân đội", date(2026, 1, 1), date(2026, 5, 1)),
            ("Cục Cơ yếu Quân đội", date(2026, 9, 1), None),
        ]
    assert left == {"Q1": None, "Q2": date(2026, 5, 1)}
    moved_out = write_csv(tmp_path / "e.csv", short, [["Q2", "Người 2", "CCYCA"]])
    with (
        rt.engine.connect() as conn,
        pytest.raises(OrgFileRefused, match=r"e\.csv:2: Người 2 đã nghỉ"),
    ):
        plan_persons(conn, moved_out, admin(conn), effective=date(2026, 9, 1))


def _unit_paths(conn: Connection, *codes: str) -> list[str]:
    found = dict(
        conn.execute(select(UNITS.c.code, UNITS.c.path).where(UNITS.c.code.in_(codes))).all()
    )
    return [str(found[c]) for c in codes]


def test_a_unit_moves_to_another_parent_with_its_subtree_and_records_as_an_audited_change(
    rt: Runtime, tmp_path: Path
) -> None:
    """Cục Cơ yếu Quân đội, with a section of its own and a nomination, moves from Ban Cơ yếu
    to Bộ Công an by a second import: one `unit_moved` event, the subtree's paths and the
    nomination's follow, its officer still reads it; the same file again changes nothing."""
    assert import_units(rt, write_csv(tmp_path / "v1.csv", UNIT_HEADER, [
        ["PQD1", "Phòng Kỹ thuật", "CCYQD", "unit", "Phòng"],
    ])) == 2  # fmt: skip
    with rt.engine.connect() as conn:
        cb = load_actor(conn, "cb.qd")
    nid = new_nominations.create_nomination(
        rt.engine, rt.registry, workflow="giay_khen", proposing_unit="CCYQD", actor=cb,
        nominee_name="Nguyễn Văn Chuyển", year=2026, create_person=True,
    )  # fmt: skip
    moves = write_csv(tmp_path / "v2.csv", UNIT_HEADER, [
        ["PQD1", "Phòng Kỹ thuật", "CCYQD", "unit", "Phòng"],
        ["CCYQD", "Cục Cơ yếu Quân đội", "BCA", "unit", ""],
    ])  # fmt: skip
    with rt.engine.connect() as conn:
        preview = plan_units(conn, moves, admin(conn))
    assert preview.counts() == {"unit_moved": 1}
    assert preview.changes[0].text == (
        "Chuyển đơn vị Cục Cơ yếu Quân đội cùng các đơn vị trực thuộc: từ Ban Cơ yếu "
        "Chính phủ sang Bộ Công an"
    )
    assert preview.changes[0].payload == {"code": "CCYQD", "parent": ["BCY", "BCA"]}
    assert import_units(rt, moves) == 2  # the move and the import
    with rt.engine.connect() as conn:
        assert _unit_paths(conn, "CCYQD", "PQD1", "BCY") == [
            "/CP/BCA/CCYQD/", "/CP/BCA/CCYQD/PQD1/", "/CP/BCY/",
        ]  # fmt: skip
        path = conn.execute(select(NOMINATIONS.c.unit_path).where(NOMINATIONS.c.id == nid))
        assert path.scalar_one() == "/CP/BCA/CCYQD/"
        parent = conn.execute(select(UNITS.c.parent_id).where(UNITS.c.code == "CCYQD"))
        bca = conn.execute(select(UNITS.c.id).where(UNITS.c.code == "BCA")).scalar_one()
        assert parent.scalar_one() == bca
        unit_id = conn.execute(select(UNITS.c.id).where(UNITS.c.code == "CCYQD")).scalar_one()
        trail = conn.execute(
            select(EVENTS.c.trigger, EVENTS.c.payload).where(EVENTS.c.stream == f"unit:{unit_id}")
        ).all()
        assert [t.trigger for t in trail] == ["unit_moved"]
        payload = trail[0].payload
        assert '"parent":["BCY","BCA"]' in payload.replace(" ", "")
        assert '"subunits":1' in payload.replace(" ", "")
        assert '"nomination":1' in payload.replace(" ", "")
        assert can_read(load_actor(conn, "cb.qd"), "/CP/BCA/CCYQD/")
        assert verify_all(conn).ok
    assert import_units(rt, moves) == 1  # nothing left to change: the import alone


def test_moves_that_would_put_a_unit_under_itself_are_refused_naming_file_and_row(
    rt: Runtime, tmp_path: Path
) -> None:
    """Two units each moved under the other, and a unit under its own subunit: every such row
    named FILE:ROW, nothing written."""
    swap = write_csv(tmp_path / "hoan-doi.csv", UNIT_HEADER, [
        ["CCYQD", "Cục Cơ yếu Quân đội", "CCYCA", "unit", ""],
        ["CCYCA", "Cục Cơ yếu Công an", "CCYQD", "unit", ""],
        ["CP", "Chính phủ", "BCY", "national", ""],
    ])  # fmt: skip
    with rt.engine.connect() as conn:
        before = (events(conn), table(conn, UNITS))
        with pytest.raises(OrgFileRefused) as refused:
            plan_units(conn, swap, admin(conn))
        assert (events(conn), table(conn, UNITS)) == before
    assert refused.value.errors == [
        "hoan-doi.csv:2: không thể chuyển đơn vị Cục Cơ yếu Quân đội vào Cục Cơ yếu "
        "Công an: một đơn vị không thể thuộc chính nó hay đơn vị cấp dưới của nó "
        "(Cục Cơ yếu Quân đội → Cục Cơ yếu Công an → Cục Cơ yếu Quân đội)",
        "hoan-doi.csv:3: không thể chuyển đơn vị Cục Cơ yếu Công an vào Cục Cơ yếu "
        "Quân đội: một đơn vị không thể thuộc chính nó hay đơn vị cấp dưới của nó "
        "(Cục Cơ yếu Công an → Cục Cơ yếu Quân đội → Cục Cơ yếu Công an)",
        "hoan-doi.csv:4: không thể chuyển đơn vị Chính phủ vào Ban Cơ yếu Chính phủ: "
        "một đơn vị không thể thuộc chính nó hay đơn vị cấp dưới của nó "
        "(Chính phủ → Ban Cơ yếu Chính phủ → Chính phủ)",
    ]
