"""The Excel exports of lists and decisions, as an officer opens them: Vietnamese (or English)
headers, names rather than codes (a code in its own column where it helps), typed date and
number cells, a frozen header with an autofilter, a total row where figures add up, and a
decision's own heading (number, date, authority, signer) above its table.

The API (`?format=xlsx`) and the pages call the same builders; cells go through
khenthuong.tabular, so text an officer typed is never a live formula.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal, cast

from fastapi import Query
from sqlalchemy import Connection, select

from khenthuong.errors import KhenthuongError
from khenthuong.roles import roles_in
from khenthuong.rules.catalog import catalog_in
from khenthuong.storage.models import UNITS, USERS
from khenthuong.tabular import Column, Kind, workbook_bytes
from khenthuong.web.context import WebContext
from khenthuong.web.schemas import NominationOut, as_utc
from khenthuong.web.xlsx import XLSX_TYPE

XLSX_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {XLSX_TYPE: {}}}}
XLSX_ROWS = 100_000
"""Most rows an Excel export of a list holds."""
FormatQuery = Annotated[
    Literal["json", "xlsx"],
    Query(description="xlsx: the whole list (from `cursor`) as an Excel workbook"),
]
LangQuery = Annotated[Literal["vi", "en"], Query(description="Language of an xlsx export")]

WORDS: dict[str, tuple[str, str]] = {
    "id": ("Số hồ sơ", "File no."),
    "no": ("STT", "No."),
    "nominee": ("Cá nhân, tập thể được đề nghị", "Nominee"),
    "workflow": ("Hình thức khen thưởng", "Award path"),
    "state": ("Trạng thái", "State"),
    "unit": ("Đơn vị đề nghị", "Proposing unit"),
    "unit_code": ("Mã đơn vị", "Unit code"),
    "year": ("Năm", "Year"),
    "due": ("Hạn xử lý", "Due"),
    "overdue": ("Quá hạn", "Overdue"),
    "yes": ("Có", "Yes"),
    "nominations": ("Hồ sơ đề nghị", "Nominations"),
    "total": ("Tổng cộng", "Total"),
    "council_unit": ("Hội đồng của đơn vị", "Council of"),
    "session": ("Phiên họp", "Session"),
    "held_on": ("Ngày họp", "Held on"),
    "agenda": ("Số hồ sơ xét", "Nominations considered"),
    "open": ("Đang họp", "Open"),
    "closed": ("Đã kết thúc", "Closed"),
    "councils": ("Phiên họp Hội đồng", "Council sessions"),
    "decisions": ("Quyết định khen thưởng", "Award decisions"),
    "decision_number": ("Số quyết định", "Decision number"),
    "decided_on": ("Ngày ký", "Signed on"),
    "signer": ("Người ký", "Signed by"),
    "authority": ("Cơ quan quyết định", "Deciding authority"),
    "award": ("Hình thức khen thưởng", "Award"),
    "award_code": ("Mã hình thức", "Award code"),
    "awardees": ("Số cá nhân, tập thể", "Awardees"),
    "money": ("Số tiền thưởng (đồng)", "Award money (VND)"),
    "coefficient": ("Hệ số", "Coefficient"),
    "base_salary": ("Mức lương cơ sở (đồng)", "Base salary (VND)"),
    "decision_heading": (
        "QUYẾT ĐỊNH KHEN THƯỞNG số {number} ngày {day}",
        "AWARD DECISION no. {number} of {day}",
    ),
    "decision_list": ("Danh sách khen thưởng kèm theo Quyết định", "Awardees of the decision"),
    "workflows": ("Quy trình khen thưởng", "Award paths"),
    "code": ("Mã", "Code"),
    "version": ("Phiên bản", "Version"),
    "title": ("Tên", "Title"),
    "subject": ("Đối tượng", "For"),
    "legal_basis": ("Căn cứ pháp lý", "Legal basis"),
    "audit": ("Nhật ký", "Audit trail"),
    "stream": ("Luồng", "Stream"),
    "seq": ("Thứ tự", "Sequence"),
    "time": ("Thời điểm", "Time"),
    "actor": ("Người thực hiện", "Actor"),
    "account": ("Tài khoản", "Account"),
    "role": ("Vai trò", "Role"),
    "actor_unit": ("Đơn vị", "Unit"),
    "step": ("Bước", "Step"),
    "from": ("Từ trạng thái", "From"),
    "to": ("Đến trạng thái", "To"),
    "comment": ("Ghi chú", "Comment"),
    "hash": ("Mã băm SHA-256", "SHA-256"),
    "blocs": ("Khối, cụm thi đua", "Emulation blocs"),
    "bloc": ("Khối, cụm", "Bloc"),
    "leader": ("Khối trưởng", "Leader"),
    "deputy": ("Khối phó", "Deputy"),
    "members": ("Thành viên", "Members"),
    "member_count": ("Số thành viên", "Members (number)"),
    "inspection": ("Kế hoạch kiểm tra chéo", "Cross-inspection plan"),
    "inspector": ("Đơn vị kiểm tra", "Inspecting unit"),
    "inspected": ("Đơn vị được kiểm tra", "Inspected unit"),
    "starts_on": ("Từ ngày", "From"),
    "ends_on": ("Đến ngày", "To"),
    "report_due": ("Hạn báo cáo", "Report due"),
    "score": ("Điểm", "Score"),
}


def word(key: str, lang: str) -> str:
    """A header or label in the reader's language."""
    vi, en = WORDS[key]
    return en if lang == "en" else vi


