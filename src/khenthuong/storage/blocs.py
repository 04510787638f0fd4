"""Emulation blocs and clusters (khối, cụm thi đua): members per year and leaders."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import LargeBinary, Text, UniqueConstraint
from sqlmodel import Column, Field, SQLModel

from khenthuong.storage.models import table_of


class Bloc(SQLModel, table=True):
    """A khối or cụm thi đua organised by a unit (ministry, Ban TĐKT TW...)."""

    __tablename__ = "bloc"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=300)
    kind: str = Field(max_length=10)
    """khoi (bloc) or cum (cluster)."""
    organiser_unit_id: int = Field(foreign_key="unit.id")
    rotation: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of member codes: the order in which members lead the bloc."""
    rotation_start_year: int
    flag_quota: int | None = None
    """How many members the bloc may propose for Cờ thi đua của Chính phủ per year."""
    inspection_window_days: int = 2
    inspection_start: str = Field(default="01/10", max_length=5)
    """First day (DD/MM) of the yearly inspection period."""
    inspection_end: str = Field(default="30/11", max_length=5)
    """Last day (DD/MM) of the yearly inspection period."""
    leader_rule: str = Field(default="recorded", max_length=20)
    """recorded: a year's leader is the one set or elected (else not yet chosen); rotation:
    years without one follow `rotation`."""
    scoring: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """JSON of the bloc's scoring rule (khenthuong.blocs.targets.ScoringRule); None: defaults."""


class BlocMember(SQLModel, table=True):
    """A unit's membership of a bloc over a range of years."""

    __tablename__ = "bloc_member"
    __table_args__ = (UniqueConstraint("bloc_id", "unit_id", "from_year"),)

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    from_year: int
    to_year: int | None = None
    from_date: date | None = None
    """The day the membership took effect (None: the start of `from_year`)."""
    to_date: date | None = None
    """The day it ended (None: open, or the end of `to_year`)."""


