"""Statistics of decided titles and awards for the level above (báo cáo thống kê thi đua,
khen thưởng), read from the award ledger: every award record a signed decision wrote
(services.decisions) and the history of past awards imported (services.history_import);
revoked awards are not counted.

One grouped query over award_record alone counts the ledger by award, year, commendation
type, subject (tập thể when the record names no person), women, and the unit directly under
the report's unit that the award counts under: the record's `unit_path`, written with it
(an individual's unit when the award was recorded, a collective's own unit). The subtree is
matched on that materialised path; the pure `rules.statistics.build_report` sums the groups
into the report's lines.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import ColumnElement, Connection, func, select, text

from khenthuong.errors import Forbidden, KhenthuongError, NotFound
from khenthuong.rules.catalog import catalog_in
from khenthuong.rules.statistics import Count, Report, build_report, layout_in
from khenthuong.services.access import can_read
from khenthuong.services.actors import Actor
from khenthuong.storage.history import AWARD_RECORDS, FEMALE_NAMES
from khenthuong.storage.models import PERSONS, UNITS

WHOLE_COUNTRY = "Toàn quốc"
REPORT_WORK_MEM = "64MB"
"""PostgreSQL work_mem for the report's transaction only (SET LOCAL)."""


def _child_code(path: ColumnElement[str], scope_len: int, dialect: str) -> ColumnElement[str]:
    """The first code of `path` after the report unit's path ('' for the unit itself)."""
    rest = func.substr(path, scope_len + 1)
    if dialect == "postgresql":
        return func.split_part(rest, "/", 1)
    return func.substr(rest, 1, func.instr(rest, "/") - 1)


def ledger_counts(conn: Connection, scope_path: str, year_from: int, year_to: int) -> list[Count]:
    """The grouped counts of the ledger for the units under `scope_path` ('' for every
    unit) and the years `year_from`..`year_to`.

    The ledger row carries where it counts (`unit_path`, `female`, written with it by
    storage.history.placement), so the report reads award_record alone; a row written
    without them (unit_path NULL, found through the partial index ix_award_record_unplaced)
    is placed through the register instead, in a second query."""
    ar, p, u = AWARD_RECORDS.c, PERSONS.c, UNITS.c
    dialect = conn.dialect.name
    skip = len(scope_path) or 1  # the whole country: the top units, after the leading '/'
    child = _child_code(ar.unit_path, skip, dialect).label("child")
    collective = ar.person_id.is_(None).label("collective")
    years = (ar.year >= year_from, ar.year <= year_to, ~ar.revoked)
    placed = (
        select(
            ar.award_code,
            ar.year,
            ar.commendation_type,
            collective,
            ar.female.label("female"),
            child,
            func.count().label("n"),
        )
        .where(
            *years, ar.unit_path.startswith(scope_path) if scope_path else ar.unit_path.is_not(None)
        )
        .group_by(ar.award_code, ar.year, ar.commendation_type, collective, ar.female, child)
    )
    unplaced_child = _child_code(u.path, skip, dialect).label("child")
    unplaced = (
        select(
            ar.award_code,
            ar.year,
            ar.commendation_type,
            collective,
            func.coalesce(p.gender.in_(FEMALE_NAMES), False).label("female"),
            unplaced_child,
            func.count().label("n"),
        )
        .select_from(
            AWARD_RECORDS.outerjoin(PERSONS, p.id == ar.person_id).join(
                UNITS, u.id == func.coalesce(p.unit_id, ar.unit_id)
            )
        )
        .where(*years, ar.unit_path.is_(None), u.path.startswith(scope_path))
        .group_by(
            ar.award_code, ar.year, ar.commendation_type, collective, p.gender, unplaced_child
        )
    )
    if dialect == "postgresql":
        # A few hundred groups from a quarter of a million rows: with the default 4 MB the
        # planner, misjudging the groups, sorts instead of hashing (bench/stats.py).
        conn.execute(text(f"SET LOCAL work_mem = '{REPORT_WORK_MEM}'"))
    merged: dict[tuple[str, int, str, bool, bool, str], int] = {}
    for query in (placed, unplaced):
        for r in conn.execute(query):
            key = (
                r.award_code, int(r.year), r.commendation_type, bool(r.collective),
                bool(r.female), r.child or "",
            )  # fmt: skip
            merged[key] = merged.get(key, 0) + int(r.n)
    return [Count(*key, n=n) for key, n in sorted(merged.items())]


