"""The run order of test files (tests/file_order.py): longest recorded first, files whole."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.file_order import DURATIONS, file_seconds, longest_first

IDS = [
    "tests/a/test_quick.py::test_one",
    "tests/a/test_quick.py::test_two[sqlite]",
    "tests/b/test_new.py::test_x",
    "tests/e2e/test_walk.py::test_walk",
    "tests/e2e/test_walk.py::test_more",
    "tests/c/test_mid.py::test_y",
]


def test_the_longest_recorded_file_runs_first_and_files_stay_whole_in_their_order() -> None:
    seconds = {
        "tests/e2e/test_walk.py": 90.0,
        "tests/c/test_mid.py": 12.5,
        "tests/a/test_quick.py": 0.4,
    }
    order = [IDS[i] for i in longest_first(IDS, seconds)]
    assert order == [
        "tests/e2e/test_walk.py::test_walk",
        "tests/e2e/test_walk.py::test_more",
        "tests/c/test_mid.py::test_y",
        "tests/a/test_quick.py::test_one",
        "tests/a/test_quick.py::test_two[sqlite]",
        "tests/b/test_new.py::test_x",  # not recorded: after the recorded ones
    ]


def test_without_a_record_the_collected_order_is_kept() -> None:
    assert longest_first(IDS, {}) == list(range(len(IDS)))


def test_the_record_names_files_that_exist(tmp_path: Path) -> None:
    """The committed record is readable and names test files of this repository (a renamed
    file would silently lose its place)."""
    seconds = file_seconds(DURATIONS)
    root = DURATIONS.parent.parent
    missing = [name for name in seconds if not (root / name).is_file()]
    assert not missing, f"{DURATIONS.name} names files that are gone: {missing}"
    written = tmp_path / "d.json"
    written.write_text(json.dumps({"tests/x.py": 3}), encoding="utf-8")
    assert file_seconds(written) == {"tests/x.py": 3.0}
    assert file_seconds(tmp_path / "absent.json") == {}


def test_a_run_records_seconds_per_file(tmp_path: Path) -> None:
    """A run with --record-durations writes each file's seconds, the longest first."""
    (tmp_path / "conftest.py").write_text('pytest_plugins = ["tests.file_order"]\n')
    (tmp_path / "test_slow.py").write_text("import time\ndef test_a():\n    time.sleep(0.3)\n")
    (tmp_path / "test_fast.py").write_text("def test_b():\n    pass\n")
    out = tmp_path / "durations.json"
    env = {**os.environ, "PYTHONPATH": str(DURATIONS.parent.parent)}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
         "--record-durations", str(out), str(tmp_path)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    recorded = json.loads(out.read_text(encoding="utf-8"))
    assert list(recorded) == ["test_slow.py", "test_fast.py"]
    assert recorded["test_slow.py"] >= 0.3
