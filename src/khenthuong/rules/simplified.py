"""The simplified procedure (thủ tục đơn giản, Luật TĐKT 2022, Điều 85) of ad-hoc awards:
which commendation types may take it and the short dossier it needs
(config/simplified.yaml). Pure: reads a file, no database."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from khenthuong.commendation import COMMENDATION_TYPES
from khenthuong.doctypes import DOC_TYPES
from khenthuong.errors import InvalidDefinition
from khenthuong.yamlsource import load_yaml, pydantic_problems

DEFAULT_TYPES = ("dot_xuat",)
DEFAULT_DOCUMENTS = ("to_trinh", "tom_tat_thanh_tich")
DEFAULT_SOURCE = (
    "Luật TĐKT 2022, Điều 85 (hồ sơ: tờ trình và bản tóm tắt thành tích, DOMAIN §8, chưa xác minh)"
)


class Simplified(BaseModel):
    """The settings of the simplified procedure."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    commendation_types: tuple[str, ...] = Field(default=DEFAULT_TYPES, min_length=1)
    documents: tuple[str, ...] = DEFAULT_DOCUMENTS
    source: str = Field(default=DEFAULT_SOURCE, min_length=1)
    uncertain: bool = True

    @field_validator("commendation_types")
    @classmethod
    def _types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [t for t in value if t not in COMMENDATION_TYPES]
        if bad:
            raise ValueError(f"unknown commendation types {bad}: use {list(COMMENDATION_TYPES)}")
        return value

    @field_validator("documents")
    @classmethod
    def _documents(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [d for d in value if d not in DOC_TYPES]
        if bad:
            raise ValueError(f"unknown document types {bad}: use {list(DOC_TYPES)}")
        return value


def load_simplified(path: Path) -> Simplified:
    """The settings in `path`; the defaults when the file does not exist; every problem as
    FILE:LINE (InvalidDefinition)."""
    if not path.exists():
        return Simplified()
    doc = load_yaml(path)
    try:
        return Simplified.model_validate(doc.data or {})
    except ValidationError as exc:
        raise InvalidDefinition(pydantic_problems(doc, exc)) from exc


@lru_cache(maxsize=4)
def simplified_in(config_dir: Path) -> Simplified:
    """The cached settings of a config folder (config/simplified.yaml)."""
    return load_simplified(config_dir / "simplified.yaml")
