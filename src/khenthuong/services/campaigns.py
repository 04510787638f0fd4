"""Emulation campaigns (phong trào thi đua) and the nominations made for them.

A campaign is launched by a competent unit (Luật TĐKT 2022, Điều 3(1)): its theme, kind
(thường xuyên, theo đợt, chuyên đề), dates, targets and its plan (kế hoạch phát động, stored
as a document through the dossier's `store_upload`, audited on the stream `campaign:ID`). It
covers the launching unit's subtree. A nomination of a unit in that subtree may be linked to
it; the commendation types a campaign's nominations may have follow its kind
(`ALLOWED_TYPES`): khen thưởng theo đợt (chuyên đề) for a campaign theo đợt or chuyên đề,
khen thưởng thường xuyên at the review of a standing campaign, and khen thưởng đột xuất in any
(Luật TĐKT 2022, Điều 8; DOMAIN-2 §4).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping, func, insert, or_, select

from khenthuong.audit.append import append_event
from khenthuong.commendation import COMMENDATION_TYPES
from khenthuong.doctypes import DOC_TYPES
from khenthuong.errors import Forbidden, KhenthuongError, NotFound
from khenthuong.services.access import READ_ALL_ROLES, can_read
from khenthuong.services.actors import Actor
from khenthuong.services.dossier import StoredDocument, checked_file, store_upload
from khenthuong.services.new_nominations import create_nomination_in
from khenthuong.services.nominations import get_row, nfc
from khenthuong.storage.campaigns import CAMPAIGN_ATTACHMENTS, CAMPAIGN_NOMINATIONS, CAMPAIGNS
from khenthuong.storage.db import inserted_id, write_tx
from khenthuong.storage.models import NOMINATIONS, UNITS
from khenthuong.workflow.loader import WorkflowRegistry

CAMPAIGN_KINDS: dict[str, str] = {
    "thuong_xuyen": "Phong trào thi đua thường xuyên",
    "theo_dot": "Phong trào thi đua theo đợt",
    "chuyen_de": "Phong trào thi đua theo chuyên đề",
}
"""Kinds of campaign: the forms of organising emulation, thường xuyên and theo đợt (chuyên
đề), that the awards of Luật TĐKT 2022 Điều 8 follow (DOMAIN §1.2, DOMAIN-2 §4); the article
that names the forms of emulation was not retrieved, so none is cited."""

ALLOWED_TYPES: dict[str, tuple[str, ...]] = {
    "thuong_xuyen": ("cong_trang", "dot_xuat"),
    "theo_dot": ("chuyen_de", "dot_xuat"),
    "chuyen_de": ("chuyen_de", "dot_xuat"),
}
"""The commendation types (khenthuong.commendation) of the nominations a campaign of each
kind takes: a theo đợt / chuyên đề campaign rewards with khen thưởng theo đợt (chuyên đề), a
standing campaign with the recurring merit awards of its review; an ad-hoc award may come
out of any campaign (Luật TĐKT 2022, Điều 8)."""

CAMPAIGN_DOC_TYPES = ("ke_hoach_phat_dong", "khac")
"""Documents a campaign holds: its plan (kế hoạch phát động; ND 30 ký hiệu KH, DOMAIN-2 §4)
and others (báo cáo sơ kết, tổng kết …)."""


def stream_of(campaign_id: int) -> str:
    """The audit stream of a campaign."""
    return f"campaign:{campaign_id}"


@dataclass(frozen=True)
class LinkedNomination:
    """A nomination of a campaign, as the campaign shows it."""

    nomination_id: int
    nominee_name: str
    nominee_kind: str
    workflow: str
    state: str
    commendation_type: str
    unit_code: str
    closed: bool
    state_title: str
    workflow_title: str


@dataclass(frozen=True)
class CampaignView:
    """A campaign with its documents and nominations."""

    id: int
    title: str
    kind: str
    kind_name: str
    unit_code: str
    unit_name: str
    starts_on: date
    ends_on: date | None
    targets: list[str]
    plan_number: str | None
    created_by: str
    documents: list[StoredDocument]
    nominations: list[LinkedNomination]


def _writer(actor: Actor, unit_path: str, what: str) -> None:
    writable = [g.role for g in actor.grants if g.role not in READ_ALL_ROLES]
    if not writable or actor.grant_for(writable, unit_path) is None:
        raise Forbidden(f"{actor.display_name} không có quyền với {what}")


def kind_of(text: str) -> str:
    """The stored kind of a campaign typed as its code or a friendly name ('theo đợt',
    'chuyen-de'); a clear error listing the kinds otherwise."""
    from khenthuong.textsearch import fold  # noqa: PLC0415

    key = "_".join(fold(text or "").replace("-", " ").replace("_", " ").split())
    for code, name in CAMPAIGN_KINDS.items():
        if key in (code, "_".join(fold(name).split()), code.replace("_", "")):
            return code
    raise KhenthuongError(
        f"Loại phong trào {text!r} không hợp lệ; dùng một trong: "
        + "; ".join(f"{c}: {n}" for c, n in CAMPAIGN_KINDS.items())
    )


def create_campaign_in(
    conn: Connection,
    *,
    launching_unit: str,
    actor: Actor,
    title: str,
    kind: str,
    starts_on: date,
    ends_on: date | None = None,
    targets: Sequence[str] = (),
    plan_number: str | None = None,
    now: datetime | None = None,
) -> int:
    """A new campaign of `launching_unit`, audited on its stream; refused (nothing written)
    without a theme, with an unknown kind or unit, an end before the start, or a campaign
    theo đợt / chuyên đề without an end date (it runs for a set period)."""
    now = now or datetime.now(UTC)
    kind = kind_of(kind)
    title = nfc(title or "").strip()
    if not title:
        raise KhenthuongError("Phong trào thi đua cần có chủ đề (tên phong trào)")
    if ends_on is not None and ends_on < starts_on:
        raise KhenthuongError(
            f"Ngày kết thúc {ends_on:%d/%m/%Y} trước ngày bắt đầu {starts_on:%d/%m/%Y}"
        )
    if kind != "thuong_xuyen" and ends_on is None:
        raise KhenthuongError(
            f"{CAMPAIGN_KINDS[kind]} cần có ngày kết thúc (thi đua trong một thời gian xác định)"
        )
    clean_targets = [t for t in (nfc(x).strip() for x in targets) if t]
    unit = conn.execute(
        select(UNITS.c.id, UNITS.c.path, UNITS.c.name).where(UNITS.c.code == launching_unit)
    ).first()
    if unit is None:
        raise NotFound(f"Không có đơn vị mã {launching_unit!r}")
    _writer(actor, unit.path, str(unit.name))
    number = nfc(plan_number).strip() if plan_number else None
    campaign_id = inserted_id(
        conn.execute(
            insert(CAMPAIGNS).values(
                launching_unit_id=unit.id,
                unit_path=unit.path,
                title=title,
                kind=kind,
                starts_on=starts_on,
                ends_on=ends_on,
                targets=json.dumps(clean_targets, ensure_ascii=False),
                plan_number=number or None,
                created_by=actor.username,
                created_at=now,
            )
        )
    )
    append_event(
        conn,
        stream_of(campaign_id),
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger="create",
        payload={
            "unit": launching_unit,
            "title": title,
            "kind": kind,
            "starts_on": starts_on.isoformat(),
            "ends_on": ends_on.isoformat() if ends_on else None,
            "targets": clean_targets,
            "plan_number": number,
        },
        now=now,
    )
    return campaign_id


def campaign_row(conn: Connection, campaign_id: int) -> RowMapping:
    """The campaign row; NotFound names the id."""
    row = conn.execute(select(CAMPAIGNS).where(CAMPAIGNS.c.id == campaign_id)).mappings().first()
    if row is None:
        raise NotFound(f"Không có phong trào thi đua #{campaign_id}")
    return row


def attach_in(
    conn: Connection,
    campaign_id: int,
    *,
    doc_type: str,
    filename: str,
    content: bytes,
    actor: Actor,
    max_bytes: int,
    content_type: str | None = None,
) -> StoredDocument:
    """Store a document of the campaign (its plan, by default), checked like every upload,
    with its SHA-256, audited on the campaign's stream."""
    campaign = campaign_row(conn, campaign_id)
    if doc_type not in CAMPAIGN_DOC_TYPES:
        raise KhenthuongError(
            f"Loại tài liệu {doc_type!r} không dùng cho phong trào thi đua; dùng một trong: "
            + "; ".join(f"{d}: {DOC_TYPES[d]}" for d in CAMPAIGN_DOC_TYPES)
        )
    _writer(actor, str(campaign["unit_path"]), f"phong trào thi đua #{campaign_id}")
    name, guessed = checked_file(filename, content, max_bytes, content_type)
    return store_upload(
        conn,
        CAMPAIGN_ATTACHMENTS,
        {"campaign_id": campaign_id},
        stream=stream_of(campaign_id),
        doc_type=doc_type,
        name=name,
        content_type=guessed,
        content=content,
        actor=actor,
    )


