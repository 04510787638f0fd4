"""Emulation campaigns (phong trào thi đua): the record a competent unit launches (theme,
kind, dates, targets), its plan and other documents, and the nominations linked to it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import LargeBinary, Text
from sqlmodel import Column, Field, SQLModel

from khenthuong.storage.models import table_of


class Campaign(SQLModel, table=True):
    """One emulation campaign launched by a unit (Luật TĐKT 2022, Điều 3(1), 8)."""

    __tablename__ = "campaign"

    id: int | None = Field(default=None, primary_key=True)
    launching_unit_id: int = Field(foreign_key="unit.id", index=True)
    unit_path: str = Field(max_length=1000, index=True)
    """Path of the launching unit: the campaign covers its subtree."""
    title: str = Field(max_length=500)
    """Theme (chủ đề) of the campaign, e.g. "Thi đua chung sức xây dựng nông thôn mới"."""
    kind: str = Field(max_length=20)
    """thuong_xuyen, theo_dot or chuyen_de (services.campaigns.CAMPAIGN_KINDS)."""
    starts_on: date
    ends_on: date | None = None
    """None for a standing (thường xuyên) campaign with no end date."""
    targets: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    """JSON list of the target texts (chỉ tiêu), in the order given."""
    plan_number: str | None = Field(default=None, max_length=80)
    """Number of the launching plan (kế hoạch phát động), e.g. 12/KH-BCY."""
    created_by: str = Field(max_length=80)
    created_at: datetime


class CampaignAttachment(SQLModel, table=True):
    """A document of a campaign: its plan (kế hoạch phát động) and others."""

    __tablename__ = "campaign_attachment"

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    doc_type: str = Field(max_length=40)
    filename: str = Field(max_length=300)
    content_type: str = Field(max_length=120)
    size: int
    sha256: str = Field(max_length=64)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    uploaded_by: str = Field(max_length=80)
    uploaded_at: datetime


class CampaignNomination(SQLModel, table=True):
    """A nomination made for a campaign (khen thưởng theo đợt, chuyên đề or đột xuất in it);
    a nomination belongs to at most one campaign."""

    __tablename__ = "campaign_nomination"

    nomination_id: int = Field(foreign_key="nomination.id", primary_key=True)
    campaign_id: int = Field(foreign_key="campaign.id", index=True)
    linked_by: str = Field(max_length=80)
    linked_at: datetime


CAMPAIGNS = table_of(Campaign)
CAMPAIGN_ATTACHMENTS = table_of(CampaignAttachment)
CAMPAIGN_NOMINATIONS = table_of(CampaignNomination)
