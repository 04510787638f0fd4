"""Read workflow files, validate them and keep one built machine per version."""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from transitions import Machine

from khenthuong.errors import InvalidDefinition, NotFound, Problem
from khenthuong.workflow.checks import check_workflow
from khenthuong.workflow.definition import WorkflowDef
from khenthuong.workflow.guards import known_guards
from khenthuong.workflow.machine import build_machine
from khenthuong.yamlsource import load_yaml, pydantic_problems


@dataclass(frozen=True)
class LoadedWorkflow:
    """A validated definition, where it came from, its fingerprint and its machine."""

    definition: WorkflowDef
    source: str
    fingerprint: str
    machine: Machine


def fingerprint(wf: WorkflowDef) -> str:
    """SHA-256 over the canonical JSON of the definition (whitespace and comments ignored)."""
    canonical = json.dumps(wf.model_dump(mode="json"), sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def parse_workflow(
    path: Path | str,
    *,
    known_roles: Collection[str],
    text: str | None = None,
    guards: Collection[str] | None = None,
) -> WorkflowDef:
    """Parse and check one file; raise InvalidDefinition listing every problem."""
    doc = load_yaml(path, text)
    if not isinstance(doc.data, dict):
        raise InvalidDefinition([doc.problem((), "a workflow file must be a mapping")])
    problems: list[Problem] = []
    try:
        wf = WorkflowDef.model_validate(doc.data)
    except ValidationError as exc:
        problems = pydantic_problems(doc, exc)
        rest = _without_unknown_keys(doc.data, exc)
        if rest is None:
            raise InvalidDefinition(problems) from exc
        wf = rest
    problems += check_workflow(
        wf,
        doc,
        known_roles=known_roles,
        known_guards=known_guards() if guards is None else guards,
    )
    if problems:
        raise InvalidDefinition(problems)
    return wf


def _without_unknown_keys(data: dict[str, Any], exc: ValidationError) -> WorkflowDef | None:
    """The definition with the reported unknown keys left out, when that alone makes it valid.

    Unknown keys are reported by the typed model before the semantic checks can
    run; dropping them lets the same run go on to report the semantic problems of
    the rest of the file. None when other validation errors remain (those are
    already reported, and the rest cannot be typed).
    """
    errors = exc.errors()
    if any(e["type"] != "extra_forbidden" for e in errors):
        return None
    stripped = copy.deepcopy(data)
    for error in errors:
        *parents, key = error["loc"]
        node: Any = stripped
        for part in parents:
            try:
                node = node[part]
            except (KeyError, IndexError, TypeError):
                node = None
                break
        if isinstance(node, dict):
            node.pop(key, None)
    try:
        return WorkflowDef.model_validate(stripped)
    except ValidationError:
        return None


def workflow_files(paths: Iterable[Path]) -> list[Path]:
    """Expand folders into their *.yaml / *.yml files, sorted."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted([*path.glob("*.yaml"), *path.glob("*.yml")]))
        else:
            files.append(path)
    return files


class WorkflowRegistry:
    """All known workflow versions, keyed by (name, version), each with one machine."""

    def __init__(self) -> None:
        self._items: dict[tuple[str, int], LoadedWorkflow] = {}

    def add(self, wf: WorkflowDef, source: str) -> LoadedWorkflow:
        """Register a definition; the same (name, version) with other content is refused."""
        return self.put(LoadedWorkflow(wf, source, fingerprint(wf), build_machine(wf)))

    def put(self, loaded: LoadedWorkflow) -> LoadedWorkflow:
        """Register a version already built (its machine is shared, as within one registry)."""
        wf, fp, source = loaded.definition, loaded.fingerprint, loaded.source
        existing = self._items.get(wf.key)
        if existing is not None:
            if existing.fingerprint != fp:
                raise InvalidDefinition(
                    [
                        Problem(
                            source,
                            1,
                            f"workflow {wf.name!r} version {wf.version} is already defined "
                            f"differently in {existing.source}; give the changed file a new "
                            "version number",
                        )
                    ]
                )
            return existing
        self._items[wf.key] = loaded
        return loaded

    def get(self, name: str, version: int | None = None) -> LoadedWorkflow:
        """A version of a workflow (the newest when `version` is None)."""
        if version is None:
            versions = [v for (n, v) in self._items if n == name]
            if not versions:
                raise NotFound(f"Không có quy trình {name!r}", en=f"No workflow named {name!r}")
            version = max(versions)
        try:
            return self._items[(name, version)]
        except KeyError:
            raise NotFound(
                f"Không có quy trình {name!r} phiên bản {version}",
                en=f"No workflow {name!r} version {version}",
            ) from None

    def __len__(self) -> int:
        """How many workflow versions are known (versions are only ever added)."""
        return len(self._items)

    def latest(self) -> list[LoadedWorkflow]:
        """The newest version of each workflow, by name."""
        newest: dict[str, LoadedWorkflow] = {}
        for (name, version), item in sorted(self._items.items()):
            if name not in newest or version > newest[name].definition.version:
                newest[name] = item
        return list(newest.values())

    def all(self) -> list[LoadedWorkflow]:
        """Every version, sorted by name then version."""
        return [self._items[k] for k in sorted(self._items)]

    def __contains__(self, key: tuple[str, int]) -> bool:
        return key in self._items


_BUILT: dict[tuple[str, str, frozenset[str], frozenset[str]], LoadedWorkflow] = {}
"""Valid files already parsed and built in this process, by path, content hash, roles and
guards: a process that opens many runtimes (the test suite, in-process CLI calls) parses each
file once. Invalid files are parsed again each time (their problems are reported each time)."""


def _load_file(file: Path, known_roles: Collection[str]) -> LoadedWorkflow:
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):  # reported by parse_workflow as a problem
        wf = parse_workflow(file, known_roles=known_roles)
        return LoadedWorkflow(wf, str(file), fingerprint(wf), build_machine(wf))
    key = (
        str(file),
        hashlib.sha256(text.encode("utf-8")).hexdigest(),
        frozenset(known_roles),
        known_guards(),
    )
    if key not in _BUILT:
        wf = parse_workflow(file, known_roles=known_roles, text=text)
        _BUILT[key] = LoadedWorkflow(wf, str(file), fingerprint(wf), build_machine(wf))
    return _BUILT[key]


def load_registry(paths: Iterable[Path], *, known_roles: Collection[str]) -> WorkflowRegistry:
    """Parse every file; raise one InvalidDefinition with all problems of all files."""
    registry = WorkflowRegistry()
    problems: list[Problem] = []
    for file in workflow_files(paths):
        try:
            registry.put(_load_file(file, known_roles))
        except InvalidDefinition as exc:
            problems.extend(exc.problems)
    if problems:
        raise InvalidDefinition(problems)
    return registry
