"""Import of a danh sách đề nghị khen thưởng (XLSX or CSV) as one proposal batch.

Every row is checked before anything is written: the nominee (a person of the register after
NFC, space and case normalisation, or a unit for a collective), the unit (code or name), the
award form (catalog code or Vietnamese name, which names the workflow), duplicates. Errors
read `FILE:ROW: message` in Vietnamese. All rows are then created in one transaction as one
batch, or none (any refusal while creating becomes an error of its row and rolls back).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from khenthuong.errors import KhenthuongError, NotFound, StepRefused
from khenthuong.localtime import LOCAL_TZ
from khenthuong.rules.catalog import Catalog
from khenthuong.services import batches, dossier
from khenthuong.services.actors import Actor
from khenthuong.services.new_nominations import create_nomination_in
from khenthuong.services.nominees import COLLECTIVE, INDIVIDUAL, PeopleByName
from khenthuong.sheets import SheetError, read_rows
from khenthuong.storage.models import UNITS
from khenthuong.textsearch import clean_name, fold, name_key
from khenthuong.workflow.loader import WorkflowRegistry

COLUMNS: dict[str, tuple[str, ...]] = {
    "stt": ("STT", "Số thứ tự", "TT"),
    "name": (
        "Họ và tên / Tên tập thể",
        "Họ và tên",
        "Họ tên",
        "Tên tập thể",
        "Họ và tên/Tên tập thể",
    ),
    "kind": ("Đối tượng", "Cá nhân / Tập thể", "Cá nhân/Tập thể"),
    "position": ("Chức vụ",),
    "unit": ("Đơn vị", "Đơn vị công tác"),
    "award": ("Hình thức khen thưởng", "Hình thức"),
    "summary": ("Thành tích tóm tắt", "Tóm tắt thành tích"),
    "basis": ("Căn cứ",),
    "attestation": ("Xác nhận thành tích",),
    "report": ("Báo cáo thành tích",),
}
"""Internal key → the header texts officers write (compared without case or diacritics).
The first spelling is the template's."""
TEMPLATE_HEADERS = [names[0] for names in COLUMNS.values()]
_KINDS = {"ca nhan": INDIVIDUAL, "individual": INDIVIDUAL, "tap the": COLLECTIVE,
          "collective": COLLECTIVE}  # fmt: skip


@lru_cache(maxsize=4096)
def _key(header: str) -> str:
    """A header, unit or award text compared without case, diacritics or spacing (cached: a
    danh sách repeats the same few texts on every row)."""
    return " ".join(fold(header).replace("/", " / ").split())


_ALIAS = {_key(h): k for k, names in COLUMNS.items() for h in names}


class _Headers(Collection[str]):
    """The accepted header texts for `read_rows`: membership ignores case and diacritics."""

    def __contains__(self, header: object) -> bool:
        return isinstance(header, str) and _key(header) in _ALIAS

    def __iter__(self) -> Iterator[str]:
        return iter(TEMPLATE_HEADERS)

    def __len__(self) -> int:
        return len(TEMPLATE_HEADERS)


class ImportRefused(KhenthuongError):
    """The file cannot be imported; `errors` are `FILE:ROW: message` lines; `details` say
    what is missing for an interface to add its own pointer (`UNLISTED`: the rows naming
    somebody not in the register; `CREATABLE`: the import could add them)."""

    def __init__(self, errors: list[str], details: dict[str, Any] | None = None) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors
        self.details = details or {}


UNLISTED = "unlisted_person"
CREATABLE = "create_persons"


class Unlisted(str):
    """A row's problem: nobody of that name in the register (`unlisted`)."""

    __slots__ = ()


def unlisted(name: str, unit: str, *, creatable: bool) -> Unlisted:
    """Nobody named `name` in `unit`'s (its name) register, worded for every interface (the
    CLI adds its commands from the refusal's details)."""
    text = f"không có cá nhân tên {name!r} trong danh sách cá nhân của {unit}"
    if creatable:
        return Unlisted(f"{text}; thêm người này vào danh sách trước, hoặc nhập lại và chọn "
                        "thêm cá nhân chưa có vào danh sách")  # fmt: skip
    return Unlisted(f"{text}; thêm người này vào danh sách cá nhân trước")


def refused(errors: list[str], unlisted_rows: list[int], *, creatable: bool) -> ImportRefused:
    """The import's refusal, with the rows naming somebody not in the register."""
    if not unlisted_rows:
        return ImportRefused(errors)
    details: dict[str, Any] = {UNLISTED: unlisted_rows}
    if creatable:
        details[CREATABLE] = True
    return ImportRefused(errors, details)


