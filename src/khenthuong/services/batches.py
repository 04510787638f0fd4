"""Proposal batches (đợt đề nghị): one tờ trình and its danh sách for many nominations.

A batch is stored with its own audit stream (`batch:ID`). Its documents (tờ trình, danh sách,
biên bản bình xét) are attached once and count for every member's `dossier_complete` and
`eligible` (services.guard_facts reads `batch_present_types`); per-nominee documents (báo cáo
thành tích) stay on each nomination. A step on the batch is `advance_batch_in` over its open
members in partial mode: the permitted steps are written and each refused member is listed
with its reason. One member can be stepped alone (returned, withdrawn) without the rest.
The batch's state is derived from its members' states.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, delete, false, func, insert, or_, select

from khenthuong.audit.append import append_event
from khenthuong.commendation import accepted_types
from khenthuong.doctypes import DOC_TYPES
from khenthuong.errors import Forbidden, KhenthuongError, NotFound, Refusal
from khenthuong.localtime import LOCAL_TZ
from khenthuong.services.access import READ_ALL_ROLES, can_read
from khenthuong.services.actors import Actor
from khenthuong.services.dossier import StoredDocument, checked_file, store_upload
from khenthuong.services.nominations import COMMENDATION_TYPES, StepResult, nfc
from khenthuong.services.stepping import advance_batch_in, advance_in
from khenthuong.storage.batches import BATCH_ATTACHMENTS, BATCH_MEMBERS, BATCHES
from khenthuong.storage.db import inserted_id
from khenthuong.storage.models import NOMINATIONS, UNITS
from khenthuong.uploads import KINDS, safe_name
from khenthuong.workflow.loader import WorkflowRegistry


def stream_of(batch_id: int) -> str:
    """The audit stream of a batch."""
    return f"batch:{batch_id}"


@dataclass(frozen=True)
class Member:
    """One nomination of a batch, as the batch shows it."""

    nomination_id: int
    row_number: int | None
    nominee_name: str
    nominee_kind: str
    workflow: str
    state: str
    state_title: str
    closed: bool
    state_title_en: str = ""
    """The state's English title (the pages' English locale)."""
    workflow_version: int = 0
    """The version of the workflow the nomination runs on (its steps come from it)."""


@dataclass(frozen=True)
class BatchView:
    """A batch with its members and its derived state."""

    id: int
    title: str
    unit_code: str
    unit_name: str
    unit_path: str
    receiving_unit: str | None
    year: int
    commendation_type: str
    created_by: str
    created_at: datetime
    members: tuple[Member, ...]
    documents: tuple[StoredDocument, ...]

    @property
    def counts(self) -> list[tuple[str, int]]:
        """(state title, number of members) in the order the members reached them."""
        return list(Counter(m.state_title for m in self.members).items())

    @property
    def summary(self) -> str:
        """The batch's state from its members, e.g. '12 hồ sơ: Thủ trưởng đơn vị ký tờ
        trình; 3 hồ sơ: Trả lại đơn vị để bổ sung'."""
        if not self.members:
            return "chưa có hồ sơ"
        return "; ".join(f"{n} hồ sơ: {title}" for title, n in self.counts)

    @property
    def open_ids(self) -> list[int]:
        return [m.nomination_id for m in self.members if not m.closed]


@dataclass(frozen=True)
class BatchStep:
    """What a step on a batch did: steps written, members refused with their reasons."""

    done: list[StepResult]
    refused: dict[int, list[Refusal]]
    skipped: list[int]
    """Members already closed (withdrawn, rejected, decided): not stepped."""


def _writer(actor: Actor, unit_path: str, what: str) -> None:
    writable = [g.role for g in actor.grants if g.role not in READ_ALL_ROLES]
    if not writable or actor.grant_for(writable, unit_path) is None:
        raise Forbidden(f"{actor.display_name} không có quyền với {what}")


def _batch_row(conn: Connection, batch_id: int) -> RowMapping:
    row = conn.execute(select(BATCHES).where(BATCHES.c.id == batch_id)).mappings().first()
    if row is None:
        raise NotFound(f"Không có đợt đề nghị #{batch_id}")
    return row