def link_in(
    conn: Connection,
    campaign_id: int,
    nomination_ids: Sequence[int],
    *,
    actor: Actor,
    now: datetime | None = None,
) -> None:
    """Link nominations to the campaign. Refused as a whole (nothing written), naming each
    nomination, when one is outside the launching unit's subtree, already linked, of a
    commendation type the campaign's kind does not take (`ALLOWED_TYPES`), or not the
    actor's to change."""
    now = now or datetime.now(UTC)
    campaign = campaign_row(conn, campaign_id)
    allowed = ALLOWED_TYPES[str(campaign["kind"])]
    problems: list[str] = []
    ids = list(dict.fromkeys(nomination_ids))
    linked = dict(
        conn.execute(
            select(CAMPAIGN_NOMINATIONS.c.nomination_id, CAMPAIGN_NOMINATIONS.c.campaign_id).where(
                CAMPAIGN_NOMINATIONS.c.nomination_id.in_(ids)
            )
        ).all()
    )
    for nid in ids:
        row = get_row(conn, nid)
        writable = [g.role for g in actor.grants if g.role not in READ_ALL_ROLES]
        if not writable or actor.grant_for(writable, row["unit_path"]) is None:
            raise Forbidden(f"{actor.display_name} không có quyền với hồ sơ #{nid}")
        if not str(row["unit_path"]).startswith(str(campaign["unit_path"])):
            problems.append(
                f"hồ sơ #{nid} ({row['nominee_name']}) của đơn vị ngoài phạm vi phong trào"
            )
        if nid in linked:
            problems.append(
                f"hồ sơ #{nid} ({row['nominee_name']}) đã thuộc phong trào #{linked[nid]}"
            )
        if row["commendation_type"] not in allowed:
            problems.append(
                f"hồ sơ #{nid} ({row['nominee_name']}) là khen thưởng "
                f"{COMMENDATION_TYPES.get(row['commendation_type'], row['commendation_type'])}; "
                f"{CAMPAIGN_KINDS[str(campaign['kind'])].lower()} nhận khen thưởng "
                + " hoặc ".join(COMMENDATION_TYPES[t] for t in allowed)
            )
    if problems:
        raise KhenthuongError(
            f"Không gắn được vào phong trào #{campaign_id}: " + "; ".join(problems)
        )
    for nid in ids:
        conn.execute(
            insert(CAMPAIGN_NOMINATIONS).values(
                nomination_id=nid, campaign_id=campaign_id, linked_by=actor.username, linked_at=now
            )
        )
    append_event(
        conn,
        stream_of(campaign_id),
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger="link",
        payload={"nominations": ids},
        now=now,
    )


