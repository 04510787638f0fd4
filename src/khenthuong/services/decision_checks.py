"""What a decision's number and date must satisfy before it is signed.

- The number has the official form of its issuer, `<số>/QĐ-<ký hiệu>` (ND 30/2020; the
  ký hiệu by signing role or deciding unit, config/issuers.yaml), in the ký hiệu's
  registered case, and no other decision of the same year has it, compared
  case-insensitively (serial numbers restart every 1 January).
- The date is not in the future (local date in Việt Nam), nor before the last step of any
  nomination it decides, nor before the council session that voted on one of them (its
  meeting date and the day it was closed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, RowMapping, select

from khenthuong.errors import KhenthuongError, NotFound, Refusal
from khenthuong.localtime import local_date
from khenthuong.rules.issuers import DECISION_TYPE, Issuer, number_fits, number_key
from khenthuong.storage.councils import COUNCIL_ITEMS, COUNCIL_SESSIONS
from khenthuong.storage.decisions import DECISIONS
from khenthuong.storage.models import NOMINATIONS


def number_refusal(number: object, issuer: Issuer | None = None) -> Refusal | None:
    """None when `number` is `<số>/QĐ-<ký hiệu>` of `issuer` (any ký hiệu when None)."""
    if isinstance(number, str) and number_fits(number, issuer):
        return None
    if issuer is None:
        return Refusal(
            "field:decision_number",
            f"Số quyết định {number!r} không đúng dạng <số>/{DECISION_TYPE}-<ký hiệu cơ quan>, "
            "ví dụ 123/QĐ-BCY",
            f"decision number {number!r} must look like 123/QĐ-BCY",
        )
    return Refusal(
        "field:decision_number",
        f"Số quyết định {number!r} không đúng: số quyết định phải có dạng {issuer.form} "
        f"({issuer.name}), ví dụ {issuer.example()}; ký hiệu viết đúng chữ hoa, chữ thường",
        f"decision number {number!r} must have the form {issuer.form} of {issuer.name}, "
        f"e.g. {issuer.example()}, in that exact case",
        {"expected": issuer.form},
    )


def number_taken(conn: Connection, number: str, year: int) -> str | None:
    """The number as stored of the decision of `year` that already has `number` (any case)."""
    found = conn.execute(
        select(DECISIONS.c.number).where(
            DECISIONS.c.number_key == number_key(number), DECISIONS.c.number_year == year
        )
    ).scalar()
    return None if found is None else str(found)


def taken_refusal(number: str, existing: str, year: int) -> Refusal:
    return Refusal(
        "field:decision_number",
        f"Số quyết định {number} đã được dùng cho quyết định {existing} năm {year} "
        "(không phân biệt chữ hoa, chữ thường)",
        f"decision number {number} is already used by decision {existing} of {year}",
        {"existing": existing, "year": year},
    )


def find_decision(conn: Connection, number: str, year: int | None = None) -> RowMapping:
    """The decision with `number` (any case); `year` tells apart the same serial of two
    years, else the lookup is refused naming the years."""
    query = select(DECISIONS).where(DECISIONS.c.number_key == number_key(number))
    if year is not None:
        query = query.where(DECISIONS.c.number_year == year)
    rows = list(conn.execute(query.order_by(DECISIONS.c.decided_on.desc())).mappings())
    if not rows:
        within = f" năm {year}" if year is not None else ""
        near = _same_serial(conn, number)
        raise NotFound(
            f"Không có quyết định {number!r}{within}"
            + (f"; có: {', '.join(near)}" if near else ""),
            en=f"No decision {number!r}" + (f"; there is {', '.join(near)}" if near else ""),
        )
    if len(rows) > 1:
        years = ", ".join(str(r["number_year"]) for r in rows)
        raise KhenthuongError(
            f"Có {len(rows)} quyết định số {number} (các năm {years}): ghi rõ năm",
            en=f"Decision number {number} exists in {years}: give the year",
        )
    return rows[0]


def _same_serial(conn: Connection, number: str, limit: int = 5) -> list[str]:
    """Full numbers of the decisions whose serial is `number` when it was given without its
    ký hiệu ('303' → '303/QĐ-CCYQD'), so a refusal can name what the officer meant."""
    serial = number_key(number).strip()
    if not serial or "/" in serial:
        return []
    pattern = serial.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"
    return list(
        conn.execute(
            select(DECISIONS.c.number)
            .where(DECISIONS.c.number_key.like(pattern, escape="\\"))
            .order_by(DECISIONS.c.decided_on.desc(), DECISIONS.c.number)
            .limit(limit)
        ).scalars()
    )


@dataclass(frozen=True)
class _Limit:
    day: date
    council: bool
    reason_vi: str
    reason_en: str


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _limits(conn: Connection, nomination_ids: Iterable[int]) -> list[_Limit]:
    ids = list(dict.fromkeys(nomination_ids))
    limits = []
    for row in conn.execute(
        select(NOMINATIONS.c.id, NOMINATIONS.c.state_entered_at).where(NOMINATIONS.c.id.in_(ids))
    ):
        day = local_date(_aware(row.state_entered_at))
        limits.append(
            _Limit(
                day,
                False,
                f"bước xử lý cuối của hồ sơ #{row.id} ngày {day:%d/%m/%Y}",
                f"the last step of nomination #{row.id} on {day:%d/%m/%Y}",
            )
        )
    sessions = conn.execute(
        select(
            COUNCIL_SESSIONS.c.id,
            COUNCIL_SESSIONS.c.title,
            COUNCIL_SESSIONS.c.held_on,
            COUNCIL_SESSIONS.c.closed_at,
        )
        .join(COUNCIL_ITEMS, COUNCIL_ITEMS.c.session_id == COUNCIL_SESSIONS.c.id)
        .where(COUNCIL_ITEMS.c.nomination_id.in_(ids), COUNCIL_SESSIONS.c.status == "closed")
        .distinct()
    )
    for s in sessions:
        closed = local_date(_aware(s.closed_at)) if s.closed_at is not None else s.held_on
        day = max(s.held_on, closed)
        limits.append(
            _Limit(
                day,
                True,
                f"phiên họp Hội đồng #{s.id} ({s.title}) họp ngày {s.held_on:%d/%m/%Y}, "
                f"kết thúc ngày {closed:%d/%m/%Y}",
                f"council session #{s.id} met on {s.held_on:%d/%m/%Y} and closed on "
                f"{closed:%d/%m/%Y}",
            )
        )
    return limits


def date_refusals(
    conn: Connection, decided_on: date, nomination_ids: Iterable[int], now: datetime
) -> list[Refusal]:
    """Why `decided_on` cannot be the date of a decision of these nominations, signed `now`."""
    today = local_date(_aware(now))
    if decided_on > today:
        return [
            Refusal(
                "field:decision_date",
                f"Ngày quyết định {decided_on:%d/%m/%Y} ở tương lai: ngày quyết định không được "
                f"sau ngày {today:%d/%m/%Y}",
                f"decision date {decided_on:%d/%m/%Y} is in the future: it may not be after "
                f"{today:%d/%m/%Y}",
                {"latest": today.isoformat()},
            )
        ]
    limits = _limits(conn, nomination_ids)
    if not limits:
        return []
    latest = max(limits, key=lambda x: (x.day, x.council))
    if decided_on >= latest.day:
        return []
    return [
        Refusal(
            "field:decision_date",
            f"Ngày quyết định {decided_on:%d/%m/%Y} trước ngày {latest.day:%d/%m/%Y}: quyết định "
            f"không được ký trước {latest.reason_vi}",
            f"decision date {decided_on:%d/%m/%Y} is before {latest.day:%d/%m/%Y}: a decision "
            f"may not precede {latest.reason_en}",
            {"earliest": latest.day.isoformat()},
        )
    ]
