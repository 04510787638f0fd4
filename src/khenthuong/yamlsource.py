"""Read YAML into plain data while remembering the line of every key and item.

Every config and workflow file goes through here so that validation errors can
say `FILE:LINE: message`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from khenthuong.errors import InvalidDefinition, Problem

PathKey = tuple[str | int, ...]

MAX_YAML_BYTES = 1024 * 1024
"""Largest config or workflow file read (the shipped award catalog is about 40 KB)."""


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses aliases (`*name`): a few nested aliases expand to billions of
    nodes ("billion laughs") and none of our files needs them."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None,
                None,
                f"alias *{event.anchor} is not allowed (write the value out in full)",
                event.start_mark,
            )
        return super().compose_node(parent, index)


@dataclass
class SourceDoc:
    """Parsed YAML plus the line (1-based) where each path starts."""

    file: str
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line_of(self, path: PathKey) -> int:
        """Line of the deepest known prefix of `path` (1 when nothing is known)."""
        for cut in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:cut]))
            if line is not None:
                return line
        return 1

    def problem(self, path: PathKey, message: str) -> Problem:
        """A Problem located at `path`."""
        return Problem(self.file, self.line_of(path), message)


_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", None)
"""libyaml's composer when PyYAML was built with it (about ten times faster than the Python one)."""


class _AliasFound(Exception):
    """A node reached twice: the document uses an alias (the Python loader names where)."""


def _convert(
    node: yaml.Node,
    path: PathKey,
    doc: SourceDoc,
    problems: list[Problem],
    seen: set[int] | None = None,
) -> Any:
    if seen is not None:
        if id(node) in seen:
            raise _AliasFound
        seen.add(id(node))
    doc.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(Problem(doc.file, key_node.start_mark.line + 1, "key must be text"))
                continue
            if key in result:
                problems.append(
                    Problem(doc.file, key_node.start_mark.line + 1, f"duplicate key {key!r}")
                )
                continue
            result[key] = _convert(value_node, (*path, key), doc, problems, seen)
            doc.lines[(*path, key)] = key_node.start_mark.line + 1
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _convert(item, (*path, index), doc, problems, seen)
            for index, item in enumerate(node.value)
        ]
    # Scalars: let PyYAML's SafeLoader resolve the type (int, bool, str, date...).
    constructor = yaml.constructor.SafeConstructor()
    try:
        return constructor.construct_object(node, deep=True)
    except (ValueError, yaml.YAMLError) as exc:
        # e.g. 2027-13-01 looks like a date to YAML but is not one
        problems.append(
            Problem(doc.file, node.start_mark.line + 1, f"bad value {node.value!r}: {exc}")
        )
        return node.value


def load_yaml(path: Path | str, text: str | None = None) -> SourceDoc:
    """Parse one YAML file; raise InvalidDefinition with FILE:LINE on syntax errors."""
    file = str(path)
    if text is None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidDefinition([Problem(file, 1, f"cannot read file: {exc}")]) from exc
    size = len(text.encode("utf-8"))
    if size > MAX_YAML_BYTES:
        raise InvalidDefinition(
            [Problem(file, 1, f"file is {size:,} bytes; at most {MAX_YAML_BYTES:,} are read")]
        )
    if _FAST_LOADER is not None:
        fast = _fast_load(file, text)
        if fast is not None:
            return fast
    doc = SourceDoc(file=file, data=None)
    try:
        node = yaml.compose(text, Loader=_NoAliasLoader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise InvalidDefinition([Problem(file, line, f"YAML syntax: {exc.problem}")]) from exc
    if node is None:
        raise InvalidDefinition([Problem(file, 1, "file is empty")])
    problems: list[Problem] = []
    doc.data = _convert(node, (), doc, problems)
    if problems:
        raise InvalidDefinition(problems)
    return doc


def _fast_load(file: str, text: str) -> SourceDoc | None:
    """The document through libyaml, or None when anything is off (a syntax error, an alias, a
    bad value): the Python loader then reads it again and words the problem the same way."""
    try:
        node = yaml.compose(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        return None
    if node is None:
        return None
    doc = SourceDoc(file=file, data=None)
    problems: list[Problem] = []
    try:
        doc.data = _convert(node, (), doc, problems, seen=set())
    except _AliasFound:
        return None
    return None if problems else doc


def pydantic_problems(doc: SourceDoc, error: Any) -> list[Problem]:
    """Turn a pydantic ValidationError into located problems."""
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        where = ".".join(str(p) for p in loc)
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}"
        elif where:
            message = f"{where}: {message}"
        problems.append(doc.problem(loc, message))
    return problems
