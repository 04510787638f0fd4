"""CPU time of a process tree and of this process, for the benchmarks' per-request figures
(user+sys from /proc: what load on a shared machine distorts much less than latency)."""

from __future__ import annotations

import os
from pathlib import Path


def _proc_cpu(pid: int) -> float:
    """User+sys CPU seconds of one process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu(root: int) -> float:
    """CPU seconds of `root` and its descendants (a server and its uvicorn workers); 0.0 where
    /proc is missing."""
    if not Path("/proc").is_dir():
        return 0.0
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        total += _proc_cpu(pid)
        todo += children.get(pid, [])
    return total


def own_cpu() -> float:
    """CPU seconds of this process (the load generator's threads)."""
    t = os.times()
    return t.user + t.system