def create_batch_in(
    conn: Connection,
    *,
    proposing_unit: str,
    actor: Actor,
    title: str,
    year: int | None = None,
    commendation_type: str = "cong_trang",
    receiving_unit: str | None = None,
    now: datetime | None = None,
) -> int:
    """A new, empty batch of `proposing_unit`; audited on its stream."""
    now = now or datetime.now(UTC)
    if commendation_type not in COMMENDATION_TYPES:
        raise KhenthuongError(
            f"Loại hình khen thưởng {commendation_type!r} không hợp lệ; dùng một trong: "
            f"{accepted_types()}"
        )
    title = nfc(title or "").strip()
    if not title:
        raise KhenthuongError("Đợt đề nghị cần có tiêu đề (trích yếu của tờ trình)")
    unit = conn.execute(
        select(UNITS.c.id, UNITS.c.path, UNITS.c.name).where(UNITS.c.code == proposing_unit)
    ).first()
    if unit is None:
        raise NotFound(f"Không có đơn vị mã {proposing_unit!r}")
    _writer(actor, unit.path, str(unit.name))
    receiver_id = None
    if receiving_unit:
        receiver_id = conn.execute(
            select(UNITS.c.id).where(UNITS.c.code == receiving_unit)
        ).scalar()
        if receiver_id is None:
            raise NotFound(f"Không có đơn vị nhận tờ trình mã {receiving_unit!r}")
    year = year or now.astimezone(LOCAL_TZ).year
    batch_id = inserted_id(
        conn.execute(
            insert(BATCHES).values(
                proposing_unit_id=unit.id,
                unit_path=unit.path,
                receiving_unit_id=receiver_id,
                year=year,
                commendation_type=commendation_type,
                title=title,
                created_by=actor.username,
                created_at=now,
            )
        )
    )
    append_event(
        conn,
        stream_of(batch_id),
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger="create",
        payload={
            "unit": proposing_unit,
            "receiving_unit": receiving_unit,
            "year": year,
            "commendation_type": commendation_type,
            "title": title,
        },
        now=now,
    )
    return batch_id


def add_members_in(
    conn: Connection,
    batch_id: int,
    nomination_ids: Sequence[int],
    *,
    actor: Actor,
    row_numbers: Mapping[int, int] | None = None,
    now: datetime | None = None,
) -> None:
    """Put nominations of the batch's proposing unit into it; one already in a batch, closed
    or of another unit refuses the whole call, naming each."""
    batch = _batch_row(conn, batch_id)
    _writer(actor, str(batch["unit_path"]), f"đợt đề nghị #{batch_id}")
    ids = list(dict.fromkeys(nomination_ids))
    rows = {
        r.id: r
        for r in conn.execute(
            select(
                NOMINATIONS.c.id,
                NOMINATIONS.c.proposing_unit_id,
                NOMINATIONS.c.closed,
                BATCH_MEMBERS.c.batch_id,
            )
            .outerjoin(BATCH_MEMBERS, BATCH_MEMBERS.c.nomination_id == NOMINATIONS.c.id)
            .where(NOMINATIONS.c.id.in_(ids))
        )
    }
    problems = []
    for nid in ids:
        row = rows.get(nid)
        if row is None:
            problems.append(f"không có hồ sơ #{nid}")
        elif row.batch_id is not None:
            problems.append(f"hồ sơ #{nid} đã thuộc đợt đề nghị #{row.batch_id}")
        elif row.proposing_unit_id != batch["proposing_unit_id"]:
            problems.append(f"hồ sơ #{nid} do đơn vị khác đề nghị")
        elif row.closed:
            problems.append(f"hồ sơ #{nid} đã kết thúc")
    if problems:
        raise KhenthuongError("Không thêm được vào đợt đề nghị: " + "; ".join(problems))
    if ids:
        numbers = row_numbers or {}
        conn.execute(
            insert(BATCH_MEMBERS),
            [{"nomination_id": n, "batch_id": batch_id, "row_number": numbers.get(n)} for n in ids],
        )
    append_event(
        conn,
        stream_of(batch_id),
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger="add_members",
        payload={"nominations": ids},
        now=now,
    )


def remove_member_in(conn: Connection, batch_id: int, nomination_id: int, *, actor: Actor) -> None:
    """Take a nomination out of the batch (it goes on alone, in its own state)."""
    batch = _batch_row(conn, batch_id)
    _writer(actor, str(batch["unit_path"]), f"đợt đề nghị #{batch_id}")
    gone = conn.execute(
        delete(BATCH_MEMBERS).where(
            BATCH_MEMBERS.c.batch_id == batch_id, BATCH_MEMBERS.c.nomination_id == nomination_id
        )
    )
    if gone.rowcount != 1:
        raise NotFound(f"Hồ sơ #{nomination_id} không thuộc đợt đề nghị #{batch_id}")
    append_event(
        conn,
        stream_of(batch_id),
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger="remove_member",
        payload={"nomination": nomination_id},
    )


