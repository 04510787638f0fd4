"""Emulation blocs: load them from config, membership per year, the year's leader."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Connection, insert, select, update

from khenthuong.blocs.rotation import leader_for_year
from khenthuong.blocs.targets import Deduction, ScoringRule
from khenthuong.errors import Forbidden, InvalidDefinition, NotFound
from khenthuong.services.actors import Actor
from khenthuong.storage.blocs import BLOC_LEADERS, BLOC_MEMBERS, BLOCS
from khenthuong.storage.db import inserted_id
from khenthuong.storage.models import UNITS
from khenthuong.yamlsource import load_yaml, pydantic_problems


class LeaderIn(BaseModel):
    """A recorded leader (and deputy) for one year."""

    model_config = ConfigDict(extra="forbid")
    leader: str
    deputy: str | None = None


DEFAULT_PERIOD = ("01/10", "30/11")
"""The inspection period (DD/MM) a bloc gets when its entry names none: 1 Oct - 30 Nov."""


def day_of_year(text: str, year: int) -> date:
    """'DD/MM' in `year`."""
    day, month = (int(part) for part in text.split("/"))
    return date(year, month, day)


def _period_problem(start: str, end: str) -> tuple[str, str] | None:
    """(which end, message) when start..end is not a period every year can hold."""
    for which, text in (("start", start), ("end", end)):
        try:
            day_of_year(text, 2001)  # not a leap year: 29/02 is refused
        except ValueError:
            return which, f"{text!r} is not a day of every year (DD/MM, e.g. 01/10)"
    if day_of_year(end, 2001) < day_of_year(start, 2001):
        return "end", f"the period ends ({end}) before it starts ({start}) within the year"
    return None


class PeriodIn(BaseModel):
    """The yearly inspection period as day/month, e.g. {start: "01/10", end: "30/11"}."""

    model_config = ConfigDict(extra="forbid")
    start: str = Field(default=DEFAULT_PERIOD[0], pattern=r"^\d{2}/\d{2}$")
    end: str = Field(default=DEFAULT_PERIOD[1], pattern=r"^\d{2}/\d{2}$")


class DeductionIn(BaseModel):
    """A kind of deduction: points taken off per case."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[a-z0-9_]{1,40}$")
    description: str = Field(min_length=1)
    points: float = Field(gt=0, le=1000)


class ScoringIn(BaseModel):
    """A bloc's scoring rule and what its year-end vote proposes (blocs.targets.ScoringRule)."""

    model_config = ConfigDict(extra="forbid")
    points_per_target: float = Field(default=10.0, gt=0, le=1000)
    deductions: list[DeductionIn] = Field(default_factory=list)
    ministry_flags: int = Field(default=0, ge=0, le=40)
    ministry_flag_name: str = Field(default="Cờ thi đua cấp Bộ", min_length=1, max_length=200)
    merit_share: float | None = Field(default=None, gt=0, le=1)

    def rule(self, government_flags: int) -> ScoringRule:
        return ScoringRule(
            points_per_target=self.points_per_target,
            deductions=tuple(Deduction(d.code, d.description, d.points) for d in self.deductions),
            government_flags=government_flags,
            ministry_flags=self.ministry_flags,
            ministry_flag_name=self.ministry_flag_name,
            merit_share=self.merit_share,
        )