def nominate_for_campaign(
    engine: Engine,
    registry: WorkflowRegistry,
    campaign_id: int | None,
    **create: Any,
) -> int:
    """Create a nomination (`services.new_nominations.create_nomination_in` arguments) and, with
    `campaign_id`, link it to that campaign in the same transaction: a refused link creates
    nothing."""
    with write_tx(engine) as conn:
        nomination_id = create_nomination_in(conn, registry, **create)
        if campaign_id is not None:
            link_in(conn, campaign_id, [nomination_id], actor=create["actor"])
        return nomination_id


def campaign_of(conn: Connection, nomination_id: int) -> RowMapping | None:
    """The campaign a nomination is linked to, if any."""
    return (
        conn.execute(
            select(CAMPAIGNS)
            .join(CAMPAIGN_NOMINATIONS, CAMPAIGN_NOMINATIONS.c.campaign_id == CAMPAIGNS.c.id)
            .where(CAMPAIGN_NOMINATIONS.c.nomination_id == nomination_id)
        )
        .mappings()
        .first()
    )


def _titles(
    registry: WorkflowRegistry | None, workflow: str, version: int, state: str
) -> tuple[str, str]:
    """(state title, workflow title) in Vietnamese; the codes when the path is unknown."""
    try:
        wf = registry.get(workflow, version).definition if registry else None
    except KhenthuongError:
        wf = None
    if wf is None or state not in wf.states:
        return state, workflow
    return wf.state(state).title.vi, wf.title.vi


