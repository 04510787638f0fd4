"""Council sessions (phiên họp Hội đồng TĐKT): attendance, secret-ballot tallies, closing.

Closing a session evaluates every agenda item by the vote rule of its award (the rule set in
force on the nomination's submission date), writes the minutes, and moves every nomination on
the agenda in the same transaction: passed items through `council_approve` (whose
`vote_passed` guard reads the result), failed ones through `reject` with the tally as reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, insert, select, update

from khenthuong.audit.append import append_event
from khenthuong.errors import Forbidden, KhenthuongError, NotFound
from khenthuong.rules.catalog import Catalog, VoteRule, organisation_of
from khenthuong.rules.votes import evaluate_vote
from khenthuong.services.actors import Actor
from khenthuong.services.guard_facts import award_code_of, first_submitted_on
from khenthuong.services.nominations import get_row
from khenthuong.services.stepping import advance_in
from khenthuong.storage.councils import COUNCIL_ITEMS, COUNCIL_MEMBERS, COUNCIL_SESSIONS, RECUSALS
from khenthuong.storage.db import inserted_id
from khenthuong.storage.models import UNITS
from khenthuong.workflow.definition import StateKind
from khenthuong.workflow.loader import WorkflowRegistry

DEFAULT_RULE = VoteRule(threshold="1/2", denominator="present_members", quorum="1/2")
"""Half of the members present, when the award sets no rule."""


@dataclass(frozen=True)
class MemberIn:
    """A council member for one session."""

    full_name: str
    present: bool = True
    written_vote: bool = False
    person_id: int | None = None
    heads_unit: str | None = None
    position: str | None = None
    """The member's office on the council (Chủ tịch, Phó Chủ tịch, Ủy viên thường trực, Thư ký,
    Ủy viên); the minutes print "Ủy viên" when it is not given."""


def _session(conn: Connection, session_id: int) -> dict[str, object]:
    row = (
        conn.execute(select(COUNCIL_SESSIONS).where(COUNCIL_SESSIONS.c.id == session_id))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"Không có phiên họp #{session_id}", en=f"No council session #{session_id}")
    return dict(row)


def _secretary_check(conn: Connection, unit_id: int, actor: Actor) -> str:
    path = conn.execute(select(UNITS.c.path).where(UNITS.c.id == unit_id)).scalar_one()
    if actor.grant_for(["council_secretary"], path) is None:
        raise Forbidden(f"{actor.display_name} không phải thư ký Hội đồng của đơn vị này")
    return str(path)


def open_session(
    conn: Connection, unit: str, *, title: str, held_on: date, members: list[MemberIn], actor: Actor
) -> int:
    """Open a session of `unit`'s council with its members and attendance."""
    unit_row = conn.execute(select(UNITS.c.id).where(UNITS.c.code == unit)).first()
    if unit_row is None:
        raise NotFound(f"Không có đơn vị {unit!r}", en=f"No unit {unit!r}")
    _secretary_check(conn, unit_row.id, actor)
    if not members:
        raise KhenthuongError(
            "Phiên họp cần danh sách thành viên", en="A session needs its members"
        )
    names = [m.full_name for m in members]
    if len(set(names)) != len(names):
        raise KhenthuongError("Thành viên bị trùng tên", en="Duplicate member names")
    session_id = inserted_id(
        conn.execute(
            insert(COUNCIL_SESSIONS).values(
                unit_id=unit_row.id,
                title=title,
                held_on=held_on,
                status="open",
                created_by=actor.username,
                created_at=datetime.now(UTC),
            )
        )
    )
    for member in members:
        heads = None
        if member.heads_unit:
            heads = conn.execute(
                select(UNITS.c.id).where(UNITS.c.code == member.heads_unit)
            ).scalar()
        conn.execute(
            insert(COUNCIL_MEMBERS).values(
                session_id=session_id,
                full_name=member.full_name,
                position=(member.position or "").strip() or None,
                present=member.present,
                written_vote=member.written_vote and not member.present,
                person_id=member.person_id,
                heads_unit_id=heads,
            )
        )
    return session_id