def _columns(lang: str, *spec: tuple[Any, ...]) -> list[Column]:
    """Columns from (header key, kind[, adds up])."""
    return [Column(word(s[0], lang), cast(Kind, s[1]), len(s) > 2 and bool(s[2])) for s in spec]


class Names:
    """Names for the codes an export meets: units, officers, roles, awards, states, steps."""

    def __init__(self, ctx: WebContext, conn: Connection, lang: str) -> None:
        self.ctx, self.conn, self.lang = ctx, conn, lang
        self.units = dict(conn.execute(select(UNITS.c.code, UNITS.c.name)).all())
        self.users = dict(conn.execute(select(USERS.c.username, USERS.c.full_name)).all())
        self.roles = roles_in(ctx.rt.settings.config_dir)
        self.awards = catalog_in(ctx.rt.settings.config_dir).awards

    def text(self, label: Any) -> str:
        """A label (Text) in the reader's language."""
        return str(label.en if self.lang == "en" else label.vi)

    def unit(self, code: str | None) -> str:
        return str(self.units.get(code or "", code or ""))

    def user(self, username: str | None) -> str:
        return str(self.users.get(username or "", username or ""))

    def role(self, code: str | None) -> str:
        role = self.roles.get(code or "")
        return self.text(role.title) if role else (code or "")

    def award(self, code: str | None) -> str:
        award = self.awards.get(code or "")
        return self.text(award.name) if award else (code or "")

    def workflow(self, name: str | None, version: int | None = None) -> str:
        if not name:
            return ""
        try:
            return self.text(self.ctx.rt.registry.get(name, version).definition.title)
        except (KhenthuongError, KeyError):  # a stream that is no workflow keeps its name
            return name

    def state(self, workflow: str | None, version: int | None, state: str | None) -> str:
        if not workflow or not state:
            return state or ""
        try:
            return self.text(
                self.ctx.rt.registry.get(workflow, version).definition.state(state).title
            )
        except (KhenthuongError, KeyError):  # a state of another version, a non-workflow stream
            return state

    def step(self, workflow: str | None, trigger: str) -> str:
        if workflow:
            try:
                wf = self.ctx.rt.registry.get(workflow).definition
            except (KhenthuongError, KeyError):  # not a workflow stream
                return trigger
            for t in wf.transitions:
                if t.trigger == trigger:
                    return self.text(t.title)
        return trigger


