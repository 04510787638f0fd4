"""config/documents.yaml: places, legal grounds, signer titles, recipients (office data)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from khenthuong.errors import KhenthuongError


class UnitDocs(BaseModel):
    """How one unit signs and heads its documents."""

    model_config = ConfigDict(extra="forbid")
    signer_title: str | None = None
    signer_prefix: str = ""
    """TM., KT., Q., TL., TUQ. (ND 30) or empty when the head signs in their own name."""
    certificate_issuer: str | None = None
    place: str | None = None
    parent_body: str | None = None


class DocumentsConfig(BaseModel):
    """The office's document settings."""

    model_config = ConfigDict(extra="forbid")
    place: str = "Hà Nội"
    legal_bases: list[str] = Field(default_factory=list)
    money_source: str = "từ quỹ thi đua, khen thưởng của cơ quan ra quyết định"
    recipients: dict[str, list[str]] = Field(default_factory=dict)
    units: dict[str, UnitDocs] = Field(default_factory=dict)
    default_signer_title: str = "THỦ TRƯỞNG ĐƠN VỊ"

    def unit(self, code: str) -> UnitDocs:
        """The unit's settings (empty defaults for a unit not listed)."""
        return self.units.get(code, UnitDocs())


def documents_config(config_dir: Path) -> DocumentsConfig:
    """Read config/documents.yaml; defaults when the file is absent."""
    path = config_dir / "documents.yaml"
    if not path.is_file():
        return DocumentsConfig()
    try:
        return DocumentsConfig.model_validate(yaml.safe_load(path.read_text("utf-8")) or {})
    except (yaml.YAMLError, ValidationError) as exc:
        raise KhenthuongError(f"{path}: cấu hình văn bản không hợp lệ: {exc}") from exc