@dataclass
class PlannedRow:
    """One checked row, ready to be created."""

    number: int
    stt: str
    kind: str
    name: str
    award_code: str
    workflow: str
    unit_code: str
    person_id: int | None = None
    collective_code: str | None = None
    create_person: bool = False
    position: str = ""
    summary: str = ""
    basis: str | None = None
    attestation: str | None = None
    report: Path | None = None
    verdict: str = ""
    refusals: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Imported:
    """The created batch and its nominations, in the list's order."""

    batch_id: int
    nomination_ids: list[int]
    persons_created: int


class _Units:
    """Every unit, with its code and folded name keyed once per file."""

    def __init__(self, conn: Connection) -> None:
        self.rows = list(conn.execute(select(UNITS.c.id, UNITS.c.code, UNITS.c.name, UNITS.c.path)))
        self._by: dict[str, list[Any]] = {}
        for u in self.rows:
            for key in {"code:" + u.code.lower(), "name:" + _key(u.name)}:
                self._by.setdefault(key, []).append(u)

    def find(self, text: str, within: str | None = None) -> list[Any]:
        """Units whose code is `text` (any case) or whose name equals it without case or
        diacritics; only under `within` if given (in the register's order)."""
        ids = {u.id for key in ("code:" + text.lower(), "name:" + _key(text))
               for u in self._by.get(key, ())}  # fmt: skip
        return [
            u for u in self.rows
            if u.id in ids and (within is None or str(u.path).startswith(within))
        ]  # fmt: skip


def _award_names(catalog: Catalog) -> dict[str, str]:
    """Folded Vietnamese award name → code (the first code in catalog order wins)."""
    names: dict[str, str] = {}
    for code in catalog.codes():
        names.setdefault(_key(catalog.award(code).name.vi), code)
    return names


def _award(catalog: Catalog, names: dict[str, str], text: str, default: str | None) -> str | None:
    if not text:
        return default
    if text.upper() in catalog.awards:
        return str(text.upper())
    return names.get(_key(text))


def _kind(text: str) -> str | None:
    return _KINDS.get(_key(text)) if text else INDIVIDUAL


def check_file(
    conn: Connection,
    catalog: Catalog,
    path: Path,
    *,
    proposing_unit: str,
    workflow: str | None = None,
    create_persons: bool = False,
    display_name: str | None = None,
) -> list[PlannedRow]:
    """Every row checked (nothing written); ImportRefused lists every bad row."""
    label = display_name or path.name
    units = _Units(conn)
    proposer = next((u for u in units.rows if u.code == proposing_unit), None)
    if proposer is None:
        raise NotFound(f"Không có đơn vị mã {proposing_unit!r}")
    default_award = catalog.award_for_workflow(workflow) if workflow else None
    if workflow and default_award is None:
        raise KhenthuongError(
            f"Quy trình {workflow!r} không có hình thức khen thưởng trong danh mục"
        )
    errors: list[str] = []
    missing: list[int] = []
    planned: list[PlannedRow] = []
    seen: dict[tuple[str, Any, str], int] = {}
    try:
        rows = list(read_rows(path, _Headers()))
    except SheetError as exc:
        raise ImportRefused([f"{label}:{exc.row}: {exc.message}"]) from None
    if not rows:
        raise ImportRefused([f"{label}:2: danh sách không có dòng nào (chỉ có tiêu đề)"])
    read = [
        (row, {_ALIAS[_key(k)]: v for k, v in row.values.items()} if not row.error else {})
        for row in rows
    ]
    look = _Lookup(
        catalog, units, _award_names(catalog),
        PeopleByName(conn, [clean_name(v.get("name", "")) for _, v in read]),
    )  # fmt: skip
    for row, values in read:
        where = f"{label}:{row.number}"
        if row.error:
            errors.append(f"{where}: {row.error}")
            continue
        problem, plan = _check_row(
            look, proposer, values, row.number, default_award, create_persons, path.parent
        )
        if problem:
            errors.append(f"{where}: {problem}")
            if isinstance(problem, Unlisted):
                missing.append(row.number)
            continue
        assert plan is not None
        identity = (plan.kind, plan.person_id or plan.collective_code or name_key(plan.name),
                    plan.award_code)  # fmt: skip
        if identity in seen:
            errors.append(
                f"{where}: trùng với dòng {seen[identity]} ({plan.name}, "
                f"{look.catalog.award(plan.award_code).name.vi})"
            )
            continue
        seen[identity] = row.number
        planned.append(plan)
    if errors:
        raise refused(errors, missing, creatable=True)
    return planned


