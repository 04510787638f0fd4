"""Statistics of decided titles and awards for the level above (báo cáo thống kê thi đua,
khen thưởng), read from the award ledger: every award record a signed decision wrote
(services.decisions) and the history of past awards imported (services.history_import);
revoked awards are not counted.

One grouped query counts the ledger by award, year, commendation type, subject
(tập thể when the record names no person), the person's gender, and the unit directly under
the report's unit that the award counts under (an individual's unit, a collective's own
unit). The subtree is matched on the unit's materialised path; the pure
`rules.statistics.build_report` sums the groups into the report's lines.
An individual counts under the unit the register places them in now.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import ColumnElement, Connection, func, select

from khenthuong.errors import Forbidden, KhenthuongError, NotFound
from khenthuong.rules.catalog import catalog_in
from khenthuong.rules.statistics import Count, Report, build_report, layout_in
from khenthuong.services.access import can_read
from khenthuong.services.actors import Actor
from khenthuong.storage.history import AWARD_RECORDS
from khenthuong.storage.models import PERSONS, UNITS
from khenthuong.textsearch import fold

WHOLE_COUNTRY = "Toàn quốc"
FEMALE = "nu"
"""`fold` of the register's gender for women ("nữ")."""


def _child_code(path: ColumnElement[str], scope_len: int, dialect: str) -> ColumnElement[str]:
    """The first code of `path` after the report unit's path ('' for the unit itself)."""
    rest = func.substr(path, scope_len + 1)
    if dialect == "postgresql":
        return func.split_part(rest, "/", 1)
    return func.substr(rest, 1, func.instr(rest, "/") - 1)


def ledger_counts(conn: Connection, scope_path: str, year_from: int, year_to: int) -> list[Count]:
    """The grouped counts of the ledger for the units under `scope_path` ('' for every
    unit) and the years `year_from`..`year_to`."""
    ar, p, u = AWARD_RECORDS.c, PERSONS.c, UNITS.c
    child = _child_code(u.path, len(scope_path), conn.dialect.name).label("child")
    collective = ar.person_id.is_(None).label("collective")
    query = (
        select(
            ar.award_code,
            ar.year,
            ar.commendation_type,
            collective,
            p.gender,
            child,
            func.count().label("n"),
        )
        .select_from(
            AWARD_RECORDS.outerjoin(PERSONS, p.id == ar.person_id).join(
                UNITS, u.id == func.coalesce(p.unit_id, ar.unit_id)
            )
        )
        .where(ar.year >= year_from, ar.year <= year_to, ar.revoked.is_(False))
        .group_by(ar.award_code, ar.year, ar.commendation_type, collective, p.gender, child)
    )
    if scope_path:
        query = query.where(u.path.startswith(scope_path))
    merged: dict[tuple[str, int, str, bool, bool, str], int] = {}
    for r in conn.execute(query):
        female = fold(r.gender or "") == FEMALE
        key = (
            r.award_code,
            int(r.year),
            r.commendation_type,
            bool(r.collective),
            female,
            r.child or "",
        )
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
            f"{actor.username} không được xem thống kê của {name}"
            + ("" if code else ": chọn đơn vị của mình (--unit)")
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