class BlocIn(BaseModel):
    """A bloc as written in config/blocs.yaml."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_.-]{0,39}$")
    name: str = Field(min_length=1)
    kind: str = Field(pattern="^(khoi|cum)$")
    organiser: str
    members: list[str] = Field(min_length=1, max_length=40)
    since: int = Field(ge=1945, le=2100)
    rotation: list[str] = Field(min_length=1)
    leaders: dict[int, LeaderIn] = Field(default_factory=dict)
    flag_quota: int | None = Field(default=None, ge=0)
    inspection_window_days: int = Field(default=2, ge=1, le=10)
    inspection_period: PeriodIn = Field(default_factory=PeriodIn)
    """Where in each year the cross-inspection visits fall (default 1 Oct - 30 Nov)."""
    leader_rule: str = Field(default="recorded", pattern="^(recorded|rotation)$")
    """recorded: years without a recorded leader have none yet (chưa chọn); rotation: they
    follow `rotation` from the nearest recorded year."""
    scoring: ScoringIn | None = None


class BlocsFile(BaseModel):
    """The whole blocs file."""

    model_config = ConfigDict(extra="forbid")
    blocs: list[BlocIn]


def load_blocs(path: Path, known_units: set[str]) -> list[BlocIn]:
    """Read and check a blocs file; every problem names FILE:LINE."""
    doc = load_yaml(path)
    try:
        parsed = BlocsFile.model_validate(doc.data)
    except ValidationError as exc:
        raise InvalidDefinition(pydantic_problems(doc, exc)) from exc
    problems = []
    for i, bloc in enumerate(parsed.blocs):
        if bloc.organiser not in known_units:
            problems.append(
                doc.problem(("blocs", i, "organiser"), f"unknown unit {bloc.organiser!r}")
            )
        for j, member in enumerate(bloc.members):
            if member not in known_units:
                problems.append(doc.problem(("blocs", i, "members", j), f"unknown unit {member!r}"))
        if len(set(bloc.members)) != len(bloc.members):
            problems.append(doc.problem(("blocs", i, "members"), "a member is listed twice"))
        if sorted(bloc.rotation) != sorted(bloc.members):
            problems.append(
                doc.problem(
                    ("blocs", i, "rotation"), "rotation must list every member exactly once"
                )
            )
        for year, leader in bloc.leaders.items():
            for role, code in (("leader", leader.leader), ("deputy", leader.deputy)):
                if code is not None and code not in bloc.members:
                    problems.append(
                        doc.problem(
                            ("blocs", i, "leaders", year, role), f"{code!r} is not a member"
                        )
                    )
        period = bloc.inspection_period
        wrong = _period_problem(period.start, period.end)
        if wrong is not None:
            which, message = wrong
            problems.append(doc.problem(("blocs", i, "inspection_period", which), message))
    if problems:
        raise InvalidDefinition(problems)
    return parsed.blocs


def _unit_ids(conn: Connection) -> dict[str, int]:
    return {r.code: int(r.id) for r in conn.execute(select(UNITS.c.code, UNITS.c.id))}


def apply_blocs(conn: Connection, blocs: list[BlocIn]) -> int:
    """Create the blocs that do not exist yet; returns how many were created.

    A bloc that exists keeps its members and leaders; its inspection settings (period and
    window length) follow the file.
    """
    ids = _unit_ids(conn)
    created = 0
    for bloc in blocs:
        settings = {
            "inspection_window_days": bloc.inspection_window_days,
            "inspection_start": bloc.inspection_period.start,
            "inspection_end": bloc.inspection_period.end,
            "leader_rule": bloc.leader_rule,
            "scoring": bloc.scoring.model_dump_json() if bloc.scoring else None,
        }
        if conn.execute(select(BLOCS.c.id).where(BLOCS.c.code == bloc.code)).first():
            conn.execute(update(BLOCS).where(BLOCS.c.code == bloc.code).values(**settings))
            continue
        bloc_id = inserted_id(
            conn.execute(
                insert(BLOCS).values(
                    code=bloc.code,
                    name=bloc.name,
                    kind=bloc.kind,
                    organiser_unit_id=ids[bloc.organiser],
                    rotation=json.dumps(bloc.rotation),
                    rotation_start_year=bloc.since,
                    flag_quota=bloc.flag_quota,
                    **settings,
                )
            )
        )
        for member in bloc.members:
            conn.execute(
                insert(BLOC_MEMBERS).values(
                    bloc_id=bloc_id, unit_id=ids[member], from_year=bloc.since
                )
            )
        for year, leader in bloc.leaders.items():
            conn.execute(
                insert(BLOC_LEADERS).values(
                    bloc_id=bloc_id,
                    year=year,
                    leader_unit_id=ids[leader.leader],
                    deputy_unit_id=ids[leader.deputy] if leader.deputy else None,
                    source="seed",
                )
            )
        created += 1
    return created


@dataclass(frozen=True)
class BlocView:
    """A bloc in one year: members, leader and deputy."""

    id: int
    code: str
    name: str
    kind: str
    organiser: str
    year: int
    members: list[tuple[str, str]]
    """(code, name) of the members that year, in rotation order."""
    leader: str | None
    """The member leading the bloc that year; None: not yet chosen (chưa chọn)."""
    deputy: str | None
    flag_quota: int | None
    window_days: int
    period: tuple[str, str] = DEFAULT_PERIOD
    """The yearly inspection period as ('DD/MM', 'DD/MM')."""
    leader_source: str | None = None
    """seed, elected, set or rotation; None when no leader is chosen."""
    scoring: ScoringRule = field(default_factory=ScoringRule)
    organiser_name: str = ""

    @property
    def leader_title(self) -> str:
        """Khối trưởng or Cụm trưởng, by the bloc's kind."""
        return "Cụm trưởng" if self.kind == "cum" else "Khối trưởng"

    @property
    def deputy_title(self) -> str:
        return "Cụm phó" if self.kind == "cum" else "Khối phó"

    @property
    def kind_label(self) -> str:
        return "Cụm thi đua" if self.kind == "cum" else "Khối thi đua"

    def name_of(self, code: str | None) -> str:
        """A member's name (the code when it is no member that year)."""
        return dict(self.members).get(code or "", code or "")

    def inspection_period(self, year: int) -> tuple[date, date]:
        """The first and last day of the inspection period in `year`."""
        return day_of_year(self.period[0], year), day_of_year(self.period[1], year)


