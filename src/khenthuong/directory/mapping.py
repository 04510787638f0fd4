"""Directory groups → khenthuong roles and units (config/directory.yaml, pure)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from khenthuong.errors import InvalidDefinition
from khenthuong.yamlsource import load_yaml, pydantic_problems


class GroupRule(BaseModel):
    """What membership of one directory group gives."""

    model_config = ConfigDict(extra="forbid")
    group: str = Field(min_length=1)
    """A group's DN (LDAP), its common name, or a value of the OpenID groups claim;
    compared without regard to case."""
    unit: str = Field(pattern=r"^[A-Z0-9][A-Z0-9_.-]{0,39}$")
    """The home unit an account in this group gets (the first matching rule's unit wins)."""
    roles: list[str] = Field(min_length=1)
    """ROLE or ROLE@SCOPE_UNIT; without a scope the role covers `unit`'s subtree."""


class DirectoryMapFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    groups: list[GroupRule] = Field(default_factory=list)


@dataclass(frozen=True)
class Grants:
    """What an identity's groups give: home unit, (role, scope) pairs, the groups that matched."""

    unit: str
    roles: tuple[tuple[str, str], ...]
    matched: tuple[str, ...]


@dataclass(frozen=True)
class DirectoryMap:
    rules: tuple[GroupRule, ...]

    def grants_for(self, groups: tuple[str, ...] | list[str]) -> Grants | None:
        """The roles the groups give, or None when no rule matches any of them."""
        held = {g.casefold() for g in groups}
        unit: str | None = None
        roles: list[tuple[str, str]] = []
        matched: list[str] = []
        for rule in self.rules:
            if rule.group.casefold() not in held:
                continue
            matched.append(rule.group)
            unit = unit or rule.unit
            for item in rule.roles:
                code, _, scope = item.partition("@")
                pair = (code, scope or rule.unit)
                if pair not in roles:
                    roles.append(pair)
        if unit is None:
            return None
        return Grants(unit=unit, roles=tuple(sorted(roles)), matched=tuple(matched))


def load_directory_map(path: Path, known_roles: set[str] | None = None) -> DirectoryMap:
    """Read config/directory.yaml; every problem is reported as FILE:LINE."""
    if not path.exists():
        return DirectoryMap(rules=())
    doc = load_yaml(path)
    try:
        parsed = DirectoryMapFile.model_validate(doc.data or {})
    except ValidationError as exc:
        raise InvalidDefinition(pydantic_problems(doc, exc)) from exc
    if known_roles is not None:
        problems = [
            doc.problem(("groups", i, "roles", j), f"unknown role {code!r}")
            for i, rule in enumerate(parsed.groups)
            for j, item in enumerate(rule.roles)
            if (code := item.partition("@")[0]) not in known_roles
        ]
        if problems:
            raise InvalidDefinition(problems)
    return DirectoryMap(rules=tuple(parsed.groups))