class BlocLeader(SQLModel, table=True):
    """The leader (khối trưởng) and deputy (khối phó) elected for one year."""

    __tablename__ = "bloc_leader"
    __table_args__ = (UniqueConstraint("bloc_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    year: int
    leader_unit_id: int = Field(foreign_key="unit.id")
    deputy_unit_id: int | None = Field(default=None, foreign_key="unit.id")
    source: str = Field(default="rotation", max_length=20)
    """seed (config/blocs.yaml), elected (at a review) or set (by the organiser)."""
    set_by: str | None = Field(default=None, max_length=80)


BLOCS = table_of(Bloc)
BLOC_MEMBERS = table_of(BlocMember)
BLOC_LEADERS = table_of(BlocLeader)


class Covenant(SQLModel, table=True):
    """A bloc's yearly emulation covenant (giao ước thi đua): theme and launch."""

    __tablename__ = "covenant"
    __table_args__ = (UniqueConstraint("bloc_id", "year"),)

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id")
    year: int
    theme: str = Field(max_length=500)
    launched_on: date
    launched_by: str = Field(max_length=80)


class CovenantTarget(SQLModel, table=True):
    """A target every member commits to, e.g. '100% cán bộ hoàn thành nhiệm vụ' (≥ 100 %)."""

    __tablename__ = "covenant_target"
    __table_args__ = (UniqueConstraint("covenant_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    covenant_id: int = Field(foreign_key="covenant.id", index=True)
    code: str = Field(max_length=40)
    description: str = Field(max_length=500)
    threshold: float
    """The value to reach (percent or count); 0 for zero_cases and done."""
    points: float = 10.0
    """Points earned when the target is met (before its weight)."""
    kind: str = Field(default="at_least", max_length=20)
    """at_least, more_than, at_most, equals, zero_cases or done (khenthuong.blocs.targets)."""
    unit: str = Field(default="percent", max_length=10)
    """percent or count: what the threshold and the reported values measure."""
    weight: float = 1.0


class CovenantSignature(SQLModel, table=True):
    """A member's signature of the year's covenant."""

    __tablename__ = "covenant_signature"
    __table_args__ = (UniqueConstraint("covenant_id", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    covenant_id: int = Field(foreign_key="covenant.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    signed_on: date
    signed_by: str = Field(max_length=80)


class ReviewResult(SQLModel, table=True):
    """A member's reported value for one target in a review round, and its score."""

    __tablename__ = "review_result"
    __table_args__ = (UniqueConstraint("covenant_id", "round", "unit_id", "target_id"),)

    id: int | None = Field(default=None, primary_key=True)
    covenant_id: int = Field(foreign_key="covenant.id", index=True)
    round: str = Field(max_length=10)
    """so_ket (mid-year review) or tong_ket (year-end review)."""
    unit_id: int = Field(foreign_key="unit.id")
    target_id: int = Field(foreign_key="covenant_target.id")
    reported: float
    score: float
    reported_by: str = Field(max_length=80)
    met: bool | None = None


class BlocVote(SQLModel, table=True):
    """Votes one member received in the bloc's year-end vote (suy tôn)."""

    __tablename__ = "bloc_vote"
    __table_args__ = (UniqueConstraint("covenant_id", "unit_id"),)

    id: int | None = Field(default=None, primary_key=True)
    covenant_id: int = Field(foreign_key="covenant.id", index=True)
    unit_id: int = Field(foreign_key="unit.id")
    votes: int
    rank: int | None = None
    proposed: str | None = Field(default=None, max_length=40)
    """The workflow the member was proposed into, if any."""
    nomination_id: int | None = Field(default=None, foreign_key="nomination.id")


class BlocDeduction(SQLModel, table=True):
    """Deductions (điểm trừ) the bloc's leader records for a member in a review round."""

    __tablename__ = "bloc_deduction"
    __table_args__ = (UniqueConstraint("covenant_id", "round", "unit_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    covenant_id: int = Field(foreign_key="covenant.id", index=True)
    round: str = Field(max_length=10)
    unit_id: int = Field(foreign_key="unit.id")
    code: str = Field(max_length=40)
    cases: int
    recorded_by: str = Field(max_length=80)


COVENANTS = table_of(Covenant)
BLOC_DEDUCTIONS = table_of(BlocDeduction)
COVENANT_TARGETS = table_of(CovenantTarget)
COVENANT_SIGNATURES = table_of(CovenantSignature)
REVIEW_RESULTS = table_of(ReviewResult)
BLOC_VOTES = table_of(BlocVote)


class InspectionPlan(SQLModel, table=True):
    """A cross-inspection plan (kế hoạch kiểm tra chéo) of a bloc for a year."""

    __tablename__ = "inspection_plan"

    id: int | None = Field(default=None, primary_key=True)
    bloc_id: int = Field(foreign_key="bloc.id", index=True)
    year: int
    seed: int
    period_start: date
    period_end: date
    generated_by: str = Field(max_length=80)
    generated_at: datetime
    current: bool = True
    """False once a regenerated plan replaces it (the old one stays, and in the audit trail)."""
    published_at: datetime | None = None
    early_resets: str = Field(default="[]", sa_column=Column(Text, nullable=False, default="[]"))
    """JSON list of the members whose rotation cycle this plan started over early (the
    planner's history needs it to rebuild every cycle)."""


class InspectionVisit(SQLModel, table=True):
    """One visit: inspector unit → inspected unit in a window of working days, and its report."""

    __tablename__ = "inspection_visit"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="inspection_plan.id", index=True)
    inspector_unit_id: int = Field(foreign_key="unit.id")
    inspected_unit_id: int = Field(foreign_key="unit.id")
    starts_on: date
    ends_on: date = Field(index=True)
    report_due_on: date
    findings: str | None = Field(default=None, sa_column=Column(Text))
    score: float | None = None
    reported_at: datetime | None = None
    reported_by: str | None = Field(default=None, max_length=80)


class InspectionDocument(SQLModel, table=True):
    """A document of an inspection report (biên bản kiểm tra, minh chứng...), stored like a
    dossier attachment: content with its SHA-256, size and type."""

    __tablename__ = "inspection_document"

    id: int | None = Field(default=None, primary_key=True)
    visit_id: int = Field(foreign_key="inspection_visit.id", index=True)
    filename: str = Field(max_length=300)
    content_type: str = Field(max_length=120)
    size: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_by: str = Field(max_length=80)
    uploaded_at: datetime


INSPECTION_PLANS = table_of(InspectionPlan)
INSPECTION_VISITS = table_of(InspectionVisit)
INSPECTION_DOCUMENTS = table_of(InspectionDocument)