@dataclass(frozen=True)
class _Lookup:
    """What every row is checked against, read once per file."""

    catalog: Catalog
    units: _Units
    award_names: dict[str, str]
    people: PeopleByName


def _check_row(
    look: _Lookup,
    proposer: Any,
    values: dict[str, str],
    number: int,
    default_award: str | None,
    create_persons: bool,
    folder: Path,
) -> tuple[str | None, PlannedRow | None]:
    name = clean_name(values.get("name", ""))
    if not name:
        return "thiếu họ và tên / tên tập thể", None
    kind = _kind(values.get("kind", ""))
    if kind is None:
        return f"đối tượng {values['kind']!r} không hợp lệ: ghi 'Cá nhân' hoặc 'Tập thể'", None
    catalog, units = look.catalog, look.units
    code = _award(catalog, look.award_names, values.get("award", ""), default_award)
    if code is None:
        given = values.get("award", "")
        return (
            f"hình thức khen thưởng {given!r} không có trong danh mục"
            if given
            else "thiếu hình thức khen thưởng ở cột Hình thức khen thưởng"
        ), None
    award = catalog.award(code)
    if not award.workflow:
        return f"hình thức {award.name.vi!r} chưa có quy trình xét", None
    if award.subject not in ("both", kind):
        only = "cá nhân" if award.subject == INDIVIDUAL else "tập thể"
        return f"hình thức {award.name.vi!r} chỉ dành cho {only}", None
    unit_text = values.get("unit", "")
    unit = proposer
    if unit_text:
        found = units.find(unit_text)
        if not found:
            return f"không có đơn vị {unit_text!r} (ghi mã hoặc tên đơn vị)", None
        if len(found) > 1:
            return f"có {len(found)} đơn vị tên {unit_text!r}: ghi mã đơn vị", None
        unit = found[0]
    plan = PlannedRow(
        number=number, stt=values.get("stt", ""), kind=kind, name=name, award_code=code,
        workflow=str(award.workflow), unit_code=unit.code,
        position=values.get("position", ""), summary=values.get("summary", ""),
        basis=values.get("basis") or None, attestation=values.get("attestation") or None,
    )  # fmt: skip
    if values.get("report"):
        report = folder / values["report"]
        if not report.is_file():
            return f"không thấy tệp báo cáo thành tích {values['report']!r} cạnh danh sách", None
        plan.report = report
    if kind == COLLECTIVE:
        found = units.find(name, unit.path if unit is not proposer else None)
        if not found:
            return f"không có tập thể (đơn vị) {name!r}: ghi đúng tên hoặc mã đơn vị", None
        if len(found) > 1:
            return f"có {len(found)} đơn vị tên {name!r}: ghi mã đơn vị ở cột Đơn vị", None
        plan.collective_code = found[0].code
        plan.name = found[0].name
        plan.verdict = "tập thể"
        return None, plan
    people = (
        look.people.matching(name, unit.path)
        or look.people.matching(name, proposer.path)
        or (look.people.matching(name) if unit is proposer else [])
    )
    if len(people) > 1:
        listed = "; ".join(p.label() for p in people)
        return f"có {len(people)} cá nhân tên {name!r}: {listed}; ghi đơn vị để phân biệt", None
    if people:
        plan.person_id = people[0].id
        plan.name = people[0].full_name
        return None, plan
    if not create_persons:
        return unlisted(name, str(unit.name), creatable=True), None
    if not str(unit.path).startswith(str(proposer.path)):
        return f"chỉ thêm được cá nhân của đơn vị đề nghị, không phải của {unit.code}", None
    plan.create_person = True
    plan.verdict = "cá nhân mới (sẽ thêm vào danh sách cá nhân)"
    return None, plan


def preview(conn: Connection, planned: list[PlannedRow], year: int, on: date | None = None) -> None:
    """Fill each row's eligibility verdict (services.guards.eligibility_previews: every
    person's history read in one pass)."""
    from khenthuong.services.guards import eligibility_previews  # noqa: PLC0415

    on = on or datetime.now(LOCAL_TZ).date()
    people = [plan for plan in planned if plan.person_id is not None]
    wanted = [(plan.workflow, plan.person_id) for plan in people if plan.person_id is not None]
    answers = eligibility_previews(conn, wanted, year, on)
    for plan, (_, refusals) in zip(people, answers, strict=True):
        plan.refusals = [r.message_vi for r in refusals]
        plan.verdict = "đủ điều kiện theo lịch sử" if not refusals else "chưa đủ điều kiện"
        if refusals and plan.basis:
            plan.verdict += f" (đề nghị theo căn cứ {plan.basis}: cần văn bản xác nhận)"