def _scope(conn: Connection, unit_code: str | None) -> tuple[str, str, str, dict[str, str]]:
    """(code, name, path, children code -> name) of the report's unit; no code: the whole
    country (every top unit)."""
    if unit_code:
        unit = conn.execute(
            select(UNITS.c.id, UNITS.c.code, UNITS.c.name, UNITS.c.path).where(
                UNITS.c.code == unit_code
            )
        ).first()
        if unit is None:
            raise NotFound(f"Không có đơn vị mã {unit_code!r}")
        parent = UNITS.c.parent_id == unit.id
        code, name, path = str(unit.code), str(unit.name), str(unit.path)
    else:
        parent = UNITS.c.parent_id.is_(None)
        code, name, path = "", WHOLE_COUNTRY, ""
    children: dict[str, str] = {"": f"{name} (không thuộc đơn vị cấp dưới)"} if code else {}
    for c in conn.execute(select(UNITS.c.code, UNITS.c.name).where(parent).order_by(UNITS.c.code)):
        children[str(c.code)] = str(c.name)
    return code, name, path, children


def statistics_report(
    conn: Connection,
    config_dir: Path,
    *,
    year_from: int,
    year_to: int | None = None,
    unit_code: str | None = None,
    actor: Actor | None = None,
) -> Report:
    """The report for `unit_code`'s subtree (None: the whole country) over `year_from` ..
    `year_to` (one year when None). With `actor`, refused unless they may read that unit
    (the whole country: only a reader of everything)."""
    year_to = year_from if year_to is None else year_to
    if not 1945 <= year_from <= 2100 or not 1945 <= year_to <= 2100:
        raise KhenthuongError("Năm thống kê phải trong khoảng 1945–2100")
    if year_to < year_from:
        raise KhenthuongError(f"Năm cuối {year_to} trước năm đầu {year_from}")
    code, name, path, children = _scope(conn, unit_code)
    if actor is not None and not can_read(actor, path or "/"):
        raise Forbidden(
            f"{actor.display_name} không được xem thống kê của {name}"
            + ("" if code else ": chọn đơn vị của mình")
        )
    catalog = catalog_in(config_dir)
    counts = ledger_counts(conn, path, year_from, year_to)
    return build_report(
        layout_in(config_dir),
        counts,
        categories={c: a.category for c, a in catalog.awards.items()},
        unit_code=code,
        unit_name=name,
        children=children,
        year_from=year_from,
        year_to=year_to,
    )


def report_json(report: Report) -> dict[str, object]:
    """The report as plain JSON data (the CLI's --format json and the API)."""
    return {
        "title": report.title,
        "basis": report.basis,
        "unit": report.unit_code or None,
        "unit_name": report.unit_name,
        "year_from": report.year_from,
        "year_to": report.year_to,
        "columns": list(report.total),
        "levels": report.levels,
        "total": report.total,
        "sections": [
            {
                "title": s.title,
                "lines": [
                    {"label": x.label, "level": x.level, "awards": list(x.awards), **x.values}
                    for x in s.lines
                ],
            }
            for s in report.sections
        ],
        "units": [
            {"unit": x.code or None, "name": x.name, **x.values, "levels": x.levels}
            for x in report.units
        ],
        "years": {str(y): v for y, v in report.years.items()},
        "unknown_awards": report.unknown,
    }


def units_readable(conn: Connection, actor: Actor) -> Sequence[tuple[str, str]]:
    """(code, name) of the units whose statistics `actor` may read, in tree order."""
    rows = conn.execute(select(UNITS.c.code, UNITS.c.name, UNITS.c.path).order_by(UNITS.c.path))
    return [(str(r.code), str(r.name)) for r in rows if can_read(actor, str(r.path))]
