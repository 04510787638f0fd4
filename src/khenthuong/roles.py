"""The roles officers hold (config/roles.yaml): codes, names, read-only flag."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from khenthuong.errors import InvalidDefinition
from khenthuong.workflow.definition import Text
from khenthuong.yamlsource import load_yaml, pydantic_problems


class RoleDef(BaseModel):
    """One role, e.g. `unit_officer` (Cán bộ thi đua – khen thưởng đơn vị)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: Text
    read_only: bool = False
    description: str = ""


class RolesFile(BaseModel):
    """The whole roles file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: dict[str, RoleDef] = Field(min_length=1)


def load_roles(path: Path) -> dict[str, RoleDef]:
    """Read and validate a roles file."""
    doc = load_yaml(path)
    try:
        return RolesFile.model_validate(doc.data).roles
    except ValidationError as exc:
        raise InvalidDefinition(pydantic_problems(doc, exc)) from exc


@lru_cache(maxsize=8)
def roles_in(config_dir: Path) -> dict[str, RoleDef]:
    """Cached roles of a config folder."""
    return load_roles(config_dir / "roles.yaml")