def view_campaign(
    conn: Connection,
    campaign_id: int,
    actor: Actor | None = None,
    registry: WorkflowRegistry | None = None,
) -> CampaignView:
    """The campaign, its documents and its nominations (those `actor` may read); with the
    `registry`, each nomination shows its state's and path's titles."""
    row = campaign_row(conn, campaign_id)
    unit = conn.execute(
        select(UNITS.c.code, UNITS.c.name).where(UNITS.c.id == row["launching_unit_id"])
    ).one()
    a = CAMPAIGN_ATTACHMENTS.c
    documents = [
        StoredDocument(r.id, r.doc_type, r.filename, r.size, r.sha256)
        for r in conn.execute(
            select(a.id, a.doc_type, a.filename, a.size, a.sha256)
            .where(a.campaign_id == campaign_id)
            .order_by(a.id)
        )
    ]
    n = NOMINATIONS.c
    nominations = [
        LinkedNomination(
            r.id,
            r.nominee_name,
            r.nominee_kind,
            r.workflow,
            r.state,
            r.commendation_type,
            r.code,
            bool(r.closed),
            *_titles(registry, r.workflow, r.workflow_version, r.state),
        )
        for r in conn.execute(
            select(
                n.id,
                n.nominee_name,
                n.nominee_kind,
                n.workflow,
                n.workflow_version,
                n.state,
                n.commendation_type,
                n.closed,
                n.unit_path,
                UNITS.c.code,
            )
            .join(CAMPAIGN_NOMINATIONS, CAMPAIGN_NOMINATIONS.c.nomination_id == n.id)
            .join(UNITS, UNITS.c.id == n.proposing_unit_id)
            .where(CAMPAIGN_NOMINATIONS.c.campaign_id == campaign_id)
            .order_by(n.id)
        )
        if actor is None or can_read(actor, r.unit_path)
    ]
    return CampaignView(
        id=campaign_id,
        title=str(row["title"]),
        kind=str(row["kind"]),
        kind_name=CAMPAIGN_KINDS[str(row["kind"])],
        unit_code=str(unit.code),
        unit_name=str(unit.name),
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        targets=list(json.loads(row["targets"] or "[]")),
        plan_number=row["plan_number"],
        created_by=str(row["created_by"]),
        documents=documents,
        nominations=nominations,
    )


def list_campaigns(
    conn: Connection, paths: Sequence[str] | None, *, year: int | None = None
) -> list[RowMapping]:
    """Campaigns visible to a reader of `paths` (None: all), newest first, each with its
    launching unit and number of linked nominations. A reader sees the campaigns launched in
    its subtree and those launched above it that cover it; `year`: the campaigns running at
    some time in that year."""
    counts = (
        select(CAMPAIGN_NOMINATIONS.c.campaign_id, func.count().label("nominations"))
        .group_by(CAMPAIGN_NOMINATIONS.c.campaign_id)
        .subquery()
    )
    query = (
        select(
            CAMPAIGNS,
            UNITS.c.code.label("unit_code"),
            UNITS.c.name.label("unit_name"),
            func.coalesce(counts.c.nominations, 0).label("nominations"),
        )
        .join(UNITS, UNITS.c.id == CAMPAIGNS.c.launching_unit_id)
        .outerjoin(counts, counts.c.campaign_id == CAMPAIGNS.c.id)
        .order_by(CAMPAIGNS.c.starts_on.desc(), CAMPAIGNS.c.id.desc())
    )
    if year is not None:
        query = query.where(
            CAMPAIGNS.c.starts_on <= date(year, 12, 31),
            or_(CAMPAIGNS.c.ends_on.is_(None), CAMPAIGNS.c.ends_on >= date(year, 1, 1)),
        )
    rows = list(conn.execute(query).mappings())
    if paths is None:
        return rows
    return [
        r
        for r in rows
        if any(
            str(r["unit_path"]).startswith(p) or p.startswith(str(r["unit_path"])) for p in paths
        )
    ]


def campaigns_for(conn: Connection, unit_paths: Sequence[str]) -> list[RowMapping]:
    """Campaigns that cover any of `unit_paths` (launched by one of them or above them):
    those a proposer of these units may link a nomination to, newest first."""
    if not unit_paths:
        return []
    query = select(CAMPAIGNS.c.id, CAMPAIGNS.c.title, CAMPAIGNS.c.kind, CAMPAIGNS.c.unit_path)
    rows = conn.execute(query.order_by(CAMPAIGNS.c.starts_on.desc())).mappings()
    return [r for r in rows if any(p.startswith(str(r["unit_path"])) for p in unit_paths)]


def document_content(conn: Connection, campaign_id: int, document_id: int) -> RowMapping:
    """One stored document of the campaign (filename, content type, content)."""
    a = CAMPAIGN_ATTACHMENTS.c
    row = (
        conn.execute(
            select(a.filename, a.content_type, a.content).where(
                a.id == document_id, a.campaign_id == campaign_id
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"Phong trào #{campaign_id} không có tài liệu #{document_id}")
    return row