def bloc_view(conn: Connection, code: str, year: int) -> BlocView:
    """The bloc `code` as it stands in `year`."""
    bloc = conn.execute(select(BLOCS).where(BLOCS.c.code == code)).mappings().first()
    if bloc is None:
        raise NotFound(f"Không có khối thi đua {code!r}", en=f"No bloc {code!r}")
    units = {
        r.id: (r.code, r.name) for r in conn.execute(select(UNITS.c.id, UNITS.c.code, UNITS.c.name))
    }
    member_codes = {
        units[r.unit_id][0]
        for r in conn.execute(
            select(BLOC_MEMBERS.c.unit_id).where(
                BLOC_MEMBERS.c.bloc_id == bloc["id"],
                BLOC_MEMBERS.c.from_year <= year,
                (BLOC_MEMBERS.c.to_year.is_(None)) | (BLOC_MEMBERS.c.to_year >= year),
            )
        )
    }
    rotation = [c for c in json.loads(bloc["rotation"]) if c in member_codes]
    names = dict(units.values())
    recorded = {
        r.year: (
            units[r.leader_unit_id][0],
            units[r.deputy_unit_id][0] if r.deputy_unit_id else None,
        )
        for r in conn.execute(select(BLOC_LEADERS).where(BLOC_LEADERS.c.bloc_id == bloc["id"]))
    }
    if not rotation:
        raise NotFound(
            f"Khối {code} không có thành viên năm {year}",
            en=f"Bloc {code} has no members in {year}",
        )
    sources = {
        r.year: str(r.source)
        for r in conn.execute(
            select(BLOC_LEADERS.c.year, BLOC_LEADERS.c.source).where(
                BLOC_LEADERS.c.bloc_id == bloc["id"]
            )
        )
    }
    leader: str | None = None
    deputy: str | None = None
    source: str | None = None
    if year in recorded:
        leader, deputy = recorded[year]
        source = sources[year]
    elif bloc["leader_rule"] == "rotation":
        leader = leader_for_year(
            rotation, {y: v[0] for y, v in recorded.items()}, bloc["rotation_start_year"], year
        )
        source = "rotation"
        if len(rotation) > 1:
            deputy = rotation[(rotation.index(leader) + 1) % len(rotation)]
    scoring = (
        ScoringIn.model_validate_json(bloc["scoring"]) if bloc["scoring"] else ScoringIn()
    ).rule(bloc["flag_quota"] if bloc["flag_quota"] is not None else 1)
    return BlocView(
        id=bloc["id"],
        code=code,
        name=bloc["name"],
        kind=bloc["kind"],
        organiser=units[bloc["organiser_unit_id"]][0],
        year=year,
        members=[(c, names[c]) for c in rotation],
        leader=leader,
        deputy=deputy,
        flag_quota=bloc["flag_quota"],
        window_days=bloc["inspection_window_days"],
        period=(bloc["inspection_start"], bloc["inspection_end"]),
        leader_source=source,
        scoring=scoring,
        organiser_name=units[bloc["organiser_unit_id"]][1],
    )


