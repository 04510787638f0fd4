"""Official numbers of decisions (config/issuers.yaml): `<số>/QĐ-<ký hiệu of the issuer>`.

Nghị định 30/2020/NĐ-CP (công tác văn thư), Điều 8 and Phụ lục III, as summarised in
DOMAIN-2 §1.5-1.6: the number is a serial in Arabic numerals that restarts every 1 January;
the ký hiệu of a named-type document is the type abbreviation (QĐ for a quyết định) and the
abbreviation of the issuing authority, e.g. `15/QĐ-BCY` or `1234/QĐ-TTg`. Official
abbreviations keep their lower-case letters (TTg, like TTr and QyĐ of Phụ lục III), so an
abbreviation is written, accepted and stored exactly as registered, never upper-cased;
only uniqueness compares numbers case-insensitively (`number_key`).

Pure: parsing and checking only; the service layer finds the signing role and unit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from khenthuong.errors import InvalidDefinition
from khenthuong.yamlsource import load_yaml, pydantic_problems

DECISION_TYPE = "QĐ"
"""Abbreviation of a quyết định (cá biệt), ND 30/2020 Phụ lục III."""
_ABBREVIATION = re.compile(r"^[^\W_]+(?:-[^\W_]+)*$")
_NUMBER = re.compile(r"^(\d{1,6})/([^\W_]+)-(.+)$")


def normalised(number: str) -> str:
    """A number as stored: NFC, surrounding spaces removed, case kept as typed."""
    return unicodedata.normalize("NFC", number).strip()


def number_key(number: str) -> str:
    """What two numbers must share to be the same number: NFC and case-folded, so
    `12/qđ-bcy` is `12/QĐ-BCY` (uniqueness is matched case-insensitively)."""
    return normalised(number).casefold()


class IssuerDef(BaseModel):
    """The ký hiệu of one issuing authority and the name a refusal shows for it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    abbreviation: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=200)
    source: str = ""

    @field_validator("abbreviation", "name")
    @classmethod
    def _nfc(cls, value: str) -> str:
        return unicodedata.normalize("NFC", value.strip())

    @field_validator("abbreviation")
    @classmethod
    def _letters(cls, value: str) -> str:
        if not _ABBREVIATION.match(value):
            raise ValueError(
                f"{value!r}: letters and digits, parts joined by '-' (e.g. TTg, BCY, UBND)"
            )
        return value


class IssuersFile(BaseModel):
    """config/issuers.yaml as written."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: dict[str, IssuerDef] = Field(default_factory=dict)
    """By signing role (config/roles.yaml): the authority is the office, e.g. the Prime
    Minister signs QĐ-TTg wherever the role is granted."""
    units: dict[str, IssuerDef] = Field(default_factory=dict)
    """By the unit code of the deciding authority (minister, head of unit)."""


@dataclass(frozen=True)
class Issuer:
    """The authority a decision is issued in the name of."""

    abbreviation: str
    name: str

    @property
    def form(self) -> str:
        """The expected form, e.g. `<số>/QĐ-TTg`."""
        return f"<số>/{DECISION_TYPE}-{self.abbreviation}"

    def example(self, serial: int = 123) -> str:
        return f"{serial}/{DECISION_TYPE}-{self.abbreviation}"


@dataclass(frozen=True)
class Issuers:
    """Issuer abbreviations by signing role and by unit; any other unit issues under its
    own unit code (the documented default)."""

    roles: dict[str, IssuerDef]
    units: dict[str, IssuerDef]

    def issuer(self, role: str, unit_code: str, unit_name: str) -> Issuer:
        """Who issues a decision signed in `role` for the unit `unit_code`."""
        found = self.roles.get(role) or self.units.get(unit_code)
        if found is not None:
            return Issuer(found.abbreviation, found.name)
        return Issuer(unit_code, unit_name)


def number_fits(number: str, issuer: Issuer | None) -> bool:
    """`number` is `<serial>/QĐ-<abbreviation>`, in the abbreviation's registered case;
    with no issuer, any abbreviation of letters and digits."""
    found = _NUMBER.match(normalised(number))
    if found is None or found.group(2) != DECISION_TYPE:
        return False
    if issuer is None:
        return _ABBREVIATION.match(found.group(3)) is not None
    return found.group(3) == issuer.abbreviation


def load_issuers(path: Path, known_roles: set[str] | None = None) -> Issuers:
    """Read and validate an issuers file; a missing file configures no abbreviation, so
    every unit issues under its unit code. With `known_roles`, a role key outside them is
    an error (a misspelt role would silently never apply)."""
    if not path.exists():
        return Issuers({}, {})
    doc = load_yaml(path)
    try:
        parsed = IssuersFile.model_validate(doc.data)
    except ValidationError as exc:
        raise InvalidDefinition(pydantic_problems(doc, exc)) from exc
    if known_roles is not None:
        unknown = [
            doc.problem(("roles", role), f"roles.{role}: no such role in config/roles.yaml")
            for role in parsed.roles
            if role not in known_roles
        ]
        if unknown:
            raise InvalidDefinition(unknown)
    return Issuers(dict(parsed.roles), dict(parsed.units))


@lru_cache(maxsize=8)
def issuers_in(config_dir: Path) -> Issuers:
    """Cached issuers of a config folder, role keys checked against its roles.yaml."""
    from khenthuong.roles import roles_in  # noqa: PLC0415

    roles = config_dir / "roles.yaml"
    known = set(roles_in(config_dir)) if roles.exists() else None
    return load_issuers(config_dir / "issuers.yaml", known)