def attach_in(
    conn: Connection,
    batch_id: int,
    *,
    doc_type: str,
    filename: str,
    content: bytes,
    actor: Actor,
    max_bytes: int,
    content_type: str | None = None,
) -> StoredDocument:
    """Store one document for the whole batch (counted in every member's dossier)."""
    batch = _batch_row(conn, batch_id)
    if doc_type not in DOC_TYPES:
        raise KhenthuongError(
            f"Loại tài liệu {doc_type!r} không hợp lệ; dùng một trong: {', '.join(DOC_TYPES)}"
        )
    _writer(actor, str(batch["unit_path"]), f"đợt đề nghị #{batch_id}")
    name, guessed = checked_file(filename, content, max_bytes, content_type)
    return _store(conn, batch_id, doc_type, name, guessed, content, actor)


def store_list_in(
    conn: Connection, batch_id: int, *, filename: str, content: bytes, actor: Actor
) -> StoredDocument:
    """Keep the imported danh sách itself (XLSX or CSV, already read and checked by
    khenthuong.sheets) as the batch's `danh_sach` document."""
    batch = _batch_row(conn, batch_id)
    _writer(actor, str(batch["unit_path"]), f"đợt đề nghị #{batch_id}")
    kind = "text/csv" if filename.lower().endswith(".csv") else KINDS[".xlsx"][0]
    return _store(conn, batch_id, "danh_sach", safe_name(filename), kind, content, actor)


def _store(
    conn: Connection,
    batch_id: int,
    doc_type: str,
    name: str,
    guessed: str,
    content: bytes,
    actor: Actor,
) -> StoredDocument:
    return store_upload(
        conn,
        BATCH_ATTACHMENTS,
        {"batch_id": batch_id},
        stream=stream_of(batch_id),
        doc_type=doc_type,
        name=name,
        content_type=guessed,
        content=content,
        actor=actor,
    )


def batch_documents(conn: Connection, batch_id: int) -> list[StoredDocument]:
    """The batch's own documents, oldest first (without content)."""
    a = BATCH_ATTACHMENTS.c
    return [
        StoredDocument(r.id, r.doc_type, r.filename, r.size, r.sha256)
        for r in conn.execute(
            select(a.id, a.doc_type, a.filename, a.size, a.sha256)
            .where(a.batch_id == batch_id)
            .order_by(a.id)
        )
    ]


def batch_present_types(conn: Connection, nomination_ids: Sequence[int]) -> dict[int, set[str]]:
    """Document types attached to the batch of each nomination (only ids in a batch that
    has documents appear)."""
    found: dict[int, set[str]] = {}
    for row in conn.execute(
        select(BATCH_MEMBERS.c.nomination_id, BATCH_ATTACHMENTS.c.doc_type)
        .join(BATCH_ATTACHMENTS, BATCH_ATTACHMENTS.c.batch_id == BATCH_MEMBERS.c.batch_id)
        .where(BATCH_MEMBERS.c.nomination_id.in_(list(nomination_ids)))
    ):
        found.setdefault(row.nomination_id, set()).add(row.doc_type)
    return found


def batch_of(conn: Connection, nomination_id: int) -> int | None:
    """The batch a nomination belongs to, if any."""
    found = conn.execute(
        select(BATCH_MEMBERS.c.batch_id).where(BATCH_MEMBERS.c.nomination_id == nomination_id)
    ).scalar()
    return int(found) if found is not None else None


def member_ids(conn: Connection, batch_id: int) -> list[int]:
    """The batch's members in the order of its danh sách."""
    _batch_row(conn, batch_id)
    return [
        int(r.nomination_id)
        for r in conn.execute(
            select(BATCH_MEMBERS.c.nomination_id)
            .where(BATCH_MEMBERS.c.batch_id == batch_id)
            .order_by(BATCH_MEMBERS.c.row_number, BATCH_MEMBERS.c.nomination_id)
        )
    ]