def bloc_codes(conn: Connection) -> list[str]:
    """Codes of every bloc."""
    return list(conn.execute(select(BLOCS.c.code).order_by(BLOCS.c.code)).scalars())


LEADER_ROLES = ("unit_officer", "unit_head")
"""The roles through which a unit leading a bloc acts for it: its emulation officer and head."""


def unit_path(conn: Connection, code: str) -> str:
    """The path of unit `code`."""
    return str(conn.execute(select(UNITS.c.path).where(UNITS.c.code == code)).scalar_one())


def speaks_for(conn: Connection, actor: Actor, unit: str) -> bool:
    """The actor is the emulation officer or the head of `unit` (a grant over its subtree)."""
    return actor.grant_for(LEADER_ROLES, unit_path(conn, unit)) is not None


def leads(conn: Connection, view: BlocView, actor: Actor) -> bool:
    """The actor acts for the unit leading the bloc in the view's year (or its deputy)."""
    return any(
        code is not None and speaks_for(conn, actor, code) for code in (view.leader, view.deputy)
    )


def require_bloc_leader(
    conn: Connection, view: BlocView, actor: Actor, *, admin: bool = False
) -> None:
    """Refuse unless the actor is an officer or the head of the unit leading the bloc in the
    view's year (khối trưởng / cụm trưởng, or the deputy): the right lasts that year only.
    `admin`: an administrator over the organiser may act too (planning inspections)."""
    if leads(conn, view, actor):
        return
    if admin and actor.grant_for(["admin"], unit_path(conn, view.organiser)) is not None:
        return
    if view.leader is None:
        raise Forbidden(
            f"{view.name} chưa chọn {view.leader_title.lower()} năm {view.year}: đơn vị tổ "
            "chức chỉ định hoặc khối bầu trước"
        )
    who = view.name_of(view.leader)
    if view.deputy:
        who += f" (phó: {view.name_of(view.deputy)})"
    raise Forbidden(
        f"{actor.display_name} không thuộc đơn vị {view.leader_title.lower()} của {view.name} năm "
        f"{view.year} ({who}): chỉ cán bộ thi đua, thủ trưởng đơn vị đó được làm việc này"
    )


def bloc_summaries(conn: Connection) -> list[dict[str, str]]:
    """Every bloc's code, name, kind and organising unit (code and name), by code."""
    return [
        dict(r)
        for r in conn.execute(
            select(
                BLOCS.c.code, BLOCS.c.name, BLOCS.c.kind,
                UNITS.c.code.label("organiser"), UNITS.c.name.label("organiser_name"),
            )
            .join(UNITS, UNITS.c.id == BLOCS.c.organiser_unit_id)
            .order_by(BLOCS.c.code)
        ).mappings()
    ]  # fmt: skip