def nominations_xlsx(names: Names, items: Iterable[NominationOut]) -> bytes:
    """A list of nominations (Hồ sơ, Việc của tôi) with a count of them."""
    lang = names.lang
    columns = _columns(
        lang, ("id", "count"), ("nominee", "text"), ("workflow", "text"), ("state", "text"),
        ("unit", "text"), ("unit_code", "text"), ("year", "text"), ("due", "datetime"),
        ("overdue", "text"),
    )  # fmt: skip
    rows = (
        [i.id, i.nominee_name, names.workflow(i.workflow), names.state(i.workflow,
         i.workflow_version, i.state), names.unit(i.unit_code), i.unit_code or "", i.year,
         as_utc(i.due_at), word("yes", lang) if i.overdue else ""]
        for i in items
    )  # fmt: skip
    return workbook_bytes(
        word("nominations", lang), columns, rows, total_label=word("total", lang), count_rows=True
    )


def councils_xlsx(names: Names, sessions: Iterable[dict[str, Any]]) -> bytes:
    """Council sessions with the nominations each considered, and their total."""
    lang = names.lang
    columns = _columns(
        lang, ("session", "count"), ("council_unit", "text"), ("unit_code", "text"),
        ("title", "text"), ("held_on", "date"), ("state", "text"), ("agenda", "count", True),
    )  # fmt: skip
    rows = (
        [s["id"], names.unit(s["unit"]), s["unit"], s["title"], s["held_on"],
         word(s["status"], lang) if s["status"] in ("open", "closed") else s["status"],
         s.get("items", 0)]
        for s in sessions
    )  # fmt: skip
    return workbook_bytes(word("councils", lang), columns, rows, total_label=word("total", lang))


def decisions_xlsx(names: Names, decisions: Iterable[dict[str, Any]]) -> bytes:
    """Signed decisions with how many were awarded and the money, and their totals."""
    lang = names.lang
    columns = _columns(
        lang, ("decision_number", "text"), ("decided_on", "date"), ("signer", "text"),
        ("authority", "text"), ("unit_code", "text"), ("award", "text"), ("award_code", "text"),
        ("awardees", "count", True), ("money", "money", True),
    )  # fmt: skip
    rows = (
        [d["number"], d["decided_on"], d["signer"], names.unit(d["authority"]), d["authority"],
         names.award(d["award_code"]), d["award_code"], d["nominations"], d["total_vnd"]]
        for d in decisions
    )  # fmt: skip
    return workbook_bytes(word("decisions", lang), columns, rows, total_label=word("total", lang))


def decision_heading(names: Names, head: dict[str, Any], authority: str) -> list[str]:
    """The lines above a decision's table: its number and date, authority, award and signer
    (their title as written on the decision, and the name of the officer who signed)."""
    lang = names.lang
    day = head["decided_on"]
    day_text = day.strftime("%d/%m/%Y") if isinstance(day, date) else str(day)
    signer = str(head["signer"])
    account = str(head.get("created_by") or "")
    who = names.user(account)
    if account and who != account and who not in signer:
        signer = f"{signer} – {who}"
    return [
        word("decision_heading", lang).format(number=head["number"], day=day_text),
        f"{word('authority', lang)}: {names.unit(authority)}",
        f"{word('award', lang)}: {names.award(str(head['award_code']))}",
        f"{word('signer', lang)}: {signer}",
        word("decision_list", lang),
    ]


