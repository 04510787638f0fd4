"""CPU time of a process tree and of this process, for the benchmarks' per-request figures
(user+sys from /proc: what load on a shared machine distorts much less than latency)."""

from __future__ import annotations

import os
import time
from pathlib import Path


def process_cpu(pid: int, reaped: bool = False) -> float:
    """User+sys CPU seconds of one process (0 when it is gone); with `reaped`, plus those of
    its children that have exited and been waited for."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(f) for f in fields[11 : 15 if reaped else 13])
    return ticks / os.sysconf("SC_CLK_TCK")


def _children() -> dict[int, list[int]]:
    """Parent pid → its children's pids, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    return children


def tree_cpu(root: int, reaped: bool = False) -> float:
    """CPU seconds of `root` and its descendants (a server and its uvicorn workers); 0.0 where
    /proc is missing. With `reaped`, those that have exited count too (PostgreSQL's backends
    of connections closed meanwhile: their CPU is added to the postmaster's once reaped)."""
    if not Path("/proc").is_dir():
        return 0.0
    children = _children()
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += process_cpu(pid, reaped)
        todo += children.get(pid, [])
    return total


def child_pids(root: int, marker: str = "") -> list[int]:
    """The direct children of `root` whose command line contains `marker` (uvicorn's worker
    processes under `serve --workers N`: "spawn_main"), in pid order; [] without /proc."""
    if not Path("/proc").is_dir():
        return []
    found = []
    for pid in sorted(_children().get(root, [])):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if marker in cmdline:
            found.append(pid)
    return found


def worker_pids(pid: int, workers: int) -> list[int]:
    """The processes of `khenthuong serve --workers N` that answer requests: the server itself
    for one, else its N uvicorn worker processes (waited for: they start one after another)."""
    if workers == 1:
        return [pid]
    deadline = time.monotonic() + 120
    while len(found := child_pids(pid, "spawn_main")) < workers and time.monotonic() < deadline:
        time.sleep(0.5)
    return found


def parent_of(marker: str) -> int | None:
    """The parent of a process whose command line contains `marker` (the postmaster, parent of
    the backends of a database: `postgres: … USER DBNAME 127.0.0.1(…) idle`); None if none."""
    if not Path("/proc").is_dir():
        return None
    needle = marker.encode()
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and needle in (entry / "cmdline").read_bytes():
                return int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    return None


def machine_cpu() -> float:
    """CPU seconds all cores of the machine have spent busy since boot (not idle, not waiting
    on I/O; /proc/stat), every process's, other users' included; 0.0 without /proc."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    ticks = [int(f) for f in fields[:8]]  # user nice system idle iowait irq softirq steal
    return (sum(ticks) - ticks[3] - ticks[4] - ticks[7]) / os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    """CPU seconds of this process (the load generator's threads)."""
    t = os.times()
    return t.user + t.system
