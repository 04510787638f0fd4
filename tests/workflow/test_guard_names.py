"""The built-in guard names known without importing the guards equal what their modules
register, and checking a workflow's guard names does not import the service layer."""

from __future__ import annotations

import importlib
import subprocess
import sys

from khenthuong.workflow import guards


def test_builtin_names_equal_the_registered_guards() -> None:
    for module in guards.GUARD_MODULES:
        importlib.import_module(module)
    registered = {
        name for name, fn in guards._REGISTRY.items() if fn.__module__ in guards.GUARD_MODULES
    }
    assert registered == guards.BUILTIN_GUARDS
    assert guards.known_guards() >= guards.BUILTIN_GUARDS


def test_loading_the_workflows_imports_no_guard_module() -> None:
    code = (
        "import sys\n"
        "from khenthuong.roles import load_roles\n"
        "from khenthuong.settings import PROJECT_ROOT\n"
        "from khenthuong.workflow.loader import load_registry\n"
        "registry = load_registry([PROJECT_ROOT / 'workflows'],"
        " known_roles=load_roles(PROJECT_ROOT / 'config' / 'roles.yaml'))\n"
        "assert len(registry) > 0\n"
        "from khenthuong.workflow.guards import GUARD_MODULES\n"
        "print(sorted(m for m in GUARD_MODULES if m in sys.modules))\n"
        "print(sorted(m for m in sys.modules if m.startswith('khenthuong.services')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout.splitlines()
    assert out == ["[]", "[]"]
