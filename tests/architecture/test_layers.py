"""The layers point down only: rules are pure, and no two packages import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import khenthuong

SRC = Path(khenthuong.__file__).parent


def _imports(path: Path) -> set[str]:
    """Every module `path` imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _package(path: Path) -> str:
    """khenthuong/services/x.py -> services; khenthuong/errors.py -> errors."""
    return path.relative_to(SRC).parts[0].removesuffix(".py")


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for path in SRC.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        mine = _package(path)
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] != "khenthuong" or len(parts) < 2:
                continue
            other = parts[1]
            if other != mine and ((SRC / other).is_dir() or (SRC / f"{other}.py").exists()):
                graph.setdefault(mine, set()).add(other)
    return graph


def test_rules_import_neither_sqlalchemy_nor_services() -> None:
    offenders = []
    for path in sorted((SRC / "rules").rglob("*.py")):
        for name in _imports(path):
            if name.split(".")[0] in {"sqlalchemy", "sqlmodel"} or name.startswith(
                ("khenthuong.services", "khenthuong.storage", "khenthuong.web", "khenthuong.cli")
            ):
                offenders.append(f"{path.relative_to(SRC)} imports {name}")
    assert offenders == []


def test_the_checker_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from khenthuong.services import guards\n")
    assert "khenthuong.services" in _imports(module)


def test_no_import_circle_between_packages() -> None:
    graph = _graph()
    assert "services" in graph["web"]  # the graph is read, not empty
    circles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        for nxt in sorted(graph.get(node, ())):
            if nxt in trail:
                circles.append([*trail[trail.index(nxt) :], nxt])
            elif len(trail) < len(graph) + 1:
                visit(nxt, [*trail, nxt])

    for start in sorted(graph):
        visit(start, [start])
    assert sorted({" -> ".join(c) for c in circles}) == []


BENCH_ONLY = {"SpiffWorkflow", "statemachine", "pyinstrument"}
"""The `bench` extra (bench/peers.py's peers) and the profiler: never the product's."""


def test_the_product_never_imports_a_benchmark_only_package() -> None:
    workers = SRC.parent.parent / "workers"
    offenders = [
        f"{path} imports {name}"
        for path in sorted([*SRC.rglob("*.py"), *workers.rglob("*.py")])
        for name in _imports(path)
        if name.split(".")[0] in BENCH_ONLY
    ]
    assert offenders == []
