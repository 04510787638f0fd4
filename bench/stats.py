"""Benchmark: the statistics report over 1,000,000 award records on PostgreSQL.

Run:  .venv/bin/python bench/stats.py [--rows N] [--persons N] [--repeat N]

A fresh database `bench_<random>` (through KHENTHUONG_BENCH_PG_URL, default
postgresql+psycopg://postgres@127.0.0.1:5432/test) is migrated with `storage.migrate.upgrade`
and filled in SQL with `generate_series` (not the ORM): a national tree of units (one root,
100 ministries and provinces, 40 units under each), 400,000 people (a third of them women)
and `--rows` award records over the years 2022-2025 (a quarter per year): 85 % to individuals,
15 % to collectives, the award codes weighted as a year's real mix (mostly Lao động tiên
tiến, then Chiến sĩ thi đua cơ sở, Giấy khen, Bằng khen …), all commendation types, 1 %
revoked. The database is dropped at the end, even if the run fails.

Timed (median of --repeat runs after one warm-up): `services.statistics.statistics_report`
for the whole country and one year (target < 2 s), the same for one ministry, and the whole
country over the four years; the baseline in the same run is a plain
`SELECT award_code, count(*) FROM award_record WHERE year = 2025 AND NOT revoked GROUP BY
award_code` over the
same rows. Prints figures and the ratio only (no assertions), with PASS or MISS.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p).resolve() != Path(__file__).resolve().parent]

from sqlalchemy import Engine, text  # noqa: E402

from khenthuong.services.statistics import statistics_report  # noqa: E402
from khenthuong.settings import PROJECT_ROOT  # noqa: E402
from khenthuong.storage.db import make_engine  # noqa: E402
from khenthuong.storage.migrate import upgrade  # noqa: E402

PG_URL = os.environ.get(
    "KHENTHUONG_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
CONFIG = PROJECT_ROOT / "config"
YEAR = 2025
TARGET_S = 2.0
ORGS, UNITS_PER_ORG = 100, 40
# (award code, weight out of 100, subject): a year's mix, individuals then collectives.
INDIVIDUAL = [
    ("LDTT", 60), ("CSTDCS", 12), ("GIAY_KHEN", 14), ("BK_BO", 8), ("CSTD_BO", 2),
    ("BK_TTG", 1), ("HCLD3", 1), ("KNC_BO", 1), ("CST", 1),
]  # fmt: skip
COLLECTIVE = [("TTLDTT", 55), ("TTLDXS", 20), ("GIAY_KHEN", 12), ("BK_BO", 10), ("CO_BO", 3)]
TYPES = [("cong_trang", 80), ("chuyen_de", 12), ("dot_xuat", 6), ("cong_hien", 2)]
AWARD_PICK = "(abs(hashtext(g::text)) % 1000) / 1000.0"
TYPE_PICK = "(abs(hashtext(g::text || 't')) % 1000) / 1000.0"


def _case(weights: list[tuple[str, int]], expr: str) -> str:
    """A SQL CASE picking a code by cumulative weight out of the total, `expr` in [0, 1)."""
    total = sum(w for _, w in weights)
    parts, acc = [], 0
    for code, w in weights[:-1]:
        acc += w
        parts.append(f"WHEN {expr} < {acc / total} THEN '{code}'")
    return f"CASE {' '.join(parts)} ELSE '{weights[-1][0]}' END"


def fill(engine: Engine, rows: int, persons: int) -> None:
    """Units, people and award records, all generated in SQL."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO unit (id, code, name, level, parent_id, path) "
                "VALUES (1, 'VN', 'Cả nước', 'national', NULL, '/VN/')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO unit (id, code, name, level, parent_id, path) "
                "SELECT 1 + g, 'O' || lpad(g::text, 3, '0'), 'Bộ, tỉnh số ' || g, 'ministry', 1, "
                "'/VN/O' || lpad(g::text, 3, '0') || '/' FROM generate_series(1, :orgs) g"
            ),
            {"orgs": ORGS},
        )
        conn.execute(
            text(
                "INSERT INTO unit (id, code, name, level, parent_id, path) "
                "SELECT 1000 + g, 'D' || lpad(g::text, 5, '0'), 'Đơn vị số ' || g, 'unit', "
                "1 + (g - 1) / :per + 1, "
                "'/VN/O' || lpad(((g - 1) / :per + 1)::text, 3, '0') || '/D' "
                "|| lpad(g::text, 5, '0') || '/' "
                "FROM generate_series(1, :n) g"
            ),
            {"per": UNITS_PER_ORG, "n": ORGS * UNITS_PER_ORG},
        )
        conn.execute(text("SELECT setval(pg_get_serial_sequence('unit', 'id'), 100000)"))
        conn.execute(
            text(
                "INSERT INTO person (full_name, name_key, unit_id, gender, birth_year) "
                "SELECT 'Người ' || g, 'người ' || g, 1001 + (g * 7919) % :units, "
                "CASE WHEN g % 3 = 0 THEN 'nữ' ELSE 'nam' END, 1960 + g % 40 "
                "FROM (SELECT i::bigint AS g FROM generate_series(1, :n) i) s"
            ),
            {"n": persons, "units": ORGS * UNITS_PER_ORG},
        )
        individual = int(rows * 0.85)
        # Each record carries where it counts (unit_path, female), as
        # storage.history.placement writes them: the person's unit, a collective's own unit.
        conn.execute(
            text(
                "INSERT INTO award_record (person_id, unit_id, award_code, year, decision_number,"
                " decision_date, commendation_type, source, revoked, created_at, unit_path, female) "
                f"SELECT s.pid, NULL, {_case(INDIVIDUAL, AWARD_PICK)}, (2022 + g % 4)::int, "
                "g || '/QĐ-BENCH', make_date((2022 + g % 4)::int, 12, 20), "
                f"{_case(TYPES, TYPE_PICK)}, 'import', g % 101 = 0, now(), unit.path, "
                "person.gender = 'nữ' "
                "FROM (SELECT i::bigint AS g, 1 + (i::bigint * 104729) % :persons AS pid "
                "      FROM generate_series(1, :n) i) s "
                "JOIN person ON person.id = s.pid JOIN unit ON unit.id = person.unit_id"
            ),
            {"n": individual, "persons": persons},
        )
        conn.execute(
            text(
                "INSERT INTO award_record (person_id, unit_id, award_code, year, decision_number,"
                " decision_date, commendation_type, source, revoked, created_at, unit_path, female) "
                f"SELECT NULL, unit.id, {_case(COLLECTIVE, AWARD_PICK)}, (2022 + g % 4)::int, "
                "g || '/QĐ-BENCH-TT', make_date((2022 + g % 4)::int, 12, 20), "
                f"{_case(TYPES, TYPE_PICK)}, 'import', g % 101 = 0, now(), unit.path, false "
                "FROM (SELECT i::bigint AS g FROM generate_series(1, :n) i) s "
                "JOIN unit ON unit.id = 1001 + (g * 7919) % :units"
            ),
            {"n": rows - individual, "units": ORGS * UNITS_PER_ORG},
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """(median seconds, last result) of `repeat` runs after one warm-up."""
    result = fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def run(url: str, rows: int, persons: int, repeat: int) -> list[tuple[str, str]]:
    engine = make_engine(url)
    upgrade(engine)
    start = time.perf_counter()
    fill(engine, rows, persons)
    fill_s = time.perf_counter() - start
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM award_record")).scalar_one()
        in_year = conn.execute(
            text("SELECT count(*) FROM award_record WHERE year = :y"), {"y": YEAR}
        ).scalar_one()

        def baseline() -> object:
            return conn.execute(
                text(
                    "SELECT award_code, count(*) FROM award_record WHERE year = :y "
                    "AND NOT revoked GROUP BY award_code"
                ),
                {"y": YEAR},
            ).all()

        def country() -> object:
            return statistics_report(conn, CONFIG, year_from=YEAR)

        def ministry() -> object:
            return statistics_report(conn, CONFIG, year_from=YEAR, unit_code="O042")

        def four_years() -> object:
            return statistics_report(conn, CONFIG, year_from=YEAR - 3, year_to=YEAR)

        base_s, base = timed(baseline, repeat)
        country_s, report = timed(country, repeat)
        ministry_s, _ = timed(ministry, repeat)
        range_s, _ = timed(four_years, repeat)
        plan = "\n".join(
            r[0]
            for r in conn.execute(
                text(
                    "EXPLAIN SELECT award_code, year, commendation_type, person_id IS NULL, "
                    "female, split_part(substr(unit_path, 2), '/', 1), count(*) "
                    "FROM award_record WHERE year = 2025 AND NOT revoked "
                    "AND unit_path IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6"
                )
            )
        )
    engine.dispose()
    counted = report.total["total"]  # type: ignore[attr-defined]
    plain = sum(n for _, n in base)  # type: ignore[attr-defined]
    verdict = "PASS" if country_s < TARGET_S else "MISS"
    print("Plan of the report's query (EXPLAIN):\n" + plan)
    return [
        ("award records stored (generate_series)", f"{stored:,} in {fill_s:.1f} s"),
        (f"records of {YEAR}", f"{in_year:,} ({counted:,} counted: revoked excluded)"),
        (f"baseline: plain GROUP BY award_code, {YEAR} (median of {repeat})",
         f"{base_s * 1000:.0f} ms ({plain:,} rows counted)"),
        (f"whole-country report, {YEAR} (target < {TARGET_S:.0f} s)",
         f"{country_s * 1000:.0f} ms {verdict}"),
        ("ratio report / baseline", f"{country_s / base_s:.1f}×"),
        ("one ministry's report (O042, 40 units)", f"{ministry_s * 1000:.0f} ms"),
        (f"whole-country report, {YEAR - 3}–{YEAR} (all rows)", f"{range_s * 1000:.0f} ms"),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--persons", type=int, default=400_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    name = f"bench_{uuid.uuid4().hex[:10]}"
    admin = make_engine(PG_URL).execution_options(isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        print(f"PostgreSQL skipped: {exc}")
        return
    try:
        figures = run(PG_URL.rsplit("/", 1)[0] + f"/{name}", args.rows, args.persons, args.repeat)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    width = max(len(k) for k, _ in figures)
    print()
    for key, value in figures:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