def add_item(
    conn: Connection,
    registry: WorkflowRegistry,
    session_id: int,
    nomination_id: int,
    *,
    actor: Actor,
) -> int:
    """Put a nomination waiting for this council on the agenda; recuse conflicted members."""
    session = _session(conn, session_id)
    if session["status"] != "open":
        raise KhenthuongError(f"Phiên họp #{session_id} đã đóng", en="Session is closed")
    council_path = _secretary_check(conn, int(str(session["unit_id"])), actor)
    nom = get_row(conn, nomination_id)
    state = registry.get(nom["workflow"], nom["workflow_version"]).definition.state(nom["state"])
    if state.kind is not StateKind.council or not nom["unit_path"].startswith(council_path):
        raise KhenthuongError(
            f"Hồ sơ #{nomination_id} không chờ Hội đồng này xét (trạng thái {state.title.vi})",
            en=f"Nomination #{nomination_id} is not waiting for this council ({state.title.en})",
        )
    on_agenda = conn.execute(
        select(COUNCIL_ITEMS.c.id).where(
            COUNCIL_ITEMS.c.session_id == session_id,
            COUNCIL_ITEMS.c.nomination_id == nomination_id,
        )
    ).first()
    if on_agenda is not None:
        raise KhenthuongError(
            f"Hồ sơ #{nomination_id} đã có trong chương trình phiên họp #{session_id}",
            en=f"Nomination #{nomination_id} is already on the agenda",
        )
    item_id = inserted_id(
        conn.execute(
            insert(COUNCIL_ITEMS).values(session_id=session_id, nomination_id=nomination_id)
        )
    )
    for member in conn.execute(
        select(COUNCIL_MEMBERS).where(COUNCIL_MEMBERS.c.session_id == session_id)
    ):
        reason = None
        if member.person_id is not None and member.person_id == nom["nominee_person_id"]:
            reason = "Thành viên là người được đề nghị"
        elif member.heads_unit_id is not None and member.heads_unit_id == nom["nominee_unit_id"]:
            reason = "Thành viên là thủ trưởng tập thể được đề nghị"
        if reason:
            conn.execute(
                insert(RECUSALS).values(item_id=item_id, member_id=member.id, reason=reason)
            )
    return item_id


def record_tally(
    conn: Connection,
    session_id: int,
    nomination_id: int,
    *,
    agree: int,
    disagree: int,
    abstain: int,
    written_agree: int = 0,
    actor: Actor,
) -> None:
    """Record the secret-ballot result for one item; a tally beyond attendance is refused."""
    session = _session(conn, session_id)
    _secretary_check(conn, int(str(session["unit_id"])), actor)
    item = conn.execute(
        select(COUNCIL_ITEMS).where(
            COUNCIL_ITEMS.c.session_id == session_id, COUNCIL_ITEMS.c.nomination_id == nomination_id
        )
    ).first()
    if item is None:
        raise NotFound(f"Hồ sơ #{nomination_id} không có trong chương trình phiên #{session_id}")
    members = conn.execute(
        select(COUNCIL_MEMBERS).where(COUNCIL_MEMBERS.c.session_id == session_id)
    ).all()
    recused = {
        r.member_id for r in conn.execute(select(RECUSALS).where(RECUSALS.c.item_id == item.id))
    }
    voters = sum(1 for m in members if m.present and m.id not in recused)
    written = sum(1 for m in members if m.written_vote and m.id not in recused)
    if min(agree, disagree, abstain, written_agree) < 0:
        raise KhenthuongError("Số phiếu không được âm", en="Votes cannot be negative")
    if agree + disagree + abstain > voters:
        raise KhenthuongError(
            f"Tổng phiếu {agree + disagree + abstain} vượt số thành viên có mặt được bỏ phiếu {voters}",
            en=f"Ballots exceed the {voters} members present and not recused",
        )
    if written_agree > written:
        raise KhenthuongError(f"Phiếu bằng văn bản {written_agree} vượt {written} ý kiến gửi trước")
    conn.execute(
        update(COUNCIL_ITEMS)
        .where(COUNCIL_ITEMS.c.id == item.id)
        .values(
            agree=agree,
            disagree=disagree,
            abstain=abstain,
            written_agree=written_agree,
            recused=len(recused),
        )
    )


