"""Who a nomination is for: an individual in the person register or a collective (a unit).

A typed name never stands alone for an individual: it is resolved against the register
(NFC, single spaces, case folded, diacritics kept), so eligibility and `not_blocked` judge the
real person and the award money follows the stored subject (`nominee_kind`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from khenthuong.errors import NotFound, Refusal, StepRefused
from khenthuong.services.org import add_person
from khenthuong.storage.models import PERSONS, UNITS
from khenthuong.textsearch import clean_name, name_key
from khenthuong.workflow.definition import WorkflowDef

INDIVIDUAL = "individual"
COLLECTIVE = "collective"
NOMINEE_KINDS = (INDIVIDUAL, COLLECTIVE)
_KIND_VI = {INDIVIDUAL: "cá nhân", COLLECTIVE: "tập thể"}


@dataclass(frozen=True)
class Nominee:
    """The resolved nominee of a new nomination."""

    kind: str
    name: str
    person_id: int | None = None
    unit_id: int | None = None
    person_created: bool = False


@dataclass(frozen=True)
class Candidate:
    """A person of the register whose name matches a typed name."""

    id: int
    full_name: str
    unit_code: str
    unit_path: str
    birth_year: int | None
    unit_name: str = ""

    def label(self) -> str:
        """How an officer tells namesakes apart: number, name, unit by its name, birth year."""
        born = f", sinh {self.birth_year}" if self.birth_year else ", chưa ghi năm sinh"
        return f"#{self.id} {self.full_name} ({self.unit_name or self.unit_code}{born})"

    def as_detail(self) -> dict[str, Any]:
        return {"id": self.id, "unit": self.unit_code, "birth_year": self.birth_year}


def _refuse(code: str, vi: str, en: str, details: dict[str, Any] | None = None) -> StepRefused:
    return StepRefused([Refusal(code, vi, en, details or {})])


def _people_query() -> Any:
    return (
        select(
            PERSONS.c.id,
            PERSONS.c.full_name,
            PERSONS.c.birth_year,
            UNITS.c.code,
            UNITS.c.path,
            UNITS.c.name.label("unit_name"),
        )
        .join(UNITS, UNITS.c.id == PERSONS.c.unit_id)
        .order_by(PERSONS.c.id)
    )


def matching_people(conn: Connection, name: str, within: str | None = None) -> list[Candidate]:
    """People whose name equals `name` once normalised; only under unit path `within` if given."""
    query = _people_query().where(PERSONS.c.name_key == name_key(name))
    if within is not None:
        query = query.where(UNITS.c.path.startswith(within, autoescape=True))
    return [
        Candidate(r.id, r.full_name, r.code, r.path, r.birth_year, r.unit_name)
        for r in conn.execute(query)
    ]


class PeopleByName:
    """The register's people for many typed names, read in one pass (a danh sách of thousands
    of rows); `matching` answers as `matching_people` would, without a query per name."""

    _CHUNK = 900

    def __init__(self, conn: Connection, names: Sequence[str]) -> None:
        keys = sorted({name_key(n) for n in names})
        self._by_key: dict[str, list[Candidate]] = {}
        for start in range(0, len(keys), self._CHUNK):
            chunk = keys[start : start + self._CHUNK]
            query = _people_query().add_columns(PERSONS.c.name_key)
            for r in conn.execute(query.where(PERSONS.c.name_key.in_(chunk))):
                found = Candidate(r.id, r.full_name, r.code, r.path, r.birth_year, r.unit_name)
                self._by_key.setdefault(r.name_key, []).append(found)

    def matching(self, name: str, within: str | None = None) -> list[Candidate]:
        people = self._by_key.get(name_key(name), [])
        if within is None:
            return list(people)
        return [p for p in people if p.unit_path.startswith(within)]


def resolve_nominee(
    conn: Connection,
    wf: WorkflowDef,
    proposing_path: str,
    *,
    kind: str | None,
    name: str | None,
    person_id: int | None,
    unit_code: str | None,
    create_person: bool = False,
    person_unit_code: str | None = None,
) -> Nominee:
    """The nominee of a new nomination, or StepRefused/NotFound saying what to give instead.

    `kind` defaults to 'collective' when only a unit code is given, else 'individual'.
    """
    if person_id is not None and unit_code is not None:
        raise _refuse(
            "field:nominee",
            "Chỉ chọn một: cá nhân hoặc tập thể, không chọn cả hai",
            "Give either a person or a collective, not both",
        )
    if kind is None:
        kind = COLLECTIVE if unit_code is not None else INDIVIDUAL
    if kind not in NOMINEE_KINDS:
        raise _refuse(
            "field:nominee_kind",
            f"Đối tượng {kind!r} không hợp lệ: chỉ 'individual' (cá nhân) hoặc "
            "'collective' (tập thể)",
            f"nominee_kind must be 'individual' or 'collective', not {kind!r}",
        )
    if kind not in wf.subject:
        only = _KIND_VI[wf.subject[0]] if len(wf.subject) == 1 else "cá nhân hoặc tập thể"
        raise _refuse(
            "subject",
            f"{wf.title.vi} chỉ dành cho {only}",
            f"{wf.title.en} is not for {kind}s",
            {"subject": list(wf.subject)},
        )
    if create_person and kind != INDIVIDUAL:
        raise _refuse(
            "field:create_person",
            "Chỉ thêm được cá nhân vào danh sách; tập thể là một đơn vị",
            "only an individual can be added to the register; a collective is a unit",
        )
    if kind == COLLECTIVE:
        return _collective(conn, person_id, unit_code, name)
    if unit_code is not None:
        raise _refuse(
            "field:nominee",
            f"Đề nghị cho cá nhân không kèm đơn vị tập thể {unit_code!r}; đề nghị cho tập thể "
            "thì chọn đối tượng là tập thể",
            f"an individual nomination takes no collective unit code ({unit_code!r})",
        )
    if person_id is not None:
        return _registered(conn, person_id, name)
    if not name or not name.strip():
        raise _refuse(
            "field:nominee",
            "Thiếu người được đề nghị: gõ họ tên hoặc chọn một người trong danh sách cá nhân",
            "The nominee is required: a name or a registered person",
        )
    return _by_name(conn, name, proposing_path, person_unit_code, create=create_person)


def _collective(
    conn: Connection, person_id: int | None, unit_code: str | None, name: str | None
) -> Nominee:
    if person_id is not None or unit_code is None:
        raise _refuse(
            "field:nominee",
            "Tập thể được đề nghị là một đơn vị: chọn đơn vị đó",
            "A collective nominee is a unit: choose it",
        )
    unit = conn.execute(select(UNITS.c.id, UNITS.c.name).where(UNITS.c.code == unit_code)).first()
    if unit is None:
        raise NotFound(f"Không có đơn vị mã {unit_code!r}", en=f"No unit {unit_code!r}")
    label = clean_name(name) if name and name.strip() else unit.name
    return Nominee(COLLECTIVE, label, unit_id=int(unit.id))


def _registered(conn: Connection, person_id: int, name: str | None) -> Nominee:
    person = conn.execute(select(PERSONS.c.full_name).where(PERSONS.c.id == person_id)).first()
    if person is None:
        raise NotFound(f"Không có cá nhân #{person_id}", en=f"No person #{person_id}")
    if name and name.strip() and name_key(name) != name_key(person.full_name):
        raise _refuse(
            "field:nominee",
            f"Cá nhân #{person_id} tên là {person.full_name!r}, không phải {clean_name(name)!r}",
            f"person #{person_id} is named {person.full_name!r}, not {clean_name(name)!r}",
        )
    return Nominee(INDIVIDUAL, person.full_name, person_id=person_id)


def _unit_of_person(conn: Connection, proposing_path: str, code: str | None) -> tuple[str, str]:
    """(code, path) of the unit a new person joins: `code`, or the proposing unit."""
    query = select(UNITS.c.code, UNITS.c.path, UNITS.c.name)
    row = conn.execute(
        query.where(UNITS.c.code == code) if code else query.where(UNITS.c.path == proposing_path)
    ).first()
    if row is None:
        raise NotFound(f"Không có đơn vị mã {code!r}", en=f"No unit {code!r}")
    if not str(row.path).startswith(proposing_path):
        raise _refuse(
            "field:person_unit",
            f"{row.name} không thuộc đơn vị đề nghị: chỉ đề nghị người của đơn vị mình",
            f"{row.name} is outside the proposing unit",
        )
    return str(row.code), str(row.path)


def _by_name(
    conn: Connection,
    name: str,
    proposing_path: str,
    person_unit_code: str | None,
    *,
    create: bool,
) -> Nominee:
    """The one person of that name (of the proposing unit's subtree first, else anywhere);
    with `create`, a new person when nobody has the name. Creating never shadows someone
    already registered: a second record of one person would escape their history and
    discipline, so a known name is linked, and several are refused."""
    clean = clean_name(name)
    found = matching_people(conn, clean, proposing_path) or matching_people(conn, clean)
    if len(found) == 1:
        return Nominee(INDIVIDUAL, found[0].full_name, person_id=found[0].id)
    if found:
        raise _ambiguous(clean, found)
    unit, _ = _unit_of_person(conn, proposing_path, person_unit_code)
    if create:
        person_id = add_person(conn, clean, unit)
        return Nominee(INDIVIDUAL, clean, person_id=person_id, person_created=True)
    # The interfaces add how to register the person (`unlisted`: cli.common.COMMANDS,
    # web.ui_common.POINTERS); the API's callers read `api`.
    raise _refuse(
        "nominee_unknown",
        f"Không có cá nhân tên {clean!r} trong danh sách cá nhân",
        f"No person named {clean!r} in the register",
        {"name": clean, "unit": unit, "unlisted": clean, "api": "POST /api/persons"},
    )


def _ambiguous(name: str, found: Sequence[Candidate]) -> StepRefused:
    listed = "; ".join(c.label() for c in found)
    return _refuse(
        "nominee_ambiguous",
        f"Có {len(found)} cá nhân tên {name!r}: {listed}",
        f"{len(found)} people are named {name!r}",
        # The interfaces add how to choose (`namesakes`); the API's callers set `api`.
        {
            "candidates": [c.as_detail() for c in found],
            "namesakes": True,
            "api": "nominee_person_id",
        },
    )
