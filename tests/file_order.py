"""The order test files run in: the longest first, from the seconds each took in a recorded run.

`scripts/test` runs the suite on two processes, a file's tests in one process
(`--dist loadfile`), and hands the files out in collection order (`--no-loadscope-reorder`;
pytest-xdist would otherwise sort them by their number of tests). A few files take a minute
or more (the browser walks, the fuzzers, the worker processes); collected last, one of them
kept one process busy minutes after the other had finished. Handed out longest first, the
processes finish close together.

The seconds come from `tests/durations.json`, written by a run with `--record-durations`:

    bash scripts/test --record-durations "$PWD/tests/durations.json"

Files it does not name (new ones) run after the named ones, in collection order. The order
changes how long a run takes, never what it tests: each test file still runs its tests in
their own order, in one process.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import pytest

DURATIONS = Path(__file__).with_name("durations.json")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--record-durations",
        metavar="PATH",
        default=None,
        help="write the seconds each test file took (setup, call, teardown) to PATH as JSON",
    )


def file_seconds(path: Path = DURATIONS) -> dict[str, float]:
    """Seconds per test file (path relative to the repository root) of the recorded run."""
    if not path.exists():
        return {}
    return {str(k): float(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}


def longest_first(nodeids: list[str], seconds: dict[str, float]) -> list[int]:
    """The positions of `nodeids` in run order: whole files, the longest recorded first, then
    the files not recorded in their collected order; within a file, the collected order."""
    first_seen: dict[str, int] = {}
    for i, nodeid in enumerate(nodeids):
        first_seen.setdefault(nodeid.split("::", 1)[0], i)

    def key(i: int) -> tuple[float, int, int]:
        name = nodeids[i].split("::", 1)[0]
        return (-seconds.get(name, 0.0), first_seen[name], i)

    return sorted(range(len(nodeids)), key=key)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    order = longest_first([item.nodeid for item in items], file_seconds())
    items[:] = [items[i] for i in order]


class _Recorder:
    """Sums the phases' durations per file in the process that reports them all (the xdist
    controller, or the only process) and writes them at the end of the session."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.seconds: defaultdict[str, float] = defaultdict(float)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[report.nodeid.split("::", 1)[0]] += report.duration

    def pytest_sessionfinish(self) -> None:
        ranked = dict(sorted(self.seconds.items(), key=lambda kv: -kv[1]))
        rounded = {name: round(value, 1) for name, value in ranked.items()}
        self.path.write_text(json.dumps(rounded, indent=1) + "\n", encoding="utf-8")


def pytest_configure(config: pytest.Config) -> None:
    target = config.getoption("--record-durations")
    if target and not hasattr(config, "workerinput"):  # not in an xdist worker
        config.pluginmanager.register(_Recorder(Path(target)), "khenthuong-durations")