def close_session(
    conn: Connection, registry: WorkflowRegistry, catalog: Catalog, session_id: int, *, actor: Actor
) -> str:
    """Evaluate every item, move every nomination, write and return the minutes (biên bản)."""
    session = _session(conn, session_id)
    if session["status"] != "open":
        raise KhenthuongError(f"Phiên họp #{session_id} đã đóng", en="Already closed")
    _secretary_check(conn, int(str(session["unit_id"])), actor)
    members = conn.execute(
        select(COUNCIL_MEMBERS).where(COUNCIL_MEMBERS.c.session_id == session_id)
    ).all()
    items = conn.execute(
        select(COUNCIL_ITEMS)
        .where(COUNCIL_ITEMS.c.session_id == session_id)
        .order_by(COUNCIL_ITEMS.c.id)
    ).all()
    if not items:
        raise KhenthuongError("Phiên họp chưa có hồ sơ nào", en="The agenda is empty")
    total = len(members)
    present = sum(1 for m in members if m.present)
    lines = [
        f"BIÊN BẢN HỌP HỘI ĐỒNG THI ĐUA – KHEN THƯỞNG: {session['title']}",
        f"Ngày họp: {session['held_on']:%d/%m/%Y}. Thành viên: {total}; có mặt: {present}.",
        "",
    ]
    outcomes = []
    for item in items:
        if item.agree is None:
            raise KhenthuongError(
                f"Hồ sơ #{item.nomination_id} chưa có kết quả kiểm phiếu", en="No tally yet"
            )
        nom = get_row(conn, item.nomination_id)
        code = award_code_of(nom, catalog)
        rule = DEFAULT_RULE
        if code is not None:
            submitted = first_submitted_on(conn, nom)
            rules = catalog.rules_for(
                code,
                max(submitted, catalog.award(code).rules[0].effective_from),
                organisation_of(nom["unit_path"]),
            )
            rule = rules.vote or DEFAULT_RULE
        recused_present = (
            conn.execute(
                select(COUNCIL_MEMBERS.c.present)
                .join(RECUSALS, RECUSALS.c.member_id == COUNCIL_MEMBERS.c.id)
                .where(RECUSALS.c.item_id == item.id)
            )
            .scalars()
            .all()
        )
        present_recused = sum(1 for p in recused_present if p)
        # How recusal changes the denominator is the vote rule's `recusal` (catalog).
        outcome = evaluate_vote(
            rule,
            members_total=total,
            present=present,
            agree=item.agree,
            disagree=item.disagree or 0,
            abstain=item.abstain or 0,
            written_agree=item.written_agree,
            recused=present_recused,
            recused_absent=len(recused_present) - present_recused,
        )
        if not outcome.quorum_met:
            raise KhenthuongError(f"Phiên họp không đủ số lượng thành viên: {outcome.message_vi}")
        result = "passed" if outcome.passed else "failed"
        conn.execute(
            update(COUNCIL_ITEMS)
            .where(COUNCIL_ITEMS.c.id == item.id)
            .values(result=result, ratio=outcome.ratio, explanation=outcome.message_vi)
        )
        outcomes.append((item.nomination_id, nom["nominee_name"], result, outcome.message_vi))
        title = f" – {catalog.award(code).name.vi}" if code in catalog.awards else ""
        lines.append(
            f"- Hồ sơ #{item.nomination_id} {nom['nominee_name']}{title}: {outcome.message_vi}"
            + (f" (miễn biểu quyết: {item.recused})" if item.recused else "")
        )
    now = datetime.now(UTC)
    minutes = "\n".join(lines) + "\n"
    conn.execute(
        update(COUNCIL_SESSIONS)
        .where(COUNCIL_SESSIONS.c.id == session_id)
        .values(status="closed", closed_at=now, minutes=minutes)
    )
    for nomination_id, _name, result, message in outcomes:
        if result == "passed":
            advance_in(
                conn,
                registry,
                nomination_id,
                "council_approve",
                actor,
                comment=f"Phiên họp #{session_id}: {message}",
                now=now,
            )
        else:
            advance_in(
                conn,
                registry,
                nomination_id,
                "reject",
                actor,
                {"reason": f"Không đạt tỷ lệ phiếu tại phiên họp #{session_id}: {message}"},
                now=now,
            )
    append_event(
        conn,
        f"council:{session_id}",
        actor=actor.username,
        actor_unit=actor.unit_code,
        trigger="close_session",
        payload={
            "items": [[n, r] for n, _, r, _ in outcomes],
            "present": present,
            "members": total,
        },
        now=now,
    )
    return minutes