def decision_xlsx(
    names: Names, head: dict[str, Any], authority: str, lines: Sequence[dict[str, Any]]
) -> bytes:
    """One decision: its heading, then each awardee with unit, coefficient, base salary and
    money, and the total money."""
    lang = names.lang
    columns = _columns(
        lang, ("no", "count"), ("id", "count"), ("nominee", "text"), ("unit", "text"),
        ("coefficient", "decimal"), ("base_salary", "money"), ("money", "money", True),
    )  # fmt: skip
    rows = (
        [n, x["nomination_id"], x["nominee_name"], names.unit(x.get("unit_code")),
         x["coefficient"], x["base_salary_vnd"], x["amount_vnd"]]
        for n, x in enumerate(lines, start=1)
    )  # fmt: skip
    return workbook_bytes(
        str(head["number"]), columns, rows,
        heading=decision_heading(names, head, authority), total_label=word("total", lang),
    )  # fmt: skip


def workflows_xlsx(names: Names, workflows: Iterable[Any]) -> bytes:
    """Award paths (latest versions) with their legal basis."""
    lang = names.lang
    columns = _columns(
        lang, ("title", "text"), ("code", "text"), ("version", "count"), ("subject", "text"),
        ("legal_basis", "text"),
    )  # fmt: skip
    rows = (
        [names.text(w.title), w.name, w.version, ", ".join(w.subject), "; ".join(w.legal_basis)]
        for w in workflows
    )  # fmt: skip
    return workbook_bytes(word("workflows", lang), columns, rows)


def audit_xlsx(names: Names, events: Iterable[dict[str, Any]]) -> bytes:
    """Audit events: the time in Việt Nam, who (name and account), their role and unit by
    name, the step and states by title, the comment and the hash."""
    lang = names.lang
    columns = _columns(
        lang, ("time", "datetime"), ("actor", "text"), ("account", "text"), ("role", "text"),
        ("actor_unit", "text"), ("step", "text"), ("from", "text"), ("to", "text"),
        ("comment", "text"), ("id", "count"), ("stream", "text"), ("seq", "count"),
        ("hash", "text"),
    )  # fmt: skip

    def row(e: dict[str, Any]) -> list[Any]:
        wf = e.get("workflow")
        at = e["occurred_at"]
        return [
            as_utc(at) if isinstance(at, datetime) else at, names.user(e["actor"]), e["actor"],
            names.role(e.get("actor_role")), names.unit(e.get("actor_unit")),
            names.step(wf, e["trigger"]), names.state(wf, None, e.get("from_state")),
            names.state(wf, None, e.get("to_state")), e.get("comment") or "",
            e.get("nomination_id"), e["stream"], e["seq"], e["hash"],
        ]  # fmt: skip

    return workbook_bytes(
        word("audit", lang), columns, (row(e) for e in events), total_label=word("total", lang),
        count_rows=True,
    )  # fmt: skip


def blocs_xlsx(names: Names, views: Iterable[Any]) -> bytes:
    """Blocs of one year: leader and deputy by name, members, and how many."""
    lang = names.lang
    columns = _columns(
        lang, ("bloc", "text"), ("code", "text"), ("leader", "text"), ("deputy", "text"),
        ("members", "text"), ("member_count", "count", True),
    )  # fmt: skip
    rows = (
        [b.name, b.code, names.unit(b.leader), names.unit(b.deputy) if b.deputy else "",
         ", ".join(m[1] for m in b.members), len(b.members)]
        for b in views
    )  # fmt: skip
    return workbook_bytes(word("blocs", lang), columns, rows, total_label=word("total", lang))


def inspection_plan_xlsx(lang: str, title: str, visits: Iterable[Any]) -> bytes:
    """A bloc's cross-inspection plan: units by name (codes beside), dates, scores."""
    columns = _columns(
        lang, ("inspector", "text"), ("unit_code", "text"), ("inspected", "text"),
        ("unit_code", "text"), ("starts_on", "date"), ("ends_on", "date"),
        ("report_due", "date"), ("score", "decimal"),
    )  # fmt: skip
    rows = (
        [v.inspector_name, v.inspector, v.inspected_name, v.inspected, v.starts_on, v.ends_on,
         v.report_due_on, v.score]
        for v in visits
    )  # fmt: skip
    return workbook_bytes(title, columns, rows)
