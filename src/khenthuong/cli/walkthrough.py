"""The walk-through of docs/guide/walkthrough.md (`khenthuong demo`): one nomination from
proposal to decision, with refusals."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from sqlalchemy import select

from khenthuong.audit.verify import verify_all
from khenthuong.cli.common import moves
from khenthuong.cli.demo_council import demo_council
from khenthuong.doctypes import DOC_TYPES
from khenthuong.documents.text import money
from khenthuong.errors import KhenthuongError, StepRefused
from khenthuong.localtime import LOCAL_TZ, local_date
from khenthuong.rules.catalog import catalog_in
from khenthuong.runtime import Runtime
from khenthuong.services import councils, decisions, dossier, new_nominations, stepping
from khenthuong.services.actors import Actor, load_actor
from khenthuong.storage.db import write_tx
from khenthuong.storage.models import PERSONS, USERS
from khenthuong.workflow.definition import TransitionDef, WorkflowDef

SIDE_TRIGGERS = frozenset({"return_for_supplement", "reject", "withdraw", "revoke"})
DEMO_WORKFLOW = "bang_khen_bo"
DEMO_UNIT = "CCYQD"


def happy_path(wf: WorkflowDef, goal: str = "decided") -> list[TransitionDef]:
    """The shortest chain of forward steps from the initial state to `goal`."""
    queue: deque[tuple[str, list[TransitionDef]]] = deque([(wf.initial, [])])
    seen = {wf.initial}
    while queue:
        state, path = queue.popleft()
        if state == goal:
            return path
        for t in wf.transitions_from(state):
            if t.trigger in SIDE_TRIGGERS or t.dest in seen:
                continue
            seen.add(t.dest)
            queue.append((t.dest, [*path, t]))
    raise KhenthuongError(f"{wf.name} has no path from {wf.initial} to {goal}")


def _actors(rt: Runtime) -> list[Actor]:
    with rt.engine.connect() as conn:
        names = conn.execute(select(USERS.c.username).order_by(USERS.c.id)).scalars()
        return [load_actor(conn, name) for name in names]


def run_walkthrough(rt: Runtime, console: Console) -> int:
    """Carry a demo nomination to a decision; returns its id."""
    actors = _actors(rt)
    if not actors:
        raise KhenthuongError("no users: run `khenthuong init --demo` first")
    wf = rt.registry.get(DEMO_WORKFLOW).definition
    with rt.engine.connect() as conn:
        first = conn.execute(
            select(PERSONS.c.id, PERSONS.c.full_name).order_by(PERSONS.c.id)
        ).first()
    if first is None:
        raise KhenthuongError("no persons: run `khenthuong init --demo` first")
    person = _fresh_nominee(rt, "BK_BO", datetime.now(UTC).year, first.full_name)
    unit_path = f"/CP/BCY/{DEMO_UNIT}/"

    def who(roles: list[str], state: str) -> Actor:
        levels = {}
        st = wf.state(state)
        if st.role and st.level:
            levels[st.role] = st.level.value
        for actor in actors:
            if actor.grant_for(roles, unit_path, role_levels=levels):
                return actor
        raise KhenthuongError(f"no demo user holds {roles} over {DEMO_UNIT}")

    proposer = who([wf.state(wf.initial).role or ""], wf.initial)
    console.rule(f"[bold]{wf.title.vi}[/] — {person.full_name}")
    nid = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow=wf.name,
        proposing_unit=DEMO_UNIT,
        actor=proposer,
        nominee_person_id=person.id,
        comment="Đề nghị khen thưởng thành tích năm",
    )
    console.print(
        f"[green]✓[/] {proposer.username} lập hồ sơ #{nid} ({wf.state(wf.initial).title.vi})"
    )
    year = datetime.now(UTC).year
    _seed_cstdcs(rt, person.id, [year - 1, year])
    catalog = catalog_in(rt.settings.config_dir)
    award_code = catalog.award_for_workflow(wf.name) or ""
    path = happy_path(wf)
    state = wf.initial
    outsider = (
        next(a for a in actors if a.username == "kiemtra")
        if any(a.username == "kiemtra" for a in actors)
        else proposer
    )
    for index, step in enumerate(path):
        if index == 1:
            _show_refusal(rt, console, nid, step, outsider, {})
        if index == 2:
            reject = next(t for t in wf.transitions if t.trigger == "reject")
            _show_refusal(rt, console, nid, reject, who(step.roles, state), {})
        if "dossier_complete" in step.guards:
            documents = catalog.award(award_code).documents
            with write_tx(rt.engine) as conn:
                for doc in documents:
                    dossier.attach(
                        conn,
                        nid,
                        doc_type=doc,
                        filename=f"{doc}.pdf",
                        content=f"%PDF-1.4 {doc} #{nid}".encode(),
                        actor=proposer,
                        max_bytes=rt.settings.max_attachment_bytes,
                    )
            console.print(
                f"[green]✓[/] {proposer.username} đính kèm hồ sơ: "
                + ", ".join(DOC_TYPES[d][:1].lower() + DOC_TYPES[d][1:] for d in documents)
            )
        if "vote_passed" in step.guards:
            secretary = who(step.roles, state)
            members = demo_council(7, secretary=secretary.full_name)
            with write_tx(rt.engine) as conn:
                sid = councils.open_session(
                    conn,
                    "BCY",
                    title="Xét khen thưởng",
                    held_on=local_date(datetime.now(UTC)),
                    members=members,
                    actor=secretary,
                )
                councils.add_item(conn, rt.registry, sid, nid, actor=secretary)
                councils.record_tally(
                    conn, sid, nid, agree=7, disagree=0, abstain=0, actor=secretary
                )
                councils.close_session(conn, rt.registry, catalog, sid, actor=secretary)
            console.print(f"[green]✓[/] {secretary.username} — phiên họp #{sid}: 7/7 phiếu đồng ý")
            state = step.dest
            continue
        if step.trigger == "decide":
            signer = who(step.roles, state)
            with write_tx(rt.engine) as conn:
                lines = decisions.create_decision(
                    conn,
                    rt.registry,
                    catalog,
                    number=f"{nid}/QĐ-BCY",
                    decided_on=local_date(datetime.now(UTC)),
                    signer="Trưởng Ban Cơ yếu Chính phủ",
                    authority="BCY",
                    award_code=award_code,
                    nomination_ids=[nid],
                    actor=signer,
                )
            console.print(
                f"[green]✓[/] {signer.username} ký Quyết định {nid}/QĐ-BCY: "
                f"tiền thưởng {money(lines[0].amount_vnd)} đồng"
            )
            state = step.dest
            continue
        payload: dict[str, str] = {}
        if "decision_number" in step.requires:
            payload["decision_number"] = f"{nid}/QĐ-BCY"
        for key in step.requires:
            payload.setdefault(key, "Theo đề nghị của đơn vị")
        actor = who(step.roles, state)
        result = stepping.advance(rt.engine, rt.registry, nid, step.trigger, actor, payload)
        due = f", hạn {result.due_at.astimezone(LOCAL_TZ):%d/%m/%Y}" if result.due_at else ""
        console.print(
            f"[green]✓[/] {actor.username} — {step.title.vi}: "
            f"{wf.state(result.from_state).title.vi} → {wf.state(result.to_state).title.vi}{due}"
        )
        state = result.to_state
    with rt.engine.connect() as conn:
        report = verify_all(conn)
    console.print(
        f"Nhật ký: {report.events} sự kiện, {report.streams} chuỗi — "
        + ("[green]toàn vẹn[/]" if report.ok else "[red]HỎNG[/]")
    )
    console.print(f"Xem lịch sử: khenthuong history {nid}")
    return nid


def _show_refusal(
    rt: Runtime,
    console: Console,
    nid: int,
    step: TransitionDef,
    actor: Actor,
    payload: dict[str, str],
) -> None:
    try:
        stepping.advance(rt.engine, rt.registry, nid, step.trigger, actor, payload)
    except StepRefused as exc:
        console.print(
            f"[yellow]✗[/] {actor.username} thử «{step.title.vi}»: {exc.refusals[0].message_vi}"
        )


def run_council_walkthrough(rt: Runtime, console: Console) -> int:
    """A CSTĐ cấp Bộ with history, dossier, a council secret ballot and a decision with money."""
    from datetime import UTC, datetime  # noqa: PLC0415

    from sqlalchemy import insert  # noqa: PLC0415

    from khenthuong.rules.catalog import catalog_in  # noqa: PLC0415
    from khenthuong.services import councils, decisions, dossier  # noqa: PLC0415
    from khenthuong.storage.db import write_tx  # noqa: PLC0415
    from khenthuong.storage.history import INITIATIVES  # noqa: PLC0415

    actors = {a.username: a for a in _actors(rt)}
    today = local_date(datetime.now(UTC))
    year = today.year
    with write_tx(rt.engine) as conn:
        bich = conn.execute(
            select(PERSONS.c.id, PERSONS.c.full_name).where(PERSONS.c.full_name == "Trần Thị Bích")
        ).first()
        if bich is None:
            raise KhenthuongError(
                "demo person Trần Thị Bích is missing: run `khenthuong init --demo`"
            )
    person = _fresh_nominee(rt, "CSTD_BO", year, bich.full_name)
    with write_tx(rt.engine) as conn:
        if not conn.execute(
            select(INITIATIVES.c.id).where(INITIATIVES.c.person_id == person.id)
        ).first():
            conn.execute(
                insert(INITIATIVES).values(
                    person_id=person.id,
                    year=year,
                    title="Giải pháp quản lý khóa mật mã tập trung",
                    scope="ministry",
                )
            )
    _seed_cstdcs(rt, person.id, [year - 2, year - 1, year])
    console.rule(
        f"[bold]Chiến sĩ thi đua cấp Bộ[/] — {person.full_name} (CSTĐCS {year - 2}–{year})"
    )
    nid = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="chien_si_thi_dua_cap_bo",
        proposing_unit=DEMO_UNIT,
        actor=actors["cb.qd"],
        nominee_person_id=person.id,
        year=year,
    )
    try:
        stepping.advance(rt.engine, rt.registry, nid, "submit", actors["cb.qd"])
    except StepRefused as exc:
        console.print(f"[yellow]✗[/] cb.qd thử trình: {exc.refusals[0].message_vi}")
    catalog = catalog_in(rt.settings.config_dir)
    documents = catalog.award("CSTD_BO").documents
    with write_tx(rt.engine) as conn:
        for doc in documents:
            dossier.attach(
                conn,
                nid,
                doc_type=doc,
                filename=f"{doc}.pdf",
                content=f"%PDF-1.4 {doc} #{nid}".encode(),
                actor=actors["cb.qd"],
                max_bytes=rt.settings.max_attachment_bytes,
            )
    console.print(
        "[green]✓[/] cb.qd đính kèm "
        + ", ".join(DOC_TYPES[d][:1].lower() + DOC_TYPES[d][1:] for d in documents)
    )
    for trigger, user in (("submit", "cb.qd"), ("forward", "tt.qd"), ("appraise", "cv.bcy")):
        result = stepping.advance(rt.engine, rt.registry, nid, trigger, actors[user])
        console.print(f"[green]✓[/] {user}: {moves(rt, [result])[nid]}")
    secretary = actors["tk.bcy"]
    members = demo_council(
        20, absent=1, chair=actors["tb.bcy"].full_name, secretary=secretary.full_name
    )
    with write_tx(rt.engine) as conn:
        sid = councils.open_session(
            conn,
            "BCY",
            title=f"Xét danh hiệu thi đua năm {year}",
            held_on=today,
            members=members,
            actor=secretary,
        )
        councils.add_item(conn, rt.registry, sid, nid, actor=secretary)
        councils.record_tally(conn, sid, nid, agree=18, disagree=1, abstain=0, actor=secretary)
        minutes = councils.close_session(conn, rt.registry, catalog, sid, actor=secretary)
    console.print(
        f"[green]✓[/] tk.bcy: phiên họp #{sid}, bỏ phiếu kín — {minutes.splitlines()[-1].lstrip('- ')}"
    )
    number = f"{nid}/QĐ-BCY"
    with write_tx(rt.engine) as conn:
        lines = decisions.create_decision(
            conn,
            rt.registry,
            catalog,
            number=number,
            decided_on=today,
            signer="Trưởng Ban Cơ yếu Chính phủ",
            authority="BCY",
            award_code="CSTD_BO",
            nomination_ids=[nid],
            actor=actors["tb.bcy"],
        )
    console.print(
        f"[green]✓[/] tb.bcy ký Quyết định {number}: tiền thưởng {money(lines[0].amount_vnd)} đồng "
        f"(hệ số {lines[0].coefficient:g} × lương cơ sở {money(lines[0].base_salary_vnd)})"
    )
    console.print(f"Xem quyết định: khenthuong decisions show {number}")
    return nid


DEMO_COVENANT_BLOC = "KCY4"
DEMO_COVENANT_YEAR = 2019
# The bloc's 2019 theme (shared/DOMAIN.md §11); the targets are those the seed articles give
# for the covenants of Ban Cơ yếu's blocs (the staff agencies' 2018 covenant). The articles
# date the 2018 launch (07/03/2018), not the 2019 one: 07/03/2019 here is illustrative.
DEMO_COVENANT_THEME = "Đoàn kết, sáng tạo, kỷ cương, nêu gương, quyết thắng"
DEMO_COVENANT_ON = (2019, 3, 7)
DEMO_COVENANT_TARGETS = (
    ("hoan_thanh", "100% cán bộ, đảng viên hoàn thành nhiệm vụ", "at_least", 100.0, 40.0),
    ("dang_vien_tot", "Trên 80% đảng viên hoàn thành tốt, xuất sắc nhiệm vụ", "more_than", 80.0,
     30.0),
    ("chi_bo", "100% chi bộ hoàn thành nhiệm vụ", "at_least", 100.0, 30.0),
)  # fmt: skip
DEMO_COVENANT_SIGNERS = {"CCYQD": "tt.qd", "CCYDCQ": "tt.dcq", "CCYCA": "tt.ca", "CCYNG": "tt.ng"}
"""The head of each member, who signs for it (only a member's own officers may)."""


def run_covenant_walkthrough(rt: Runtime, console: Console) -> None:
    """The 2019 covenant of Khối thi đua 4 Hệ Cơ yếu: launched by the bloc leader, signed by
    each member's head. Runs again without change (launch and signatures are kept once)."""
    from datetime import date  # noqa: PLC0415

    from rich.table import Table  # noqa: PLC0415

    from khenthuong.errors import Forbidden  # noqa: PLC0415
    from khenthuong.services import covenants  # noqa: PLC0415

    code, year = DEMO_COVENANT_BLOC, DEMO_COVENANT_YEAR
    on = date(*DEMO_COVENANT_ON)
    with write_tx(rt.engine) as conn:
        if covenants.covenant_of(conn, code, year) is None:
            covenants.launch(
                conn,
                code,
                year,
                theme=DEMO_COVENANT_THEME,
                targets=[
                    covenants.TargetIn(code, text, kind, threshold, points=points)
                    for code, text, kind, threshold, points in DEMO_COVENANT_TARGETS
                ],
                launched_on=on,
                actor=load_actor(conn, "kt.cy"),
            )
        for unit, username in DEMO_COVENANT_SIGNERS.items():
            covenants.sign(conn, code, year, unit, signed_on=on, actor=load_actor(conn, username))
    with rt.engine.connect() as conn:
        try:
            covenants.sign(conn, code, year, "CCYCA", signed_on=on, actor=load_actor(conn, "cb.qd"))
        except Forbidden as exc:
            refusal = str(exc)
        else:  # pragma: no cover - the permission check would be missing
            raise KhenthuongError("cb.qd signed for Cục Cơ yếu Công an")
        shown = covenants.covenant_of(conn, code, year)
    if shown is None:  # pragma: no cover - launched above
        raise KhenthuongError(f"no {code} covenant for {year}")
    console.rule(f"[bold]Giao ước thi đua năm {year}[/] — {shown.bloc_name}")
    console.print(
        f"Chủ đề: “{shown.theme}” — phát động {shown.launched_on:%d/%m/%Y} ({shown.launched_by})"
    )
    targets = Table("chỉ tiêu", "điều kiện", "điểm", title="Chỉ tiêu giao ước")
    for target in shown.targets:
        targets.add_row(target.description, target.wording(), f"{target.points or 0:g}")
    console.print(targets)
    signatures = Table("đơn vị", "ngày ký", "người ký", title="Ký giao ước")
    for sig in shown.signatures:
        signatures.add_row(
            sig.unit_name,
            f"{sig.signed_on:%d/%m/%Y}" if sig.signed_on else "chưa ký",
            sig.signed_by or "",
        )
    console.print(signatures)
    console.print(f"[yellow]✗[/] cb.qd thử ký thay Cục Cơ yếu Công an: {refusal}")


DEMO_PLAN_BLOCS = ("KCY4", "KNCTW")
DEMO_PLAN_YEAR = 2019


def _planned(conn: Any, code: str, year: int) -> bool:
    """True when the bloc already has a cross-inspection plan for `year`."""
    from khenthuong.services import inspections  # noqa: PLC0415

    try:
        return bool(inspections.visits(conn, code, year))
    except KhenthuongError:
        return False


def demo_ran(rt: Runtime) -> bool:
    """True when the walk-through already ran on this database (its last plan exists)."""
    with rt.engine.connect() as conn:
        return _planned(conn, DEMO_PLAN_BLOCS[-1], DEMO_PLAN_YEAR)


def run_inspection_walkthrough(rt: Runtime, console: Console, year: int = DEMO_PLAN_YEAR) -> None:
    """The cross-inspection plans of two demo blocs for `year`, queued for e-mail; a plan
    made by an earlier run is shown again, not made (nor mailed) a second time."""
    from rich.table import Table  # noqa: PLC0415

    from khenthuong.services import inspections  # noqa: PLC0415
    from khenthuong.storage.db import write_tx  # noqa: PLC0415

    admin = next(a for a in _actors(rt) if a.username == "admin")
    for code in DEMO_PLAN_BLOCS:
        with write_tx(rt.engine) as conn:
            fresh = not _planned(conn, code, year)
            if fresh:
                inspections.plan_inspections(conn, code, year, actor=admin, seed=year)
            rows = inspections.visits(conn, code, year)
            queued = inspections.publish(conn, code, year, actor=admin) if fresh else 0
        table = Table(
            "đơn vị kiểm tra",
            "đơn vị được kiểm tra",
            "từ ngày",
            "đến ngày",
            title=f"Kế hoạch kiểm tra chéo {code} năm {year}",
        )
        for row in rows:
            table.add_row(
                row.inspector_name,
                row.inspected_name,
                f"{row.starts_on:%d/%m/%Y}",
                f"{row.ends_on:%d/%m/%Y}",
            )
        console.print(table)
        if fresh:
            console.print(f"Đã xếp {queued} thông báo kế hoạch vào hàng gửi e-mail")
        else:
            console.print("Kế hoạch này đã lập và gửi ở lần chạy trước: không gửi lại")


@dataclass(frozen=True)
class _Nominee:
    id: int
    full_name: str


def _fresh_nominee(rt: Runtime, award_code: str, year: int, preferred: str) -> _Nominee:
    """The preferred demo person, or another of the demo unit, who does not hold
    `award_code` for `year` yet, or a new one: one achievement earns one award (Law Art 5),
    so running the demo again cannot give the same person the same award twice."""
    from khenthuong.services.org import add_person  # noqa: PLC0415
    from khenthuong.storage.history import AWARD_RECORDS  # noqa: PLC0415
    from khenthuong.storage.models import UNITS  # noqa: PLC0415

    with write_tx(rt.engine) as conn:
        people = conn.execute(
            select(PERSONS.c.id, PERSONS.c.full_name)
            .join(UNITS, UNITS.c.id == PERSONS.c.unit_id)
            .where(UNITS.c.code == DEMO_UNIT)
            .order_by(PERSONS.c.id)
        ).all()
        held = set(
            conn.execute(
                select(AWARD_RECORDS.c.person_id).where(
                    AWARD_RECORDS.c.award_code == award_code,
                    AWARD_RECORDS.c.year == year,
                    AWARD_RECORDS.c.revoked.is_(False),
                )
            ).scalars()
        )
        for row in sorted(people, key=lambda r: (r.full_name != preferred, r.id)):
            if row.id not in held:
                return _Nominee(row.id, row.full_name)
        name = f"Cán bộ minh họa {len(people) + 1}"
        return _Nominee(add_person(conn, name, DEMO_UNIT), name)


def _seed_cstdcs(rt: Runtime, person_id: int, years: list[int]) -> None:
    """Record Chiến sĩ thi đua cơ sở titles for a demo person (idempotent)."""
    from datetime import date  # noqa: PLC0415

    from sqlalchemy import insert  # noqa: PLC0415

    from khenthuong.storage.history import AWARD_RECORDS, placement  # noqa: PLC0415

    with write_tx(rt.engine) as conn:
        have = set(
            conn.execute(
                select(AWARD_RECORDS.c.year).where(
                    AWARD_RECORDS.c.person_id == person_id, AWARD_RECORDS.c.award_code == "CSTDCS"
                )
            ).scalars()
        )
        for past in years:
            if past not in have:
                conn.execute(
                    insert(AWARD_RECORDS).values(
                        person_id=person_id,
                        award_code="CSTDCS",
                        year=past,
                        decision_number=f"{past % 100}/QĐ-CCYQD",
                        decision_date=date(past, 12, 20),
                        commendation_type="cong_trang",
                        source="import",
                        created_at=datetime.now(UTC),
                        **placement(conn, person_id, None),
                    )
                )


def leave_work_in_progress(rt: Runtime, console: Console) -> list[int]:
    """Open nominations for the web UI's queues: a Giấy khen waiting for the council of Cục
    Cơ yếu Quân đội (its secretary tk.qd) and a collective Bằng khen draft for cb.qd."""
    with rt.engine.connect() as conn:
        officer = load_actor(conn, "cb.qd")
        person = conn.execute(
            select(PERSONS.c.id).where(PERSONS.c.full_name == "Trần Thị Bích")
        ).scalar()
    if person is None:
        return []
    waiting = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow="giay_khen",
        proposing_unit=DEMO_UNIT,
        actor=officer,
        nominee_person_id=person,
        comment="Hoàn thành xuất sắc nhiệm vụ năm",
    )
    stepping.advance(rt.engine, rt.registry, waiting, "submit", officer)
    draft = new_nominations.create_nomination(
        rt.engine,
        rt.registry,
        workflow=DEMO_WORKFLOW,
        proposing_unit=DEMO_UNIT,
        actor=officer,
        nominee_unit_code=DEMO_UNIT,
        comment="Tập thể hoàn thành xuất sắc nhiệm vụ",
    )
    console.print(
        f"Việc đang chờ trên giao diện web: hồ sơ #{waiting} (Hội đồng đơn vị, tk.qd), "
        f"#{draft} (dự thảo của cb.qd)"
    )
    return [waiting, draft]