def create_from(
    conn: Connection,
    registry: WorkflowRegistry,
    planned: list[PlannedRow],
    *,
    source: Path,
    proposing_unit: str,
    actor: Actor,
    title: str,
    year: int | None,
    commendation_type: str,
    receiving_unit: str | None,
    max_bytes: int,
    display_name: str | None = None,
    progress: Callable[[int], None] | None = None,
    campaign_id: int | None = None,
) -> Imported:
    """Create the batch and every row's nomination inside the caller's transaction; a
    refusal becomes ImportRefused naming the row (the caller's transaction rolls back).
    `progress` is called with 1 after each row (the CLI's progress bar). An ad-hoc
    (dot_xuat) row follows its award's simplified path when it has one
    (`Catalog.workflow_of`); with `campaign_id` every nomination is linked to that campaign
    (services.campaigns.link_in)."""
    from khenthuong.rules.catalog import catalog_in  # noqa: PLC0415
    from khenthuong.services.campaigns import link_in  # noqa: PLC0415
    from khenthuong.settings import get_settings  # noqa: PLC0415

    catalog = catalog_in(get_settings().config_dir)
    label = display_name or source.name
    now = datetime.now(UTC)
    batch_id = batches.create_batch_in(
        conn, proposing_unit=proposing_unit, actor=actor, title=title, year=year,
        commendation_type=commendation_type, receiving_unit=receiving_unit, now=now,
    )  # fmt: skip
    ids: list[int] = []
    numbers: dict[int, int] = {}
    created = 0
    for index, plan in enumerate(planned, start=1):
        try:
            nid = create_nomination_in(
                conn,
                registry,
                workflow=catalog.workflow_of(plan.award_code, commendation_type) or plan.workflow,
                proposing_unit=proposing_unit,
                actor=actor,
                nominee_name=plan.name if plan.person_id is None else None,
                nominee_person_id=plan.person_id,
                nominee_unit_code=plan.collective_code,
                nominee_kind=plan.kind,
                create_person=plan.create_person,
                person_unit_code=plan.unit_code if plan.create_person else None,
                year=year,
                comment=plan.summary or None,
                now=now,
                award_code=plan.award_code,
                commendation_type=commendation_type,
                basis=plan.basis,
                attestation=plan.attestation,
            )
            if plan.report is not None:
                dossier.attach(
                    conn, nid, doc_type="bao_cao_thanh_tich", filename=plan.report.name,
                    content=plan.report.read_bytes(), actor=actor, max_bytes=max_bytes,
                )  # fmt: skip
        except StepRefused as exc:
            reasons = "; ".join(r.message_vi for r in exc.refusals)
            raise ImportRefused([f"{label}:{plan.number}: {reasons}"]) from None
        except KhenthuongError as exc:
            raise ImportRefused([f"{label}:{plan.number}: {exc}"]) from None
        created += plan.create_person
        ids.append(nid)
        numbers[nid] = int(plan.stt) if plan.stt.isdigit() else index
        if progress is not None:
            progress(1)
    batches.add_members_in(conn, batch_id, ids, actor=actor, row_numbers=numbers, now=now)
    if campaign_id is not None:
        try:
            link_in(conn, campaign_id, ids, actor=actor, now=now)
        except KhenthuongError as exc:
            raise ImportRefused([f"{label}: {exc}"]) from None
    batches.store_list_in(
        conn, batch_id, filename=unicodedata.normalize("NFC", label),
        content=source.read_bytes(), actor=actor,
    )  # fmt: skip
    return Imported(batch_id, ids, created)


def write_template(path: Path) -> None:
    """An XLSX with the danh sách's Vietnamese headers and one example row per kind."""
    from openpyxl import Workbook  # noqa: PLC0415

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Danh sách đề nghị"
    sheet.append(TEMPLATE_HEADERS)
    sheet.append(["1", "Nguyễn Văn An", "Cá nhân", "Trợ lý kỹ thuật mật mã", "CCYQD",
                  "Bằng khen cấp Bộ", "Hoàn thành xuất sắc nhiệm vụ năm", "", "", ""])  # fmt: skip
    sheet.append(["2", "Cục Cơ yếu Quân đội", "Tập thể", "", "BCY", "BK_BO",
                  "Tập thể hoàn thành xuất sắc nhiệm vụ", "", "", ""])  # fmt: skip
    for letter, width in zip("ABCDEFGHIJ", (6, 30, 12, 26, 16, 26, 40, 10, 30, 26), strict=True):
        sheet.column_dimensions[letter].width = width
    book.save(path)