def view_batch(
    conn: Connection, registry: WorkflowRegistry, batch_id: int, actor: Actor | None = None
) -> BatchView:
    """The batch, its members with their states, its documents and its derived state; with
    `actor`, Forbidden unless the actor may read the proposing unit's records."""
    batch = _batch_row(conn, batch_id)
    if actor is not None and not can_read(actor, str(batch["unit_path"])):
        raise Forbidden(f"{actor.display_name} không có quyền xem đợt đề nghị #{batch_id}")
    units = {
        r.id: r
        for r in conn.execute(
            select(UNITS.c.id, UNITS.c.code, UNITS.c.name).where(
                UNITS.c.id.in_(
                    [
                        batch["proposing_unit_id"],
                        batch["receiving_unit_id"] or batch["proposing_unit_id"],
                    ]
                )
            )
        )
    }
    n = NOMINATIONS.c
    members = []
    for r in conn.execute(
        select(
            n.id, n.nominee_name, n.nominee_kind, n.workflow, n.workflow_version, n.state,
            n.closed, BATCH_MEMBERS.c.row_number,
        )
        .join(BATCH_MEMBERS, BATCH_MEMBERS.c.nomination_id == n.id)
        .where(BATCH_MEMBERS.c.batch_id == batch_id)
        .order_by(BATCH_MEMBERS.c.row_number, n.id)
    ):  # fmt: skip
        state = registry.get(r.workflow, r.workflow_version).definition.state(r.state)
        members.append(
            Member(
                int(r.id), r.row_number, r.nominee_name, r.nominee_kind, r.workflow, r.state,
                state.title.vi, bool(r.closed), state.title.en, int(r.workflow_version),
            )
        )  # fmt: skip
    proposer = units[batch["proposing_unit_id"]]
    receiver = units.get(batch["receiving_unit_id"]) if batch["receiving_unit_id"] else None
    return BatchView(
        id=batch_id,
        title=str(batch["title"]),
        unit_code=proposer.code,
        unit_name=proposer.name,
        unit_path=str(batch["unit_path"]),
        receiving_unit=receiver.code if receiver else None,
        year=int(batch["year"]),
        commendation_type=str(batch["commendation_type"]),
        created_by=str(batch["created_by"]),
        created_at=batch["created_at"],
        members=tuple(members),
        documents=tuple(batch_documents(conn, batch_id)),
    )


def advance_batch_members_in(
    conn: Connection,
    registry: WorkflowRegistry,
    batch_id: int,
    trigger: str,
    actor: Actor,
    payload: Mapping[str, Any] | None = None,
    *,
    comment: str | None = None,
    now: datetime | None = None,
) -> BatchStep:
    """One step on every open member in one transaction (partial: a refused member does not
    hold back the others and is listed with its reasons); audited on the batch's stream."""
    now = now or datetime.now(UTC)
    view = view_batch(conn, registry, batch_id)
    open_ids = view.open_ids
    skipped = [m.nomination_id for m in view.members if m.closed]
    if not open_ids:
        raise KhenthuongError(f"Đợt đề nghị #{batch_id} không còn hồ sơ nào đang xử lý")
    done, refused = advance_batch_in(
        conn, registry, open_ids, trigger, actor, payload, comment=comment, now=now, partial=True
    )
    append_event(
        conn,
        stream_of(batch_id),
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger=trigger,
        payload={
            "done": [r.nomination_id for r in done],
            "refused": {str(k): [r.code for r in v] for k, v in refused.items()},
            "skipped": skipped,
        },
        comment=nfc(comment),
        now=now,
    )
    return BatchStep(done, refused, skipped)


def step_member_in(
    conn: Connection,
    registry: WorkflowRegistry,
    batch_id: int,
    nomination_id: int,
    trigger: str,
    actor: Actor,
    payload: Mapping[str, Any] | None = None,
    *,
    comment: str | None = None,
) -> StepResult:
    """One member alone (e.g. returned for supplementation or withdrawn); the others stay
    where they are. Audited on the batch's stream too."""
    if nomination_id not in member_ids(conn, batch_id):
        raise NotFound(f"Hồ sơ #{nomination_id} không thuộc đợt đề nghị #{batch_id}")
    result = advance_in(conn, registry, nomination_id, trigger, actor, payload, comment=comment)
    append_event(
        conn,
        stream_of(batch_id),
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger="step_member",
        payload={
            "nomination": nomination_id,
            "trigger": trigger,
            "from": result.from_state,
            "to": result.to_state,
        },
        comment=nfc(comment),
    )
    return result


def list_batches(conn: Connection, paths: Sequence[str] | None) -> list[RowMapping]:
    """Batches of units under `paths` (None: all), newest first, with their member count."""
    members = (
        select(BATCH_MEMBERS.c.batch_id, func.count().label("members"))
        .group_by(BATCH_MEMBERS.c.batch_id)
        .subquery()
    )
    query = (
        select(BATCHES, UNITS.c.code.label("unit_code"), members.c.members)
        .join(UNITS, UNITS.c.id == BATCHES.c.proposing_unit_id)
        .outerjoin(members, members.c.batch_id == BATCHES.c.id)
        .order_by(BATCHES.c.id.desc())
    )
    if paths is not None:
        query = query.where(or_(false(), *[BATCHES.c.unit_path.startswith(p) for p in paths]))
    return list(conn.execute(query).mappings())
